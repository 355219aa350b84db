"""TF1 behaviour: v2 behaviour disabled, as legacy session code runs.

`tf.compat.v1.disable_v2_behavior()` is process-wide and cannot be undone,
so on TF 2.x these cases run in a child process: run directly (`python
tests/graph_v1_test.py`, as Bazel does) the file disables v2 behaviour and
runs them; imported by pytest it starts that child and checks it passed. On
TF 1.15 v1 behaviour is the default and the cases run in-process.
"""

import os
import subprocess
import sys
import unittest

import numpy as np

from tests import _testing
from tf1_dropblock import compat
from tf1_dropblock.compat import tf

_IN_V1_PROCESS = __name__ == "__main__" or not compat.IS_TF2


@unittest.skipUnless(_IN_V1_PROCESS, "Runs in its own v1-mode process.")
class GraphV1Test(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    # Imported here so the child process disables v2 behaviour first.
    from tf1_dropblock import dropblock  # pylint: disable=g-import-not-at-top
    from tf1_dropblock import spatial_dropout  # pylint: disable=g-import-not-at-top
    self.dropblock = dropblock
    self.spatial_dropout = spatial_dropout

  def test_v2_behaviour_is_off(self):
    self.assertFalse(tf.executing_eagerly())

  def test_blog_call_in_a_session_with_cond(self):
    with tf.Graph().as_default():
      tf.set_random_seed(1)
      keep_prob = tf.placeholder(tf.float32, name="dropout")
      is_training = tf.placeholder(tf.bool, name="is_training")
      h = tf.placeholder(tf.float32, [None, None, None, None])
      out = self.dropblock(x=h, keep_prob=keep_prob, block_size=3,
                           training=is_training, scale=True)
      grad = tf.gradients(tf.reduce_sum(out), h)[0]
      with self.session() as sess:
        for shape in [(4, 10, 17, 5), (2, 17, 10, 3), (1, 1, 1, 1)]:
          x = np.ones(shape, np.float32)
          y, g = sess.run([out, grad], {h: x, keep_prob: 0.7,
                                        is_training: True})
          self.assertEqual(y.shape, shape)
          self.assertAllEqual(g, y)
          self.assertTrue(np.all(np.isfinite(y)))
          self.assertAllEqual(
              sess.run(out, {h: x, keep_prob: 0.7, is_training: False}), x)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                    "keep_prob"):
          sess.run(out, {h: np.ones((1, 4, 4, 1)), keep_prob: 1.5,
                         is_training: True})

  def test_masks_reproduce_across_fresh_graphs(self):
    def build_and_run():
      with tf.Graph().as_default():
        tf.set_random_seed(3)
        x = tf.ones([2, 12, 9, 4])
        outs = [self.dropblock(x, 0.7, (2, 3), True, seed=1),
                self.spatial_dropout(x, 0.5, True, data_format="NCHW",
                                     seed=2)]
        with self.session() as sess:
          return sess.run(outs)
    first, second = build_and_run(), build_and_run()
    for a, b in zip(first, second):
      self.assertAllEqual(a, b)
      self.assertGreater(np.count_nonzero(a == 0), 0)

  def test_scale_and_training_as_tensors_in_one_graph(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, None, None, None])
      training = tf.placeholder_with_default(False, [])
      scale = tf.placeholder_with_default(True, [])
      y = self.dropblock(x, 0.6, 3, training, scale, data_format="NCHW")
      z = self.spatial_dropout(x, 0.6, training, scale, data_format="NCHW")
      ones = np.ones((8, 3, 9, 7), np.float32)
      with self.session() as sess:
        self.assertAllEqual(sess.run(y, {x: ones}), ones)
        self.assertAllEqual(sess.run(z, {x: ones}), ones)
        unscaled = sess.run(y, {x: ones, training: True, scale: False})
        self.assertTrue(set(np.unique(unscaled)) == {0.0, 1.0})
        unscaled = sess.run(z, {x: ones, training: True, scale: False})
        self.assertTrue(set(np.unique(unscaled)) == {0.0, 1.0})


  def test_graph_size_per_call(self):
    ops = {"dropblock": lambda x, k, t, f: self.dropblock(
        x, k, 3, t, data_format=f),
           "spatial_dropout": lambda x, k, t, f: self.spatial_dropout(
               x, k, t, data_format=f)}
    for name, op in ops.items():
      for data_format in ("NHWC", "NCHW"):
        for label, shape in _testing.GRAPH_SIZE_SHAPES:
          for tensors, budget in (
              (False, _testing.MAX_OPS_PYTHON_TRAINING),
              (True, _testing.MAX_OPS_TENSOR_TRAINING)):
            count = _testing.ops_per_call(op, shape, tensors, data_format)
            print("v1 graph ops per call: %s %s %s %s: %d" % (
                name, data_format, label,
                "tensor keep_prob and training" if tensors
                else "Python values", count))
            self.assertLessEqual(count, budget, msg=(name, label, tensors))


class GraphV1ProcessTest(unittest.TestCase):

  @unittest.skipIf(_IN_V1_PROCESS, "Already in a v1-mode process.")
  def test_v1_cases_pass_in_their_own_process(self):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + [p for p in [env.get("PYTHONPATH")] if p])
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__)], env=env, cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=600, check=False)
    self.assertEqual(result.returncode, 0, result.stdout[-5000:])
    self.assertRegex(result.stdout, r"Ran [1-9]\d* tests?")


if __name__ == "__main__":
  tf.disable_v2_behavior()
  tf.test.main()
