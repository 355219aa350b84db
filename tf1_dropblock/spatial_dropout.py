"""Spatial (channel-wise) dropout: drop whole feature maps.

Sequences (rank 3), images (rank 4) and volumes (rank 5), as Keras's
SpatialDropout1D/2D/3D; the frame around the mask is `_masking`'s.
"""

from tf1_dropblock import _masking
from tf1_dropblock import _shapes
from tf1_dropblock import compat
from tf1_dropblock.compat import tf


def spatial_dropout(x, keep_prob, training=None, scale=True, *,
                    data_format="channels_last", seed=None, name=None):
  """Spatial dropout (Tompson et al., CVPR 2015), as Keras SpatialDropout*D.

  Keeps each whole feature map (one channel of one example) with
  probability `keep_prob`, independently for every example and channel,
  and zeros it otherwise. Nothing is dropped unless `training` is true:
  `training=None` (the default) and `training=False` return `x` unchanged,
  and so does `keep_prob == 1`.

  Args:
    x: A float16, bfloat16, float32 or float64 tensor of rank 4 (images),
      3 (sequences) or 5 (volumes), in `data_format` layout. Any dimension
      may be unknown until run time.
    keep_prob: Python number or scalar float tensor in (0, 1]: the
      probability that a feature map is kept, i.e. `1 - rate`.
    training: Python bool, scalar bool tensor, or None (not training).
    scale: Python bool or scalar bool tensor. If true, kept maps are
      multiplied by `1 / keep_prob` so the expected activation is kept.
    data_format: "NHWC"/"NCHW" (rank 4), "NWC"/"NCW" (rank 3),
      "NDHWC"/"NCDHW" (rank 5), or "channels_last" (the default) /
      "channels_first" for the rank of `x` (rank 4 if that is unknown).
    seed: Optional Python int, the op-level seed.
    name: Optional name scope for the ops (default "spatial_dropout").

  Returns:
    A tensor of the same dtype and static shape as `x`. The gradient with
    respect to `x` is the applied mask times the scale.

  Raises:
    TypeError: If `x` is not a float tensor, or `keep_prob`, `training` or
      `scale` is of the wrong kind.
    ValueError: If the static rank of `x` is not 3, 4 or 5 or does not
      match `data_format`, a Python `keep_prob` is outside (0, 1], or
      `data_format` is unknown. A tensor `keep_prob`
      outside (0, 1] raises `tf.errors.InvalidArgumentError` when it is
      evaluated.

  Example:

      y = spatial_dropout(x, keep_prob=0.8, training=is_training)
  """

  return _masking.apply_random_mask(
      x, keep_prob, training, scale, data_format, seed, name,
      "spatial_dropout", _multiplier, ranks=(3, 4, 5))


def _multiplier(dims, keep_prob, scale, key, data_format):
  """[N, 1..., C] (or [N, C, 1...]) kept-map mask times the scale."""
  ones = [1] * (len(dims) - 2)
  if data_format[-1] == "C":
    noise_shape = [dims[0]] + ones + [dims[-1]]
  else:
    noise_shape = [dims[0], dims[1]] + ones
  noise = tf.raw_ops.StatelessRandomUniform(
      shape=_shapes.as_shape(noise_shape), seed=key, dtype=keep_prob.dtype,
      name="channel_noise")
  keep = tf.cast(noise < keep_prob, keep_prob.dtype)
  static_keep_prob = compat.get_static_value(keep_prob)
  if static_keep_prob is not None:
    inverse = tf.constant(1.0 / float(static_keep_prob), keep_prob.dtype)
  else:
    inverse = 1.0 / keep_prob
  multiplier = keep * _masking.select_scale(scale, inverse)
  if compat.in_xla_context():
    multiplier = _masking.computed_once(multiplier)
  return multiplier
