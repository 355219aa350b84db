"""Tests for `tf1_dropblock.linear_keep_prob`."""

from absl.testing import parameterized
import numpy as np

from tests import _testing
from tests import numpy_reference
from tf1_dropblock import dropblock
from tf1_dropblock import linear_keep_prob
from tf1_dropblock.compat import tf


class LinearKeepProbTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_endpoints_midpoint_and_clipping(self, mode):
    steps = np.array([-5, 0, 50, 100, 250], np.int64)
    values = [
        _testing.run(mode, lambda s: linear_keep_prob(s, 100, 0.8), step)
        for step in steps]
    self.assertAllClose(values, [1.0, 1.0, 0.9, 0.8, 0.8], atol=1e-6)
    self.assertAllClose(
        _testing.run(mode, lambda s: linear_keep_prob(s, 10, 0.5, 0.7),
                     np.int32(5)), 0.6, atol=1e-6)

  def test_python_step_and_dtype(self):
    with tf.Graph().as_default():
      value = linear_keep_prob(3, 4, 0.6)
      self.assertEqual(value.dtype, tf.float32)
      self.assertEqual(value.shape.ndims, 0)
      with tf.Session() as sess:
        self.assertAllClose(sess.run(value), 0.7)

  def test_drives_dropblock_over_global_steps(self):
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      keep_prob = linear_keep_prob(step, 4, 0.5)
      y = dropblock(tf.ones([8, 32, 32, 8]), keep_prob, 3, training=True,
                    scale=False)
      increment = tf.assign_add(step, 1)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        dropped = []
        for _ in range(6):
          dropped.append(np.mean(sess.run(y) == 0))
          sess.run(increment)
    self.assertEqual(dropped[0], 0.0)  # keep_prob 1 at step 0.
    self.assertTrue(all(a < b for a, b in zip(dropped, dropped[1:4])),
                    dropped)
    # From step 4 on keep_prob stays 0.5. sd of the dropped fraction is at
    # most sqrt(p(1-p) * 5 * 5 / 65536) < 0.01 (see dropblock_test); 5 sd.
    expected = numpy_reference.expected_dropped_fraction(0.5, 3, 32, 32)
    self.assertNear(dropped[4], expected, 0.05)
    self.assertNear(dropped[5], expected, 0.05)

  def test_bad_arguments(self):
    with tf.Graph().as_default():
      for kwargs, error, pattern in (
          ({"total_steps": 0}, ValueError, "total_steps"),
          ({"total_steps": 1.5}, TypeError, "total_steps"),
          ({"final_keep_prob": 0.0}, ValueError, "final_keep_prob"),
          ({"final_keep_prob": 1.2}, ValueError, "final_keep_prob"),
          ({"initial_keep_prob": -1.0}, ValueError, "initial_keep_prob"),
          ({"step": 1.5}, TypeError, "step"),
          ({"step": tf.constant(1.5)}, TypeError, "step"),
          ({"final_keep_prob": tf.constant(0.5)}, TypeError,
           "final_keep_prob")):
        args = {"step": 1, "total_steps": 10, "final_keep_prob": 0.9}
        args.update(kwargs)
        with self.assertRaisesRegex(error, pattern):
          linear_keep_prob(**args)


if __name__ == "__main__":
  tf.test.main()
