"""Seed maps under XLA: the static-size forms of the seed samplers.

XLA compiles static sizes only, so the graph path's sampler
(`_seeds.sparse_seed_positions`, whose output length is the seed count)
cannot run there. This module holds the forms that can: the same
geometric gaps with every draw kept (`sparse_seed_map`), one draw count per
rate bucket when keep_prob is a tensor (`bucketed_seed_map`), and dense
noise (`dense_seed_map`). Each returns a full-size channels-last -1/0 map
(0 at the seeds), laid out by `SeedGeometry`. Only `_xla` uses them (and
the tests, through `tests/_masks.py`).
"""

from tf1_dropblock import compat
from tf1_dropblock.compat import tf


def _valid_seed_extent(size, block):
  """Number of seed positions along an axis of length `size`.

  `size - block + 1` where a whole block fits; 1 where the block is clipped
  to a shorter map; 0 for an empty axis.
  """
  return tf.maximum(size - block + 1, tf.minimum(size, 1))


def seed_probability(keep_prob, geometry):
  """Seed probability of Eq. 1 with blocks clipped to the map.

  (1 - keep_prob) / prod(block) * prod(size) / prod(size - block + 1) over
  the spatial axes; the clipped block extent along an axis is
  `size - valid + 1`, which is `min(block, size)` for a non-empty axis.
  """
  numerator = 1.0 - tf.cast(keep_prob, tf.float32)
  denominator = tf.constant(1.0)
  for size, valid in zip(geometry.sizes, geometry.valid):
    size, valid = tf.cast(size, tf.float32), tf.cast(valid, tf.float32)
    numerator *= size
    denominator *= (size - valid + 1.0) * valid
  return tf.math.divide_no_nan(numerator, denominator)


class SeedGeometry(object):
  """Where the seed of each block goes in a full-size map.

  Blocks are expanded by a stride-1 SAME max-pool with a `block` window,
  which covers `[p - (block - 1) // 2, p + block // 2]` around output p. A
  seed for the block whose first row is i is therefore put at row
  `i + block // 2` (exact for odd and even blocks); for a block clipped to
  a shorter map (one seed row, i = 0) at `min(block // 2, size - 1)`, which
  covers every row. Every spatial axis likewise.
  """

  def __init__(self, map_shape, blocks):
    self.map_shape = map_shape
    self.sizes = [map_shape[i + 1] for i in range(len(blocks))]
    self.valid = [_valid_seed_extent(size, block)
                  for size, block in zip(self.sizes, blocks)]
    self.offsets = [tf.minimum(block // 2, size - valid) for block, size, valid
                    in zip(blocks, self.sizes, self.valid)]
    self.valid_shape = tf.stack([map_shape[0]] + self.valid +
                                [map_shape[len(blocks) + 1]])


def dense_seed_map(geometry, gamma, key, dtype=tf.float32):
  """Seed map from uniform noise over the whole valid seed region.

  Used under XLA with a tensor keep_prob, and as the sparse sampler's
  fallback. The noise is stateless Philox: fast under XLA, unlike stateful
  RNG.
  """
  noise = compat.stateless_uniform(geometry.valid_shape, key,
                                   name="seed_noise")
  return seed_map_from_noise(noise, gamma, geometry, dtype)


def seed_map_from_noise(noise, gamma, geometry, dtype=tf.float32):
  """-1/0 seed map from noise on the valid region (below gamma: a seed)."""
  seeds = tf.cast(noise < gamma, dtype) - tf.ones([], dtype)
  paddings = [[0, 0]]
  for size, valid, offset in zip(geometry.sizes, geometry.valid,
                                 geometry.offsets):
    paddings.append([offset, size - valid - offset])
  return tf.pad(seeds, paddings + [[0, 0]],
                constant_values=tf.constant(-1, dtype))


def sparse_seed_map(geometry, gamma, key, dtype=tf.float32,
                     count_gamma=None):
  """The sparse sampler of `_seeds` in the static-size form XLA needs.

  The same geometric gaps as `_seeds.sparse_seed_positions`, but every
  drawn position is kept, those past the region redirected to a dummy
  cell, so no size depends on the draw. The draw count is sized for
  `count_gamma` (>= gamma, a constant XLA can fold; default gamma).
  Should the draws fall short of the region (chance below 1e-20), the
  dense sampler is used instead. The map has `dtype` (int8 or float32).
  """
  valid_shape = tf.cast(geometry.valid_shape, tf.int64)
  num_cells = tf.reduce_prod(valid_shape)
  num_cells_f = tf.cast(num_cells, tf.float64)
  # gamma <= 1 - keep_prob < 1 for valid input; the clip only keeps the
  # draw count finite should an invalid keep_prob get this far.
  gamma = tf.clip_by_value(tf.cast(gamma, tf.float64), 0.0, 1.0)
  if count_gamma is None:
    count_gamma = gamma
  count_gamma = tf.clip_by_value(tf.cast(count_gamma, tf.float64), 0.0, 1.0)
  mean = num_cells_f * count_gamma
  max_seeds = tf.cast(tf.math.ceil(
      mean + 10.0 * tf.sqrt(mean * (1.0 - count_gamma)) + 32.0), tf.int32)
  uniform = 1.0 - compat.stateless_uniform([max_seeds], key, tf.float64,
                                           name="gap_noise")
  gaps = tf.floor(tf.math.log(uniform) / tf.math.log1p(-gamma)) + 1.0
  positions = tf.cumsum(gaps) - 1.0
  # NaN (gamma == 0 and u == 1) compares False: treated as "not covered".
  covered = positions[-1] >= num_cells_f

  def scatter():
    inside = positions < num_cells_f
    flat = tf.cast(tf.where(inside, positions, tf.zeros_like(positions)),
                   tf.int64)
    return seed_map_from_positions(flat, geometry, inside, dtype)

  # The fallback's noise must not reuse the gaps' stream: another key.
  fallback_key = key + tf.constant([0, 1], tf.int32)
  return compat.smart_cond(
      covered, scatter,
      lambda: dense_seed_map(geometry, tf.cast(gamma, tf.float32),
                              fallback_key, dtype))


# Under XLA, a tensor keep_prob is rounded down to the first of these rates
# (1 - keep_prob) that is at least its own, and seeds are drawn sparsely
# with a draw count sized for that rate; higher rates use dense noise.
_XLA_RATE_BUCKETS = (0.05, 0.1, 0.2, 0.4)


def bucketed_seed_map(keep_prob, geometry, gamma, key, dtype):
  """The sparse sampler under XLA when keep_prob is only known at run time.

  XLA compiles static sizes only, so the draw count must not depend on
  keep_prob's value. One branch per rate bucket draws the count for the
  bucket's top rate (at most about twice what the actual rate needs); a
  run-time switch picks the branch. Rates above the last bucket, where
  seeds are no longer sparse, use dense noise. Every branch is exact.
  """
  rate = 1.0 - tf.cast(keep_prob, tf.float32)
  branch = tf.reduce_sum(tf.cast(rate > tf.constant(_XLA_RATE_BUCKETS),
                                 tf.int32))

  def sparse(bucket_rate):
    return lambda: sparse_seed_map(
        geometry, gamma, key, dtype=dtype,
        count_gamma=seed_probability(tf.constant(1.0 - bucket_rate), geometry))

  branches = [sparse(r) for r in _XLA_RATE_BUCKETS]
  branches.append(lambda: dense_seed_map(geometry, gamma, key, dtype))
  return tf.switch_case(branch, branches)


def seed_map_from_positions(flat, geometry, inside=None, dtype=tf.float32):
  """-1/0 seed map with seeds at flat indices of the valid region.

  Args:
    flat: Increasing int64 indices into the valid region laid out as
      [N, valid..., C], row-major.
    geometry: A `SeedGeometry`.
    inside: Optional bool mask of `flat`; entries where it is False are no
      seeds (the static-size form XLA needs): they add 0 to cell 0.
    dtype: The map's dtype.
  """
  map_shape = tf.cast(geometry.map_shape, tf.int64)
  depth = map_shape[-1]
  channel = flat % depth
  rest = flat // depth
  coords = []
  for valid, offset in reversed(list(zip(geometry.valid, geometry.offsets))):
    valid = tf.cast(valid, tf.int64)
    coords.append(rest % valid + tf.cast(offset, tf.int64))
    rest = rest // valid
  index = rest  # The example.
  for axis, coord in enumerate(reversed(coords)):
    index = index * map_shape[axis + 1] + coord
  index = index * depth + channel
  total = tf.reduce_prod(map_shape)
  if inside is not None:
    # Seeds are distinct, so adding 1 onto a -1 background makes each a 0
    # (XLA scatters in place); entries past the region add 0 to cell 0. An
    # empty map gets one cell to scatter into (XLA refuses an empty one),
    # cut off again; for any other map the slice is a no-op.
    background = tf.fill(tf.reshape(tf.maximum(total, 1), [1]),
                         tf.constant(-1, dtype))
    index = tf.where(inside, index, tf.zeros_like(index))
    seed_map = tf.tensor_scatter_nd_add(background, index[:, None],
                                        tf.cast(inside, dtype))[:total]
    return tf.reshape(seed_map, geometry.map_shape)
  # Indices are increasing (the flat order is kept), as SparseToDense
  # wants; it writes the -1 background and the seeds in one pass, far
  # faster than a scatter on CPU.
  seeds = tf.SparseTensor(index[:, None], tf.zeros_like(index, dtype),
                          tf.reshape(total, [1]))
  seed_map = tf.sparse.to_dense(seeds, default_value=tf.constant(-1, dtype),
                                validate_indices=False)
  return tf.reshape(seed_map, geometry.map_shape)
