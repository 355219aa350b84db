r"""Does DropBlock or spatial dropout change super-resolution PSNR? Measure it.

Trains a small SR network without a regulariser and with each regulariser,
from identical weights on identical batches, for several seeds; evaluates on
held-out images (Y-channel PSNR, the papers' protocol) and reports the
paired PSNR change with a 95 % confidence interval, a verdict against an
equivalence margin and the seeds that would settle it.

    python legacy_examples/sr_dropblock.py
    python legacy_examples/sr_dropblock.py --data_dir=/data/DIV2K_train_HR \
        --test_dir=/data/Set5,/data/Set14 --scale=4 --steps=20000

The logic lives in the sr_example package; this file only maps flags to
its settings.
"""

import os

from absl import app
from absl import flags

from sr_example import comparison
from sr_example import data
from sr_example import report
from sr_example import settings
from tf1_dropblock.compat import tf

FLAGS = flags.FLAGS

flags.DEFINE_string("data_dir", "", "Folder of PNG/JPEG/BMP training images. "
                    "Default: photos bundled with scikit-image (%s)."
                    % ", ".join(data.BUNDLED_TRAIN))
flags.DEFINE_string("test_dir", "", "Comma list of folders of held-out "
                    "PNG/JPEG/BMP images (e.g. /data/Set5,/data/Set14), each "
                    "reported as its own test set. Default: bundled photos "
                    "(%s)." % ", ".join(data.BUNDLED_TEST))
flags.DEFINE_enum("scale", "2", ["2", "3", "4"], "Upscaling factor.")
flags.DEFINE_list("arms", list(settings.DEFAULT_ARMS),
                  "Comma list of arms from: %s." % ", ".join(settings.ARMS))
flags.DEFINE_float("keep_prob", 0.9, "keep_prob of the regulariser, in (0, 1].")
flags.DEFINE_integer("block_size", 3, "DropBlock block size.", lower_bound=1)
flags.DEFINE_enum("placement", "last", list(settings.PLACEMENTS),
                  "last: one regulariser on the last feature map before the "
                  "upsampler (as in Reflash Dropout); all: after every "
                  "residual block.")
flags.DEFINE_enum("keep_prob_schedule", "constant", list(settings.SCHEDULES),
                  "constant, or linear: ramp from 1.0 to --keep_prob over "
                  "training (DropBlock paper).")
flags.DEFINE_integer("seeds", 8, "Number of paired seeds.", lower_bound=1)
flags.DEFINE_integer("steps", 300, "Training steps per run.", lower_bound=1)
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
    "arms", lambda arms: bool(arms) and set(arms) <= set(settings.ARMS),
    "--arms must be a comma list of: %s." % ", ".join(settings.ARMS))


def _user_path(path):
  """`bazel run` starts the script in its runfiles; keep relative paths
  relative to where the user typed the command."""
  cwd = os.environ.get("BUILD_WORKING_DIRECTORY")
  return os.path.join(cwd, path) if path and cwd else path


def config_from_flags():
  return settings.Config(
      data_dir=_user_path(FLAGS.data_dir),
      test_dir=",".join(_user_path(d) for d in FLAGS.test_dir.split(",")
                        if d), scale=int(FLAGS.scale),
      arms=tuple(FLAGS.arms), keep_prob=FLAGS.keep_prob,
      block_size=FLAGS.block_size, placement=FLAGS.placement,
      keep_prob_schedule=FLAGS.keep_prob_schedule, seeds=FLAGS.seeds,
      steps=FLAGS.steps, batch_size=FLAGS.batch_size,
      patch_size=FLAGS.patch_size, channels=FLAGS.channels,
      num_blocks=FLAGS.num_blocks, learning_rate=FLAGS.learning_rate,
      output_dir=_user_path(FLAGS.output_dir), resume=FLAGS.resume,
      log_every=FLAGS.log_every, margin_db=FLAGS.margin_db)


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
  tf.disable_v2_behavior()
  app.run(main)
