"""DropBlock: drop contiguous blocks of a feature map."""

from tf1_dropblock import _checks
from tf1_dropblock import _masking
from tf1_dropblock import compat
from tf1_dropblock.compat import tf


def dropblock(x, keep_prob, block_size, training=None, scale=True, *,
              data_format="NHWC", seed=None, name=None):
  """DropBlock regularisation (Ghiasi, Lin & Le, NeurIPS 2018).

  Zeros square or rectangular blocks of each feature map, independently for
  every example and every channel, then (with `scale`) rescales the result
  so the mean activation is kept. Block seeds are drawn with probability

      gamma = (1 - keep_prob) / (block_h * block_w)
              * (H * W) / ((H - block_h + 1) * (W - block_w + 1))

  only where a whole block fits inside the map (the paper's "valid seed
  region", https://arxiv.org/abs/1810.12890, Eq. 1); each seed zeros the
  `block_h x block_w` block whose top-left corner it is. Overlapping blocks
  make the dropped fraction slightly smaller than `1 - keep_prob`.

  Like `tf.compat.v1.layers.dropout`, nothing is dropped unless `training` is
  true: `training=None` (the default) and `training=False` return `x`
  unchanged, and so does `keep_prob == 1`.

  Args:
    x: A rank-4 tensor of dtype float16, bfloat16, float32 or float64, in
      `data_format` layout. Any dimension may be unknown until run time.
    keep_prob: Python number or scalar float tensor (placeholder, variable,
      schedule) in (0, 1]: the probability that a unit is kept, i.e.
      `1 - rate`.
    block_size: Positive int, or a pair `(block_h, block_w)`. A block larger
      than the feature map is clipped to the map at run time (a single seed
      then covers the whole map along that axis).
    training: Python bool, scalar bool tensor, or None (not training).
    scale: Python bool or scalar bool tensor. If true, the output is
      multiplied by `count(mask) / count_ones(mask)` over the whole tensor
      (Algorithm 1 of the paper); when every unit is dropped the output is
      zeros, never NaN.
    data_format: "NHWC" (or "channels_last") or "NCHW" (or
      "channels_first").
    seed: Optional Python int, the op-level seed; combine it with
      `tf.compat.v1.set_random_seed` (graph) or `tf.random.set_seed` (eager)
      for reproducible masks.
    name: Optional name scope for the ops (default "dropblock").

  Returns:
    A tensor of the same dtype and static shape as `x`. Probabilities and
    the normalisation are computed in float32 (float64 for float64 inputs).
    The gradient with respect to `x` is the applied mask times the scale.

  Raises:
    TypeError: If `x` is not a float tensor, or `keep_prob`, `block_size`,
      `training` or `scale` is of the wrong kind.
    ValueError: If the static rank of `x` is not 4, a Python `keep_prob` is
      outside (0, 1], `block_size` is not positive, or `data_format` is
      unknown. A tensor `keep_prob` outside (0, 1] raises
      `tf.errors.InvalidArgumentError` when it is evaluated.

  Example:

      x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 64])
      is_training = tf.compat.v1.placeholder(tf.bool, [])
      y = dropblock(x, keep_prob=0.9, block_size=7, training=is_training)
  """
  block_h, block_w = _checks.check_block_size(block_size)

  def make_multiplier(inputs, keep_prob, scale, data_format):
    key = _masking.noise_key(seed)
    args = (tf.shape(inputs), keep_prob, tf.convert_to_tensor(scale), key)
    if tf.executing_eagerly():
      # Op-by-op dispatch cost 2-3x tf.nn.dropout on small eager tensors;
      # one traced function per configuration removes it.
      return _eager_multiplier_fn(block_h, block_w, data_format,
                                  keep_prob.dtype)(*args)
    return _multiplier(*args, block_h=block_h, block_w=block_w,
                       data_format=data_format)

  return _masking.apply_random_mask(
      x, keep_prob, training, scale, data_format, name, "dropblock",
      make_multiplier)


def _multiplier(shape, keep_prob, scale, key, block_h, block_w, data_format):
  """The tensor `x` is multiplied by: 0 in dropped blocks, the scale else.

  Args:
    shape: The input shape, int32 `[4]` in `data_format` order.
    keep_prob: Scalar of the compute dtype.
    scale: Scalar bool tensor (or Python bool).
    key: int32 `[2]` key of the stateless noise.
    block_h: Python int.
    block_w: Python int.
    data_format: "NHWC" or "NCHW".

  Returns:
    A tensor of shape `shape` and the dtype of `keep_prob`.
  """
  map_shape = _map_shape(shape, data_format)
  height, width = map_shape[1], map_shape[2]
  valid_h = _valid_seed_extent(height, block_h)
  valid_w = _valid_seed_extent(width, block_w)
  gamma = _gamma(keep_prob, height, width, valid_h, valid_w)
  geometry = _SeedGeometry(map_shape, valid_h, valid_w, block_h, block_w)
  if compat.in_xla_context():
    seed_map = _dense_seed_map(geometry, gamma, key)
  else:
    seed_map = _sparse_seed_map(geometry, gamma, key)
  # seed_map holds -1 (no seed) and 0 (a seed); max-pooling it gives -1
  # where a unit is kept and 0 where a block drops it.
  neg_keep = _from_map_layout(_expand_blocks(seed_map, block_h, block_w),
                              data_format)
  # Algorithm 1: rescale by count / count_ones; divide_no_nan makes an
  # all-dropped tensor come out as zeros instead of NaN.
  factor = tf.math.divide_no_nan(
      tf.cast(tf.size(neg_keep), tf.float32), -tf.reduce_sum(neg_keep))
  factor = -_masking.select_scale(scale, factor)
  if keep_prob.dtype != tf.float32:
    neg_keep, factor = (tf.cast(neg_keep, keep_prob.dtype),
                        tf.cast(factor, keep_prob.dtype))
  return neg_keep * factor


_EAGER_MULTIPLIERS = {}


def _eager_multiplier_fn(block_h, block_w, data_format, dtype):
  """`_multiplier` as a `tf.function`, one per configuration (cached)."""
  config = (block_h, block_w, data_format, dtype)
  if config not in _EAGER_MULTIPLIERS:
    signature = [tf.TensorSpec([4], tf.int32), tf.TensorSpec([], dtype),
                 tf.TensorSpec([], tf.bool), tf.TensorSpec([2], tf.int32)]
    _EAGER_MULTIPLIERS[config] = compat.function(
        lambda shape, keep_prob, scale, key: _multiplier(
            shape, keep_prob, scale, key, block_h, block_w, data_format),
        input_signature=signature)
  return _EAGER_MULTIPLIERS[config]


def _map_shape(shape, data_format):
  """The channels-last shape [N, H, W, C] the mask is built in.

  CPU pooling is fast only channels-last (a depth-1 layout for NCHW was 3-8x
  slower), and seeds are i.i.d., so an NCHW mask is built channels-last
  and transposed once at the end (a fused no-cost step under XLA).
  """
  if data_format == "NHWC":
    return shape
  return tf.stack([shape[0], shape[2], shape[3], shape[1]])


def _from_map_layout(mask, data_format):
  if data_format == "NHWC":
    return mask
  return tf.transpose(mask, [0, 3, 1, 2])


def _valid_seed_extent(size, block):
  """Number of seed positions along an axis of length `size`.

  `size - block + 1` where a whole block fits; 1 where the block is clipped
  to a shorter map; 0 for an empty axis.
  """
  return tf.maximum(size - block + 1, tf.minimum(size, 1))


def _gamma(keep_prob, height, width, valid_h, valid_w):
  """Seed probability of Eq. 1 with blocks clipped to the map.

  The clipped block extent along an axis is `size - valid + 1`, which is
  `min(block, size)` for a non-empty axis.
  """
  dtype = tf.float32
  height, width, valid_h, valid_w = [
      tf.cast(v, dtype) for v in (height, width, valid_h, valid_w)]
  block_area = (height - valid_h + 1.0) * (width - valid_w + 1.0)
  return tf.math.divide_no_nan(
      (1.0 - tf.cast(keep_prob, dtype)) * height * width,
      block_area * valid_h * valid_w)


class _SeedGeometry(object):
  """Where the seed of each block goes in a full-size map.

  Blocks are expanded by a stride-1 SAME max-pool with a `block` window,
  which covers `[p - (block - 1) // 2, p + block // 2]` around output p. A
  seed for the block whose top-left corner is row i is therefore put at row
  `i + block // 2` (exact for odd and even blocks); for a block clipped to
  a shorter map (one seed row, i = 0) at `min(block // 2, size - 1)`, which
  covers every row. Columns likewise.
  """

  def __init__(self, map_shape, valid_h, valid_w, block_h, block_w):
    self.map_shape = map_shape
    self.valid_h, self.valid_w = valid_h, valid_w
    height, width = map_shape[1], map_shape[2]
    self.offset_h = tf.minimum(block_h // 2, height - valid_h)
    self.offset_w = tf.minimum(block_w // 2, width - valid_w)
    self.valid_shape = tf.stack(
        [map_shape[0], valid_h, valid_w, map_shape[3]])


def _dense_seed_map(geometry, gamma, key):
  """Seed map from uniform noise over the whole valid seed region.

  Used under XLA, which fuses it, and as the sparse sampler's fallback.
  The noise is stateless Philox: fast under XLA, unlike stateful RNG.
  """
  noise = compat.stateless_uniform(geometry.valid_shape, key,
                                   name="seed_noise")
  return _seed_map_from_noise(noise, gamma, geometry)


def _seed_map_from_noise(noise, gamma, geometry):
  """-1/0 seed map from noise on the valid region (below gamma: a seed)."""
  seeds = tf.cast(noise < gamma, tf.float32) - 1.0
  height, width = geometry.map_shape[1], geometry.map_shape[2]
  return tf.pad(
      seeds, [[0, 0],
              [geometry.offset_h, height - geometry.valid_h - geometry.offset_h],
              [geometry.offset_w, width - geometry.valid_w - geometry.offset_w],
              [0, 0]], constant_values=-1.0)


def _sparse_seed_map(geometry, gamma, key):
  """Seed map drawing only as many random numbers as there are seeds.

  Bernoulli(gamma) seeds over the n cells of the valid region, in flat
  order, are exactly the points of a Bernoulli process: the gaps between
  successive seeds are i.i.d. Geometric(gamma) on {1, 2, ...}, drawn by
  inversion as floor(log(u) / log(1 - gamma)) + 1 with u uniform in (0, 1]
  (in float64, so the distribution is exact to ~1e-16). Enough gaps are
  drawn to pass the end of the region with overwhelming probability (mean
  count + 10 sd + 32; the shortfall chance is below 1e-20); should they not,
  the dense sampler is used instead, so the result is always exact. Seeds
  are distinct by construction.
  """
  valid_shape = tf.cast(geometry.valid_shape, tf.int64)
  num_cells = tf.reduce_prod(valid_shape)
  num_cells_f = tf.cast(num_cells, tf.float64)
  # gamma <= 1 - keep_prob < 1 for valid input; the clip only keeps the
  # draw count finite should an invalid keep_prob get this far.
  gamma = tf.clip_by_value(tf.cast(gamma, tf.float64), 0.0, 1.0)
  mean = num_cells_f * gamma
  max_seeds = tf.cast(
      tf.math.ceil(mean + 10.0 * tf.sqrt(mean * (1.0 - gamma)) + 32.0),
      tf.int32)
  uniform = 1.0 - compat.stateless_uniform([max_seeds], key, tf.float64,
                                           name="gap_noise")
  gaps = tf.floor(tf.math.log(uniform) / tf.math.log1p(-gamma)) + 1.0
  positions = tf.cumsum(gaps) - 1.0
  # NaN (gamma == 0 and u == 1) compares False: treated as "not covered".
  covered = positions[-1] >= num_cells_f

  def scatter():
    count = tf.reduce_sum(tf.cast(positions < num_cells_f, tf.int32))
    flat = tf.cast(positions[:count], tf.int64)
    return _seed_map_from_positions(flat, geometry)

  # The fallback's noise must not reuse the gaps' stream: another key.
  fallback_key = key + tf.constant([0, 1], tf.int32)
  return compat.smart_cond(
      covered, scatter,
      lambda: _dense_seed_map(geometry, tf.cast(gamma, tf.float32),
                              fallback_key))


def _seed_map_from_positions(flat, geometry):
  """-1/0 seed map with seeds at flat indices of the valid region.

  Args:
    flat: int64 indices into the valid region laid out as [N, valid_h,
      valid_w, C], row-major.
    geometry: A `_SeedGeometry`.
  """
  map_shape = tf.cast(geometry.map_shape, tf.int64)
  valid_h = tf.cast(geometry.valid_h, tf.int64)
  valid_w = tf.cast(geometry.valid_w, tf.int64)
  depth = map_shape[3]
  channel = flat % depth
  rest = flat // depth
  col = rest % valid_w + tf.cast(geometry.offset_w, tf.int64)
  rest = rest // valid_w
  row = rest % valid_h + tf.cast(geometry.offset_h, tf.int64)
  index = (((rest // valid_h) * map_shape[1] + row) * map_shape[2]
           + col) * depth + channel
  # Indices are increasing (the flat order is kept), as SparseToDense
  # wants; it writes the -1 background and the seeds in one pass, far
  # faster than a scatter on CPU.
  seeds = tf.SparseTensor(index[:, None], tf.zeros_like(index, tf.float32),
                          tf.reshape(tf.reduce_prod(map_shape), [1]))
  seed_map = tf.sparse.to_dense(seeds, default_value=-1.0,
                                validate_indices=False)
  return tf.reshape(seed_map, geometry.map_shape)


def _expand_blocks(seed_map, block_h, block_w):
  """Stride-1 SAME max-pool with a block_h x block_w window.

  Two 1-D pools (block_h x 1, then 1 x block_w) are used from block 7 on:
  much faster under XLA, and no slower on CPU at that size; a 2-D pool is
  faster for small blocks.
  """
  if (block_h, block_w) == (1, 1):
    return seed_map
  if max(block_h, block_w) >= 7 or compat.in_xla_context():
    if block_h > 1:
      seed_map = tf.nn.max_pool2d(seed_map, [block_h, 1], 1, "SAME")
    if block_w > 1:
      seed_map = tf.nn.max_pool2d(seed_map, [1, block_w], 1, "SAME")
    return seed_map
  return tf.nn.max_pool2d(seed_map, [block_h, block_w], 1, "SAME")


def _keep_mask_from_noise(noise, gamma, block_size, shape, data_format):
  """The float32 keep mask (1 kept, 0 dropped) that `noise` gives.

  For tests against the NumPy reference: runs the dense sampler's
  expansion on given noise.

  Args:
    noise: float32 uniform noise over the valid seed region, laid out like
      the input: `[N, valid_h, valid_w, C]` (NHWC) or `[N, C, valid_h,
      valid_w]` (NCHW). A value below `gamma` is a block seed.
    gamma: Scalar float32 seed probability.
    block_size: Pair of Python ints `(block_h, block_w)`.
    shape: The full input shape, a rank-1 int tensor in `data_format` order.
    data_format: "NHWC" or "NCHW".

  Returns:
    A float32 tensor of shape `shape`.
  """
  block_h, block_w = block_size
  map_shape = _map_shape(shape, data_format)
  geometry = _SeedGeometry(
      map_shape, _valid_seed_extent(map_shape[1], block_h),
      _valid_seed_extent(map_shape[2], block_w), block_h, block_w)
  if data_format == "NCHW":
    noise = tf.transpose(noise, [0, 2, 3, 1])
  neg_keep = _expand_blocks(_seed_map_from_noise(noise, gamma, geometry),
                            block_h, block_w)
  return -_from_map_layout(neg_keep, data_format)


def _keep_mask_from_seed_positions(flat, block_size, shape, data_format):
  """The keep mask the sparse sampler makes from given seed positions.

  For tests: `flat` holds int64 flat indices into the valid seed region
  laid out channels-last, `[N, valid_h, valid_w, C]`, whatever
  `data_format` is.
  """
  block_h, block_w = block_size
  map_shape = _map_shape(shape, data_format)
  geometry = _SeedGeometry(
      map_shape, _valid_seed_extent(map_shape[1], block_h),
      _valid_seed_extent(map_shape[2], block_w), block_h, block_w)
  neg_keep = _expand_blocks(_seed_map_from_positions(flat, geometry),
                            block_h, block_w)
  return -_from_map_layout(neg_keep, data_format)
