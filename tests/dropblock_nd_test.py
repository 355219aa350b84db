"""DropBlock on sequences (rank 3) and volumes (rank 5)."""

from absl.testing import parameterized
import numpy as np

from tests import _masks
from tests import _testing
from tests import numpy_reference
from tf1_dropblock import dropblock
from tf1_dropblock.compat import tf

MODES = _testing.MODES

# (channels-last shape, block_size): odd/even, clipped, tiny.
CASES = [
    ("seq_16_channels", (3, 17, 16), 3),
    ("vol_8_channels", (2, 5, 6, 7, 8), (2, 3, 4)),
    ("seq", (3, 17, 2), 3),
    ("seq_even", (2, 12, 3), 4),
    ("seq_clipped", (2, 3, 2), 5),
    ("seq_tuple", (2, 9, 2), (2,)),
    ("vol", (2, 5, 6, 7, 2), 3),
    ("vol_rect", (2, 6, 5, 8, 2), (2, 3, 4)),
    ("vol_clipped", (2, 2, 6, 3, 2), (4, 3, 5)),
    ("vol_block7", (1, 9, 8, 10, 2), 7),
    ("vol_tiny", (2, 1, 1, 1, 3), 3),
]
FORMATS = {3: ("NWC", "NCW"), 5: ("NDHWC", "NCDHW")}


def _to_format(array, data_format):
  """Channels-last array (or shape tuple) -> `data_format` layout."""
  if data_format[-1] == "C":
    return array
  perm = (0, len(data_format) - 1) + tuple(range(1, len(data_format) - 1))
  if isinstance(array, tuple):
    return tuple(array[i] for i in perm)
  return np.transpose(array, perm)


def _from_format(array, data_format):
  if data_format[-1] == "C":
    return array
  rank = array.ndim
  return np.transpose(array, (0,) + tuple(range(2, rank)) + (1,))


def _cases():
  return [(name + "_" + fmt, shape, block, fmt) for name, shape, block in CASES
          for fmt in FORMATS[len(shape)]]


class DropBlockNdTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(*_cases())
  def test_masks_match_numpy_reference(self, shape, block_size, data_format):
    rng = np.random.RandomState(2)
    sizes = shape[1:-1]
    blocks = numpy_reference.clipped_blocks(block_size, sizes)
    valid = tuple(s - b + 1 for s, b in zip(sizes, blocks))
    noise = rng.uniform(size=(shape[0],) + valid + (shape[-1],))
    noise = noise.astype(np.float32)
    noise.flat[0] = 0.0
    seeds = noise < np.float32(0.3)
    expected = _to_format(numpy_reference.keep_mask_from_seeds(
        seeds, block_size, sizes), data_format)
    full_shape = np.array(_to_format(shape, data_format), np.int32)
    block_tuple = (block_size if isinstance(block_size, tuple)
                   else (block_size,) * len(sizes))
    positions = np.flatnonzero(_to_format(seeds, data_format)).astype(
        np.int64)
    for mode in MODES:
      from_noise = _testing.run(
          mode, lambda n, s: _masks.keep_mask_from_noise(
              n, tf.constant(0.3), block_tuple, s, data_format),
          _to_format(noise, data_format), full_shape)
      self.assertAllEqual(from_noise, expected, msg=mode)
      for construction in _masks.constructions(data_format, shape[-1]):
        from_positions = _testing.run(
            mode, lambda p, s, c=construction:
            _masks.keep_mask_from_seed_positions(
                p, block_tuple, s, data_format, c), positions, full_shape)
        self.assertAllEqual(from_positions, expected,
                            msg=(mode, construction))

  @parameterized.named_parameters(*_cases())
  def test_zeros_form_whole_blocks(self, shape, block_size, data_format):
    x = np.ones(_to_format(shape, data_format), np.float32)
    for mode in MODES:
      y = _testing.run(mode, lambda t: dropblock(
          t, 0.6, block_size, True, scale=False, data_format=data_format), x)
      self.assertEqual(y.shape, x.shape)
      self.assertTrue(set(np.unique(y)) <= {0.0, 1.0})
      self.assertTrue(numpy_reference.zeros_lie_in_full_blocks_nd(
          _from_format(y, data_format), block_size), msg=mode)

  @parameterized.named_parameters(
      ("seq", (64, 40, 16), 5, 0.8, "NWC"),
      ("vol", (8, 10, 12, 14, 8), (3, 3, 5), 0.9, "NCDHW"))
  def test_dropped_fraction_matches_exact_expectation(
      self, shape, block_size, keep_prob, data_format):
    sizes = shape[1:-1]
    expected = numpy_reference.expected_dropped_fraction_nd(
        keep_prob, block_size, sizes)
    # As in dropblock_test: indicators depend only within the (2b-1)^d
    # neighbourhood, so Var <= p(1-p) prod(2b-1) / units; 5 sd.
    blocks = numpy_reference.clipped_blocks(block_size, sizes)
    sd = np.sqrt(expected * (1 - expected) * np.prod(
        [2 * b - 1 for b in blocks]) / np.prod(shape))
    x = np.ones(_to_format(shape, data_format), np.float32)
    for mode in MODES[:2]:
      y = _testing.run(mode, lambda t: dropblock(
          t, keep_prob, block_size, True, False, data_format=data_format,
          seed=3), x, graph_seed=5)
      self.assertNear(np.mean(y == 0), expected, 5 * sd, msg=mode)

  def test_identity_gradient_and_static_shape(self):
    with tf.Graph().as_default():
      for shape, fmt in (([None, 9, None], "NCW"),
                         ([None, None, 6, None, 4], "NDHWC")):
        x = tf.placeholder(tf.float32, shape)
        training = tf.placeholder(tf.bool, [])
        y = dropblock(x, 0.7, 3, training, data_format=fmt)
        self.assertEqual(y.shape.as_list(), shape)
        self.assertIs(dropblock(x, 0.7, 3, data_format=fmt), x)
        grad = tf.gradients(y, x)[0]
        full = [4 if d is None else d for d in shape]
        value = np.random.RandomState(0).uniform(1, 2, full)
        with tf.Session() as sess:
          out, g = sess.run([y, grad], {x: value, training: True})
          self.assertGreater(np.count_nonzero(out == 0), 0)
          self.assertAllClose(g, out / value, rtol=1e-6)
          self.assertAllEqual(sess.run(y, {x: value, training: False}),
                              value.astype(np.float32))


if __name__ == "__main__":
  tf.test.main()
