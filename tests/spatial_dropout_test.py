"""Behaviour of `tf1_dropblock.spatial_dropout` in every execution mode."""

from absl.testing import parameterized
import numpy as np

from tests import _testing
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

MODES = _testing.MODES


def _channel_maps(y, channels_first):
  """[N * C, spatial] view of the output, one row per feature map."""
  if not channels_first:
    y = np.moveaxis(y, -1, 1)
  return y.reshape(y.shape[0] * y.shape[1], -1)


class SpatialDropoutTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(
      ("NHWC", "NHWC", (40, 3, 5, 8)), ("NCHW", "NCHW", (40, 8, 3, 5)),
      ("channels_last", "channels_last", (40, 3, 5, 8)),
      ("channels_first", "channels_first", (40, 8, 3, 5)),
      ("NWC", "NWC", (40, 6, 8)), ("NCW", "NCW", (40, 8, 6)),
      ("channels_last_rank3", "channels_last", (40, 6, 8)),
      ("NDHWC", "NDHWC", (40, 2, 3, 4, 8)),
      ("NCDHW", "NCDHW", (40, 8, 2, 3, 4)),
      ("channels_first_rank5", "channels_first", (40, 8, 2, 3, 4)))
  def test_drops_whole_maps_at_the_right_rate(self, data_format, shape):
    keep_prob = 0.7
    channels_first = data_format[1] == "C" or data_format == "channels_first"
    x = np.full(shape, 3.0, np.float32)
    for mode in MODES:
      y = _testing.run(mode, lambda t: spatial_dropout(
          t, keep_prob, True, data_format=data_format, seed=3), x)
      self.assertEqual(y.shape, shape)
      maps = _channel_maps(y, channels_first)
      # Each map is all zero or all 3 / keep_prob.
      first = maps[:, :1]
      self.assertAllEqual(maps, np.broadcast_to(first, maps.shape))
      self.assertTrue(set(np.unique(first)) <= {0.0, np.float32(3.0 / 0.7)})
      # 320 independent Bernoulli(0.7) maps: sd of the kept fraction is
      # sqrt(0.7 * 0.3 / 320) = 0.0256; allow 5 sd.
      self.assertNear(np.mean(first != 0), keep_prob, 5 * 0.0256, msg=mode)
      self.assertTrue(0 < np.count_nonzero(first) < first.size)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_identity_when_not_training(self, mode):
    x = np.random.RandomState(1).normal(size=(2, 5, 7, 3)).astype(np.float32)
    for training in (None, False):
      y = _testing.run(mode, lambda t: spatial_dropout(t, 0.5, training), x)
      self.assertAllEqual(y, x)
    y = _testing.run(mode, lambda t, b: spatial_dropout(t, 0.5, b), x, False)
    self.assertAllEqual(y, x)
    y = _testing.run(mode, lambda t, k: spatial_dropout(t, k, True), x,
                     np.float32(1.0))
    self.assertAllEqual(y, x)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_scale_false_keeps_values(self, mode):
    x = np.full((16, 4, 4, 8), 2.0, np.float32)
    y = _testing.run(mode, lambda t, s: spatial_dropout(t, 0.5, True, s), x,
                     False)
    self.assertTrue(set(np.unique(y)) == {0.0, 2.0})
    y = _testing.run(mode, lambda t: spatial_dropout(t, 0.5, True, False), x)
    self.assertTrue(set(np.unique(y)) == {0.0, 2.0})

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_gradient_is_mask_times_scale(self, mode):
    x = np.random.RandomState(2).uniform(1, 2, (8, 3, 4, 6)).astype(np.float32)
    op = lambda t: spatial_dropout(t, 0.6, True)
    y, grad = _testing.run(mode, _testing.with_gradient(mode, op), x)
    self.assertGreater(np.count_nonzero(y == 0), 0)
    self.assertAllClose(grad, y / x, rtol=1e-6)

  @parameterized.named_parameters(
      ("float16", np.float16), ("bfloat16", "bfloat16"),
      ("float32", np.float32), ("float64", np.float64))
  def test_dtypes(self, dtype):
    dtype = tf.as_dtype(dtype)
    for mode in MODES:
      def fn(t):
        y = spatial_dropout(tf.cast(t, dtype), 0.1, True)
        self.assertEqual(y.dtype, dtype)
        return tf.cast(y, tf.float32)
      y = _testing.run(mode, fn, np.ones((32, 2, 2, 8), np.float32))
      self.assertTrue(np.all(np.isfinite(y)))
      self.assertAllClose(y[y != 0], np.full(np.count_nonzero(y), 10.0),
                          rtol=1e-2)

  def test_static_shape_and_feeding_several_shapes(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, None, None, None])
      training = tf.placeholder(tf.bool, [])
      y = spatial_dropout(x, 0.5, training, data_format="NCHW")
      partial = tf.placeholder(tf.float32, [None, 3, None, 5])
      self.assertEqual(spatial_dropout(partial, 0.5, training).shape.as_list(),
                       [None, 3, None, 5])
      with tf.Session() as sess:
        for shape in [(4, 3, 2, 5), (0, 2, 2, 2), (1, 1, 1, 1), (2, 6, 1, 7)]:
          out = sess.run(y, {x: np.ones(shape), training: True})
          self.assertEqual(out.shape, shape)
          self.assertTrue(set(np.unique(out)) <= {0.0, 2.0})

  def test_graph_seeds_reproduce_masks(self):
    x = np.ones((16, 2, 2, 16), np.float32)
    fn = lambda t: spatial_dropout(t, 0.5, True, seed=5)
    first = _testing.run("graph", fn, x, graph_seed=11)
    self.assertAllEqual(first, _testing.run("graph", fn, x, graph_seed=11))
    self.assertNotAllEqual(first, _testing.run("graph", fn, x, graph_seed=12))


if __name__ == "__main__":
  tf.test.main()
