"""The settings of one SR comparison: arms, validation, the resume key.
"""

import dataclasses


ARMS = ("none", "dropout", "dropblock", "spatial_dropout")


DEFAULT_ARMS = ARMS


PLACEMENTS = ("last", "all")


SCHEDULES = ("constant", "linear")


# A run whose mean gain over bicubic is below this has collapsed to (about)
# its bicubic input; it is reported and left out of the means.
COLLAPSE_GAIN_DB = 0.05


# Bumped when a run's result.json changes shape, so --resume never mixes.
RESULT_FORMAT = 2


class DataError(ValueError):
  """Bad user data: missing folders, unreadable or too small images."""


@dataclasses.dataclass
class Config:
  """Everything a comparison run depends on; mirrors the script's flags."""
  data_dir: str = ""
  test_dir: str = ""
  scale: int = 2
  arms: tuple = DEFAULT_ARMS
  keep_prob: float = 0.9
  block_size: int = 3
  placement: str = "last"
  keep_prob_schedule: str = "constant"
  seeds: int = 8
  steps: int = 300
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

  def validate(self):
    """Raises ValueError naming the first bad setting."""
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
    if self.placement not in PLACEMENTS:
      raise ValueError("placement must be one of %s. Received: %r"
                       % (PLACEMENTS, self.placement))
    if self.keep_prob_schedule not in SCHEDULES:
      raise ValueError("keep_prob_schedule must be one of %s. Received: %r"
                       % (SCHEDULES, self.keep_prob_schedule))
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
    for name in ("output_dir", "resume", "seeds", "arms", "log_every",
                 "margin_db"):
      key.pop(name)
    key["result_format"] = RESULT_FORMAT
    return key

  def test_dirs(self):
    """The --test_dir folders, in order (empty: the bundled images)."""
    return [d for d in self.test_dir.split(",") if d]
