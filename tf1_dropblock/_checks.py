"""Argument validation shared by the ops.

Python values are checked when the graph is built and raise `TypeError` (wrong
kind) or `ValueError` (wrong value); tensor values get `tf.debugging`
assertions that raise `tf.errors.InvalidArgumentError` when they run. Every
message names the argument and the value received, as `tf.nn` does.
"""

import math
import numbers

import numpy as np

from tf1_dropblock.compat import tf

_DATA_FORMATS = {
    "NHWC": "NHWC",
    "channels_last": "NHWC",
    "NCHW": "NCHW",
    "channels_first": "NCHW",
}

_FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def is_python_number(value):
  return (isinstance(value, (numbers.Real, np.floating, np.integer))
          and not isinstance(value, (bool, np.bool_)))


def is_python_int(value):
  return (isinstance(value, (numbers.Integral, np.integer))
          and not isinstance(value, (bool, np.bool_)))


def check_data_format(data_format):
  """Returns "NHWC" or "NCHW" for the accepted spellings.

  Raises:
    ValueError: If `data_format` is not one of NHWC, NCHW, channels_last,
      channels_first.
  """
  if not isinstance(data_format, str) or data_format not in _DATA_FORMATS:
    raise ValueError(
        "`data_format` must be one of 'NHWC', 'NCHW', 'channels_last' or "
        "'channels_first'. Received: data_format=%r" % (data_format,))
  return _DATA_FORMATS[data_format]


def check_block_size(block_size):
  """Returns `block_size` as a pair of positive Python ints (height, width).

  Raises:
    TypeError: If `block_size` is not an int or a pair of ints (bools and
      floats are refused).
    ValueError: If a member is not positive or the sequence is not a pair.
  """
  if is_python_int(block_size):
    sizes = (block_size, block_size)
  elif isinstance(block_size, (tuple, list)):
    if len(block_size) != 2:
      raise ValueError(
          "`block_size` must be an int or a pair (block_h, block_w). "
          "Received: block_size=%r" % (block_size,))
    if not all(is_python_int(size) for size in block_size):
      raise TypeError(
          "`block_size` must contain ints. Received: block_size=%r"
          % (block_size,))
    sizes = tuple(block_size)
  else:
    raise TypeError(
        "`block_size` must be an int or a pair (block_h, block_w) of ints. "
        "Received: block_size=%r of type %s"
        % (block_size, type(block_size).__name__))
  if min(sizes) < 1:
    raise ValueError(
        "`block_size` must be positive. Received: block_size=%r"
        % (block_size,))
  return int(sizes[0]), int(sizes[1])


def check_keep_prob(keep_prob, arg_name="keep_prob"):
  """Validates a Python `keep_prob`; tensors pass through unchanged.

  Raises:
    TypeError: If `keep_prob` is neither a real number nor a tensor.
    ValueError: If a Python `keep_prob` is NaN or outside (0, 1].
  """
  if tf.is_tensor(keep_prob) or isinstance(keep_prob, tf.Variable):
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
  if tf.is_tensor(value) or isinstance(value, tf.Variable):
    return value
  raise TypeError(
      "`%s` must be a Python bool%s or a scalar bool tensor. "
      "Received: %s=%r of type %s"
      % (arg_name, " or None" if allow_none else "", arg_name, value,
         type(value).__name__))


def convert_bool_tensor(value, arg_name):
  """Converts a bool tensor argument, checking its dtype and rank."""
  if not tf.is_tensor(value) and not isinstance(value, tf.Variable):
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
  if x.dtype.base_dtype not in _FLOAT_DTYPES:
    raise TypeError(
        "`x` must be a float16, bfloat16, float32 or float64 tensor. "
        "Received: x.dtype=%s" % x.dtype.name)
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
  if not tf.is_tensor(keep_prob) and not isinstance(keep_prob, tf.Variable):
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
  # XLA compiles assertions away; under jit_compile they do not fire.
  data = ["`keep_prob` must be in (0, 1]. Received: keep_prob =", keep_prob]
  assertions = [
      tf.debugging.assert_greater(keep_prob, tf.constant(0, dtype), data=data,
                                  name="keep_prob_above_0"),
      tf.debugging.assert_less_equal(keep_prob, tf.constant(1, dtype),
                                     data=data, name="keep_prob_at_most_1"),
  ]
  if keep_prob.shape.ndims is None:
    assertions.append(tf.debugging.assert_rank(
        keep_prob, 0, message="`keep_prob` must be a scalar."))
  return keep_prob, assertions
