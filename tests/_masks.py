"""Keep masks from given noise or seed positions, for the tests.

A testing seam built from the library's internals: the NumPy reference
(`numpy_reference.py`) draws its own seeds, and these functions expand the
same seeds the way the op does, so tests can compare masks exactly. The
dense form is the XLA path's (`_xla`, `_xla_seeds`); the positions form is
graph mode's (`_blocks`).
"""

from tf1_dropblock import _blocks
from tf1_dropblock import _pooling
from tf1_dropblock import _xla
from tf1_dropblock import _xla_seeds
from tf1_dropblock.compat import tf


def keep_mask_from_noise(noise, gamma, block_size, shape, data_format):
  """The float32 keep mask (1 kept, 0 dropped) that `noise` gives.

  Runs the dense sampler's expansion on given noise.

  Args:
    noise: float32 uniform noise over the valid seed region, laid out like
      the input (e.g. `[N, valid_h, valid_w, C]` for NHWC, `[N, C, valid_h,
      valid_w]` for NCHW). A value below `gamma` is a block seed.
    gamma: Scalar float32 seed probability.
    block_size: Tuple of Python ints, one per spatial axis.
    shape: The full input shape, a rank-1 int tensor in `data_format` order.
    data_format: A canonical format ("NHWC", "NCW", ...).

  Returns:
    A float32 tensor of shape `shape`.
  """
  map_shape, blocks = _xla.map_layout_shape(shape, data_format,
                                            tuple(block_size))
  geometry = _xla_seeds.SeedGeometry(map_shape, blocks)
  if data_format[-1] != "C":
    rank = len(data_format)
    noise = tf.transpose(noise, [0] + list(range(2, rank)) + [1])
  noise = tf.reshape(noise, geometry.valid_shape)
  seed_map = _xla_seeds.seed_map_from_noise(noise, gamma, geometry)
  neg_keep = _pooling.expand_blocks(seed_map, blocks)
  return -_xla.from_map_layout(neg_keep, shape, data_format)


def keep_mask_from_seed_positions(flat, block_size, shape, data_format,
                                  construction="scattered"):
  """The keep mask the sparse sampler makes from given seed positions.

  For tests: `flat` holds increasing int64 flat indices into the valid
  seed region laid out like the input (e.g. `[N, C, valid_h, valid_w]`
  for NCHW); `shape` is the input shape, a rank-1 int tensor.
  `construction`: "scattered", "pooled" (channels last) or "swept"
  (channels last, channels a multiple of 8), the three ways
  `_blocks.BlockGeometry` builds the map.
  """
  dims = tf.unstack(tf.cast(shape, tf.int64), num=len(data_format))
  geometry = _blocks.BlockGeometry(dims, data_format, tuple(block_size))
  # pylint: disable=protected-access
  build = {"scattered": geometry._scattered_map,
           "pooled": geometry._pooled_map,
           "swept": geometry._swept_map}[construction]
  # pylint: enable=protected-access
  return -build(geometry.corners(tf.cast(flat, tf.float64) + 0.5),
                tf.float32)


def constructions(data_format, channels=None):
  """The block-map constructions that apply to `data_format` and a
  channel count `channels` (None: not known)."""
  if data_format[-1] != "C":
    return ("scattered",)
  if channels is not None and channels % 8 == 0:
    return ("scattered", "pooled", "swept")
  return ("scattered", "pooled")
