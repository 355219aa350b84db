"""Argument validation shared by the ops.

Python values are checked when the graph is built and raise `TypeError` (wrong
kind) or `ValueError` (wrong value); tensor values get `tf.debugging`
assertions that raise `tf.errors.InvalidArgumentError` when they run. Every
message names the argument and the value received, as `tf.nn` does.
"""

import math
import numbers

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock.compat import tf

# Canonical layouts by rank; "channels_last"/"channels_first" pick by rank.
_LAYOUTS = {3: ("NWC", "NCW"), 4: ("NHWC", "NCHW"), 5: ("NDHWC", "NCDHW")}
_GENERIC_FORMATS = ("channels_last", "channels_first")

_FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def is_python_number(value):
  return (isinstance(value, (numbers.Real, np.floating, np.integer))
          and not isinstance(value, (bool, np.bool_)))


def is_python_int(value):
  return (isinstance(value, (numbers.Integral, np.integer))
          and not isinstance(value, (bool, np.bool_)))


def check_data_format(data_format, ranks):
  """Checks `data_format` against the layouts of the allowed `ranks`.

  Returns:
    `data_format` unchanged: a canonical layout ("NHWC", "NCW", ...) or
    "channels_last"/"channels_first" (resolved by `resolve_data_format`).

  Raises:
    ValueError: If `data_format` is not an allowed spelling.
  """
  allowed = [f for rank in ranks for f in _LAYOUTS[rank]] + list(
      _GENERIC_FORMATS)
  if not isinstance(data_format, str) or data_format not in allowed:
    raise ValueError(
        "`data_format` must be one of %s. Received: data_format=%r"
        % (", ".join("'%s'" % f for f in allowed), data_format))
  return data_format


def format_rank(data_format):
  """The rank a layout implies, or None for channels_last/first."""
  return None if data_format in _GENERIC_FORMATS else len(data_format)


def resolve_data_format(data_format, rank, x_shape):
  """The canonical layout of a rank-`rank` input.

  Raises:
    ValueError: If a canonical `data_format` is for another rank.
  """
  if data_format in _GENERIC_FORMATS:
    return _LAYOUTS[rank][0 if data_format == "channels_last" else 1]
  if len(data_format) != rank:
    raise ValueError(
        "`data_format` %r is for rank-%d inputs. Received: x.shape=%s"
        % (data_format, len(data_format), x_shape))
  return data_format


def check_block_size(block_size):
  """Returns `block_size` as a positive int or a tuple of 1-3 of them.

  Raises:
    TypeError: If `block_size` is not an int or a tuple/list of ints
      (bools and floats are refused).
    ValueError: If a member is not positive or the tuple is empty or longer
      than 3.
  """
  if is_python_int(block_size):
    sizes = (block_size,)
  elif isinstance(block_size, (tuple, list)):
    if not 1 <= len(block_size) <= 3:
      raise ValueError(
          "`block_size` must be an int or a tuple with one int per spatial "
          "axis. Received: block_size=%r" % (block_size,))
    if not all(is_python_int(size) for size in block_size):
      raise TypeError(
          "`block_size` must contain ints. Received: block_size=%r"
          % (block_size,))
    sizes = tuple(block_size)
  else:
    raise TypeError(
        "`block_size` must be an int or a tuple of ints, one per spatial "
        "axis. Received: block_size=%r of type %s"
        % (block_size, type(block_size).__name__))
  if min(sizes) < 1:
    raise ValueError(
        "`block_size` must be positive. Received: block_size=%r"
        % (block_size,))
  if is_python_int(block_size):
    return int(block_size)
  return tuple(int(size) for size in sizes)


def block_size_for_rank(block_size, rank):
  """A checked `block_size` as a tuple with one entry per spatial axis.

  Raises:
    ValueError: If a tuple `block_size` has the wrong length for `rank`.
  """
  num_spatial = rank - 2
  if isinstance(block_size, int):
    return (block_size,) * num_spatial
  if len(block_size) != num_spatial:
    raise ValueError(
        "`block_size` needs %d entries for a rank-%d input (one per spatial "
        "axis). Received: block_size=%r" % (num_spatial, rank, block_size))
  return block_size


def check_keep_prob(keep_prob, arg_name="keep_prob"):
  """Validates a Python `keep_prob`; tensors pass through unchanged.

  Raises:
    TypeError: If `keep_prob` is neither a real number nor a tensor.
    ValueError: If a Python `keep_prob` is NaN or outside (0, 1].
  """
  if compat.is_tensor(keep_prob) or isinstance(keep_prob, tf.Variable):
    return keep_prob
  if not is_python_number(keep_prob):
    raise TypeError(
        "`%s` must be a real number or a scalar float tensor. "
        "Received: %s=%r of type %s"
        % (arg_name, arg_name, keep_prob, type(keep_prob).__name__))
  if math.isnan(keep_prob) or not 0.0 < keep_prob <= 1.0:
    raise ValueError("`%s` must be in (0, 1]. Received: %s=%r"
                     % (arg_name, arg_name, keep_prob))
  return float(keep_prob)


def check_seed(seed):
  """Returns `seed` (None or a Python int) or raises TypeError."""
  if seed is None or is_python_int(seed):
    return None if seed is None else int(seed)
  raise TypeError("`seed` must be None or an int. Received: seed=%r of type %s"
                  % (seed, type(seed).__name__))


NORMALIZE_MODES = ("batch", "example")


def check_share_channels(share_channels):
  """Returns `share_channels` as a Python bool or raises TypeError."""
  if isinstance(share_channels, (bool, np.bool_)):
    return bool(share_channels)
  raise TypeError("`share_channels` must be a Python bool. Received: "
                  "share_channels=%r of type %s"
                  % (share_channels, type(share_channels).__name__))


def check_normalize(normalize):
  """Returns `normalize` ("batch" or "example") or raises ValueError."""
  if isinstance(normalize, str) and normalize in NORMALIZE_MODES:
    return normalize
  raise ValueError("`normalize` must be one of %s. Received: normalize=%r"
                   % (", ".join("'%s'" % m for m in NORMALIZE_MODES),
                      normalize))


def canonical_data_format(data_format, rank):
  """The canonical layout for `rank` of an already checked `data_format`."""
  return resolve_data_format(data_format, rank, None)


def check_ramp_steps(ramp_steps):
  """Returns a non-negative Python int `ramp_steps`.

  Raises:
    TypeError: If `ramp_steps` is not an int (bools are refused).
    ValueError: If it is negative.
  """
  if not is_python_int(ramp_steps):
    raise TypeError("`ramp_steps` must be a non-negative int. Received: "
                    "ramp_steps=%r of type %s"
                    % (ramp_steps, type(ramp_steps).__name__))
  if ramp_steps < 0:
    raise ValueError("`ramp_steps` must be a non-negative int. Received: "
                     "ramp_steps=%r" % (ramp_steps,))
  return int(ramp_steps)


def check_bool_arg(value, arg_name, allow_none=False):
  """Validates a Python bool (or None) or passes a tensor through.

  Raises:
    TypeError: If `value` is neither a bool (nor None when allowed) nor a
      tensor.
  """
  if value is None and allow_none:
    return None
  if isinstance(value, (bool, np.bool_)):
    return bool(value)
  if compat.is_tensor(value) or isinstance(value, tf.Variable):
    return value
  raise TypeError(
      "`%s` must be a Python bool%s or a scalar bool tensor. "
      "Received: %s=%r of type %s"
      % (arg_name, " or None" if allow_none else "", arg_name, value,
         type(value).__name__))


def convert_bool_tensor(value, arg_name):
  """Converts a bool tensor argument, checking its dtype and rank."""
  if not compat.is_tensor(value) and not isinstance(value, tf.Variable):
    return value
  value = tf.convert_to_tensor(value, name=arg_name)
  if value.dtype != tf.bool:
    raise TypeError(
        "`%s` must be a bool tensor. Received: %s with dtype %s"
        % (arg_name, arg_name, value.dtype.name))
  if value.shape.ndims not in (None, 0):
    raise ValueError(
        "`%s` must be a scalar. Received: %s with shape %s"
        % (arg_name, arg_name, value.shape))
  return value


def check_float_dtype(x):
  """Raises TypeError unless tensor `x` is float16/bfloat16/float32/64."""
  if x.dtype.base_dtype not in _FLOAT_DTYPES:
    raise TypeError(
        "`x` must be a float16, bfloat16, float32 or float64 tensor. "
        "Received: x.dtype=%s" % x.dtype.name)


def convert_input(x, expected_rank):
  """Converts `x` to a tensor and checks its dtype and static rank.

  Returns:
    The tensor, of static rank `expected_rank`; when the rank was unknown it
    is checked at run time before anything reads the tensor.

  Raises:
    TypeError: If `x` is not a floating-point tensor.
    ValueError: If the static rank of `x` is known and not `expected_rank`.
  """
  x = tf.convert_to_tensor(x, name="x")
  check_float_dtype(x)
  rank = x.shape.ndims
  if rank is None:
    check = tf.debugging.assert_rank(
        x, expected_rank, message="`x` must have rank %d." % expected_rank)
    with tf.control_dependencies([check]):
      x = tf.identity(x)
    x.set_shape([None] * expected_rank)
    return x
  if rank != expected_rank:
    raise ValueError(
        "`x` must have rank %d. Received: x.shape=%s"
        % (expected_rank, x.shape))
  return x


def convert_keep_prob(keep_prob, dtype):
  """Converts a checked `keep_prob` to a scalar of `dtype`.

  Returns:
    A pair `(keep_prob, assertions)`. For a tensor, `assertions` holds the
    run-time checks that it is a scalar in (0, 1]; for a Python number it is
    empty (it was checked by `check_keep_prob`).
  """
  if not compat.is_tensor(keep_prob) and not isinstance(keep_prob, tf.Variable):
    return tf.constant(keep_prob, dtype=dtype, name="keep_prob"), []
  keep_prob = tf.convert_to_tensor(keep_prob, name="keep_prob")
  if not (keep_prob.dtype.is_floating or keep_prob.dtype.is_integer):
    raise TypeError(
        "`keep_prob` must be a float tensor. Received: keep_prob with dtype "
        "%s" % keep_prob.dtype.name)
  if keep_prob.shape.ndims not in (None, 0):
    raise ValueError(
        "`keep_prob` must be a scalar. Received: keep_prob with shape %s"
        % keep_prob.shape)
  keep_prob = tf.cast(keep_prob, dtype)
  if compat.in_xla_context():
    # XLA compiles assertions away (they would not fire), and TF 2.4's
    # XLA refuses the message's string constant.
    return keep_prob, []
  # One raw Assert: tf.debugging.assert_* build a guarding tf.cond each
  # (some 20 ops apiece in a TF1 graph).
  in_range = tf.logical_and(keep_prob > tf.constant(0, dtype),
                            keep_prob <= tf.constant(1, dtype))
  assertions = [tf.raw_ops.Assert(
      condition=in_range, data=[
          tf.constant("`keep_prob` must be in (0, 1]. Received: keep_prob ="),
          keep_prob], name="keep_prob_in_range")]
  if keep_prob.shape.ndims is None:
    assertions.append(tf.debugging.assert_rank(
        keep_prob, 0, message="`keep_prob` must be a scalar."))
  return keep_prob, assertions
