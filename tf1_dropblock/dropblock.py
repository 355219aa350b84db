"""DropBlock: drop contiguous blocks of a feature map."""

from tf1_dropblock import _checks
from tf1_dropblock import _masking
from tf1_dropblock.compat import random_uniform
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
    shape = tf.shape(inputs)
    height, width = _spatial_dims(shape, data_format)
    valid_h = _valid_seed_extent(height, block_h)
    valid_w = _valid_seed_extent(width, block_w)
    gamma = _gamma(keep_prob, height, width, valid_h, valid_w)
    if data_format == "NHWC":
      noise_shape = tf.stack([shape[0], valid_h, valid_w, shape[3]])
    else:
      noise_shape = tf.stack([shape[0], shape[1], valid_h, valid_w])
    noise = random_uniform(noise_shape, seed=seed, name="seed_noise")
    keep = _keep_mask_from_noise(noise, gamma, (block_h, block_w), shape,
                                 data_format)
    if keep_prob.dtype != tf.float32:
      keep = tf.cast(keep, keep_prob.dtype)
    # Algorithm 1: rescale by count / count_ones; divide_no_nan makes an
    # all-dropped tensor come out as zeros instead of NaN.
    factor = tf.math.divide_no_nan(
        tf.cast(tf.size(keep), keep.dtype), tf.reduce_sum(keep))
    return keep * _masking.select_scale(scale, factor)

  return _masking.apply_random_mask(
      x, keep_prob, training, scale, data_format, name, "dropblock",
      make_multiplier)


def _spatial_dims(shape, data_format):
  if data_format == "NHWC":
    return shape[1], shape[2]
  return shape[2], shape[3]


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


def _keep_mask_from_noise(noise, gamma, block_size, shape, data_format):
  """Expands seed noise into a float32 keep mask (1 = kept, 0 = dropped).

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
  seeds = tf.cast(noise < gamma, tf.float32)
  height, width = _spatial_dims(shape, data_format)
  if data_format == "NCHW":
    # Pooling wants channels last; NCHW maps become single-channel images.
    seeds = tf.expand_dims(
        tf.reshape(seeds, tf.stack([-1, tf.shape(seeds)[2],
                                    tf.shape(seeds)[3]])), -1)
  if (block_h, block_w) != (1, 1):
    # A position is dropped if a seed lies within the block_h x block_w
    # window above and to its left: pad block-1 zeros before the seed
    # region, pad the rest of the map after it, and max-pool VALID. This is
    # exact for even block sizes. An empty axis is padded to one row so the
    # padded map is never smaller than the window (oneDNN's VALID pooling
    # crashes the process on that), and the extra row is sliced off; for a
    # non-empty map the slice is the identity, which TF does not copy.
    valid_h, valid_w = tf.shape(seeds)[1], tf.shape(seeds)[2]
    pad_h = [block_h - 1, tf.maximum(height, 1) - valid_h]
    pad_w = [block_w - 1, tf.maximum(width, 1) - valid_w]
    seeds = tf.pad(seeds, [[0, 0], pad_h, pad_w, [0, 0]])
    seeds = tf.nn.max_pool2d(seeds, ksize=[block_h, block_w], strides=1,
                             padding="VALID")
    seeds = seeds[:, :height, :width, :]
  keep = 1.0 - seeds
  if data_format == "NCHW":
    keep = tf.reshape(keep, shape)
  return keep
