"""The settings of one SR comparison: arms, presets, validation, resume key.
"""

import dataclasses


# "control" is the positive control: element-wise dropout at
# CONTROL_KEEP_PROB after every residual block, whatever the preset's
# placement and keep_prob. Its effect has a known sign (it hurts PSNR), so a
# run whose control does not come out "hurts" could not have seen an effect
# of that size.
ARMS = ("none", "dropout", "dropblock", "spatial_dropout", "control")


CONTROL_ARM = "control"


CONTROL_KEEP_PROB = 0.5


PLACEMENTS = ("last", "all")


SCHEDULES = ("constant", "linear")


# How training LR patches are made from HR: "bicubic" (the antialiased
# downscale only) or "mixed" (random blur, downscale, noise, JPEG per patch;
# see degradations.py).
DEGRADATIONS = ("bicubic", "mixed")


# Test conditions: how a test image's LR input is made from its HR image.
CONDITIONS = ("clean", "blur2", "noise20", "jpeg50")


# Named experiments. Any flag given explicitly overrides its preset's value.
# Both are sized so that `./run_main.sh --preset=...` finishes in about
# 10 minutes on a 2-core AVX2 CPU; docs/sr.md gives the long configurations.
PRESETS = {
    # The blog's experiment: a DCSCN-like trainer with tf.nn.dropout
    # (keep 0.8) after its feature convolutions, that line replaced by
    # DropBlock (block 3); bicubic x2.
    "blog": dict(
        arms=("none", "dropout", "dropblock", "spatial_dropout", "control"),
        placement="all", keep_prob=0.8, block_size=3, scale=2,
        degradation="bicubic", conditions=("clean",), steps=160, seeds=4),
    # Kong et al., "Reflash Dropout in Image Super-Resolution" (CVPR 2022):
    # one channel-dropout layer before the last convolution (p = 0.5, the
    # paper's rate for its larger model), training on mixed degradations,
    # testing clean and under each degradation separately.
    "reflash": dict(
        arms=("none", "spatial_dropout", "dropblock", "control"),
        placement="last", keep_prob=0.5, block_size=3, scale=2,
        degradation="mixed", conditions=CONDITIONS, steps=160, seeds=4),
}


DEFAULT_PRESET = "blog"


# A run whose mean gain over bicubic (over the test sets, every condition)
# is below this has collapsed to (about) its bicubic input; it is reported
# and left out of the means.
COLLAPSE_GAIN_DB = 0.05


# Bumped when a run's result.json changes shape, so --resume never mixes.
RESULT_FORMAT = 4


class DataError(ValueError):
  """Bad user data: missing folders, unreadable or too small images."""


@dataclasses.dataclass
class Config:
  """Everything a comparison run depends on; mirrors the script's flags.

  The defaults are the "blog" preset's values (`PRESETS`).
  """
  preset: str = DEFAULT_PRESET
  data_dir: str = ""
  test_dir: str = ""
  scale: int = 2
  arms: tuple = PRESETS["blog"]["arms"]
  keep_prob: float = 0.8
  block_size: int = 3
  placement: str = "all"
  keep_prob_schedule: str = "constant"
  degradation: str = "bicubic"
  conditions: tuple = ("clean",)
  seeds: int = 4
  steps: int = 160
  batch_size: int = 16
  patch_size: int = 48
  channels: int = 32
  num_blocks: int = 4
  learning_rate: float = 1e-3
  output_dir: str = "sr_output"
  resume: bool = False
  log_every: int = 100
  checkpoint_every: int = 200
  margin_db: float = 0.05

  @classmethod
  def from_preset(cls, name, **overrides):
    """The preset's values, then `overrides` (explicit settings) on top."""
    if name not in PRESETS:
      raise ValueError("preset must be one of %s. Received: preset=%r"
                       % (", ".join(sorted(PRESETS)), name))
    values = dict(PRESETS[name])
    values.update(overrides)
    return cls(preset=name, **values)

  def validate(self):
    """Raises ValueError naming the first bad setting."""
    if self.preset not in PRESETS:
      raise ValueError("preset must be one of %s. Received: preset=%r"
                       % (", ".join(sorted(PRESETS)), self.preset))
    if self.scale not in (2, 3, 4):
      raise ValueError("scale must be 2, 3 or 4. Received: scale=%r"
                       % self.scale)
    if not self.arms or any(arm not in ARMS for arm in self.arms):
      raise ValueError("arms must be a comma list of %s. Received: arms=%r"
                       % (", ".join(ARMS), ",".join(self.arms)))
    if len(set(self.arms)) != len(self.arms):
      raise ValueError("arms must not repeat. Received: arms=%r"
                       % ",".join(self.arms))
    if not 0.0 < self.keep_prob <= 1.0:
      raise ValueError("keep_prob must be in (0, 1]. Received: keep_prob=%r"
                       % self.keep_prob)
    for name, allowed in (("placement", PLACEMENTS),
                          ("keep_prob_schedule", SCHEDULES),
                          ("degradation", DEGRADATIONS)):
      if getattr(self, name) not in allowed:
        raise ValueError("%s must be one of %s. Received: %s=%r"
                         % (name, ", ".join(allowed), name,
                            getattr(self, name)))
    if (not self.conditions or any(c not in CONDITIONS
                                   for c in self.conditions)
        or len(set(self.conditions)) != len(self.conditions)):
      raise ValueError("conditions must be a comma list of distinct values "
                       "from %s. Received: conditions=%r"
                       % (", ".join(CONDITIONS), ",".join(self.conditions)))
    for name in ("block_size", "seeds", "steps", "batch_size", "channels",
                 "num_blocks", "log_every", "checkpoint_every"):
      if getattr(self, name) < 1:
        raise ValueError("%s must be positive. Received: %s=%r"
                         % (name, name, getattr(self, name)))
    if self.patch_size < 2 * self.scale or self.patch_size % self.scale:
      raise ValueError(
          "patch_size must be a multiple of scale and at least 2 * scale. "
          "Received: patch_size=%r, scale=%r" % (self.patch_size, self.scale))
    if not self.learning_rate > 0:
      raise ValueError("learning_rate must be positive. Received: %r"
                       % self.learning_rate)
    if not self.margin_db > 0:
      raise ValueError("margin_db must be positive. Received: margin_db=%r"
                       % self.margin_db)

  def run_key(self):
    """The settings a saved run must share to be resumed."""
    key = dataclasses.asdict(self)
    for name in ("preset", "output_dir", "resume", "seeds", "arms",
                 "log_every", "margin_db"):
      key.pop(name)
    key["conditions"] = list(key["conditions"])
    key["result_format"] = RESULT_FORMAT
    return key

  def test_dirs(self):
    """The --test_dir folders, in order (empty: the bundled images)."""
    return [d for d in self.test_dir.split(",") if d]
