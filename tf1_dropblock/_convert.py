"""Tensor arguments: conversion, and checks that run with the graph.

What `_checks` cannot see at graph-construction time: an input's dtype and
rank once converted, and a tensor `keep_prob`'s value, which gets one
run-time assertion raising `tf.errors.InvalidArgumentError` (none under
XLA, which compiles assertions away). Messages name the argument and the
value, as `_checks`'s do.
"""

from tf1_dropblock import compat
from tf1_dropblock.compat import tf

_FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


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
