"""DropBlock: drop contiguous blocks of a feature map."""

from tf1_dropblock import _blocks
from tf1_dropblock import _checks
from tf1_dropblock import _masking
from tf1_dropblock import _seeds
from tf1_dropblock import _shapes
from tf1_dropblock import _xla
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
      `data_format` or `normalize` is unknown. A tensor `keep_prob`
      outside (0, 1] raises `tf.errors.InvalidArgumentError` when it is
      evaluated.

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
  count_ones. XLA, which needs static sizes, takes its own path (it
  max-pools a dense seed map, as the paper does).

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
    return _xla.multiplier(tf.cast(_shapes.as_shape(dims), tf.int32),
                           keep_prob, scale, key, data_format, blocks,
                           normalize)
  if all(block == 1 for block in blocks):
    return _unit_multiplier(dims, keep_prob, scale, key, normalize)
  # The valid seed region and gamma (Eq. 1).
  geometry = _blocks.BlockGeometry(dims, data_format, blocks)
  # Bernoulli(gamma) seeds in that region, drawn sparsely (their cells'
  # centres, flat indices + 0.5).
  centres = _seeds.sparse_seed_positions(
      geometry.num_valid_cells, geometry.gamma(keep_prob), key,
      dtype=tf.float64, centres=True)
  # Seeds expanded into blocks: a -1 (kept) / 0 (dropped) map.
  neg_keep = geometry.negated_keep_map(centres, keep_prob.dtype, keep_prob)
  # Normalised by count / count_ones.
  return _normalised(neg_keep, dims, scale, normalize, geometry.num_units,
                     negated=True)


# Block 1 at a rate above this draws one uniform per unit instead of sparse
# seeds: the sparse sampler's work grows with the seed count and passes the
# dense draw's between rates 0.10 and 0.15 (TF 1.15 and 2.21 on CPU,
# forward + backward; docs/performance.md).
_DENSE_UNIT_RATE = 0.125


def _unit_multiplier(dims, keep_prob, scale, key, normalize):
  """`_multiplier` for blocks of one unit: element-wise dropout, normalised.

  Each unit is its own seed, dropped with probability gamma = 1 -
  keep_prob. Few seeds are drawn sparsely; above `_DENSE_UNIT_RATE` one
  uniform per unit is cheaper (with a tensor `keep_prob`, a run-time
  switch picks the draw).
  """
  static_keep_prob = compat.get_static_value(keep_prob)
  if static_keep_prob is not None:
    if 1.0 - float(static_keep_prob) > _DENSE_UNIT_RATE:
      return _dense_unit_multiplier(dims, keep_prob, scale, key, normalize)
    return _sparse_unit_multiplier(dims, keep_prob, scale, key, normalize)
  return tf.cond(
      keep_prob < tf.constant(1.0 - _DENSE_UNIT_RATE, keep_prob.dtype),
      lambda: _dense_unit_multiplier(dims, keep_prob, scale, key, normalize),
      lambda: _sparse_unit_multiplier(dims, keep_prob, scale, key,
                                      normalize))


def _dense_unit_multiplier(dims, keep_prob, scale, key, normalize):
  """`_unit_multiplier` from one uniform per unit, as `tf.nn.dropout` draws.

  A unit is kept where its uniform is at least 1 - keep_prob. float32
  uniforms are multiples of 2^-23 (float64 ones, for float64 inputs, of
  2^-52), so the drop probability is 1 - keep_prob rounded up to that grid.
  """
  dtype = keep_prob.dtype
  uniform = tf.raw_ops.StatelessRandomUniform(
      shape=_shapes.as_shape(dims), seed=key, dtype=dtype, name="unit_noise")
  keep = tf.cast(uniform >= 1.0 - keep_prob, dtype)
  return _normalised(keep, dims, scale, normalize)


def _sparse_unit_multiplier(dims, keep_prob, scale, key, normalize):
  """`_unit_multiplier` from sparse seeds.

  Seeds are drawn over the input as it lies in memory (any layout: they are
  i.i.d.), and the kept count is the number of units less the number of
  seeds, known before the map is written. The multiplier (0 at seeds,
  count / count_ones elsewhere) is then written in one pass.
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
    keep = tf.raw_ops.SparseToDense(
        sparse_indices=positions, output_shape=_shapes.as_shape([num_units]),
        sparse_values=tf.zeros([], dtype), default_value=tf.ones([], dtype),
        validate_indices=False)
    return _normalised(tf.reshape(keep, shape), dims, scale, normalize)
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


def _normalised(mask, dims, scale, normalize="batch", num_units=None,
                negated=False):
  """The multiplier from a keep mask of shape `dims` (1 kept, 0 dropped).

  Algorithm 1 rescales by count / count_ones; divide_no_nan makes an
  all-dropped tensor (or example) come out as zeros instead of NaN. With
  `normalize="example"` count and count_ones are taken per example.
  `num_units`: the product of `dims`, if known. `negated`: the mask holds
  -1 where kept; the sign goes into the factor.
  """
  static_scale = compat.get_static_value(scale)
  if static_scale is not None and not bool(static_scale):
    return -mask if negated else mask
  if normalize == "example":
    num_units = _shapes.product(dims[1:])
    kept_sum = tf.reduce_sum(mask, axis=list(range(1, len(dims))),
                             keepdims=True)
  else:
    if num_units is None:
      num_units = _shapes.product(dims)
    kept_sum = tf.reduce_sum(mask)
  if _shapes.is_static(num_units):
    count = tf.constant(float(num_units), mask.dtype)
  else:
    count = tf.cast(num_units, mask.dtype)
  # Negated, the kept sum is -count_ones and the factor comes out negated.
  factor = tf.math.divide_no_nan(count, kept_sum)
  if static_scale is None:
    ones = tf.ones_like(factor)
    factor = tf.where(scale, factor, -ones if negated else ones)
  return mask * factor
