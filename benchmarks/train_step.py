r"""Time one SR training step with `tf.nn.dropout` and with `dropblock`.

    python benchmarks/train_step.py                  # --placement=all
    python benchmarks/train_step.py --placement=last --steps=60

Builds the SR network of `legacy_examples/sr_example` once per candidate, in
one process with v2 behaviour disabled (as the SR script and TF1 trainers
run), and times training steps (Adam, L1 loss, forward and backward)
interleaved on one fixed batch: each repeat runs `--steps_per_repeat` steps
of every candidate in turn; a candidate's time is its best repeat. The
table gives each candidate's step time over the step time of the blog
trainer's own line, `tf.nn.dropout(x, keep_prob=<fed placeholder>)`.

Candidates, all with the regulariser at the same places:
  - `tf.nn.dropout, keep_prob fed`: the blog trainer's line, no `training`
    switch (eval feeds keep_prob 1.0);
  - `dropout arm`: `tf.nn.dropout` behind the `training` placeholder (the
    SR script's `dropout` arm);
  - `dropblock`: exactly the blog's call, `keep_prob` and `training` fed as
    placeholders;
  - `dropblock, training=True`: the same with a Python bool;
  - `none`: no regulariser (the floor).
This is a benchmark, never a test.
"""

import os
import statistics
import sys
import time

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "legacy_examples"))

from sr_example import network  # pylint: disable=g-import-not-at-top,wrong-import-position
from sr_example import settings  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf1_dropblock import compat  # pylint: disable=g-import-not-at-top,wrong-import-position
from tf1_dropblock.compat import tf  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS
flags.DEFINE_enum("placement", "all", list(settings.PLACEMENTS),
                  "Where the regulariser goes (as in the SR script).")
flags.DEFINE_integer("block_size", 3, "DropBlock block size.", lower_bound=1)
flags.DEFINE_float("keep_prob", 0.9, "keep_prob fed to every candidate.")
flags.DEFINE_integer("batch_size", 16, "Patches per batch.", lower_bound=1)
flags.DEFINE_integer("patch_size", 48, "HR patch side.", lower_bound=4)
flags.DEFINE_integer("channels", 32, "Feature channels.", lower_bound=1)
flags.DEFINE_integer("num_blocks", 4, "Residual blocks.", lower_bound=1)
flags.DEFINE_integer("repeats", 15, "Timed repeats per candidate.",
                     lower_bound=1)
flags.DEFINE_integer("steps_per_repeat", 4, "Train steps per repeat.",
                     lower_bound=1)

BASELINE = "tf.nn.dropout, keep_prob fed"


class _Trainer(object):
  """One candidate's training graph and session."""

  def __init__(self, config, regulariser, training_is_tensor):
    self.graph = tf.Graph()
    with self.graph.as_default():
      tf.set_random_seed(0)
      self.lr = tf.placeholder(tf.float32, [None, None, None, 3])
      self.hr = tf.placeholder(tf.float32, [None, None, None, 3])
      self.keep_prob = tf.placeholder(tf.float32, [])
      self.training = tf.placeholder(tf.bool, [])
      training = self.training if training_is_tensor else True
      arm = "none" if regulariser == "none" else regulariser
      before = len(self.graph.get_operations())
      sr = network.build_network(self.lr, training, self.keep_prob, config,
                                arm, seed=0)
      self.num_ops = len(self.graph.get_operations()) - before
      loss = tf.reduce_mean(tf.abs(sr - self.hr))
      self.train_op = tf.train.AdamOptimizer(1e-4).minimize(loss)
      init = tf.global_variables_initializer()
    self.graph.finalize()
    self.sess = tf.Session(graph=self.graph)
    self.sess.run(init)

  def step(self, lr, hr, keep_prob):
    self.sess.run(self.train_op, {self.lr: lr, self.hr: hr,
                                  self.keep_prob: keep_prob,
                                  self.training: True})


def run(config, keep_prob, repeats, steps_per_repeat, stream=sys.stdout):
  """Returns {candidate: (best step seconds, spread, graph ops)}."""
  candidates = {
      # With a Python `training=True` the dropout arm is exactly
      # `tf.nn.dropout(x, rate=1 - keep_prob)` with keep_prob fed.
      BASELINE: ("dropout", False),
      "dropout arm (training fed)": ("dropout", True),
      "dropblock (blog's call)": ("dropblock", True),
      "dropblock, training=True": ("dropblock", False),
      "none": ("none", False),
  }
  trainers = {name: _Trainer(config, arm, tensor)
              for name, (arm, tensor) in candidates.items()}
  rng = np.random.RandomState(0)
  lr_side = config.patch_size // config.scale
  lr = rng.uniform(size=(config.batch_size, lr_side, lr_side, 3)).astype(
      np.float32)
  hr = rng.uniform(size=(config.batch_size, config.patch_size,
                         config.patch_size, 3)).astype(np.float32)
  for trainer in trainers.values():  # Warm up.
    for _ in range(3):
      trainer.step(lr, hr, keep_prob)
  samples = {name: [] for name in trainers}
  for _ in range(repeats):
    for name, trainer in trainers.items():
      start = time.perf_counter()
      for _ in range(steps_per_repeat):
        trainer.step(lr, hr, keep_prob)
      samples[name].append((time.perf_counter() - start) / steps_per_repeat)
  results = {}
  for name, times in samples.items():
    results[name] = (min(times), statistics.median(times) / min(times) - 1.0,
                     trainers[name].num_ops)
  for trainer in trainers.values():
    trainer.sess.close()
  return results


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Unexpected arguments: %s" % " ".join(argv[1:]))
  config = settings.Config(
      placement=FLAGS.placement, block_size=FLAGS.block_size,
      keep_prob=FLAGS.keep_prob, batch_size=FLAGS.batch_size,
      patch_size=FLAGS.patch_size, channels=FLAGS.channels,
      num_blocks=FLAGS.num_blocks)
  config.validate()
  print("TensorFlow %s (v2 behaviour disabled); SR network, placement=%s, "
        "block %d, keep_prob %.2f, batch %dx%d^2, %d channels, %d blocks; "
        "best of %d repeats of %d steps"
        % (compat.VERSION, FLAGS.placement, FLAGS.block_size,
           FLAGS.keep_prob, FLAGS.batch_size, FLAGS.patch_size,
           FLAGS.channels, FLAGS.num_blocks, FLAGS.repeats,
           FLAGS.steps_per_repeat))
  results = run(config, FLAGS.keep_prob, FLAGS.repeats,
                FLAGS.steps_per_repeat)
  base = results[BASELINE][0]
  print()
  print("| candidate | step ms | / %s | spread | network ops |" % BASELINE)
  print("|---|---|---|---|---|")
  for name, (best, spread, num_ops) in results.items():
    print("| %s | %.2f | %.3f | %.2f | %d |"
          % (name, best * 1e3, best / base, spread, num_ops))


if __name__ == "__main__":
  tf.disable_v2_behavior()
  app.run(main)
