"""Behaviour of `tf1_dropblock.dropblock` in every execution mode."""

from absl.testing import parameterized
import numpy as np

from tests import _masks
from tests import _testing
from tests import numpy_reference
from tf1_dropblock import compat
from tf1_dropblock import dropblock
from tf1_dropblock.compat import tf
from tf1_dropblock import _blocks
from tf1_dropblock import _masking
from tf1_dropblock._blocks import BlockGeometry
from tf1_dropblock._seeds import sparse_seed_positions
from tf1_dropblock._pooling import _sliding_max


MODES = _testing.MODES

# (shape in NHWC order, block_size): square and non-square maps, odd and even
# blocks, rectangular blocks, tiny maps and blocks larger than the map.
GEOMETRY_CASES = [
    ("square_odd", (2, 9, 9, 3), 3),
    ("nonsquare_odd", (2, 7, 12, 2), 3),
    ("nonsquare_even", (3, 10, 6, 2), 4),
    ("even_block_2", (2, 8, 11, 2), 2),
    ("rect_block", (2, 9, 13, 2), (2, 5)),
    ("one_by_one_map", (4, 1, 1, 3), 3),
    ("tiny_map", (3, 2, 3, 2), 2),
    ("block_bigger_than_map", (2, 4, 5, 2), 7),
    ("block_taller_than_map", (2, 3, 9, 2), (5, 2)),
    ("block_one", (2, 6, 5, 3), 1),
]


def _transpose(shape_or_array, data_format):
  if data_format == "NHWC":
    return shape_or_array
  if isinstance(shape_or_array, tuple):
    n, h, w, c = shape_or_array
    return (n, c, h, w)
  return np.transpose(shape_or_array, (0, 3, 1, 2))


def _cases_with_formats(cases):
  return [(name + "_" + fmt, shape, block, fmt)
          for name, shape, block in cases for fmt in ("NHWC", "NCHW")]


class KeepMaskFromNoiseTest(parameterized.TestCase, tf.test.TestCase):
  """The TF mask built from given noise equals the NumPy reference."""

  @parameterized.named_parameters(*_cases_with_formats(GEOMETRY_CASES))
  def test_matches_numpy_reference(self, shape, block_size, data_format):
    rng = np.random.RandomState(0)
    n, h, w, c = shape
    block_h, block_w = numpy_reference.clipped_block(block_size, h, w)
    noise = rng.uniform(size=(n, h - block_h + 1, w - block_w + 1, c))
    noise.flat[0] = 0.0  # At least one seed.
    noise = _transpose(noise.astype(np.float32), data_format)
    gamma = np.float32(0.3)
    full_shape = np.array(_transpose(shape, data_format), np.int32)
    blocks = block_size if isinstance(block_size, tuple) else (block_size,) * 2
    expected = numpy_reference.dropblock_keep_mask(
        noise, gamma, block_size, h, w, data_format)
    self.assertGreater(expected.size - expected.sum(), 0)  # Some drops.
    for mode in MODES:
      actual = _testing.run(
          mode, lambda t, s: _masks.keep_mask_from_noise(
              t, tf.constant(gamma), blocks, s, data_format),
          noise, full_shape)
      self.assertAllEqual(actual, expected, msg=mode)


class KeepMaskFromSeedPositionsTest(parameterized.TestCase, tf.test.TestCase):
  """The sparse sampler's seed placement equals the NumPy reference."""

  @parameterized.named_parameters(*_cases_with_formats(GEOMETRY_CASES))
  def test_matches_numpy_reference(self, shape, block_size, data_format):
    self._check(shape, block_size, data_format)

  @parameterized.named_parameters(
      *[(name + "_8_channels", shape[:3] + (8,), block)
        for name, shape, block in GEOMETRY_CASES])
  def test_swept_map_matches_numpy_reference(self, shape, block_size):
    # The geometry cases with 8 channels (one int64 word per cell), where
    # the swept construction applies.
    self._check(shape, block_size, "NHWC")

  def _check(self, shape, block_size, data_format):
    """Every construction that applies, in every mode, against NumPy."""
    rng = np.random.RandomState(1)
    n, h, w, c = shape
    block_h, block_w = numpy_reference.clipped_block(block_size, h, w)
    seeds = rng.uniform(size=(n, h - block_h + 1, w - block_w + 1, c)) < 0.3
    seeds.flat[-1] = True
    # Positions index the valid region laid out like the input.
    positions = np.flatnonzero(_transpose(seeds, data_format)).astype(
        np.int64)
    expected = numpy_reference.dropblock_keep_mask(
        _transpose((~seeds).astype(np.float32), data_format), 0.5,
        block_size, h, w, data_format)
    full_shape = np.array(_transpose(shape, data_format), np.int32)
    blocks = block_size if isinstance(block_size, tuple) else (block_size,) * 2
    for mode in MODES:
      for construction in _masks.constructions(data_format, c):
        actual = _testing.run(
            mode, lambda p, s, c=construction:
            _masks.keep_mask_from_seed_positions(
                p, blocks, s, data_format, c), positions, full_shape)
        self.assertAllEqual(actual, expected, msg=(mode, construction))


class SparseSeedSamplerTest(parameterized.TestCase, tf.test.TestCase):
  """Seeds drawn from geometric gaps are i.i.d. Bernoulli(gamma)."""

  @parameterized.named_parameters(
      ("static", False), ("tensor_gamma_and_shape", True))
  def test_seed_count_and_positions_are_bernoulli(self, tensors):
    runs, gamma = 2000, 0.05
    with tf.Graph().as_default():
      tf.set_random_seed(3)
      dims = [2, 6, 7, 3]  # 252 cells; 4x5 valid seed region
      if tensors:
        dims = tf.unstack(tf.placeholder_with_default(
            tf.constant(dims, tf.int64), [None]), num=4)
      geometry = BlockGeometry(dims, "NHWC", (3, 3))
      gamma_value = (tf.placeholder_with_default(
          tf.constant(gamma, tf.float64), []) if tensors else gamma)
      # 32 maps per run, so each session.run gives 32 independent samples.
      keys = [tf.random.uniform([2], -2 ** 31, 2 ** 31 - 1, tf.int32, seed=i)
              for i in range(8)]
      corners = [geometry.corners(sparse_seed_positions(
          geometry.num_valid_cells, gamma_value, key, tf.float64,
          centres=True)) for key in keys]
      with tf.Session() as sess:
        samples = []
        for _ in range(runs // 8):
          for index in sess.run(corners):
            self.assertEqual(len(np.unique(index)), len(index))
            samples.append(np.bincount(index, minlength=252).reshape(
                [2, 6, 7, 3]))
    seeds = np.stack(samples) == 1
    # Seeds (blocks' first cells) only on the valid region.
    valid = np.zeros((6, 7), bool)
    valid[:4, :5] = True
    self.assertFalse(np.any(seeds[:, :, ~valid, :]))
    cells = 2 * 20 * 3
    counts = seeds.reshape(len(seeds), -1).sum(axis=1)
    # Binomial(120, 0.05): mean 6, variance 5.7. With 2000 samples the sd
    # of the sample mean is 0.053 and of the sample variance about
    # 5.7 * sqrt(2 / 1999) = 0.18 (plus a little excess kurtosis); 5 sd.
    self.assertNear(counts.mean(), cells * gamma, 5 * 0.053)
    self.assertNear(counts.var(ddof=1), cells * gamma * (1 - gamma), 5 * 0.2)
    # Every valid cell is seeded with frequency gamma: chi-square over the
    # 120 cells (119 df: mean 119, sd 15.4); 5 sd.
    per_cell = seeds[:, :, valid, :].sum(axis=0).ravel()
    expected = len(seeds) * gamma
    chi2 = np.sum((per_cell - expected) ** 2 / (expected * (1 - gamma)))
    self.assertLess(chi2, 119 + 5 * 15.4)

  def test_draws_cover_the_region(self):
    # The draw count exceeds the region's seed count with overwhelming
    # probability (module docstring); here at several means it must be at
    # least the mean plus 10 sd of Binomial(n, gamma).
    from tf1_dropblock import _seeds  # pylint: disable=g-import-not-at-top
    for cells, gamma in ((10, 0.5), (10 ** 4, 1e-3), (10 ** 7, 0.01),
                         (10 ** 6, 0.9)):
      mean = cells * gamma
      self.assertGreaterEqual(
          _seeds.draw_rows(float(mean)) * _seeds._ROW,
          mean + 10 * np.sqrt(mean * (1 - gamma)) + 32)


class XlaTensorKeepProbTest(parameterized.TestCase, tf.test.TestCase):
  """Under XLA a tensor keep_prob picks a rate bucket at run time; each
  bucket's sparse sampler (and the dense one past the last) is exact."""

  @parameterized.named_parameters(
      ("bucket_0.05_NHWC", 0.97, "NHWC"), ("bucket_0.1_NCHW", 0.93, "NCHW"),
      ("bucket_0.2_NHWC", 0.85, "NHWC"), ("bucket_0.4_NCHW", 0.65, "NCHW"),
      ("dense_NHWC", 0.3, "NHWC"))
  def test_dropped_fraction_and_blocks(self, keep_prob, data_format):
    if not compat.IS_TF2:
      self.skipTest("XLA via tf.function needs TensorFlow 2.x.")
    n, h, w, c = 8, 32, 24, 16
    block_size = (3, 5)
    expected = numpy_reference.expected_dropped_fraction(
        keep_prob, block_size, h, w)
    sd = np.sqrt(expected * (1 - expected) * 5 * 9 / (n * h * w * c))
    x = np.ones(_transpose((n, h, w, c), data_format), np.float32)
    y = _testing.run("xla", lambda t, k: dropblock(
        t, k, block_size, True, scale=False, data_format=data_format), x,
                     np.float32(keep_prob), graph_seed=5)
    self.assertNear(np.mean(y == 0), expected, 5 * sd)
    self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(
        y, block_size, data_format))


class SlidingMaxTest(parameterized.TestCase, tf.test.TestCase):
  """The doubling sliding max (XLA, channels-first) equals SAME pooling."""

  @parameterized.parameters(*[(window, size) for window in range(2, 10)
                              for size in (1, 2, 3, 7, 16)])
  def test_matches_same_max_pool(self, window, size):
    rng = np.random.RandomState(window * 100 + size)
    values = np.where(rng.uniform(size=(3, size, size + 2, 1)) < 0.2,
                      0.0, -1.0).astype(np.float32)
    for axis in (1, 2):
      ksize = [1, 1]
      ksize[axis - 1] = window
      expected = _testing.run("graph", lambda t, k=ksize: tf.nn.max_pool2d(
          t, k, 1, "SAME"), values)
      actual = _testing.run("graph", lambda t, a=axis: _sliding_max(
          t, a, window), values)
      self.assertAllEqual(actual, expected)


class MapConstructionTest(parameterized.TestCase, tf.test.TestCase):
  """The scattered, pooled and swept block maps give the op the same
  outputs and gradients."""

  # (compat.POOLED_BLOCK_MAPS, _POOLED_MIN_RATE, _POOLED_MIN_CHANNELS,
  # _SWEPT_MIN_RATE) that force each construction where it applies.
  _FORCED = {"scattered": (False, 2.0, 1, (2.0,) * 4),
             "pooled": (True, 0.0, 1, (2.0,) * 4),
             "swept": (False, 2.0, 1, (0.0,) * 4)}

  def _output(self, construction, mode, x, keep_prob, block_size,
              data_format, **kwargs):
    """`dropblock`'s output and gradient with one construction forced."""
    saved = (compat.POOLED_BLOCK_MAPS, _blocks._POOLED_MIN_RATE,
             _blocks._POOLED_MIN_CHANNELS, _blocks._SWEPT_MIN_RATE)

    def configure(values):
      (compat.POOLED_BLOCK_MAPS, _blocks._POOLED_MIN_RATE,
       _blocks._POOLED_MIN_CHANNELS, _blocks._SWEPT_MIN_RATE) = values
      _masking._GRAPH_FUNCTIONS.clear()
      _masking._EAGER_FUNCTIONS.clear()
      _masking._SPECIALISED_COUNT.clear()

    configure(self._FORCED[construction])
    try:
      def fn(t, k, training):
        return _testing.with_gradient(mode, lambda u: dropblock(
            u, k if kwargs.get("tensor_keep_prob") else keep_prob,
            block_size, training=training if kwargs.get("tensor_training")
            else True, data_format=data_format, seed=5,
            normalize=kwargs.get("normalize", "batch"),
            scale=kwargs.get("scale", True)))(t)
      return _testing.run(mode, fn, x, np.float32(keep_prob), True,
                          graph_seed=7)
    finally:
      configure(saved)

  @parameterized.named_parameters(
      ("nhwc", (2, 9, 11, 8), 3, "NHWC", {}),
      ("even_block", (3, 8, 8, 16), 2, "NHWC", {"tensor_keep_prob": True}),
      ("rect_block", (2, 12, 7, 8), (4, 2), "NHWC",
       {"tensor_training": True}),
      ("clipped", (2, 3, 5, 8), 7, "NHWC", {"tensor_keep_prob": True,
                                             "tensor_training": True}),
      ("clipped_one_axis", (2, 2, 9, 24), 4, "NHWC",
       {"tensor_keep_prob": True}),
      ("per_example", (3, 10, 9, 8), 5, "NHWC", {"normalize": "example"}),
      ("no_scale", (2, 9, 9, 8), 3, "NHWC", {"scale": False}),
      ("channels_not_by_8", (2, 9, 9, 3), 2, "NHWC",
       {"tensor_keep_prob": True}),
      ("sequence", (4, 30, 8), 5, "NWC", {"tensor_keep_prob": True}),
      ("volume", (2, 6, 7, 5, 16), (3, 2, 4), "NDHWC", {}))
  def test_same_output_and_gradient(self, shape, block_size, data_format,
                                    kwargs):
    x = np.random.RandomState(3).normal(size=shape).astype(np.float32)
    # XLA has its own (pooled) path, and ignores op seeds.
    for mode in [m for m in MODES if m != "xla"]:
      scattered = self._output("scattered", mode, x, 0.5, block_size,
                               data_format, **kwargs)
      self.assertGreater(np.count_nonzero(scattered[0] == 0), 0, msg=mode)
      for construction in ("pooled", "swept"):
        other = self._output(construction, mode, x, 0.5, block_size,
                             data_format, **kwargs)
        self.assertAllEqual(other[0], scattered[0],
                            msg=(mode, construction))
        self.assertAllEqual(other[1], scattered[1],
                            msg=(mode, construction))

  @parameterized.named_parameters(
      # (..., ops expected on TF 1.15, on TF 2.x)
      ("many_channels_high_rate", 2, 32, 0.5, 3, "NHWC", ["MaxPool"],
       ["BitwiseAnd"]),
      ("one_example", 1, 32, 0.5, 3, "NHWC", ["BitwiseAnd"],
       ["BitwiseAnd"]),
      ("one_example_channels_not_by_8", 1, 36, 0.5, 3, "NHWC", ["MaxPool"],
       []),
      ("few_channels", 2, 8, 0.5, 3, "NHWC", [], ["BitwiseAnd"]),
      ("channels_not_by_8", 2, 12, 0.5, 3, "NHWC", [], []),
      ("low_rate", 2, 32, 0.9, 3, "NHWC", [], []),
      ("block_2_mid_rate", 2, 32, 0.75, 2, "NHWC", [], ["BitwiseAnd"]),
      ("large_block", 2, 32, 0.5, 5, "NHWC", ["MaxPool"], []),
      ("channels_first", 2, 32, 0.5, 3, "NCHW", [], []))
  def test_construction_where_it_pays(self, batch, channels, keep_prob,
                                      block_size, data_format, tf1_ops,
                                      tf2_ops):
    # Static shape and keep_prob: the choice is made in Python, so the
    # graph holds one construction.
    shape = ([batch, 12, 12, channels] if data_format == "NHWC"
             else [batch, channels, 12, 12])
    with tf.Graph().as_default() as graph:
      dropblock(tf.ones(shape), keep_prob, block_size, True,
                data_format=data_format)
      graph_def = graph.as_graph_def()
      types = {node.op for node in graph_def.node}
      for function in graph_def.library.function:
        types.update(node.op for node in function.node_def)
    expected = tf1_ops if compat.POOLED_BLOCK_MAPS else tf2_ops
    self.assertEqual(
        sorted(t for t in types if "MaxPool" in t or t == "BitwiseAnd"),
        expected)
    self.assertIn("SparseToDense", types)


class DropBlockTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(*_cases_with_formats(GEOMETRY_CASES))
  def test_zeros_form_whole_blocks_inside_the_map(self, shape, block_size,
                                                  data_format):
    x = np.ones(_transpose(shape, data_format), np.float32)
    for mode in MODES:
      y = _testing.run(mode, lambda t: dropblock(
          t, 0.6, block_size, training=True, scale=False,
          data_format=data_format), x)
      self.assertEqual(y.shape, x.shape)
      self.assertTrue(set(np.unique(y)) <= {0.0, 1.0}, msg=mode)
      self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(
          y, block_size, data_format), msg=mode)

  @parameterized.named_parameters(
      ("int8_map_NHWC", (2, 11, 9, 256), 3, "NHWC"),
      ("int8_map_NCHW", (2, 11, 9, 256), (2, 5), "NCHW"),
      ("float_map_block7", (3, 15, 16, 8), 7, "NHWC"),
      ("float_map_NCHW", (3, 10, 13, 4), 4, "NCHW"),
      ("block_one", (3, 6, 7, 5), 1, "NCHW"))
  def test_static_and_unknown_shapes_give_the_same_mask(
      self, shape, block_size, data_format):
    # Static shapes take their own code paths (Python shape arithmetic;
    # an int8 map from 256 channels); with the same seeds they must draw
    # the same mask as placeholders of unknown shape.
    x = np.ones(_transpose(shape, data_format), np.float32)

    def mask(static):
      with tf.Graph().as_default():
        tf.set_random_seed(11)
        t = tf.constant(x) if static else tf.placeholder(tf.float32,
                                                         [None] * 4)
        y = dropblock(t, 0.8, block_size, True, data_format=data_format,
                      seed=2)
        with tf.Session() as sess:
          return sess.run(y, {} if static else {t: x})
    static, unknown = mask(True), mask(False)
    self.assertGreater(np.count_nonzero(static == 0), 0)
    self.assertAllClose(static, unknown, rtol=1e-6, atol=0)
    self.assertAllEqual(static == 0, unknown == 0)
    self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(
        static, block_size, data_format))

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_identity_when_not_training(self, mode):
    x = np.random.RandomState(1).normal(size=(2, 5, 7, 3)).astype(np.float32)
    for training in (None, False):
      y = _testing.run(mode, lambda t: dropblock(t, 0.5, 3, training), x)
      self.assertAllEqual(y, x)
    y = _testing.run(mode, lambda t, b: dropblock(t, 0.5, 3, b), x, False)
    self.assertAllEqual(y, x)
    y = _testing.run(mode, lambda t: dropblock(t, 1.0, 3, True), x)
    self.assertAllEqual(y, x)
    y = _testing.run(mode, lambda t, k: dropblock(t, k, 3, True), x,
                     np.float32(1.0))
    self.assertAllEqual(y, x)

  def test_eager_training_variable(self):
    if not compat.IS_TF2:
      self.skipTest("Eager execution needs TensorFlow 2.x.")
    import tensorflow as tf2  # pylint: disable=g-import-not-at-top
    x = tf2.ones([2, 9, 9, 4])
    training = tf2.Variable(False)
    self.assertAllEqual(dropblock(x, 0.7, 3, training), x)
    training.assign(True)
    y = dropblock(x, 0.7, 3, training, scale=False)
    self.assertGreater(np.count_nonzero(y.numpy() == 0), 0)
    self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(
        y.numpy(), 3, "NHWC"))

  def test_python_false_returns_the_input_tensor(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, None, None, None])
      self.assertIs(dropblock(x, 0.9, 3), x)
      self.assertIs(dropblock(x, 0.9, 3, training=False), x)
      self.assertIs(dropblock(x, 1, 3, training=True), x)

  @parameterized.named_parameters(
      ("paper_56_block7_NHWC", (4, 56, 56, 16), 7, 0.9, "NHWC"),
      ("paper_56_block7_NCHW", (4, 56, 56, 16), 7, 0.9, "NCHW"),
      ("nonsquare_rect", (8, 20, 36, 8), (3, 5), 0.8, "NHWC"),
      ("even_block", (8, 24, 17, 8), 4, 0.7, "NCHW"),
      ("block_bigger_than_map", (64, 3, 4, 16), 7, 0.75, "NHWC"),
      ("block_one_NHWC", (8, 12, 10, 8), 1, 0.8, "NHWC"),
      ("block_one_NCHW", (8, 12, 10, 8), 1, 0.6, "NCHW"),
      ("block_one_by_five", (8, 12, 20, 8), (1, 5), 0.8, "NCHW"),
      ("many_channels", (2, 12, 10, 256), 3, 0.8, "NCHW"),
  )
  def test_dropped_fraction_matches_exact_expectation(
      self, shape, block_size, keep_prob, data_format):
    n, h, w, c = shape
    expected = numpy_reference.expected_dropped_fraction(
        keep_prob, block_size, h, w)
    # Indicators of one map are dependent only within a (2b-1) x (2b-1)
    # neighbourhood (positions sharing a possible seed), each covariance
    # at most p(1-p); so Var(fraction) <= p(1-p) * (2bh-1)(2bw-1) / units.
    # Maps are independent. 5 such standard deviations bound a failure by
    # chance below 1e-6 (Chebyshev-free: the sum of many maps is normal).
    block_h, block_w = numpy_reference.clipped_block(block_size, h, w)
    units = n * h * w * c
    sd = np.sqrt(expected * (1 - expected) * (2 * block_h - 1) *
                 (2 * block_w - 1) / units)
    x = np.ones(_transpose(shape, data_format), np.float32)
    for mode in [m for m in MODES if m != "function"]:
      y = _testing.run(mode, lambda t: dropblock(
          t, keep_prob, block_size, True, scale=False,
          data_format=data_format, seed=1), x, graph_seed=7)
      dropped = np.mean(y == 0)
      self.assertNear(dropped, expected, 5 * sd, msg=mode)
    # Static shapes take other code paths (Python gamma and shape
    # arithmetic) than placeholders of unknown shape.
    with tf.Graph().as_default():
      tf.set_random_seed(7)
      y = dropblock(tf.constant(x), keep_prob, block_size, True,
                    scale=False, data_format=data_format, seed=1)
      with tf.Session() as sess:
        self.assertNear(np.mean(sess.run(y) == 0), expected, 5 * sd,
                        msg="static shape")
    if (h, w, block_size) == (56, 56, 7):
      self.assertNear(expected, 0.0946, 1e-4)
      self.assertLess(expected, 1 - keep_prob)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_every_example_and_channel_has_its_own_mask(self, mode):
    x = np.ones((6, 16, 16, 6), np.float32)
    y = _testing.run(mode, lambda t: dropblock(t, 0.6, 3, True), x)
    maps = (y == 0).transpose(0, 3, 1, 2).reshape(36, -1)
    self.assertTrue(np.all(maps.any(axis=1)))
    self.assertEqual(len({m.tobytes() for m in maps}), 36)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_scale_is_count_over_count_ones(self, mode):
    x = np.full((3, 11, 8, 4), 2.0, np.float32)
    y = _testing.run(mode, lambda t: dropblock(t, 0.7, 3, True), x)
    kept = np.count_nonzero(y)
    self.assertGreater(kept, 0)
    self.assertLess(kept, y.size)
    self.assertAllClose(y[y != 0], np.full(kept, 2.0 * y.size / kept),
                        rtol=1e-6)
    for scale in (False, np.bool_(False)):
      y = _testing.run(mode, lambda t: dropblock(t, 0.7, 3, True, scale), x)
      self.assertTrue(set(np.unique(y)) <= {0.0, 2.0})
    y, = [_testing.run(mode, lambda t, s: dropblock(t, 0.7, 3, True, s), x,
                       scale) for scale in (False,)]
    self.assertTrue(set(np.unique(y)) <= {0.0, 2.0})
    y = _testing.run(mode, lambda t, s: dropblock(t, 0.7, 3, True, s), x, True)
    self.assertAllClose(y[y != 0], np.full(np.count_nonzero(y),
                                           2.0 * y.size / np.count_nonzero(y)))

  @parameterized.named_parameters(
      ("_%s_%s" % (mode, data_format), mode, data_format, shape)
      for mode in _testing.MODES
      for data_format, shape in (("NHWC", (2, 9, 13, 5)),
                                 ("NCHW", (2, 5, 9, 13)),
                                 ("NWC", (3, 29, 4)), ("NCW", (3, 4, 29))))
  def test_scale_counts_kept_units_in_every_layout(self, mode, data_format,
                                                   shape):
    # Under XLA the count is summed along one spatial axis first; it must
    # still be the count over the whole tensor.
    x = np.full(shape, 3.0, np.float32)
    y = _testing.run(mode, lambda t: dropblock(
        t, 0.7, 3, True, data_format=data_format), x, graph_seed=5)
    kept = np.count_nonzero(y)
    self.assertGreater(kept, 0)
    self.assertLess(kept, y.size)
    self.assertAllClose(y[y != 0], np.full(kept, 3.0 * y.size / kept),
                        rtol=1e-6)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_all_dropped_gives_zeros_not_nan(self, mode):
    # On 1x1 maps the only seed covers the map and gamma = 1 - keep_prob,
    # so keep_prob = 1e-7 drops everything (up to chance 1e-6).
    x = np.ones((2, 1, 1, 3), np.float32)
    y = _testing.run(mode, lambda t: dropblock(t, 1e-7, 3, True), x)
    self.assertAllEqual(y, np.zeros_like(x))

  @parameterized.named_parameters(
      ("float16", np.float16), ("bfloat16", "bfloat16"),
      ("float32", np.float32), ("float64", np.float64))
  def test_dtypes(self, dtype):
    dtype = tf.as_dtype(dtype)
    for mode in MODES:
      def fn(t):
        t = tf.cast(t, dtype)
        y = dropblock(t, 0.1, 3, True)
        self.assertEqual(y.dtype, dtype)
        return tf.cast(y, tf.float32)
      x = np.full((2, 12, 10, 3), 100.0, np.float32)
      y = _testing.run(mode, fn, x)
      self.assertTrue(np.all(np.isfinite(y)), msg=mode)
      self.assertGreater(np.count_nonzero(y), 0)
      # The kept values are 100 * count/ones, rounded to the dtype.
      factor = y.size / np.count_nonzero(y)
      self.assertAllClose(y[y != 0], np.full(np.count_nonzero(y),
                                             100.0 * factor), rtol=1e-2)

  def test_static_shape_is_kept(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, 8, None, 4])
      training = tf.placeholder(tf.bool, [])
      keep_prob = tf.placeholder(tf.float32, [])
      for fmt in ("NHWC", "NCHW"):
        for kwargs in ({"training": True}, {"training": training},
                       {"training": training, "scale": training}):
          y = dropblock(x, keep_prob, 3, data_format=fmt, **kwargs)
          self.assertEqual(y.shape.as_list(), [None, 8, None, 4])

  def test_one_placeholder_fed_several_shapes(self):
    shapes = [(2, 7, 5, 3), (1, 1, 1, 1), (0, 4, 4, 2), (3, 12, 9, 1),
              (2, 2, 30, 2)]
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, None, None, None])
      training = tf.placeholder(tf.bool, [])
      y = dropblock(x, 0.7, 3, training=training, scale=False)
      with tf.Session() as sess:
        for shape in shapes:
          ones = np.ones(shape, np.float32)
          out = sess.run(y, {x: ones, training: True})
          self.assertEqual(out.shape, shape)
          self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(out, 3))
          self.assertAllEqual(sess.run(y, {x: ones, training: False}), ones)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_gradient_is_mask_times_scale(self, mode):
    x = np.random.RandomState(2).uniform(1, 2, (2, 9, 6, 3)).astype(np.float32)
    op = lambda t: dropblock(t, 0.6, 3, True)
    y, grad = _testing.run(mode, _testing.with_gradient(mode, op), x)
    self.assertGreater(np.count_nonzero(y == 0), 0)
    self.assertAllClose(grad, y / x, rtol=1e-6)

  def test_graph_seeds_reproduce_masks(self):
    x = np.ones((2, 16, 12, 3), np.float32)
    fn = lambda t: dropblock(t, 0.7, 3, True, seed=5)
    first = _testing.run("graph", fn, x, graph_seed=11)
    second = _testing.run("graph", fn, x, graph_seed=11)
    other = _testing.run("graph", fn, x, graph_seed=12)
    self.assertAllEqual(first, second)
    self.assertNotAllEqual(first, other)

  def test_eager_seeds_reproduce_masks(self):
    if not compat.IS_TF2:
      self.skipTest("Eager execution needs TensorFlow 2.x.")
    x = np.ones((2, 16, 12, 3), np.float32)
    fn = lambda t: dropblock(t, 0.7, 3, True, seed=5)
    first = _testing.run("eager", fn, x, graph_seed=11)
    second = _testing.run("eager", fn, x, graph_seed=11)
    self.assertAllEqual(first, second)

  def test_blog_call_with_placeholders(self):
    class Model(object):

      def __init__(self):
        self.dropout = tf.placeholder(tf.float32, name="dropout")
        self.is_training = tf.placeholder(tf.bool, name="is_training")

    with tf.Graph().as_default():
      model = Model()
      h = tf.placeholder(tf.float32, [None, None, None, None])
      out = dropblock(x=h, keep_prob=model.dropout, block_size=3,
                      training=model.is_training, scale=True)
      x = np.ones((4, 10, 17, 5), np.float32)  # Non-square map.
      with tf.Session() as sess:
        train = sess.run(out, {h: x, model.dropout: 0.8,
                               model.is_training: True})
        test = sess.run(out, {h: x, model.dropout: 0.8,
                              model.is_training: False})
    self.assertGreater(np.count_nonzero(train == 0), 0)
    self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(train, 3))
    self.assertAllEqual(test, x)

  @parameterized.named_parameters(*_testing.mode_parameters())
  def test_keep_prob_tensor_values(self, mode):
    x = np.ones((4, 20, 20, 4), np.float32)
    for keep_prob in (0.3, 0.95):
      y = _testing.run(mode, lambda t, k: dropblock(t, k, 2, True, False), x,
                       np.float32(keep_prob))
      expected = numpy_reference.expected_dropped_fraction(keep_prob, 2, 20, 20)
      self.assertNear(np.mean(y == 0), expected, 0.1)

  def test_keep_prob_variable_and_placeholder_with_default(self):
    with tf.Graph().as_default():
      x = tf.ones([2, 12, 12, 2])
      variable = tf.Variable(0.5)
      default = tf.placeholder_with_default(0.5, [])
      y_var = dropblock(x, variable, 3, True)
      y_default = dropblock(x, default, 3, True)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        self.assertGreater(np.count_nonzero(sess.run(y_var) == 0), 0)
        self.assertGreater(np.count_nonzero(sess.run(y_default) == 0), 0)
        self.assertAllEqual(sess.run(y_default, {default: 1.0}),
                            np.ones((2, 12, 12, 2)))
        sess.run(variable.assign(1.0))
        self.assertAllEqual(sess.run(y_var), np.ones((2, 12, 12, 2)))

  def test_ops_live_under_the_name_scope(self):
    with tf.Graph().as_default() as graph:
      x = tf.placeholder(tf.float32, [None, None, None, None])
      training = tf.placeholder(tf.bool, [])
      dropblock(x, 0.9, 3, training, name="my_block")
      names = [op.name for op in graph.get_operations()
               if op.type != "Placeholder"]
      self.assertTrue(names)
      self.assertTrue(all(n.startswith("my_block") for n in names), names)


if __name__ == "__main__":
  tf.test.main()


class EagerSpecialisationTest(tf.test.TestCase):
  """Eager calls run a function traced for their shape (shape arithmetic
  folded to constants) for the first shapes of a configuration, then one
  function for every further shape; the masks are right either way."""

  def test_specialised_then_shared_functions(self):
    if not tf.executing_eagerly():
      self.skipTest("Eager execution only (TensorFlow 2.x).")
    from tf1_dropblock import _masking  # pylint: disable=g-import-not-at-top
    _masking._EAGER_FUNCTIONS.clear()  # pylint: disable=protected-access
    _masking._SPECIALISED_COUNT.clear()  # pylint: disable=protected-access
    limit = _masking._SPECIALISED_SHAPES  # pylint: disable=protected-access
    keep_prob, block = 0.7, 3
    for extra in range(limit + 3):
      shape = (2, 9 + extra, 8, 16)
      y = dropblock(tf.ones(shape), keep_prob, block, training=True).numpy()
      self.assertEqual(y.shape, shape)
      kept = y != 0
      # Scaled by count / count_ones: the kept units sum to the count.
      self.assertAllClose(y.sum(), float(np.prod(shape)), rtol=1e-5)
      # Every dropped unit lies in a dropped 3x3 block: eroding the
      # dropped set with the block leaves each dropped unit covered.
      dropped = ~kept
      covered = np.zeros_like(dropped)
      for i in range(shape[1] - block + 1):
        for j in range(shape[2] - block + 1):
          full = dropped[:, i:i + block, j:j + block, :].all(axis=(1, 2))
          covered[:, i:i + block, j:j + block, :] |= full[:, None, None, :]
      self.assertAllEqual(covered, dropped)
    functions = _masking._EAGER_FUNCTIONS  # pylint: disable=protected-access
    self.assertLen(functions, limit + 1)
    specialised = [f for key, f in functions.items() if len(key) > 6]
    shared = [f for key, f in functions.items() if len(key) == 6]
    self.assertLen(shared, 1)
    # Shapes and gamma are constants in a specialised function: far fewer
    # ops than in the one that computes them from the shape at run time.
    ops = lambda f: len(f.graph.get_operations())
    self.assertLess(max(ops(f) for f in specialised), ops(shared[0]) - 20)
