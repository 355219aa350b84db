"""The compat helpers that replace public TF calls behave like them."""

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock.compat import tf


class RandomInt32PairTest(tf.test.TestCase):
  """Same kernel and seeds as `tf.random.uniform([2], ...)`."""

  def _uniform_pair(self, seed):
    return tf.random.uniform([2], minval=-2 ** 31, maxval=2 ** 31 - 1,
                             dtype=tf.int32, seed=seed)

  def test_graph_mode_matches_tf_random_uniform(self):
    values = []
    for make in (compat.random_int32_pair, self._uniform_pair):
      with tf.Graph().as_default():
        tf.set_random_seed(11)
        pairs = [make(seed) for seed in (None, 3, 3)]
        with tf.Session() as sess:
          values.append(sess.run(pairs) + sess.run(pairs))
    self.assertAllEqual(values[0], values[1])
    self.assertEqual(values[0][0].dtype, np.int32)
    self.assertEqual(values[0][0].shape, (2,))
    # Successive runs of one op differ.
    self.assertNotAllEqual(values[0][0], values[0][3])

  def test_eager_matches_tf_random_uniform(self):
    if not compat.IS_TF2:
      self.skipTest("Eager execution needs TensorFlow 2.x.")
    import tensorflow as tf2  # pylint: disable=g-import-not-at-top
    values = []
    for make in (compat.random_int32_pair, self._uniform_pair):
      tf2.random.set_seed(11)
      values.append([make(seed).numpy() for seed in (None, 3, 3, None)])
    self.assertAllEqual(values[0], values[1])
    self.assertNotAllEqual(values[0][1], values[0][2])


class CallConcreteFunctionTest(tf.test.TestCase):

  def test_matches_the_public_call_with_gradient(self):
    if not compat.IS_TF2:
      self.skipTest("tf.function needs TensorFlow 2.x.")
    import tensorflow as tf2  # pylint: disable=g-import-not-at-top
    concrete = compat.function(
        lambda x, k: x * k, input_signature=[
            tf2.TensorSpec([None, None], tf2.float32),
            tf2.TensorSpec([], tf2.float32)]).get_concrete_function()
    x = tf2.constant([[1.0, 2.0], [3.0, 4.0]])
    k = tf2.constant(3.0)
    with tf2.GradientTape() as tape:
      tape.watch(x)
      y = compat.call_concrete_function(concrete, [x, k])
    self.assertAllEqual(y, concrete(x, k))
    self.assertAllEqual(tape.gradient(y, x), np.full((2, 2), 3.0))


if __name__ == "__main__":
  tf.test.main()
