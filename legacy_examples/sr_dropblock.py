r"""Does DropBlock or spatial dropout change super-resolution PSNR? Measure it.

Trains a small SR network without a regulariser, with each regulariser and
with a positive control (element-wise dropout at keep_prob 0.5 after every
residual block, which is known to hurt), from identical weights on identical
batches, for several seeds; evaluates on held-out images (Y-channel PSNR,
the papers' protocol), clean and under each test degradation, and on
held-out strips of the training images; reports the paired PSNR change
with a 95 % confidence interval, a verdict against an equivalence margin,
whether the control was detected, and the generalisation gap.

    python legacy_examples/sr_dropblock.py                    # --preset=blog
    python legacy_examples/sr_dropblock.py --preset=reflash
    python legacy_examples/sr_dropblock.py --preset=blog --steps=3000 \
        --data_dir=/data/DIV2K_train_HR --test_dir=/data/Set5,/data/Set14

Presets (settings.PRESETS): `blog`, the blog's experiment (a regulariser
after every residual block, keep_prob 0.8, block 3, bicubic x2); `reflash`,
Kong et al.'s (one regulariser before the last convolution, keep_prob 0.5,
mixed blur/noise/JPEG training degradations). A flag given explicitly
overrides its preset's value.

The logic lives in the sr_example package; this file only maps flags to
its settings.
"""

import logging
import os
import warnings

# Before TensorFlow loads: its C++ start-up notices are not for this log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from sr_example import comparison
from sr_example import data
from sr_example import report
from sr_example import settings
from tf1_dropblock.compat import tf

FLAGS = flags.FLAGS

flags.DEFINE_enum("preset", settings.DEFAULT_PRESET, sorted(settings.PRESETS),
                  "Named experiment; explicit flags override its values. "
                  "blog: regulariser after every residual block, keep_prob "
                  "0.8, block 3, bicubic x2. reflash: one regulariser before "
                  "the last convolution, keep_prob 0.5, mixed degradations, "
                  "tested clean, blurred, noisy and JPEG-compressed.")
flags.DEFINE_string("data_dir", "", "Folder of PNG/JPEG/BMP training images. "
                    "Default: photos bundled with scikit-image (%s)."
                    % ", ".join(data.BUNDLED_TRAIN))
flags.DEFINE_string("test_dir", "", "Comma list of folders of held-out "
                    "PNG/JPEG/BMP images (e.g. /data/Set5,/data/Set14), each "
                    "reported as its own test set. Default: bundled photos "
                    "(%s)." % ", ".join(data.BUNDLED_TEST))
flags.DEFINE_enum("scale", "2", ["2", "3", "4"], "Upscaling factor.")
flags.DEFINE_list("arms", list(settings.Config.arms),
                  "Comma list of arms from: %s (control: element-wise "
                  "dropout at keep_prob %g after every residual block, the "
                  "positive control)." % (", ".join(settings.ARMS),
                                          settings.CONTROL_KEEP_PROB))
flags.DEFINE_float("keep_prob", settings.Config.keep_prob,
                   "keep_prob of the regulariser, in (0, 1].")
flags.DEFINE_integer("block_size", 3, "DropBlock block size.", lower_bound=1)
flags.DEFINE_enum("placement", settings.Config.placement,
                  list(settings.PLACEMENTS),
                  "last: one regulariser on the last feature map before the "
                  "upsampler (as in Reflash Dropout); all: after every "
                  "residual block.")
flags.DEFINE_enum("keep_prob_schedule", "constant", list(settings.SCHEDULES),
                  "constant, or linear: ramp from 1.0 to --keep_prob over "
                  "training (DropBlock paper).")
flags.DEFINE_enum("degradation", settings.Config.degradation,
                  list(settings.DEGRADATIONS),
                  "How training LR patches are made: bicubic, or mixed "
                  "(random blur, noise and JPEG per patch).")
flags.DEFINE_list("conditions", list(settings.Config.conditions),
                  "Test conditions, each reported separately: %s."
                  % ", ".join(settings.CONDITIONS))
flags.DEFINE_integer("seeds", settings.Config.seeds, "Number of paired seeds.",
                     lower_bound=1)
flags.DEFINE_integer("steps", settings.Config.steps, "Training steps per run.",
                     lower_bound=1)
flags.DEFINE_integer("batch_size", 16, "Patches per batch.", lower_bound=1)
flags.DEFINE_integer("patch_size", 48, "HR patch side; a multiple of --scale.",
                     lower_bound=2)
flags.DEFINE_integer("channels", 32, "Feature channels.", lower_bound=1)
flags.DEFINE_integer("num_blocks", 4, "Residual blocks.", lower_bound=1)
flags.DEFINE_float("learning_rate", 1e-3, "Initial Adam learning rate "
                   "(cosine decay to a tenth).", lower_bound=0.0)
flags.DEFINE_string("output_dir", "sr_output", "Where results.json, "
                    "results.md, figure.png, summaries and checkpoints go.")
flags.DEFINE_bool("resume", False, "Continue an interrupted run in "
                  "--output_dir (finished runs are reused).")
flags.DEFINE_integer("log_every", 100, "Steps between progress lines.",
                     lower_bound=1)
flags.DEFINE_float("margin_db", 0.05, "Equivalence margin in dB: a paired "
                   "interval inside ±margin reads 'no effect beyond "
                   "±margin'.", lower_bound=0.0)
flags.register_validator("keep_prob", lambda v: 0.0 < v <= 1.0,
                         "--keep_prob must be in (0, 1].")
flags.register_validator(
    "conditions", lambda c: bool(c) and set(c) <= set(settings.CONDITIONS),
    "--conditions must be a comma list of: %s."
    % ", ".join(settings.CONDITIONS))
flags.register_validator(
    "arms", lambda arms: bool(arms) and set(arms) <= set(settings.ARMS),
    "--arms must be a comma list of: %s." % ", ".join(settings.ARMS))


def _user_path(path):
  """`bazel run` starts the script in its runfiles; keep relative paths
  relative to where the user typed the command."""
  cwd = os.environ.get("BUILD_WORKING_DIRECTORY")
  return os.path.join(cwd, path) if path and cwd else path


# Flags a preset sets; the others keep their flag defaults.
_PRESET_FLAGS = sorted(set().union(*settings.PRESETS.values()))


def config_from_flags():
  """The preset's values, with every flag given on the command line on top."""
  explicit = {}
  for name in _PRESET_FLAGS:
    if not FLAGS[name].using_default_value:
      value = FLAGS[name].value
      explicit[name] = (tuple(value) if isinstance(value, list) else
                        int(value) if name == "scale" else value)
  return settings.Config.from_preset(
      FLAGS.preset,
      data_dir=_user_path(FLAGS.data_dir),
      test_dir=",".join(_user_path(d) for d in FLAGS.test_dir.split(",")
                        if d),
      keep_prob_schedule=FLAGS.keep_prob_schedule,
      batch_size=FLAGS.batch_size, patch_size=FLAGS.patch_size,
      channels=FLAGS.channels, num_blocks=FLAGS.num_blocks,
      learning_rate=FLAGS.learning_rate,
      output_dir=_user_path(FLAGS.output_dir), resume=FLAGS.resume,
      log_every=FLAGS.log_every, margin_db=FLAGS.margin_db, **explicit)


def quiet_tensorflow():
  """Only errors from TensorFlow: its deprecation warnings about TF1 APIs
  (this script uses them on purpose) would bury the progress lines."""
  tf.logging.set_verbosity(tf.logging.ERROR)
  logging.getLogger("tensorflow").setLevel(logging.ERROR)
  warnings.filterwarnings("ignore", category=DeprecationWarning)
  warnings.filterwarnings("ignore", category=FutureWarning)
  warnings.filterwarnings("ignore", category=UserWarning,
                          module="tensorflow|keras")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Unexpected arguments: %s" % " ".join(argv[1:]))
  try:
    result = comparison.run_comparison(config_from_flags())
  except (settings.DataError, ValueError) as e:
    raise app.UsageError(str(e))
  print()
  print(report.format_table(result))
  print("Results, figure, summaries and checkpoints: %s" % result.output_dir)


if __name__ == "__main__":
  quiet_tensorflow()
  tf.disable_v2_behavior()
  app.run(main)
