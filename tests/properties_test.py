"""Properties that tie the regularisers together, with derived bounds.

DropBlock with a block of one unit is element-wise dropout; with a block
covering the whole map it is spatial dropout; `share_channels=True` gives
one mask per example; `normalize="example"` keeps each example's mean. Each
statistical bound is stated next to its assertion; all hold at 5 sd.
"""

import math

from absl.testing import parameterized
import numpy as np

from tests import _testing
from tests import numpy_reference
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

MODES = _testing.MODES


def _channels_last(y, data_format):
  return np.moveaxis(y, 1, -1) if data_format[1] == "C" else y


class BlockOneIsDropoutTest(parameterized.TestCase, tf.test.TestCase):

  # Rate 0.2 draws one uniform per unit, rate 0.1 sparse seeds; a tensor
  # keep_prob picks between them at run time.
  @parameterized.named_parameters(
      *[("%s_%s_%s" % (fmt, name, "tensor" if tensor else "python"), fmt,
         rate, tensor)
        for fmt in ("NHWC", "NCHW") for name, rate in (("dense", 0.2),
                                                        ("sparse", 0.1))
        for tensor in (False, True)])
  def test_rate_independence_and_scale(self, data_format, rate, tensor):
    keep_prob = 1.0 - rate
    shape = (4, 32, 32, 16) if data_format == "NHWC" else (4, 16, 32, 32)
    x = np.ones(shape, np.float32)
    for mode in MODES:
      if tensor:
        y = _testing.run(mode, lambda t, k: dropblock(
            t, k, 1, True, data_format=data_format, seed=11), x,
                         np.float32(keep_prob))
      else:
        y = _testing.run(mode, lambda t: dropblock(
            t, keep_prob, 1, True, data_format=data_format, seed=11), x)
      y = _channels_last(y, data_format)
      dropped = y == 0
      units = dropped.size
      # Bernoulli(rate) per unit: the fraction's sd is
      # sqrt(rate (1 - rate) / units) (0.00156 at rate 0.2, 65536 units).
      self.assertNear(dropped.mean(), rate,
                      5 * math.sqrt(rate * (1 - rate) / units), msg=mode)
      # Kept units carry count / count_ones, exactly as Algorithm 1.
      kept_value = units / np.count_nonzero(y)
      self.assertAllClose(np.unique(y[~dropped]), [kept_value], rtol=1e-6)
      # Independence: neighbours (along W, H and C) are both dropped with
      # probability rate^2. A sum of M overlapping pair indicators has
      # variance M (p^2 (1 - p^2) + 2 (p^3 - p^4)), so the fraction's sd
      # is sqrt(that / M) for M >= 59520.
      variance = rate ** 2 * (1 - rate ** 2) + 2 * (rate ** 3 - rate ** 4)
      for axis in (1, 2, 3):
        pairs = np.logical_and(
            np.take(dropped, range(dropped.shape[axis] - 1), axis=axis),
            np.take(dropped, range(1, dropped.shape[axis]), axis=axis))
        self.assertGreaterEqual(pairs.size, 59520)
        self.assertNear(pairs.mean(), rate ** 2,
                        5 * math.sqrt(variance / 59520),
                        msg=str((mode, axis)))

  @parameterized.named_parameters(("dense", 0.5), ("sparse", 0.95))
  def test_per_example_scale_and_no_scale(self, keep_prob):
    x = np.ones((3, 16, 16, 8), np.float32)
    for mode in MODES:
      y = _testing.run(mode, lambda t: dropblock(
          t, keep_prob, 1, True, seed=4, normalize="example"), x)
      for example in y:
        kept = example != 0
        self.assertAllClose(example[kept],
                            np.full(np.count_nonzero(kept),
                                    example.size / np.count_nonzero(kept)),
                            rtol=1e-6, msg=mode)
      y = _testing.run(mode, lambda t, s: dropblock(
          t, keep_prob, 1, True, scale=s, seed=4), x, np.bool_(False))
      self.assertAllEqual(np.unique(y), [0.0, 1.0])
      # Bernoulli(1 - keep_prob) over 6144 units, 5 sd.
      rate = 1 - keep_prob
      self.assertNear(np.mean(y == 0), rate,
                      5 * math.sqrt(rate * keep_prob / y.size), msg=mode)


class WholeMapBlockIsSpatialDropoutTest(parameterized.TestCase,
                                        tf.test.TestCase):

  @parameterized.named_parameters(
      ("NHWC", "NHWC", (40, 5, 5, 8), 7), ("NCHW", "NCHW", (40, 8, 5, 5), 5),
      ("NWC", "NWC", (40, 6, 8), 9), ("NCDHW", "NCDHW", (40, 8, 2, 3, 4), 4))
  def test_one_bernoulli_per_map(self, data_format, shape, block):
    keep_prob = 0.7
    x = np.ones(shape, np.float32)
    for mode in MODES:
      outputs = {
          "dropblock": _testing.run(mode, lambda t: dropblock(
              t, keep_prob, block, True, data_format=data_format, seed=2), x),
          "spatial_dropout": _testing.run(mode, lambda t: spatial_dropout(
              t, keep_prob, True, data_format=data_format, seed=2), x)}
      for name, y in outputs.items():
        y = _channels_last(y, data_format)
        maps = np.moveaxis(y, -1, 1).reshape(shape[0] * y.shape[-1], -1)
        # Every (example, channel) map is dropped or kept as a whole.
        self.assertAllEqual(maps, np.broadcast_to(maps[:, :1], maps.shape),
                            msg=str((mode, name)))
        # 320 maps, each kept with probability 0.7: the fraction's sd is
        # sqrt(0.7 * 0.3 / 320) = 0.0256.
        self.assertNear(np.mean(maps[:, 0] != 0), keep_prob, 5 * 0.0256,
                        msg=str((mode, name)))


class ShareChannelsTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(
      ("NHWC", "NHWC", (256, 16, 16, 4)), ("NCHW", "NCHW", (256, 4, 16, 16)),
      ("NWC", "NWC", (256, 16, 3)), ("NCDHW", "NCDHW", (64, 2, 6, 6, 6)))
  def test_one_mask_per_example(self, data_format, shape):
    keep_prob, block = 0.8, 3
    x = np.ones(shape, np.float32)
    for mode in MODES:
      y = _channels_last(_testing.run(mode, lambda t: dropblock(
          t, keep_prob, block, True, data_format=data_format, seed=5,
          share_channels=True), x), data_format)
      # Identical across channels.
      self.assertAllEqual(y, np.broadcast_to(y[..., :1], y.shape), msg=mode)
      # Scaled by count / count_ones of the whole tensor.
      kept = y[y != 0]
      self.assertAllClose(kept, np.full_like(kept, y.size / kept.size),
                          rtol=1e-5)
      self.assertTrue(numpy_reference.zeros_lie_in_full_blocks_nd(
          y, block), msg=mode)
      # The dropped fraction of each example's map has the exact
      # expectation of one DropBlock map; its sd is at most
      # sqrt(q (1 - q) * block^d / units) over the N independent maps
      # (a block's units are dependent, blocks of different seeds less so).
      sizes = y.shape[1:-1]
      expected = numpy_reference.expected_dropped_fraction_nd(
          keep_prob, block, sizes)
      units = shape[0] * int(np.prod(sizes))
      sd = math.sqrt(expected * (1 - expected) * block ** len(sizes) / units)
      self.assertNear(np.mean(y[..., 0] == 0), expected, 5 * sd, msg=mode)

  def test_shared_mask_differs_between_examples_and_seeds(self):
    x = np.ones((8, 16, 16, 4), np.float32)
    y = _testing.run("graph", lambda t: dropblock(
        t, 0.8, 3, True, seed=1, share_channels=True), x)
    self.assertFalse(np.array_equal(y[0], y[1]))


class NormalizeExampleTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(
      ("NHWC_block3", "NHWC", (16, 12, 12, 3), 3, False),
      ("NCHW_block3", "NCHW", (16, 3, 12, 12), 3, False),
      ("NHWC_block1", "NHWC", (16, 12, 12, 3), 1, False),
      ("NHWC_shared", "NHWC", (16, 12, 12, 3), 3, True),
      ("NCW_block2", "NCW", (16, 3, 20), 2, False))
  def test_each_example_keeps_its_mean(self, data_format, shape, block,
                                       share_channels):
    x = np.random.RandomState(0).uniform(0.5, 1.5, shape).astype(np.float32)
    for mode in MODES:
      y = _testing.run(mode, lambda t: dropblock(
          t, 0.7, block, True, data_format=data_format, seed=4,
          share_channels=share_channels, normalize="example"), x)
      for example, (xi, yi) in enumerate(zip(x, y)):
        kept = yi != 0
        self.assertTrue(kept.any())
        # count / count_ones of this example, exactly.
        factor = kept.size / np.count_nonzero(kept)
        self.assertAllClose(yi[kept], xi[kept] * factor, rtol=1e-5,
                            msg=str((mode, example)))
      # With "batch" the factor is one number for the whole tensor.
      batch = _testing.run(mode, lambda t: dropblock(
          t, 0.7, block, True, data_format=data_format, seed=4,
          share_channels=share_channels), x)
      ratios = batch[batch != 0] / x[batch != 0]
      self.assertAllClose(ratios, np.full_like(ratios, ratios[0]), rtol=1e-5)

  def test_fully_dropped_examples_are_zeros(self):
    # A 2x2 map with block 2: one seed, probability 1 - keep_prob = 0.5,
    # drops a whole example; 64 examples leave none in fewer than 1e-19.
    x = np.ones((64, 2, 2, 1), np.float32)
    for mode in MODES:
      y = _testing.run(mode, lambda t: dropblock(
          t, 0.5, 2, True, seed=9, normalize="example"), x)
      self.assertTrue(np.all(np.isfinite(y)))
      sums = y.reshape(64, -1).sum(axis=1)
      self.assertTrue(set(np.round(sums, 5)) == {0.0, 4.0}, msg=mode)

  def test_tensor_scale_false_ignores_normalize(self):
    x = np.ones((4, 8, 8, 2), np.float32)
    y = _testing.run("graph", lambda t, s: dropblock(
        t, 0.7, 3, True, s, seed=4, normalize="example"), x, False)
    self.assertTrue(set(np.unique(y)) <= {0.0, 1.0})


if __name__ == "__main__":
  tf.test.main()
