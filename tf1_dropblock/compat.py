"""The one place that knows about TensorFlow versions.

Every difference between TensorFlow 1.15 and TensorFlow 2.x that the package
(or its tests, benchmarks and examples) depends on is resolved here, so the
rest of the code is written once against the `tf.compat.v1` API, which both
versions provide.
"""

import numpy as _np
import tensorflow as _tf

#: The v1 API on TF 1.15 and TF 2.x alike.
tf = _tf.compat.v1

#: The installed TensorFlow version, e.g. "2.21.0".
VERSION = _tf.__version__

#: The installed TensorFlow version as a ``(major, minor)`` pair.
TF_VERSION = tuple(int(part) for part in _tf.__version__.split(".")[:2])

#: True on TensorFlow 2.x, where eager execution and `tf.function` exist.
IS_TF2 = TF_VERSION[0] >= 2

# CPU max-pooling differs between releases (timed with 1-D and 2-D windows
# at 7 shapes, 2026-12-01, 2-core x86): TF 2.21 pools int8 maps with many
# channels 2-6x faster than float32, where TF 1.15 pools int8 1.5-3x
# slower than float32; TF 1.15 pools a k x k window faster as two 1-D
# pools from k = 5, TF 2.21 (oneDNN) only from about k = 7. 2.9 is where
# oneDNN became TF's default on x86 Linux; releases between 1.15 and 2.21
# were not timed.
def _op_takes_dtype(op_name, dtype, attr="T"):
  """Whether the installed TF registers `op_name` for `dtype` (op def)."""
  try:
    from tensorflow.python.framework import op_def_registry  # pylint: disable=g-import-not-at-top
    for op_attr in op_def_registry.get(op_name).attr:
      if op_attr.name == attr:
        allowed = op_attr.allowed_values.list.type
        return not allowed or dtype.as_datatype_enum in allowed
  except Exception:  # pylint: disable=broad-except
    pass
  return False


#: Whether `tf.maximum` takes int8 (not on TF 2.4), which the XLA path's
#: int8 maps need for their sliding max.
INT8_MAXIMUM = _op_takes_dtype("Maximum", _tf.int8)

#: Whether XLA compiles a `tf.switch_case` whose branches size their maps
#: from shapes captured outside (before TF 2.7 it asks for the `Fill` dims
#: to be compile-time constants and fails).
XLA_CASE_SEES_OUTER_SHAPES = TF_VERSION >= (2, 7)

#: The dtype `SparseToDense` writes DropBlock's scattered block map (-1
#: kept, 0 dropped) in, before one Cast to the compute dtype. int8 on TF
#: 2.x: the scatter (one thread) touches a quarter of the cache lines, and
#: the Cast is a parallel pass (0.8 ms for 3.2 M units on TF 2.21 here).
#: TF 1.15's 8-bit -> float32 Casts took 8.7 ms for as many units, more
#: than the scatter saves: there the map is written in the compute dtype
#: (None), block after block (see `_blocks.BlockGeometry._scattered_map`).
#: Measured on 1.15.5, 2.15.1 and 2.21.0 (docs/performance.md).
KEEP_MAP_DTYPE = _tf.int8 if IS_TF2 else None

#: Whether DropBlock's graph path may build block maps by max-pooling seed
#: markers (`_blocks.BlockGeometry.negated_keep_map`). TF 1.15 only: its
#: scattered writes are slow (~6.5 ns each, 10.8 ms for a 16x56x56x64
#: block-2 map at keep_prob 0.5, where marking and pooling took 5.7 ms).
#: On TF 2.x the scatter is 3-4x faster, and `MaxPool` inside the library
#: function a TF1 graph calls ran 3.2x slower than inline (4.1 vs 1.3 ms,
#: 4x112x112x32, block 7, TF 2.21): no gain there (docs/performance.md).
POOLED_BLOCK_MAPS = not IS_TF2


def is_tensor(value):
  """`tf.is_tensor`, answered at once for Python and NumPy values.

  TensorFlow's check ends, for a value that is no tensor, in a
  `typing.Protocol` isinstance test that cost about 10 us per call; the ops
  make several such checks per call, which counts in eager mode.
  """
  if value is None or isinstance(value, _PLAIN_VALUE_TYPES):
    return False
  return _tf.is_tensor(value)


_PLAIN_VALUE_TYPES = (bool, int, float, str, _np.generic, _np.ndarray)


def get_static_value(value):
  """Returns the value of `value` as NumPy if it is known now, else None.

  Python values are returned as they are; tensors are constant-folded where
  TensorFlow can (constants, eager tensors, shapes known at graph build).
  """
  if not is_tensor(value):
    return value
  return tf.get_static_value(value)


def smart_cond(pred, true_fn, false_fn, name=None):
  """`tf.cond` that takes the branch at build time when `pred` is static.

  TF 2.x refuses `tf.cond` on a Python bool, and a static branch keeps the
  graph small, so a Python or constant predicate calls one function directly.

  Args:
    pred: A Python bool or a scalar bool tensor.
    true_fn: Callable returning the result when `pred` is true.
    false_fn: Callable returning the result when `pred` is false.
    name: Optional name for the `tf.cond`.

  Returns:
    The result of the branch taken.
  """
  static_pred = get_static_value(pred)
  if static_pred is not None:
    return true_fn() if bool(static_pred) else false_fn()
  return tf.cond(pred, true_fn, false_fn, name=name)


def in_xla_context():
  """True while building ops that XLA will compile (`jit_compile=True`).

  TF has no public API for this; the private helper exists in TF 1.15 and
  2.x alike. Should it ever fail, the answer is False, and code that needs
  the XLA path (e.g. DropBlock's sparse sampler has data-dependent sizes)
  would then fail to compile rather than run wrongly.
  """
  try:
    from tensorflow.python.framework import ops  # pylint: disable=g-import-not-at-top
    from tensorflow.python.ops import control_flow_util  # pylint: disable=g-import-not-at-top
    return bool(control_flow_util.GraphOrParentsInXlaContext(
        ops.get_default_graph()))
  except Exception:  # pylint: disable=broad-except
    return False


def stateless_uniform(shape, seed, dtype=None, name=None):
  """Stateless uniform noise in [0, 1) from a `[2]` int32 seed tensor.

  Philox is asked for explicitly where the argument exists (TF >= 2.7).
  Under XLA the numbers still differ from those drawn outside it (checked
  on TF 2.21), but the distribution is the same.
  """
  kwargs = {"alg": "philox"} if TF_VERSION >= (2, 7) else {}
  return tf.random.stateless_uniform(shape, seed=seed,
                                     dtype=dtype or tf.float32, name=name,
                                     **kwargs)


def replica_offset():
  """An int32 [2] offset unique to this replica under a tf.distribute
  strategy (None outside one), so replicas never share a noise key even
  when they share an op-level seed."""
  context = _tf.distribute.get_replica_context() if IS_TF2 else None
  if context is None or context.num_replicas_in_sync == 1:
    return None
  replica = tf.cast(context.replica_id_in_sync_group, tf.int32)
  return tf.stack([replica * 7919, replica])


def keras():
  """The Keras that the installed TensorFlow uses, imported on first call.

  Keras 3 (`keras`) on TF >= 2.16 unless TF_USE_LEGACY_KERAS=1 selects
  `tf_keras`; `tf.keras` (Keras 2) on older TF, TF 1.15 included.
  """
  import os  # pylint: disable=g-import-not-at-top
  if TF_VERSION >= (2, 16):
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true"):
      import tf_keras  # pylint: disable=g-import-not-at-top
      return tf_keras
    import keras as keras_module  # pylint: disable=g-import-not-at-top
    return keras_module
  return _tf.keras


def building_function():
  """True while building a `tf.function` (or other function) graph, False
  in a plain TF1 graph."""
  from tensorflow.python.framework import ops  # pylint: disable=g-import-not-at-top
  return bool(getattr(ops.get_default_graph(), "_building_function", False))


def graph_function(fn, input_types):
  """`fn` as a TF1 library function, called by a function-call op and not
  inlined (`Defun(noinline=True)`, TF 1.15 and 2.x): its ops are in the
  graph once however often it is called, and set up once per session."""
  from tensorflow.python.framework import function as function_lib  # pylint: disable=g-import-not-at-top
  return function_lib.Defun(*input_types, noinline=True)(fn)


def do_not_convert(fn):
  """Keeps AutoGraph out of `fn` (TF 1.15's tf.keras converts `call` and
  fails on code with no tensor-dependent Python control flow to convert)."""
  return _tf.autograph.experimental.do_not_convert(fn)


def is_keras3():
  """True when `keras()` is Keras 3 (multi-backend, `.keras` saving).

  Decided from the TF version and TF_USE_LEGACY_KERAS, as `keras()` picks
  the module: TF <= 2.15's bundled `tf.keras` has no `__version__`.
  """
  import os  # pylint: disable=g-import-not-at-top
  if TF_VERSION < (2, 16):
    return False
  if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true"):
    return False
  return True


def has_v1_layers():
  """True when `tf.compat.v1.layers` works: Keras 2 (TF <= 2.15, or
  tf_keras with TF_USE_LEGACY_KERAS=1); Keras 3 removed them."""
  return not is_keras3()


def register_keras_serializable(package):
  """Keras's decorator that makes a custom layer loadable by name."""
  module = keras()
  if hasattr(module, "saving") and hasattr(
      module.saving, "register_keras_serializable"):
    return module.saving.register_keras_serializable(package=package)
  if hasattr(module.utils, "register_keras_serializable"):
    return module.utils.register_keras_serializable(package=package)
  # TF 1.15's tf.keras has no registry; models load with custom_objects.
  return lambda cls: cls


def function(fn, input_signature=None, jit_compile=False):
  """Wraps `fn` in `tf.function`, compiled with XLA if `jit_compile`.

  TF < 2.5 spells `jit_compile` as `experimental_compile`.

  Raises:
    NotImplementedError: On TF 1.x, which has no usable `tf.function` for
      the graph-mode code this package targets.
  """
  if not IS_TF2:
    raise NotImplementedError("tf.function needs TensorFlow 2.x; found %s."
                              % _tf.__version__)
  # The package's functions have no tensor-dependent Python control flow:
  # AutoGraph would only re-read and rewrite their source at each trace.
  kwargs = {"input_signature": input_signature, "autograph": False}
  if jit_compile:
    name = "jit_compile" if TF_VERSION >= (2, 5) else "experimental_compile"
    kwargs[name] = True
  return _tf.function(fn, **kwargs)


def call_concrete_function(function, args):
  """Calls a `tf.function`'s concrete function on a list of tensors.

  The public call matches the arguments against the signature first, which
  cost a third of the fixed eager cost of the ops; the flat call that it
  ends in (present in every TF 2.x) takes tensors already in order. Only
  for arguments of exactly the traced dtypes and ranks.
  """
  call_flat = getattr(function, "_call_flat", None)
  if call_flat is None:
    return function(*args)
  return call_flat(list(args), function.captured_inputs)


def random_int32_pair(seed, name=None):
  """int32 `[2]` uniform over the int32 range, from a stateful, seeded op.

  The same kernel and seeds as `tf.random.uniform([2], -2**31, 2**31 - 1,
  tf.int32, seed)`, so graph-level and op-level seeds (and
  `tf.random.set_seed`) act alike, without that wrapper's Python cost
  (about 60 us per eager call).
  """
  if tf.executing_eagerly():
    # Converting the three arguments cost 50 us per eager call; eager
    # tensors are reusable, graph tensors are not.
    if not _EAGER_INT32_RANGE:
      _EAGER_INT32_RANGE.extend(_int32_range())
    shape, minval, maxval = _EAGER_INT32_RANGE
  else:
    # Made before the seeds, as tf.random.uniform does: a graph-level seed
    # alone derives the op seed from the graph's op count.
    shape, minval, maxval = _int32_range()
  seed1, seed2 = tf.get_seed(seed)
  return tf.raw_ops.RandomUniformInt(
      shape=shape, minval=minval, maxval=maxval, seed=seed1 or 0,
      seed2=seed2 or 0, name=name)


_EAGER_INT32_RANGE = []


def _int32_range():
  return [tf.constant([2]), tf.constant(-2 ** 31), tf.constant(2 ** 31 - 1)]



def resize_bicubic(images, size, antialias=False, name=None):
  """Bicubic resize with half-pixel centres (MATLAB `imresize` geometry).

  With `antialias=True` a downscale matches MATLAB's `imresize(...,
  'bicubic')`, which widens the kernel when shrinking. TF 1.15 has this
  only in its v2 API.

  Args:
    images: A `[N, H, W, C]` float tensor.
    size: The output `[height, width]`, ints or an int32 tensor.
    antialias: Whether to widen the kernel when downscaling.
    name: Optional op name.

  Returns:
    A float32 tensor of shape `[N, height, width, C]`.
  """
  return _tf.compat.v2.image.resize(
      images, size, method="bicubic", antialias=antialias, name=name)
