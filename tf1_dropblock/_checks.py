"""Checks of Python arguments, done when the graph is built.

Wrong kinds raise `TypeError` and wrong values `ValueError`; every message
names the argument and the value received, as `tf.nn` does. Tensors are
converted and checked at run time by `_convert`.
"""

import math
import numbers

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock.compat import tf

# Canonical layouts by rank; "channels_last"/"channels_first" pick by rank.
_LAYOUTS = {3: ("NWC", "NCW"), 4: ("NHWC", "NCHW"), 5: ("NDHWC", "NCDHW")}
_GENERIC_FORMATS = ("channels_last", "channels_first")



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
