r"""Build-and-first-run time of a ResNet-50-sized TF1 graph, by regulariser.

    python benchmarks/first_run.py                 # 3 rounds
    python benchmarks/first_run.py --rounds=5 --training=placeholder

A ResNet-50 (bottleneck blocks 3-4-6-3, fused batch norm, NHWC) is built
from `tf.compat.v1.get_variable` and `tf.nn` ops with v2 behaviour disabled
(no Keras, so it runs on TF 1.15 and any 2.x), as
TF1 model code is, with the regulariser after each of the three convs of the
last 12 bottleneck blocks (36 calls, as in the DropBlock paper authors'
ResNet-50 with DropBlock in groups 2-4), then a momentum train op; the time
covers building, initialising and the first training step on a batch of
`--batch_size` 224x224 images. Each arm runs in a fresh child process (so
no arm inherits another's warm caches), arms interleaved round by round;
the table gives each arm's median and its ratio to `tf.nn.dropout`'s, and
the best of three later steps (the steady cost, for comparison).
This is a benchmark, never a test.
"""

import json
import os
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags

FLAGS = flags.FLAGS
ARMS = ("tf.nn.dropout", "dropblock", "none")
flags.DEFINE_integer("rounds", 3, "Child processes per arm.", lower_bound=1)
flags.DEFINE_integer("batch_size", 2, "Images in the first step.",
                     lower_bound=1)
flags.DEFINE_enum("training", "placeholder", ["placeholder", "python"],
                  "How `training` reaches dropblock: a bool placeholder "
                  "fed True, or a Python True.")
flags.DEFINE_string("child_arm", None, "Internal: build this arm and print "
                    "its timings as JSON.")

_BLOCKS = (3, 4, 6, 3)
_REGULARISED_BLOCKS = 12  # The last 12 of the 16 bottleneck blocks.


def _build_and_run(arm, batch_size, training_mode):
  """Builds the graph for `arm`, runs one step; returns timings and ops."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf2  # pylint: disable=g-import-not-at-top
  tf2.compat.v1.disable_v2_behavior()
  import tf1_dropblock  # pylint: disable=g-import-not-at-top
  tf = tf2.compat.v1

  start = time.perf_counter()
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [None, 224, 224, 3])
    labels = tf.placeholder(tf.int32, [None])
    is_training = tf.placeholder(tf.bool, [])
    keep_prob = tf.placeholder(tf.float32, [])
    training = is_training if training_mode == "placeholder" else True

    def regularise(h):
      if arm == "tf.nn.dropout":
        return tf.nn.dropout(h, rate=1.0 - keep_prob)
      if arm == "dropblock":
        return tf1_dropblock.dropblock(h, keep_prob, 7, training=training)
      return h

    def conv(h, out, kernel, stride, name):
      with tf.variable_scope(name):
        w = tf.get_variable("w", [kernel, kernel, h.shape[-1], out],
                            initializer=tf.variance_scaling_initializer())
        h = tf.nn.conv2d(h, w, [1, stride, stride, 1], "SAME")
        scale = tf.get_variable("gamma", [out],
                                initializer=tf.ones_initializer())
        offset = tf.get_variable("beta", [out],
                                 initializer=tf.zeros_initializer())
        h, _, _ = tf.nn.fused_batch_norm(h, scale, offset, is_training=True)
        return h

    h = tf.nn.relu(conv(images, 64, 7, 2, "stem"))
    h = tf.nn.max_pool2d(h, 3, 2, "SAME")
    block = 0
    total = sum(_BLOCKS)
    for group, (count, width) in enumerate(zip(_BLOCKS, (64, 128, 256,
                                                         512))):
      for i in range(count):
        stride = 2 if i == 0 and group > 0 else 1
        regularised = block >= total - _REGULARISED_BLOCKS
        name = "group%d/block%d" % (group, i)
        shortcut = h
        if i == 0:
          shortcut = conv(h, 4 * width, 1, stride, name + "/shortcut")
        r = tf.nn.relu(conv(h, width, 1, 1, name + "/conv1"))
        r = regularise(r) if regularised else r
        r = tf.nn.relu(conv(r, width, 3, stride, name + "/conv2"))
        r = regularise(r) if regularised else r
        r = conv(r, 4 * width, 1, 1, name + "/conv3")
        r = regularise(r) if regularised else r
        h = tf.nn.relu(r + shortcut)
        block += 1
    logits = tf.matmul(tf.reduce_mean(h, [1, 2]),
                       tf.get_variable("fc", [2048, 1000]))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))
    train_op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    init = tf.global_variables_initializer()
  num_ops = len(graph.get_operations())
  built = time.perf_counter()
  with tf.Session(graph=graph) as sess:
    sess.run(init)
    rng = np.random.RandomState(0)
    feed = {images: rng.uniform(size=(batch_size, 224, 224, 3)),
            labels: rng.randint(1000, size=batch_size), is_training: True,
            keep_prob: 0.9}
    sess.run(train_op, feed)
    done = time.perf_counter()
    steps = []
    for _ in range(3):
      step_start = time.perf_counter()
      sess.run(train_op, feed)
      steps.append(time.perf_counter() - step_start)
  return {"arm": arm, "ops": num_ops, "build_s": built - start,
          "first_run_s": done - built, "total_s": done - start,
          "step_s": min(steps)}


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Unexpected arguments: %s" % " ".join(argv[1:]))
  if FLAGS.child_arm:
    print(json.dumps(_build_and_run(FLAGS.child_arm, FLAGS.batch_size,
                                    FLAGS.training)))
    return
  results = {arm: [] for arm in ARMS}
  for _ in range(FLAGS.rounds):
    for arm in ARMS:
      out = subprocess.run(
          [sys.executable, os.path.abspath(__file__), "--child_arm=" + arm,
           "--batch_size=%d" % FLAGS.batch_size,
           "--training=" + FLAGS.training],
          check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
          universal_newlines=True).stdout
      results[arm].append(json.loads(out.strip().splitlines()[-1]))
  import tensorflow as tf2  # pylint: disable=g-import-not-at-top
  print("TensorFlow %s; ResNet-50, 36 regularised activations, training=%s, "
        "batch %d; medians of %d fresh processes per arm"
        % (tf2.__version__, FLAGS.training, FLAGS.batch_size, FLAGS.rounds))
  print()
  print("| arm | graph ops | build s | first run s | total s | total / "
        "tf.nn.dropout | later step s |")
  print("|---|---|---|---|---|---|---|")
  base = statistics.median(r["total_s"] for r in results["tf.nn.dropout"])
  for arm, runs in results.items():
    total = statistics.median(r["total_s"] for r in runs)
    print("| %s | %d | %.2f | %.2f | %.2f | %.3f | %.3f |" % (
        arm, runs[0]["ops"], statistics.median(r["build_s"] for r in runs),
        statistics.median(r["first_run_s"] for r in runs), total,
        total / base, statistics.median(r["step_s"] for r in runs)))


if __name__ == "__main__":
  app.run(main)
