"""Keras layers over `dropblock` and `spatial_dropout`.

Importing this module imports Keras (the one the installed TensorFlow uses:
Keras 3 on TF >= 2.16, `tf.keras` before, TF 1.15's `tf.keras`);
`import tf1_dropblock` alone never does.

    from tf1_dropblock.layers import DropBlock2D
    model = keras.Sequential([..., DropBlock2D(keep_prob=0.9, block_size=7)])

DropBlock1D/2D/3D and SpatialDropout1D/2D/3D take sequences [N, W, C],
images [N, H, W, C] and volumes [N, D, H, W, C] (or channels first).
"""

from tf1_dropblock import _checks
from tf1_dropblock import compat
from tf1_dropblock.compat import tf
from tf1_dropblock.dropblock import dropblock
from tf1_dropblock.schedules import linear_keep_prob
from tf1_dropblock.spatial_dropout import spatial_dropout

_keras = compat.keras()




class _RandomMaskLayer(_keras.layers.Layer):
  """Shared plumbing: keep_prob (constant or ramped), config, step count.

  Arguments are checked here, when the layer is constructed, with the
  checks and messages of the functional ops.
  """

  _RANK = 4

  def __init__(self, keep_prob=0.9, data_format=None, seed=None,
               ramp_steps=0, **kwargs):
    keep_prob = _checks.check_keep_prob(keep_prob)
    if data_format is not None:
      _checks.check_data_format(data_format, (self._RANK,))
    seed = _checks.check_seed(seed)
    ramp_steps = _checks.check_ramp_steps(ramp_steps)
    super().__init__(**kwargs)
    self.keep_prob = keep_prob
    self.data_format = data_format
    self.seed = seed
    self.ramp_steps = ramp_steps
    self.supports_masking = True
    self.steps_seen = None

  def build(self, input_shape):
    if self.ramp_steps:
      # Counts training calls, so keep_prob ramps from 1 to its target
      # over `ramp_steps` of them (the DropBlock paper's schedule); saved
      # with the model.
      self.steps_seen = self.add_weight(
          name="steps_seen", shape=(), dtype="int64", trainable=False,
          initializer="zeros")
    super().build(input_shape)

  def _keep_prob_and_update(self, training):
    """The keep_prob to use now, and the step-count update (or None)."""
    if not self.ramp_steps:
      return self.keep_prob, None
    steps_seen = tf.identity(tf.convert_to_tensor(self.steps_seen))
    keep_prob = linear_keep_prob(steps_seen, self.ramp_steps, self.keep_prob)
    if training is None or training is False:
      return keep_prob, None
    increment = tf.cast(tf.convert_to_tensor(training), tf.int64)
    # Count this call only after its keep_prob has read the count.
    with tf.control_dependencies([keep_prob]):
      return keep_prob, self.steps_seen.assign_add(increment)

  @compat.do_not_convert
  def call(self, inputs, training=None):  # pylint: disable=arguments-differ
    keep_prob, update = self._keep_prob_and_update(training)
    outputs = self._apply(inputs, keep_prob, training)
    if update is not None and not tf.executing_eagerly():
      # A TF1-style graph has no automatic control dependencies.
      with tf.control_dependencies([update]):
        outputs = tf.identity(outputs)
    return outputs

  def _input_data_format(self):
    """The canonical layout for this layer's rank ("NHWC", "NCW", ...).

    None means Keras's image data format, as Keras's own layers of rank 4
    and 5 do; sequences default to channels last, as Keras's 1-D layers.
    """
    data_format = self.data_format
    if data_format is None:
      data_format = ("channels_last" if self._RANK == 3
                     else _keras.backend.image_data_format())
    # Checked for this rank in the constructor, so this cannot raise.
    return _checks.resolve_data_format(data_format, self._RANK, None)

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    config = super().get_config()
    config.update(keep_prob=self.keep_prob, data_format=self.data_format,
                  seed=self.seed, ramp_steps=self.ramp_steps)
    return config


class _DropBlockLayer(_RandomMaskLayer):
  """DropBlock as a Keras layer; see `tf1_dropblock.dropblock`.

  Args:
    keep_prob: Python float in (0, 1], the target keep probability (a
      scalar tensor works too, but is not saved in the config).
    block_size: Positive int, or one positive int per spatial axis.
    data_format: "channels_last", "channels_first", the layout of the
      layer's rank ("NWC"/"NCW", "NHWC"/"NCHW", "NDHWC"/"NCDHW"), or None
      for Keras's image data format (channels last for 1-D).
    seed: Optional int op-level seed.
    ramp_steps: If positive, keep_prob falls linearly from 1.0 to
      `keep_prob` over this many training calls (counted in a saved,
      non-trainable weight); 0 keeps it constant.
    share_channels: One block mask per example for all its channels.
    normalize: "batch" (Algorithm 1) or "example" (rescale each example by
      its own kept fraction).
    **kwargs: Base layer arguments (name, dtype, ...).

  Raises:
    TypeError, ValueError: When constructed with a bad argument, naming it
      and the value, as `tf1_dropblock.dropblock` would.

  Call arguments:
    inputs: A float tensor of the layer's rank.
    training: Python bool, bool tensor or None; forwarded unchanged, so
      nothing is dropped in inference (Keras passes False in `predict`).
  """

  def __init__(self, keep_prob=0.9, block_size=7, data_format=None, seed=None,
               ramp_steps=0, share_channels=False, normalize="batch",
               **kwargs):
    block_size = _checks.check_block_size(block_size)
    if isinstance(block_size, tuple):
      _checks.block_size_for_rank(block_size, self._RANK)
    share_channels = _checks.check_share_channels(share_channels)
    normalize = _checks.check_normalize(normalize)
    super().__init__(keep_prob=keep_prob, data_format=data_format, seed=seed,
                     ramp_steps=ramp_steps, **kwargs)
    self.block_size = block_size
    self.share_channels = share_channels
    self.normalize = normalize

  def _apply(self, inputs, keep_prob, training):
    return dropblock(inputs, keep_prob, self.block_size, training=training,
                     data_format=self._input_data_format(), seed=self.seed,
                     share_channels=self.share_channels,
                     normalize=self.normalize)

  def get_config(self):
    config = super().get_config()
    config.update(block_size=self.block_size,
                  share_channels=self.share_channels,
                  normalize=self.normalize)
    return config


@compat.register_keras_serializable(package="tf1_dropblock")
class DropBlock1D(_DropBlockLayer):
  __doc__ = "1-D (sequences, [N, W, C]). " + _DropBlockLayer.__doc__
  _RANK = 3


@compat.register_keras_serializable(package="tf1_dropblock")
class DropBlock2D(_DropBlockLayer):
  __doc__ = "2-D (images, [N, H, W, C]). " + _DropBlockLayer.__doc__
  _RANK = 4


@compat.register_keras_serializable(package="tf1_dropblock")
class DropBlock3D(_DropBlockLayer):
  __doc__ = "3-D (volumes, [N, D, H, W, C]). " + _DropBlockLayer.__doc__
  _RANK = 5


class _SpatialDropoutLayer(_RandomMaskLayer):
  """Spatial dropout as a Keras layer; see `tf1_dropblock.spatial_dropout`.

  Same arguments as the DropBlock layers without `block_size`,
  `share_channels` and `normalize`.
  """

  def _apply(self, inputs, keep_prob, training):
    return spatial_dropout(inputs, keep_prob, training=training,
                           data_format=self._input_data_format(),
                           seed=self.seed)


@compat.register_keras_serializable(package="tf1_dropblock")
class SpatialDropout1D(_SpatialDropoutLayer):
  __doc__ = "1-D (sequences). " + _SpatialDropoutLayer.__doc__
  _RANK = 3


@compat.register_keras_serializable(package="tf1_dropblock")
class SpatialDropout2D(_SpatialDropoutLayer):
  __doc__ = "2-D (images). " + _SpatialDropoutLayer.__doc__
  _RANK = 4


@compat.register_keras_serializable(package="tf1_dropblock")
class SpatialDropout3D(_SpatialDropoutLayer):
  __doc__ = "3-D (volumes). " + _SpatialDropoutLayer.__doc__
  _RANK = 5
