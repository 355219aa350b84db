"""Shape arithmetic that stays in Python wherever a dimension is static.

A dimension is a Python int when the static shape knows it and an int64
scalar tensor otherwise. Arithmetic on two Python ints is done in Python,
so a graph with static shapes gets constants instead of shape ops, and one
with unknown shapes gets only the ops it needs. (`tf.minimum` and friends
would build ops even for two constants.)
"""

from tf1_dropblock.compat import tf


class Dimensions(list):
  """A list of dimensions. When some are unknown, `shape` is the int64
  shape tensor and `tensors` all its entries (static ones included), for
  arithmetic where a Python int would only add a constant op."""
  shape = None
  tensors = None


def shape_tensor(x):
  """`tf.shape(x)` in int64, or None when the static shape is complete."""
  if x.shape.is_fully_defined():
    return None
  return tf.shape(x, out_type=tf.int64)


def dimensions(static_shape, shape=None):
  """Dimensions: Python ints, int64 scalars (from `shape`) where unknown.

  Args:
    static_shape: A `tf.TensorShape` of known rank.
    shape: The int64 shape tensor (`shape_tensor`), or None if
      `static_shape` is fully defined.

  Unknown dimensions cost one op (`Unpack`) besides the `Shape`.
  """
  static = static_shape.as_list()
  if shape is None:
    return Dimensions(static)
  dynamic = tf.unstack(shape, num=len(static))
  dims = Dimensions(d if d is not None else t
                    for d, t in zip(static, dynamic))
  dims.shape, dims.tensors = shape, dynamic
  return dims


def with_dimension(dims, axis, value):
  """`dims` with entry `axis` replaced by `value` (no shape tensor kept)."""
  replaced = Dimensions(dims)
  replaced[axis] = value
  return replaced


def is_static(*values):
  return all(isinstance(value, int) for value in values)


def is_zero(value):
  return is_static(value) and value == 0


def total(values):
  """The sum of dimensions or tensors (0 for none), skipping static 0s."""
  values = [v for v in values if not is_zero(v)]
  if not values:
    return 0
  result = values[0]
  for value in values[1:]:
    result = result + value
  return result


def minimum(a, b):
  return min(a, b) if is_static(a, b) else tf.minimum(_int64(a), _int64(b))


def _int64(value):
  return tf.constant(value, tf.int64) if is_static(value) else value


def as_float64(value):
  """A dimension for float64 arithmetic: a Python float if static, else
  the int64 scalar cast to float64."""
  return float(value) if is_static(value) else tf.cast(value, tf.float64)


def product(values):
  """The product of dimensions (1 for none)."""
  result = 1
  for value in values:
    if is_static(value) and value == 1:
      continue
    result = value if is_static(result) and result == 1 else result * value
  return result


def as_shape(values):
  """A shape argument: a Python list if all static, else an int64 tensor."""
  if is_static(*values):
    return list(values)
  return tf.stack([_int64(v) for v in values])
