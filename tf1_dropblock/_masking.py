"""The frame shared by the ops: validate, open a scope, apply a random mask.

`dropblock` and `spatial_dropout` differ only in how they draw the mask; this
module does everything around it: argument checks, the name scope, dtype
handling, the `training` switch, run-time assertions, the static shape, the
noise key, and the cached functions: in eager mode a concrete function per
configuration and input shape (the first few shapes, then one for all), in
a TF1 graph a library function of the multiplier per configuration.
"""

from tf1_dropblock import _checks
from tf1_dropblock import _convert
from tf1_dropblock import _shapes
from tf1_dropblock import compat
from tf1_dropblock.compat import get_static_value
from tf1_dropblock.compat import tf


def compute_dtype(dtype):
  """The dtype that masks and scale factors are computed in for `dtype`.

  float16 and bfloat16 are widened to float32 so that 1/keep_prob and the
  count ratio neither overflow nor round away the rate.
  """
  if dtype.base_dtype in (tf.float16, tf.bfloat16):
    return tf.float32
  return dtype.base_dtype


def noise_key(seed):
  """int32 [2] key for the stateless noise of one call.

  One small stateful draw, so graph-level and op-level seeds (and
  `tf.random.set_seed` in eager) work as for any TF random op, plus a
  per-replica offset, so replicas of a tf.distribute strategy draw their
  own masks even with one op-level seed. All bulk noise is stateless
  Philox keyed by it: fast under XLA, where stateful RNG is slow.
  """
  key = compat.random_int32_pair(seed, name="noise_key")
  offset = compat.replica_offset()
  return key if offset is None else key + offset


def select_scale(scale, factor):
  """`factor` where `scale` is true, else 1; `scale` a bool or bool tensor."""
  static_scale = get_static_value(scale)
  if static_scale is not None:
    return factor if bool(static_scale) else tf.ones_like(factor)
  return tf.where(scale, factor, tf.ones_like(factor))


def computed_once(tensor):
  """`tensor`, written to a buffer once under XLA.

  Left alone, XLA's CPU fusion duplicates cheap elementwise work into every
  consumer of a full-size mask: the per-channel Philox noise of
  `spatial_dropout` was recomputed for every element (a forward pass took
  4-5x its graph-mode time), and DropBlock's last block-expansion step was
  redone in the forward and again in the backward multiply (each 3-4x a
  plain multiply). Reductions are not duplicated, so the value passes
  through one: the max of the tensor and the dtype's lowest value.
  """
  lowest = tf.fill(tf.shape(tensor), tf.constant(tensor.dtype.min,
                                                 tensor.dtype))
  return tf.reduce_max(tf.stack([tensor, lowest], axis=-1), axis=-1)


def apply_random_mask(x, keep_prob, training, scale, data_format, seed, name,
                      default_name, multiplier_fn, multiplier_args=(),
                      ranks=(4,), block_size=None):
  """Validates the common arguments and applies `multiplier_fn`'s mask.

  Args:
    x: The input, converted here to a float tensor of a rank in `ranks`.
    keep_prob: Python number or scalar tensor in (0, 1].
    training: Python bool, bool tensor or None (None means not training).
    scale: Python bool or bool tensor.
    data_format: A layout for one of `ranks`, or channels_last/first.
    seed: Optional Python int, the op-level seed of the noise key.
    name: Name scope for the ops, or None for `default_name`.
    default_name: Default name scope.
    multiplier_fn: A module-level function called as
      `multiplier_fn(dims, keep_prob, scale, key, data_format,
      *multiplier_args)` with `dims` the dimensions of `x`
      (`_shapes.dimensions`), `keep_prob` a
      scalar of the compute dtype, `key` the int32 [2] noise key and
      `data_format` canonical ("NHWC", "NCW", ...); returns a tensor of the
      compute dtype that broadcasts against `x`.
    multiplier_args: Hashable extra arguments of `multiplier_fn`.
    ranks: The input ranks the op supports.
    block_size: A checked DropBlock block size (int or tuple), or None; its
      length must fit the rank, and a tuple tells the rank of an input of
      unknown rank.

  Returns:
    A tensor with the dtype and static shape of `x`.
  """
  data_format = _checks.check_data_format(data_format, ranks)
  keep_prob = _checks.check_keep_prob(keep_prob)
  python_keep_prob = keep_prob if isinstance(keep_prob, float) else None
  training = _checks.check_bool_arg(training, "training", allow_none=True)
  scale = _checks.check_bool_arg(scale, "scale")
  seed = _checks.check_seed(seed)
  with tf.name_scope(name, default_name, [x]):
    x = tf.convert_to_tensor(x, name="x")
    _convert.check_float_dtype(x)
    rank = x.shape.ndims
    if rank is None:
      rank = _checks.format_rank(data_format)
    if rank is None and isinstance(block_size, tuple):
      rank = len(block_size) + 2
    if rank is None:
      rank = 4
    if rank not in ranks:
      raise ValueError("`x` must have rank %s. Received: x.shape=%s"
                       % (" or ".join(map(str, ranks)), x.shape))
    x = _convert.convert_input(x, expected_rank=rank)
    data_format = _checks.resolve_data_format(data_format, rank, x.shape)
    if block_size is not None:
      _checks.block_size_for_rank(block_size, rank)
    dtype = compute_dtype(x.dtype)
    keep_prob, assertions = _convert.convert_keep_prob(keep_prob, dtype)
    training = _convert.convert_bool_tensor(training, "training")
    scale = _convert.convert_bool_tensor(scale, "scale")

    if assertions:
      # Nothing downstream runs on a keep_prob that failed its check.
      with tf.control_dependencies(assertions):
        keep_prob = tf.identity(keep_prob)
    static_training = get_static_value(training)
    if static_training is None and training is not None and (
        tf.executing_eagerly()):
      # An eager tensor or variable: its value is known now.
      static_training = bool(tf.convert_to_tensor(training))
    if training is None or (static_training is not None
                            and not bool(static_training)):
      return x
    if get_static_value(keep_prob) == 1:
      return x

    if static_training is not None:
      key = noise_key(seed)
      if tf.executing_eagerly():
        # Eager op-by-op dispatch cost 2-3x tf.nn.dropout on small tensors;
        # one traced function per configuration does all but the key.
        masked = _eager_masked_fn(multiplier_fn, multiplier_args,
                                  data_format, x, keep_prob,
                                  python_keep_prob, get_static_value(scale))
        return compat.call_concrete_function(
            masked, [x, keep_prob, tf.convert_to_tensor(scale), key])
      if (compat.building_function() or compat.in_xla_context()
          or x.shape.is_fully_defined()):
        # Inline. A static shape folds to constants here; in a library
        # function called with a constant shape and no tf.cond around it,
        # TF 2.7's Grappler (function specialisation + constant folding)
        # drops the mask's Reshape and fails at run time.
        outputs = _masked(x, keep_prob, scale, key, multiplier_fn,
                          multiplier_args, data_format)
      else:
        outputs = _times(x, _shared_multiplier(
            x, _library_shape(x), keep_prob, scale, key, multiplier_fn,
            multiplier_args, data_format))
    elif compat.in_xla_context():
      # XLA wants branches of one shape, and has no TF1 control flow.
      outputs = tf.cond(training, lambda: _masked(
          x, keep_prob, scale, noise_key(seed), multiplier_fn,
          multiplier_args, data_format), lambda: tf.identity(x))
    else:
      # A run-time `training`: only the multiplier goes through tf.cond,
      # built from the shape, not from `x`. Had `x` entered the cond, TF1
      # control flow would give its gradient a zeros tensor for the branch
      # not taken and add it in: two extra full-size passes per step.
      # Not training, the output is `x * 1`, exactly `x`.
      if compat.building_function():
        static_shape, shape = x.shape, _shapes.shape_tensor(x)

        def multiplier():
          return multiplier_fn(
              _shapes.dimensions(static_shape, shape), keep_prob, scale,
              noise_key(seed), data_format, *multiplier_args)
      else:
        shape = _library_shape(x)

        def multiplier():
          return _shared_multiplier(x, shape, keep_prob, scale,
                                    noise_key(seed), multiplier_fn,
                                    multiplier_args, data_format)

      outputs = _times(x, tf.cond(training, multiplier,
                                  lambda: tf.ones([], dtype)))
    if assertions:
      with tf.control_dependencies(assertions):
        outputs = tf.identity(outputs)
    outputs.set_shape(x.shape)
    return outputs


def _masked(x, keep_prob, scale, key, multiplier_fn, multiplier_args,
            data_format):
  """`x` times its multiplier."""
  dims = _shapes.dimensions(x.shape, _shapes.shape_tensor(x))
  return _times(x, multiplier_fn(dims, keep_prob, scale, key, data_format,
                                 *multiplier_args))


def _times(x, multiplier):
  """`x * multiplier`, computed in the multiplier's dtype."""
  if multiplier.dtype == x.dtype.base_dtype:
    return x * multiplier
  return tf.cast(tf.cast(x, multiplier.dtype) * multiplier, x.dtype)


_GRAPH_FUNCTIONS = {}


def _library_shape(x):
  """The int64 shape of `x` that a library function's call takes."""
  shape = _shapes.shape_tensor(x)
  if shape is None:
    shape = tf.constant(x.shape.as_list(), tf.int64)
  return shape


def _shared_multiplier(x, shape, keep_prob, scale, key, multiplier_fn,
                       multiplier_args, data_format):
  """The multiplier of `x` (of int64 shape `shape`) in a TF1 graph: a call
  of the library function its configuration shares.

  One function per configuration, not inlined, so a graph with many calls
  holds its ops once (each op costs ~0.5 ms to build and set up; a
  ResNet-50 with 36 calls built and first-ran in 1.24-1.30x the time with
  `tf.nn.dropout` with every call inline, docs/performance.md), for ~8 us
  of dispatch per call and step. Sizes are unknown inside (the rank is
  known); a Python `keep_prob` or `scale` is a constant of the function,
  so it folds as it does inline. Called only for inputs whose shape is not
  fully static, or inside a tf.cond (see `apply_random_mask`).
  """
  static_keep_prob = get_static_value(keep_prob)
  static_scale = get_static_value(scale)
  if static_keep_prob is not None:
    static_keep_prob = float(static_keep_prob)
  if static_scale is not None:
    static_scale = bool(static_scale)
  config = (multiplier_fn, multiplier_args, data_format, x.shape.ndims,
            keep_prob.dtype, static_keep_prob, static_scale)
  if config not in _GRAPH_FUNCTIONS:
    _GRAPH_FUNCTIONS[config] = _graph_function(*config)
  args = [shape, key]
  if static_keep_prob is None:
    args.append(keep_prob)
  if static_scale is None:
    args.append(scale)
  return _GRAPH_FUNCTIONS[config](*args)


def _graph_function(multiplier_fn, multiplier_args, data_format, rank,
                    keep_prob_dtype, static_keep_prob, static_scale):
  """`multiplier_fn` as a library function of (shape, key[, keep_prob][,
  scale]), the arguments that are not static."""

  def body(shape, key, *args):
    args = list(args)
    keep_prob = (tf.constant(static_keep_prob, keep_prob_dtype)
                 if static_keep_prob is not None else args.pop(0))
    scale = static_scale if static_scale is not None else args.pop(0)
    shape.set_shape([rank])  # So the mask's rank is known inside.
    dims = _shapes.dimensions(tf.TensorShape([None] * rank), shape)
    return multiplier_fn(dims, keep_prob, scale, key, data_format,
                         *multiplier_args)

  input_types = [tf.int64, tf.int32]
  if static_keep_prob is None:
    input_types.append(keep_prob_dtype)
  if static_scale is None:
    input_types.append(tf.bool)
  return compat.graph_function(body, input_types)


_EAGER_FUNCTIONS = {}
# Eager calls trace one function per input shape (and Python keep_prob and
# scale) for the first this many shapes of a configuration, then one for
# any shape. In the specialised function shapes, gamma and the counts are
# constants: the block-3 call runs 31 kernels per step instead of 71
# (benchmarks/devices.py); a model that feeds ever new shapes stops
# tracing after these.
_SPECIALISED_SHAPES = 8
_SPECIALISED_COUNT = {}


def _eager_masked_fn(multiplier_fn, multiplier_args, data_format, x,
                     keep_prob, python_keep_prob=None, static_scale=None):
  """`_masked` as a concrete function (cached), for an eager call.

  Calling the concrete function directly skips `tf.function`'s dispatch.
  It takes `(x, keep_prob, scale, key)`; while the configuration has seen
  fewer than `_SPECIALISED_SHAPES` shapes it is traced for `x`'s shape,
  with a Python `python_keep_prob` and a Python `static_scale` as
  constants (the tensor arguments are then unused).
  """
  config = (multiplier_fn, multiplier_args, data_format, x.dtype,
            x.shape.ndims, keep_prob.dtype)
  specialised = config + (tuple(x.shape.as_list()), python_keep_prob,
                          None if static_scale is None else bool(static_scale))
  if specialised in _EAGER_FUNCTIONS:
    return _EAGER_FUNCTIONS[specialised]
  if _SPECIALISED_COUNT.get(config, 0) < _SPECIALISED_SHAPES:
    _SPECIALISED_COUNT[config] = _SPECIALISED_COUNT.get(config, 0) + 1
    shape, entry = x.shape, specialised
  else:
    shape, entry = [None] * x.shape.ndims, config
    python_keep_prob = static_scale = None
    if entry in _EAGER_FUNCTIONS:
      return _EAGER_FUNCTIONS[entry]

  def masked(x, keep_prob, scale, key):
    if python_keep_prob is not None:
      keep_prob = tf.constant(python_keep_prob, keep_prob.dtype)
    if static_scale is not None:
      scale = bool(static_scale)
    return _masked(x, keep_prob, scale, key, multiplier_fn, multiplier_args,
                   data_format)

  signature = [tf.TensorSpec(shape, x.dtype),
               tf.TensorSpec([], keep_prob.dtype),
               tf.TensorSpec([], tf.bool), tf.TensorSpec([2], tf.int32)]
  function = compat.function(masked, input_signature=signature)
  _EAGER_FUNCTIONS[entry] = function.get_concrete_function()
  return _EAGER_FUNCTIONS[entry]
