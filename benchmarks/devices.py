r"""Which device each op of a call can run on, and how many kernels it launches.

No GPU with TensorFlow is needed: for one call per configuration (a TF1
graph with placeholders, a graph with Python values, `tf.function`, XLA,
eager; NHWC and NCHW; DropBlock blocks 1, 3, 7 and `spatial_dropout`), the
forward and backward ops are collected (graph, nested functions and the
function library) and each op type is looked up in the running
TensorFlow's kernel registry. It prints, per configuration:

- per op type: how many, and the device types with a kernel for it;
- ops per training step that would run on a GPU: ops with a GPU (or
  device-independent, DEFAULT) kernel and an output that is not int32 (TF keeps int32 tensors of GPU kernels in
  host memory: that is shape arithmetic, not device work), beside
  `tf.nn.dropout`'s count for the same input;
- ops that touch a full-size tensor (an output of the input's rank whose
  spatial dimensions are not all 1) and have no GPU kernel: each would
  copy a full-size tensor between host and device every step;
- under XLA, the kernels of the optimised HLO (fusions and unfused
  instructions of the entry computation; the CPU backend's HLO, a proxy for
  the GPU's, whose fusion differs).

Where a GPU is visible, each graph configuration is also run once on it
with a full trace: the device each op ran on and the host-device copies
(MemcpyHtoD / MemcpyDtoH nodes) per step. Timing on a GPU: benchmarks/
bench.py, which places ops on the GPU when one is visible.

The `tensorflow-cpu` wheel registers CPU kernels only: there, every
"GPU" column is empty and says so; the full `tensorflow` wheel registers
its GPU kernels whether or not a GPU is present.

    python benchmarks/devices.py
    python benchmarks/devices.py --shape=2x16x16x8 --json=/tmp/devices.json
"""

import collections
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import numpy as np

import tensorflow as tf2  # pylint: disable=g-import-not-at-top
import tf1_dropblock
from tf1_dropblock import _masking
from tf1_dropblock import compat
from tf1_dropblock.compat import tf

FLAGS = flags.FLAGS

MODES = ("feed", "graph", "function", "xla", "eager")
CALLS = ("dropblock_b1", "dropblock_b3", "dropblock_b7", "spatial_dropout",
         "tf.nn.dropout")



def _define_flags():
  """The command line's flags; defined only when run as a script, so that
  importing this module (tests/devices_test.py) adds no global flags."""
  flags.DEFINE_string("shape", "8x32x32x64", "NxHxWxC input (given in NHWC).")
  flags.DEFINE_list("modes", list(MODES), "Any of: %s." % ", ".join(MODES))
  flags.DEFINE_list("data_formats", ["NHWC", "NCHW"], "NHWC and/or NCHW.")
  flags.DEFINE_list("calls", list(CALLS), "Any of: %s." % ", ".join(CALLS))
  flags.DEFINE_float("keep_prob", 0.9, "keep_prob of every call.")
  flags.DEFINE_string("json", "", "If set, also write the report as JSON.")
  flags.DEFINE_bool("per_op", True, "Print the per-op-type table.")


# Ops that are bookkeeping, not kernels.
_NOT_KERNELS = {"Placeholder", "PlaceholderWithDefault", "Const", "NoOp",
                "Identity", "IdentityN", "VarHandleOp", "ReadVariableOp",
                "VariableV2", "_Arg", "_Retval", "StopGradient",
                "AssignVariableOp", "VarIsInitializedOp"}
# TF1 library functions are called by an op named after the function.
_FUNCTION_PREFIXES = ("body_", "__inference", "__forward", "__backward")
_HOST_DTYPES = {tf2.int32, tf2.string, tf2.resource, tf2.variant}


def _shape(text, data_format):
  n, h, w, c = [int(v) for v in text.lower().split("x")]
  return [n, h, w, c] if data_format == "NHWC" else [n, c, h, w]


def _call(name, x, keep_prob, training, data_format):
  fmt = "channels_last" if data_format == "NHWC" else "channels_first"
  if name == "tf.nn.dropout":
    if data_format != "NHWC" or training is not True:
      # The blog's line, switched like the library (tf.cond on training).
      return compat.smart_cond(
          training, lambda: tf.nn.dropout(x, rate=1.0 - keep_prob),
          lambda: x)
    return tf.nn.dropout(x, rate=1.0 - keep_prob)
  if name == "spatial_dropout":
    return tf1_dropblock.spatial_dropout(x, keep_prob, training=training,
                                         data_format=fmt)
  block = int(name.rsplit("b", 1)[1])
  return tf1_dropblock.dropblock(x, keep_prob, block, training=training,
                                 data_format=fmt)


class _Op(object):
  """What the report needs of one op: type, output dtypes and shapes."""

  def __init__(self, op_type, dtypes, shapes):
    self.type = op_type
    self.dtypes = dtypes
    self.shapes = shapes


def _graph_ops(graph, seen=None):
  """Every op of `graph` and of the functions it calls (once each)."""
  seen = set() if seen is None else seen
  ops = []
  library = _library(graph)
  for op in graph.get_operations():
    ops.append(_Op(op.type, [t.dtype for t in op.outputs],
                   [t.shape for t in op.outputs]))
    if op.type in library and op.type not in seen:
      # A TF1 library function (Defun) is called by an op of its own name.
      seen.add(op.type)
      ops += _function_ops(graph, op.type, seen)
    for attr in ("f", "then_branch", "else_branch", "body", "cond",
                 "branches"):
      try:
        value = op.get_attr(attr)
      except (ValueError, TypeError):
        continue
      names = ([value.name] if hasattr(value, "name") else
               [v.name for v in value] if isinstance(value, list) else [])
      for name in names:
        if name in seen:
          continue
        seen.add(name)
        ops += _function_ops(graph, name, seen)
  return ops


def _library(graph):
  names = set()
  while graph is not None:
    names |= set(getattr(graph, "_functions", {}))
    graph = getattr(graph, "outer_graph", None)
  return names


def _function_ops(graph, name, seen):
  """Ops of a library function: its FuncGraph when TF keeps one, else the
  op types of its FunctionDef (dtypes from the nodes' attributes)."""
  function = None
  outer = graph
  while function is None and outer is not None:
    function = getattr(outer, "_functions", {}).get(name)
    outer = getattr(outer, "outer_graph", None)
  inner = getattr(function, "graph", None)
  if inner is not None and hasattr(inner, "get_operations"):
    return _graph_ops(inner, seen)
  definition = getattr(function, "definition", None)
  if definition is None:
    for f in graph.as_graph_def().library.function:
      if f.signature.name == name:
        definition = f
  if definition is None:
    return []
  ops = []
  for node in definition.node_def:
    dtypes = [tf2.as_dtype(node.attr[k].type) for k in
              ("T", "dtype", "out_type", "DstT", "Tout", "output_type")
              if k in node.attr and node.attr[k].type]
    ops.append(_Op(node.op, dtypes or [tf2.float32], [None]))
  return ops


def _registered_devices(op_type, cache={}):  # pylint: disable=dangerous-default-value
  if op_type not in cache:
    try:
      from tensorflow.python.framework import kernels  # pylint: disable=g-import-not-at-top
      found = kernels.get_registered_kernels_for_op(op_type).kernel
      cache[op_type] = sorted({k.device_type for k in found})
    except Exception:  # pylint: disable=broad-except
      cache[op_type] = []
  return cache[op_type]


def has_gpu_kernel(op_type):
  """A GPU kernel, or a DEFAULT one (control flow: registered for every
  device type)."""
  devices = _registered_devices(op_type)
  return "GPU" in devices or "DEFAULT" in devices


def registry_has_gpu_kernels():
  """True when this TensorFlow registers GPU kernels (the full wheel)."""
  return "GPU" in _registered_devices("Conv2D")


def _full_size(op, rank, spatial_axes):
  for shape in op.shapes:
    if shape is None or shape.rank != rank:
      continue
    dims = shape.as_list()
    if not all(dims[a] == 1 for a in spatial_axes):
      return True
  return False


def summarise(ops, rank, data_format):
  """Counts for one configuration's ops."""
  spatial = [1, 2] if data_format == "NHWC" else [2, 3]
  if rank != 4:
    spatial = list(range(1, rank - 1)) if data_format == "NHWC" else list(
        range(2, rank))
  kernels = [op for op in ops if op.type not in _NOT_KERNELS
             and not op.type.startswith(_FUNCTION_PREFIXES)]
  by_type = collections.Counter(op.type for op in kernels)
  device_work = [op for op in kernels
                 if any(d not in _HOST_DTYPES for d in op.dtypes)]
  gpu = [op for op in device_work if has_gpu_kernel(op.type)]
  full = [op for op in kernels if _full_size(op, rank, spatial)]
  return {
      "ops": len(kernels),
      "device_ops": len(device_work),
      "gpu_ops": len(gpu),
      "full_size_ops": len(full),
      "full_size_without_gpu_kernel": sorted(
          {op.type for op in full if not has_gpu_kernel(op.type)}),
      "device_ops_without_gpu_kernel": sorted(
          {op.type for op in device_work if not has_gpu_kernel(op.type)}),
      "types": {t: {"count": c, "devices": _registered_devices(t)}
                for t, c in sorted(by_type.items())},
  }


def _fresh_graph_call(mode, call, shape, data_format, keep_prob):
  """(graph, fetches, feeds) of one forward + backward call; the upstream
  gradient is an input, so no loss ops are counted."""
  graph = tf.Graph()
  with graph.as_default():
    if mode == "feed":
      x = tf.placeholder(tf.float32, [None] + shape[1:], name="x")
      upstream = tf.placeholder(tf.float32, [None] + shape[1:], name="dy")
      kp = tf.placeholder(tf.float32, [], name="keep_prob")
      training = tf.placeholder(tf.bool, [], name="training")
      feeds = {x: np.ones(shape, np.float32), kp: keep_prob, training: True,
               upstream: np.ones(shape, np.float32)}
    else:
      x = tf.Variable(np.ones(shape, np.float32), name="x")
      upstream = tf.Variable(np.ones(shape, np.float32), name="dy")
      kp, training, feeds = keep_prob, True, {}
    y = _call(call, x, kp, training, data_format)
    grad = tf.gradients(y, [x], grad_ys=upstream)[0]
    init = tf.global_variables_initializer()
  return graph, [y, grad], feeds, init


def _function(call, shape, data_format, keep_prob, jit):
  spec = tf2.TensorSpec(shape, tf2.float32)

  def step(x, upstream):
    with tf2.GradientTape() as tape:
      tape.watch(x)
      y = _call(call, x, keep_prob, True, data_format)
    return y, tape.gradient(y, x, output_gradients=upstream)

  return compat.function(step, input_signature=[spec, spec], jit_compile=jit)


def _xla_kernels(function, shape):
  """Kernels of the optimised HLO's entry computation."""
  hlo = function.experimental_get_compiler_ir(
      tf2.zeros(shape, tf2.float32), tf2.ones(shape, tf2.float32))(
          stage="optimized_hlo")
  entry = hlo[hlo.index("ENTRY"):]
  entry = entry[:entry.index("\n}")]
  skip = ("parameter(", "tuple(", "get-tuple-element(", "constant(",
          "bitcast(", "copy-start", "copy-done")
  count = collections.Counter()
  for line in entry.splitlines()[1:]:
    match = re.search(r"=\s*\S+\s+([a-z][\w-]*)\(", line)
    if match and not any(s in line for s in skip):
      count[match.group(1)] += 1
  return sum(count.values()), dict(count)


def configuration(mode, call, shape, data_format, keep_prob):
  """The report of one configuration (see the module docstring)."""
  rank = len(shape)
  if mode in ("feed", "graph"):
    graph, _, _, _ = _fresh_graph_call(mode, call, shape, data_format,
                                       keep_prob)
    result = summarise(_graph_ops(graph), rank, data_format)
  elif mode in ("function", "xla"):
    function = _function(call, shape, data_format, keep_prob,
                         jit=mode == "xla")
    concrete = function.get_concrete_function()
    result = summarise(_graph_ops(concrete.graph), rank, data_format)
    if mode == "xla":
      result["xla_kernels"], result["xla_kernel_kinds"] = _xla_kernels(
          function, shape)
  else:  # eager: the library's cached concrete function plus its key draw.
    _masking._EAGER_FUNCTIONS.clear()  # pylint: disable=protected-access
    _masking._SPECIALISED_COUNT.clear()  # pylint: disable=protected-access
    x = tf2.ones(shape)
    with tf2.GradientTape() as tape:
      tape.watch(x)
      y = _call(call, x, keep_prob, True, data_format)
    tape.gradient(y, x, output_gradients=tf2.ones(shape))
    ops = []
    for function in _masking._EAGER_FUNCTIONS.values():  # pylint: disable=protected-access
      ops += _graph_ops(function.graph)
    if call == "tf.nn.dropout":
      result = summarise(_graph_ops(_function(
          call, shape, data_format, keep_prob, jit=False)
                                    .get_concrete_function().graph),
                         rank, data_format)
    else:
      result = summarise(ops, rank, data_format)
      result["note"] = ("the cached concrete function the library calls "
                        "(forward; its gradient function is generated by "
                        "TF) plus one seeded key draw")
  return result


def run_on_gpu(mode, call, shape, data_format, keep_prob):
  """Devices and host-device copies of one step, from a full trace."""
  graph, fetches, feeds, init = _fresh_graph_call(mode, call, shape,
                                                  data_format, keep_prob)
  options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
  metadata = tf.RunMetadata()
  with tf.Session(graph=graph) as sess:
    sess.run(init)
    sess.run(fetches, feeds)
    sess.run(fetches, feeds, options=options, run_metadata=metadata)
  devices, copies = collections.Counter(), 0
  for dev in metadata.step_stats.dev_stats:
    for node in dev.node_stats:
      devices[dev.device] += 1
      if "MemcpyHtoD" in node.node_name or "MemcpyDtoH" in node.node_name:
        copies += 1
  return {"nodes_per_device": dict(devices), "host_device_copies": copies}


def report(shape_text, modes, formats, calls, keep_prob):
  """{(mode, format, call): result} for every configuration asked for."""
  results = collections.OrderedDict()
  gpus = compat.IS_TF2 and tf2.config.list_physical_devices("GPU")
  for data_format in formats:
    shape = _shape(shape_text, data_format)
    for mode in modes:
      if mode in ("function", "xla", "eager") and not compat.IS_TF2:
        continue
      for call in calls:
        key = "%s %s %s" % (mode, data_format, call)
        try:
          results[key] = configuration(mode, call, shape, data_format,
                                       keep_prob)
        except Exception as e:  # pylint: disable=broad-except
          results[key] = {"error": "%s: %s" % (type(e).__name__,
                                               str(e).splitlines()[0])}
        if gpus and mode in ("feed", "graph"):
          results[key]["gpu_run"] = run_on_gpu(mode, call, shape,
                                               data_format, keep_prob)
  return results


def format_report(results, per_op):
  gpu_registry = registry_has_gpu_kernels()
  lines = ["TensorFlow %s; GPU kernels registered: %s; GPU visible: %s" % (
      compat.VERSION, "yes" if gpu_registry else
      "no (a CPU-only wheel: the GPU columns cannot be known here)",
      bool(compat.IS_TF2 and tf2.config.list_physical_devices("GPU"))), "",
               "| configuration | kernels | device ops (not int32) | with a "
               "GPU kernel | full-size ops | full-size, no GPU kernel | XLA "
               "kernels |", "|---|---|---|---|---|---|---|"]
  for key, r in results.items():
    if "error" in r:
      lines.append("| %s | %s |||||" % (key, r["error"]))
      continue
    lines.append("| %s | %d | %d | %s | %d | %s | %s |" % (
        key, r["ops"], r["device_ops"],
        r["gpu_ops"] if gpu_registry else "?", r["full_size_ops"],
        (", ".join(r["full_size_without_gpu_kernel"]) or "none")
        if gpu_registry else "?", r.get("xla_kernels", "–")))
  if per_op:
    lines += ["", "Op types (count; device types with a kernel):"]
    for key, r in results.items():
      if "types" in r:
        lines.append("- %s: %s" % (key, ", ".join(
            "%s x%d [%s]" % (t, v["count"], "/".join(v["devices"]))
            for t, v in r["types"].items())))
      if "gpu_run" in r:
        lines.append("  on the GPU: %s" % r["gpu_run"])
  return "\n".join(lines)


def main(argv):
  del argv
  results = report(FLAGS.shape, FLAGS.modes, FLAGS.data_formats, FLAGS.calls,
                   FLAGS.keep_prob)
  print(format_report(results, FLAGS.per_op))
  if FLAGS.json:
    with open(FLAGS.json, "w") as f:
      json.dump({"tf_version": compat.VERSION,
                 "gpu_kernels_registered": registry_has_gpu_kernels(),
                 "results": results}, f, indent=1)


if __name__ == "__main__":
  _define_flags()
  app.run(main)
