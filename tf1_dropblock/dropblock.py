"""DropBlock: drop contiguous blocks of a feature map."""

from tf1_dropblock import _blocks
from tf1_dropblock import _checks
from tf1_dropblock import _masking
from tf1_dropblock import _seeds
from tf1_dropblock import _shapes
from tf1_dropblock import compat
from tf1_dropblock.compat import tf


def dropblock(x, keep_prob, block_size, training=None, scale=True, *,
              data_format="channels_last", seed=None, share_channels=False,
              normalize="batch", name=None):
  """DropBlock regularisation (Ghiasi, Lin & Le, NeurIPS 2018).

  Zeros square or rectangular blocks of each feature map, independently for
  every example and every channel, then (with `scale`) rescales the result
  so the mean activation is kept. Block seeds are drawn with probability

      gamma = (1 - keep_prob) / (block_h * block_w)
              * (H * W) / ((H - block_h + 1) * (W - block_w + 1))

  only where a whole block fits inside the map (the paper's "valid seed
  region", https://arxiv.org/abs/1810.12890, Eq. 1); each seed zeros the
  `block_h x block_w` block whose top-left corner it is. Overlapping blocks
  make the dropped fraction slightly smaller than `1 - keep_prob`. Rank-3
  (sequence) and rank-5 (volume) inputs work alike, with the products over
  their one or three spatial axes.

  Like `tf.compat.v1.layers.dropout`, nothing is dropped unless `training` is
  true: `training=None` (the default) and `training=False` return `x`
  unchanged, and so does `keep_prob == 1`.

  Args:
    x: A float16, bfloat16, float32 or float64 tensor of rank 4 (images),
      3 (sequences) or 5 (volumes), in `data_format` layout. Any dimension
      may be unknown until run time.
    keep_prob: Python number or scalar float tensor (placeholder, variable,
      schedule) in (0, 1]: the probability that a unit is kept, i.e.
      `1 - rate`.
    block_size: Positive int, or a tuple with one positive int per spatial
      axis (`(block_h, block_w)` for images). A block larger than the
      feature map is clipped to the map at run time (a single seed then
      covers the whole map along that axis).
    training: Python bool, scalar bool tensor, or None (not training).
    scale: Python bool or scalar bool tensor. If true, the output is
      multiplied by `count(mask) / count_ones(mask)` over the whole tensor
      (Algorithm 1 of the paper); when every unit is dropped the output is
      zeros, never NaN.
    data_format: "NHWC"/"NCHW" (rank 4), "NWC"/"NCW" (rank 3),
      "NDHWC"/"NCDHW" (rank 5), or "channels_last" (the default) /
      "channels_first" for the rank of `x` (rank 4 if that is unknown).
    seed: Optional Python int, the op-level seed; combine it with
      `tf.compat.v1.set_random_seed` (graph) or `tf.random.set_seed` (eager)
      for reproducible masks.
    share_channels: Python bool. False (the paper's choice): every channel
      of an example gets its own blocks. True: one block mask per example,
      the same for all its channels (timm's `couple_channels`); C times
      fewer seeds.
    normalize: "batch" (Algorithm 1): one factor, count / count_ones over
      the whole tensor. "example": each example is rescaled by its own
      count / count_ones, so its mean activation is kept; an example whose
      every unit is dropped comes out as zeros.
    name: Optional name scope for the ops (default "dropblock").

  Returns:
    A tensor of the same dtype and static shape as `x`. Probabilities and
    the normalisation are computed in float32 (float64 for float64 inputs).
    The gradient with respect to `x` is the applied mask times the scale.

  Raises:
    TypeError: If `x` is not a float tensor, or `keep_prob`, `block_size`,
      `training`, `scale` or `share_channels` is of the wrong kind.
    ValueError: If the static rank of `x` is not 3, 4 or 5 or does not
      match `data_format`, a Python `keep_prob` is outside (0, 1],
      `block_size` is not positive or has the wrong length, or
      `data_format` or `normalize` is unknown. A tensor `keep_prob` outside (0, 1] raises
      `tf.errors.InvalidArgumentError` when it is evaluated.

  Example:

      x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 64])
      is_training = tf.compat.v1.placeholder(tf.bool, [])
      y = dropblock(x, keep_prob=0.9, block_size=7, training=is_training)
  """
  block_size = _checks.check_block_size(block_size)
  share_channels = _checks.check_share_channels(share_channels)
  normalize = _checks.check_normalize(normalize)

  return _masking.apply_random_mask(
      x, keep_prob, training, scale, data_format, seed, name, "dropblock",
      _multiplier, (block_size, share_channels, normalize), ranks=(3, 4, 5),
      block_size=block_size)


def _multiplier(dims, keep_prob, scale, key, data_format, block_size,
                share_channels, normalize):
  """The tensor `x` is multiplied by: 0 in dropped blocks, the scale else.

  Algorithm 1 of the paper: seeds with probability gamma in the valid seed
  region, each expanded into a block, the mask normalised by count /
  count_ones. XLA, which needs static sizes, takes its own path.

  Args:
    dims: The input's dimensions (`_shapes.dimensions`), in `data_format`.
    keep_prob: Scalar of the compute dtype.
    scale: Scalar bool tensor (or Python bool).
    key: int32 `[2]` key of the stateless noise.
    data_format: A canonical format ("NHWC", "NCW", ...).
    block_size: A checked block size (int, or tuple for the rank).
    share_channels: Whether one mask serves all channels of an example.
    normalize: "batch" or "example", the group count / count_ones is
      taken over.

  Returns:
    A tensor of the input's shape (with one channel if `share_channels`)
    and the dtype of `keep_prob`.
  """
  blocks = _checks.block_size_for_rank(block_size, len(data_format))
  if share_channels:
    # A one-channel mask, broadcast over the channels by the multiply.
    dims = _shapes.with_dimension(
        dims, 1 if data_format[1] == "C" else len(dims) - 1, 1)
  if compat.in_xla_context():
    return _xla_multiplier(tf.cast(_shapes.as_shape(dims), tf.int32),
                           keep_prob, scale, key, data_format, blocks,
                           normalize)
  if all(block == 1 for block in blocks):
    return _unit_multiplier(dims, keep_prob, scale, key, normalize)
  geometry = _blocks.BlockGeometry(dims, data_format, blocks)
  positions = _seeds.sparse_seed_positions(
      geometry.num_valid_cells, geometry.gamma(keep_prob), key)
  map_dtype = geometry.map_dtype(keep_prob.dtype)
  neg_keep = geometry.expand(geometry.seed_map(positions, map_dtype))
  if map_dtype != keep_prob.dtype:
    neg_keep = tf.cast(neg_keep, keep_prob.dtype)
  return _normalised(neg_keep, dims, scale, normalize, geometry.num_units)


def _unit_multiplier(dims, keep_prob, scale, key, normalize):
  """`_multiplier` for blocks of one unit: element-wise dropout, normalised.

  Each unit is its own seed, dropped with probability gamma = 1 -
  keep_prob, so seeds are drawn over the input as it lies in memory (any
  layout: they are i.i.d.), and the kept count is the number of units less
  the number of seeds, known before the map is written. The multiplier
  (0 at seeds, count / count_ones elsewhere) is then written in one pass.
  """
  num_units = _shapes.product(dims)
  static_keep_prob = compat.get_static_value(keep_prob)
  rate = (1.0 - float(static_keep_prob) if static_keep_prob is not None
          else 1.0 - tf.cast(keep_prob, tf.float64))
  positions = _seeds.sparse_seed_positions(num_units, rate, key)
  dtype = keep_prob.dtype
  shape = _shapes.as_shape(dims) if dims.shape is None else dims.shape
  if normalize == "example":
    # Per-example counts need the map itself: write it, then normalise.
    neg_keep = tf.raw_ops.SparseToDense(
        sparse_indices=positions, output_shape=_shapes.as_shape([num_units]),
        sparse_values=tf.zeros([], dtype), default_value=-tf.ones([], dtype),
        validate_indices=False)
    return _normalised(tf.reshape(neg_keep, shape), dims, scale, normalize)
  static_scale = compat.get_static_value(scale)
  if static_scale is not None and not bool(static_scale):
    kept_value = tf.ones([], dtype)
  else:
    count = (tf.constant(float(num_units), dtype)
             if _shapes.is_static(num_units) else tf.cast(num_units, dtype))
    kept_value = tf.math.divide_no_nan(
        count, count - tf.cast(tf.size(positions), dtype))
    if static_scale is None:
      kept_value = tf.where(scale, kept_value, tf.ones([], dtype))
  multiplier = tf.raw_ops.SparseToDense(
      sparse_indices=positions, output_shape=_shapes.as_shape([num_units]),
      sparse_values=tf.zeros([], dtype), default_value=kept_value,
      validate_indices=False)
  return tf.reshape(multiplier, shape)


def _normalised(neg_keep, dims, scale, normalize="batch", num_units=None):
  """The multiplier from a -1 (kept) / 0 (dropped) mask of shape `dims`.

  Algorithm 1 rescales by count / count_ones. The sum of the mask is
  -count_ones, so `neg_keep * (count / sum)` is the scaled keep mask in
  one multiply; divide_no_nan makes an all-dropped tensor (or example)
  come out as zeros instead of NaN. With `normalize="example"` count and
  sum are taken per example. `num_units`: the product of `dims`, if known.
  """
  static_scale = compat.get_static_value(scale)
  if static_scale is not None and not bool(static_scale):
    return -neg_keep
  if normalize == "example":
    num_units = _shapes.product(dims[1:])
    kept_sum = tf.reduce_sum(neg_keep, axis=list(range(1, len(dims))),
                             keepdims=True)
  else:
    if num_units is None:
      num_units = _shapes.product(dims)
    kept_sum = tf.reduce_sum(neg_keep)
  if _shapes.is_static(num_units):
    count = tf.constant(float(num_units), neg_keep.dtype)
  else:
    count = tf.cast(num_units, neg_keep.dtype)
  factor = tf.math.divide_no_nan(count, kept_sum)
  if static_scale is None:
    factor = tf.where(scale, factor, -tf.ones_like(factor))
  return neg_keep * factor


def _xla_multiplier(shape, keep_prob, scale, key, data_format, blocks,
                    normalize):
  """`_multiplier` under XLA: static sizes, int8 maps, folded channels.

  Args:
    shape: The input shape, int32 `[rank]` in `data_format` order.
    Others: As for `_multiplier`; `blocks` has one entry per spatial axis.
  """
  map_shape, blocks = _map_shape(shape, data_format, blocks,
                                 fold_channels=True)
  geometry = _SeedGeometry(map_shape, blocks)
  gamma = _gamma(keep_prob, geometry)
  # XLA fuses the casts, so the full-size maps can be int8, a quarter of
  # the memory traffic of float32 (MaxPool3D takes floats only).
  map_dtype = (tf.int8 if len(blocks) == 2 and compat.INT8_MAXIMUM
               else tf.float32)
  if compat.get_static_value(keep_prob) is not None:
    # XLA needs static sizes; with a constant keep_prob the draw count
    # depends only on shapes, which XLA treats as compile-time constants.
    seed_map = _sparse_seed_map(geometry, gamma, key, dtype=map_dtype)
  elif not compat.XLA_CASE_SEES_OUTER_SHAPES:
    seed_map = _dense_seed_map(geometry, gamma, key, map_dtype)
  else:
    seed_map = _bucketed_seed_map(keep_prob, geometry, gamma, key,
                                  map_dtype)
  # seed_map holds -1 (no seed) and 0 (a seed); max-pooling it gives -1
  # where a unit is kept and 0 where a block drops it.
  folded = data_format[-1] != "C"
  neg_keep = _from_map_layout(
      _expand_blocks(seed_map, blocks, sliding=folded), shape, data_format,
      fold_channels=True)
  if folded and max(blocks) > 1:
    # The sliding max is elementwise: without this XLA would redo its last
    # step in each consumer (the count, the forward and backward multiply).
    neg_keep = _masking.computed_once(neg_keep)
  if normalize == "example":
    neg_keep = tf.cast(neg_keep, tf.float32)
    per_example = list(range(1, len(data_format)))
    num_kept = -tf.reduce_sum(neg_keep, axis=per_example, keepdims=True)
    count = tf.cast(tf.size(neg_keep) // tf.shape(neg_keep)[0], tf.float32)
  elif neg_keep.dtype == tf.int8:
    inner_spatial_axis = -1 if data_format[-1] != "C" else -2
    num_kept = -_sum_of_int8_map(neg_keep, inner_spatial_axis)
    neg_keep = tf.cast(neg_keep, tf.float32)
    count = tf.cast(tf.size(neg_keep), tf.float32)
  else:
    num_kept = -tf.reduce_sum(neg_keep)
    count = tf.cast(tf.size(neg_keep), tf.float32)
  factor = tf.math.divide_no_nan(count, num_kept)
  factor = -_masking.select_scale(scale, factor)
  if keep_prob.dtype != tf.float32:
    neg_keep, factor = (tf.cast(neg_keep, keep_prob.dtype),
                        tf.cast(factor, keep_prob.dtype))
  return neg_keep * factor


def _sum_of_int8_map(values, axis):
  """The float32 sum of an int8 map of -1s and 0s, in two steps, for XLA.

  Summed in one step, XLA's CPU backend wrote an int32 copy of the whole
  map and reduced it through a reduce-window: the count alone took 35-70 %
  of the op's fusion time (profiled at four shapes). Summing along one
  spatial axis first (in int32, widening fused) and then the rest avoids
  both. The second sum is float32, which also keeps XLA from merging the
  two into one; it is exact below 2^24 kept units and, beyond that, as
  exact as graph mode's float32 count.
  """
  partial = tf.reduce_sum(tf.cast(values, tf.int32), axis=axis)
  return tf.reduce_sum(tf.cast(partial, tf.float32))


def _map_shape(shape, data_format, blocks, fold_channels=False):
  """The channels-last shape [N, spatial..., C] the mask is built in.

  Seeds are i.i.d., so any layout gives the same distribution. CPU pooling
  is fast only channels-last (a depth-1 layout for NCHW was 3-8x slower),
  so a channels-first mask is built channels-last and transposed once at
  the end. Under XLA pooling is as fast on any layout and a transpose is a
  full extra pass, so there (`fold_channels`) a channels-first tensor is
  taken as it lies in memory: [N * C, spatial..., 1], a reshape away.
  Sequences become one-row images, [N, 1, W, C], with blocks (1, block_w).

  Returns:
    The map shape (int32 tensor) and the blocks, one per map spatial axis.
  """
  if data_format[-1] != "C":
    if fold_channels:
      shape = tf.concat([[shape[0] * shape[1]], shape[2:], [1]], 0)
    else:
      perm = [0] + list(range(2, len(data_format))) + [1]
      shape = tf.gather(shape, perm)
  if len(blocks) == 1:
    return tf.stack([shape[0], 1, shape[1], shape[2]]), (1,) + blocks
  return shape, blocks


def _from_map_layout(mask, shape, data_format, fold_channels=False):
  """Back from the map layout of `_map_shape` to `data_format`."""
  if data_format[-1] != "C" and not fold_channels:
    rank = len(mask.shape)
    mask = tf.transpose(mask, [0, rank - 1] + list(range(1, rank - 1)))
  if len(data_format) == 3 or fold_channels:
    mask = tf.reshape(mask, shape)
  return mask


def _valid_seed_extent(size, block):
  """Number of seed positions along an axis of length `size`.

  `size - block + 1` where a whole block fits; 1 where the block is clipped
  to a shorter map; 0 for an empty axis.
  """
  return tf.maximum(size - block + 1, tf.minimum(size, 1))


def _gamma(keep_prob, geometry):
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


class _SeedGeometry(object):
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


def _dense_seed_map(geometry, gamma, key, dtype=tf.float32):
  """Seed map from uniform noise over the whole valid seed region.

  Used under XLA with a tensor keep_prob, and as the sparse sampler's
  fallback. The noise is stateless Philox: fast under XLA, unlike stateful
  RNG.
  """
  noise = compat.stateless_uniform(geometry.valid_shape, key,
                                   name="seed_noise")
  return _seed_map_from_noise(noise, gamma, geometry, dtype)


def _seed_map_from_noise(noise, gamma, geometry, dtype=tf.float32):
  """-1/0 seed map from noise on the valid region (below gamma: a seed)."""
  seeds = tf.cast(noise < gamma, dtype) - tf.ones([], dtype)
  paddings = [[0, 0]]
  for size, valid, offset in zip(geometry.sizes, geometry.valid,
                                 geometry.offsets):
    paddings.append([offset, size - valid - offset])
  return tf.pad(seeds, paddings + [[0, 0]],
                constant_values=tf.constant(-1, dtype))


def _sparse_seed_map(geometry, gamma, key, dtype=tf.float32,
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
    return _seed_map_from_positions(flat, geometry, inside, dtype)

  # The fallback's noise must not reuse the gaps' stream: another key.
  fallback_key = key + tf.constant([0, 1], tf.int32)
  return compat.smart_cond(
      covered, scatter,
      lambda: _dense_seed_map(geometry, tf.cast(gamma, tf.float32),
                              fallback_key, dtype))


# Under XLA, a tensor keep_prob is rounded down to the first of these rates
# (1 - keep_prob) that is at least its own, and seeds are drawn sparsely
# with a draw count sized for that rate; higher rates use dense noise.
_XLA_RATE_BUCKETS = (0.05, 0.1, 0.2, 0.4)


def _bucketed_seed_map(keep_prob, geometry, gamma, key, dtype):
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
    return lambda: _sparse_seed_map(
        geometry, gamma, key, dtype=dtype,
        count_gamma=_gamma(tf.constant(1.0 - bucket_rate), geometry))

  branches = [sparse(r) for r in _XLA_RATE_BUCKETS]
  branches.append(lambda: _dense_seed_map(geometry, gamma, key, dtype))
  return tf.switch_case(branch, branches)


def _seed_map_from_positions(flat, geometry, inside=None, dtype=tf.float32):
  """-1/0 seed map with seeds at flat indices of the valid region.

  Args:
    flat: Increasing int64 indices into the valid region laid out as
      [N, valid..., C], row-major.
    geometry: A `_SeedGeometry`.
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


def _expand_blocks(seed_map, blocks, sliding=False):
  """Stride-1 SAME max-pool with a `blocks` window (2 or 3 spatial axes).

  From block 7, and always under XLA, one 1-D pool per axis is used: much
  faster under XLA and no slower on CPU at that size; a single pool is
  faster for small blocks. With `sliding` (XLA, channels-first maps of
  depth 1, where XLA's pooling is slow) each axis takes `_sliding_max`.
  """
  blocks = tuple(blocks)
  if all(block == 1 for block in blocks):
    return seed_map
  if sliding:
    for axis, block in enumerate(blocks):
      if block > 1:
        seed_map = _sliding_max(seed_map, axis + 1, block)
    return seed_map
  pool = tf.nn.max_pool2d if len(blocks) == 2 else tf.nn.max_pool3d
  if max(blocks) >= 7 or compat.in_xla_context():
    for axis, block in enumerate(blocks):
      if block > 1:
        window = [1] * len(blocks)
        window[axis] = block
        seed_map = pool(seed_map, window, 1, "SAME")
    return seed_map
  return pool(seed_map, list(blocks), 1, "SAME")


def _sliding_max(values, axis, window):
  """Stride-1 SAME max over `window` along `axis`, by doubling.

  The same result as a SAME max-pool (output p covers `[p - (window - 1)
  // 2, p + window // 2]`, -1 outside the map), built from elementwise
  maxima of shifted slices, which XLA fuses and vectorises: after step j
  each entry holds the max of the 2^j entries from it on; two such spans,
  overlapping, cover any window of size < 2^(j+1). On depth-1 maps under
  XLA this was 15-44 % faster than reduce-window pooling (measured in the
  commit that added it).
  """
  rank = len(values.shape)
  size = tf.shape(values)[axis]
  paddings = [[0, 0]] * rank
  paddings[axis] = [(window - 1) // 2, window // 2]
  spans = tf.pad(values, paddings, constant_values=tf.constant(-1,
                                                               values.dtype))

  def axis_slice(tensor, start, length):
    begin = [0] * rank
    begin[axis] = start
    sizes = [-1] * rank
    sizes[axis] = length
    return tf.slice(tensor, begin, tf.stack(sizes))

  length, width = size + window - 1, 1
  while 2 * width <= window:
    length -= width
    spans = tf.maximum(axis_slice(spans, 0, length),
                       axis_slice(spans, width, length))
    width *= 2
  return tf.maximum(axis_slice(spans, 0, size),
                    axis_slice(spans, window - width, size))


def _keep_mask_from_noise(noise, gamma, block_size, shape, data_format):
  """The float32 keep mask (1 kept, 0 dropped) that `noise` gives.

  For tests against the NumPy reference: runs the dense sampler's
  expansion on given noise.

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
  map_shape, blocks = _map_shape(shape, data_format, tuple(block_size))
  geometry = _SeedGeometry(map_shape, blocks)
  if data_format[-1] != "C":
    rank = len(data_format)
    noise = tf.transpose(noise, [0] + list(range(2, rank)) + [1])
  noise = tf.reshape(noise, geometry.valid_shape)
  neg_keep = _expand_blocks(_seed_map_from_noise(noise, gamma, geometry),
                            blocks)
  return -_from_map_layout(neg_keep, shape, data_format)


def _keep_mask_from_seed_positions(flat, block_size, shape, data_format):
  """The keep mask the sparse sampler makes from given seed positions.

  For tests: `flat` holds increasing int64 flat indices into the valid
  seed region laid out channels-last, `[N, valid..., C]`, whatever
  `data_format` is; `shape` is the input shape, a rank-1 int tensor.
  """
  dims = tf.unstack(tf.cast(shape, tf.int64), num=len(data_format))
  geometry = _blocks.BlockGeometry(dims, data_format, tuple(block_size))
  return -geometry.expand(geometry.seed_map(flat))
