"""Runs one test body in every execution mode the installed TF offers.

Modes: "graph" (a fresh `tf.Graph` and `Session`, inputs fed through
placeholders whose dimensions are all None), "eager", "function"
(`tf.function` with an all-None input signature) and "xla" (the same,
compiled with `jit_compile=True`). TF 1.x offers "graph" only.
"""

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock.compat import tf

ALL_MODES = ("graph", "eager", "function", "xla")
MODES = ALL_MODES if compat.IS_TF2 else ("graph",)


def mode_parameters(modes=MODES):
  """`parameterized.named_parameters` arguments, one per mode."""
  return [("_" + mode, mode) for mode in modes]


def run(mode, fn, *inputs, graph_seed=None):
  """Evaluates `fn(*tensors)` in `mode` and returns NumPy results.

  Args:
    mode: One of `MODES`.
    fn: Callable taking one tensor per input and returning a tensor or a
      list/tuple of tensors.
    *inputs: NumPy arrays (or Python scalars) fed as the tensors.
    graph_seed: If set, the graph-level seed (`set_random_seed` in graph
      mode, `tf.random.set_seed` otherwise) set before building `fn`.

  Returns:
    The NumPy value(s) of `fn`'s result.
  """
  inputs = [np.asarray(value) for value in inputs]
  if mode == "graph":
    with tf.Graph().as_default():
      if graph_seed is not None:
        tf.set_random_seed(graph_seed)
      placeholders = [
          tf.placeholder(tf.as_dtype(value.dtype), [None] * value.ndim)
          for value in inputs]
      outputs = fn(*placeholders)
      with tf.Session() as sess:
        return sess.run(outputs, dict(zip(placeholders, inputs)))
  if not compat.IS_TF2:
    raise ValueError("Mode %r needs TensorFlow 2.x." % mode)
  import tensorflow as tf2  # pylint: disable=g-import-not-at-top
  if graph_seed is not None:
    tf2.random.set_seed(graph_seed)
  tensors = [tf2.constant(value) for value in inputs]
  if mode == "eager":
    outputs = fn(*tensors)
  elif mode in ("function", "xla"):
    signature = [tf2.TensorSpec([None] * value.ndim, tf2.as_dtype(value.dtype))
                 for value in inputs]
    outputs = compat.function(fn, input_signature=signature,
                              jit_compile=(mode == "xla"))(*tensors)
  else:
    raise ValueError("Unknown mode %r." % mode)
  return tf2.nest.map_structure(lambda t: t.numpy(), outputs)


def with_gradient(mode, op):
  """`fn(t) -> (op(t), d op(t) / d t)` for `run` in `mode`.

  Graph mode uses `tf.gradients`; the TF2 modes use a `GradientTape`.
  """
  if mode == "graph" or not compat.IS_TF2:
    def fn(t):
      y = op(t)
      return y, tf.gradients(y, t)[0]
    return fn
  import tensorflow as tf2  # pylint: disable=g-import-not-at-top

  def tape_fn(t):
    with tf2.GradientTape() as tape:
      tape.watch(t)
      y = op(t)
    return y, tape.gradient(y, t)
  return tape_fn


# Graph-size budgets per call (ops in the graph plus its function library).
# The first call of a DropBlock configuration with Python values builds 115
# ops: 98 before the sampler's prefix sums became a matrix product (+10)
# and the blocks' corners were computed by float division (+8), each for
# 5-20 % less time on every step at high seed counts, then 2 fewer when
# the gaps came to be drawn from 32-bit words (docs/performance.md).
# Later calls reuse the configuration's library function.
MAX_OPS_PYTHON_TRAINING = 120
# With a tensor keep_prob, a channels-last call builds its block-map
# constructions behind `tf.cond`s: on TF 2.x scattered and swept for blocks
# 2-4 (154 ops at block 2, 170 at blocks 3-4, 189 with TF1 control flow;
# 127 for larger blocks); on TF 1.15 scattered, pooled and swept (208 at
# block 2, 229 at block 3, 245 at block 7; 163 with two). Each took 5-30 %
# off a step at keep_prob 0.5 where it is used (docs/performance.md);
# later calls of the configuration add a call site, not these ops.
MAX_OPS_TENSOR_TRAINING = 250

# (label, static shape of x): unknown, partly known and static shapes.
GRAPH_SIZE_SHAPES = (("unknown", [None, None, None, None]),
                     ("channels_known", [None, None, None, 64]),
                     ("static", [16, 32, 32, 64]))


def ops_per_call(op, shape, tensors, data_format="NHWC"):
  """Ops that one call `op(x, keep_prob, training, data_format)` adds.

  Counts the graph's new ops and the nodes of any functions it adds to the
  library (TF 2.x control flow keeps `tf.cond` branches there). With
  `tensors`, keep_prob and training are placeholders, else 0.9 and True.
  """
  graph = tf.Graph()
  with graph.as_default():
    x = tf.placeholder(tf.float32, shape)
    keep_prob = tf.placeholder(tf.float32, []) if tensors else 0.9
    training = tf.placeholder(tf.bool, []) if tensors else True
    before = all_nodes(graph)
    op(x, keep_prob, training, data_format)
    return all_nodes(graph) - before


def all_nodes(graph):
  """Ops in `graph` plus the nodes of every function in its library."""
  graph_def = graph.as_graph_def()
  return len(graph_def.node) + sum(
      len(function.node_def) for function in graph_def.library.function)
