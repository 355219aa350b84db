r"""Time DropBlock and peers as ratios to `tf.nn.dropout` on the same tensors.

    python benchmarks/bench.py                       # grid + 6 random shapes
    python benchmarks/bench.py --shapes=32x56x56x64 --modes=graph,feed \
        --block_sizes=7 --random_shapes=0 --repeats=9 --output=/tmp/bench

Modes: "feed" is the blog's own call in a TF1 `Session` - `x`, `keep_prob`
and `training` are placeholders fed on every run (on TF 2.x with v2
behaviour disabled, in a child process, since that switch is process-wide);
"graph" builds on variables in a `tf.Graph` (TF 2.x control flow when on
TF 2.x); "function" and "xla" are `tf.function`s (XLA-compiled); "eager"
calls the ops directly. Every dropblock and spatial_dropout candidate runs
twice: with a Python `keep_prob` and `training=True`, and "tensors": with
both as tensors (placeholders in feed mode, variables elsewhere), as
legacy code and schedules pass them.

Shapes: the default grid spans N 1-64, square maps 7-224 and non-square
ones, C 8-2048 (0.1-13 M elements); every run adds `--random_shapes`
shapes drawn from those ranges with a printed seed (`--shape_seed` to
repeat a draw), so no run can be tuned to a fixed list. The summary gives
the worst and the median ratio over all cells of each mode and format.

For every shape, data format, execution mode and pass (forward, or forward
and backward), every candidate is built on the same input tensor and timed
interleaved with the others in one process: each repeat times `--iters`
calls of each candidate in turn, and a candidate's time is its best repeat.
The table shows best time / best time of `tf.nn.dropout` (rate = 1 -
keep_prob), with the spread (median / best - 1) of each candidate's repeats.
These 2-core machines vary by about 15 % between processes: read the ratios,
not the milliseconds. This is a benchmark, never a test.

Candidates: `tf1_dropblock.dropblock` (per block size, and with keep_prob
read from a variable), `tf1_dropblock.spatial_dropout`, `tf.nn.dropout` with
noise_shape [N,1,1,C] (the spatial baseline), `x * 1.0` (the floor), and
keras-cv's `DropBlock2D` (eager and `tf.function` only, when keras-cv is
installed). All modes of one shape, format and pass are timed interleaved
in the same loop; when both graph and xla modes run, a second table gives
the absolute XLA / graph-mode time of our ops (and of the floor).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf2

from tf1_dropblock import compat
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

FLAGS = flags.FLAGS
# N in {1, 4, 16, 64}, maps 7-224 (square and not), C in {8 ... 2048}.
DEFAULT_SHAPES = (
    "64x7x7x2048,1x7x7x2048,16x7x7x1024,16x14x14x1024,4x14x14x256,"
    "16x28x28x256,64x28x28x64,16x56x56x64,64x56x56x32,4x112x112x32,"
    "16x112x112x16,1x224x224x8,4x224x224x16,16x224x224x8,16x32x48x64,"
    "4x60x80x32,1x120x160x64,16x24x40x256")
MODES = ("feed", "graph", "function", "xla", "eager")
PASSES = ("forward", "forward_backward")
# The ranges random shapes are drawn from.
RANDOM_BATCHES = (1, 4, 16, 64)
RANDOM_CHANNELS = (8, 16, 32, 64, 256, 1024, 2048)
RANDOM_SIDES = (7, 224)
RANDOM_ELEMENTS = (1e5, 13e6)

# DropBlock options timed beside the default (Python keep_prob, training).
VARIANTS = {"share_channels": dict(share_channels=True),
            "normalize=example": dict(normalize="example")}

flags.DEFINE_list("shapes", DEFAULT_SHAPES, "NxHxWxC shapes (given in NHWC "
                  "order; NCHW runs transpose them).")
flags.DEFINE_list("data_formats", ["NHWC", "NCHW"], "NHWC and/or NCHW.")
flags.DEFINE_integer("random_shapes", 6, "Shapes drawn at random from the "
                     "grid's ranges and added to --shapes.", lower_bound=0)
flags.DEFINE_integer("shape_seed", None, "Seed of the random shapes "
                     "(default: drawn from the clock and printed).")
flags.DEFINE_list("block_sizes", ["1", "3", "5", "7", "9"],
                  "DropBlock block sizes.")
flags.DEFINE_list("modes", list(MODES), "Any of: %s." % ", ".join(MODES))
flags.DEFINE_list("passes", ["forward_backward"], "Any of: %s."
                  % ", ".join(PASSES))
flags.DEFINE_bool("feed_child", False, "Internal: this process runs only "
                  "the feed mode, with v2 behaviour disabled.")
flags.DEFINE_float("keep_prob", 0.9, "keep_prob of every candidate.")
flags.DEFINE_list("variants", list(VARIANTS), "DropBlock options also timed "
                  "at every block size (Python keep_prob and training), any "
                  "of: %s; empty for none." % ", ".join(VARIANTS))
flags.DEFINE_integer("repeats", 7, "Timed repeats per candidate (best is "
                     "kept).", lower_bound=1)
flags.DEFINE_integer("iters", 5, "Calls per timed repeat.", lower_bound=1)
flags.DEFINE_string("output", "", "If set, write OUTPUT.md and OUTPUT.json.")
flags.DEFINE_bool("keras_cv", True, "Include keras-cv's DropBlock2D if it is "
                  "installed.")
flags.register_validator(
    "variants", lambda values: set(values) <= set(VARIANTS),
    "--variants must be a comma list of: %s." % ", ".join(VARIANTS))


def _variant_name(variant, block):
  return "%s b%d" % (variant, block)


def _candidates(block_sizes, data_format, keep_prob, one, keep_prob_tensor,
                training_tensor):
  """{name: fn(x) -> y} for one data format.

  `one` is a scalar tensor holding 1.0: multiplying by a constant 1.0
  would be optimised away, and the floor must do real work.
  `keep_prob_tensor` and `training_tensor` hold `keep_prob` and True
  (placeholders in feed mode, variables otherwise); the baseline takes
  the tensor keep_prob, as the blog trainer's `tf.nn.dropout` line does.
  """
  def noise_shape(x):
    shape = tf.shape(x)
    if data_format == "NHWC":
      return tf.stack([shape[0], 1, 1, shape[3]])
    return tf.stack([shape[0], shape[1], 1, 1])

  candidates = {
      "tf.nn.dropout": lambda x: tf2.nn.dropout(
          x, rate=1 - keep_prob_tensor),
      "x * 1.0": lambda x: x * one,
      "dropout noise_shape=[N,1,1,C]": lambda x: tf2.nn.dropout(
          x, rate=1 - keep_prob_tensor, noise_shape=noise_shape(x)),
      "spatial_dropout": lambda x: spatial_dropout(
          x, keep_prob, training=True, data_format=data_format),
      "spatial_dropout, tensors": lambda x: spatial_dropout(
          x, keep_prob_tensor, training=training_tensor,
          data_format=data_format),
  }
  for block in block_sizes:
    candidates["dropblock b%d" % block] = (
        lambda x, b=block: dropblock(x, keep_prob, b, training=True,
                                     data_format=data_format))
    candidates["dropblock b%d, tensors" % block] = (
        lambda x, b=block: dropblock(x, keep_prob_tensor, b,
                                     training=training_tensor,
                                     data_format=data_format))
    for variant in FLAGS.variants:
      candidates[_variant_name(variant, block)] = (
          lambda x, b=block, v=variant: dropblock(
              x, keep_prob, b, training=True, data_format=data_format,
              **VARIANTS[v]))
  return candidates


def _keras_cv_candidates(block_sizes, data_format, keep_prob):
  if not FLAGS.keras_cv or data_format != "NHWC":
    return {}
  try:
    import keras_cv  # pylint: disable=g-import-not-at-top
  except ImportError:
    return {}
  layers = {b: keras_cv.layers.DropBlock2D(rate=1 - keep_prob, block_size=b)
            for b in block_sizes}
  return {"keras-cv DropBlock2D b%d" % b: (lambda x, l=layer: l(
      x, training=True)) for b, layer in layers.items()}


class _GraphRunner(object):
  """Builds every candidate in one graph; times `sess.run` of its ops.

  With `feed`, `x`, `keep_prob` and `training` are placeholders fed on
  every run (the blog's call); else the input and the tensors are
  variables.
  """

  def __init__(self, value, block_sizes, data_format, keep_prob, backward,
               feed=False):
    self.graph = tf.Graph()
    with self.graph.as_default():
      if feed:
        x = tf.placeholder(tf.float32, [None] * 4, name="x")
        upstream = tf.placeholder(tf.float32, [None] * 4, name="upstream")
        keep_prob_tensor = tf.placeholder(tf.float32, [], name="keep_prob")
        training = tf.placeholder(tf.bool, [], name="training")
        one = tf.placeholder(tf.float32, [], name="one")
        self.feed = {x: value, upstream: np.ones_like(value),
                     keep_prob_tensor: keep_prob, training: True, one: 1.0}
      else:
        x = tf.identity(tf.Variable(value, name="x"))
        upstream = tf.Variable(np.ones_like(value), name="upstream")
        keep_prob_tensor = tf.Variable(keep_prob, name="keep_prob")
        training = tf.Variable(True, name="training")
        one = tf.Variable(1.0, name="one")
        self.feed = None
      candidates = _candidates(block_sizes, data_format, keep_prob, one,
                               keep_prob_tensor, training)
      self.names = list(candidates)
      self.ops = {}
      for name, fn in candidates.items():
        y = fn(x)
        fetches = [y.op]
        if backward:
          fetches.append(tf.gradients(y, x, grad_ys=upstream)[0].op)
        self.ops[name] = fetches
      init = tf.global_variables_initializer()
    self.sess = tf.Session(graph=self.graph)
    self.sess.run(init)

  def __call__(self, name):
    self.sess.run(self.ops[name], self.feed)


class _EagerRunner(object):
  """Calls candidates eagerly, or as (XLA-compiled) tf.functions."""

  def __init__(self, value, block_sizes, data_format, keep_prob, backward,
               mode):
    self.x = tf2.constant(value)
    self.upstream = tf2.ones_like(self.x)
    candidates = _candidates(
        block_sizes, data_format, keep_prob, tf2.Variable(1.0, name="one"),
        tf2.Variable(keep_prob, name="keep_prob"),
        tf2.Variable(True, name="training"))
    if mode in ("eager", "function"):
      candidates.update(
          _keras_cv_candidates(block_sizes, data_format, keep_prob))
    self.names = list(candidates)
    self.fns = {}
    for name, fn in candidates.items():
      step = self._step(fn, backward)
      if mode != "eager":
        step = compat.function(
            step, input_signature=[tf2.TensorSpec([None] * 4, tf2.float32)],
            jit_compile=(mode == "xla"))
      self.fns[name] = step

  def _step(self, fn, backward):
    upstream = self.upstream

    def step(x):
      if not backward:
        return fn(x)
      with tf2.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
      return y, tape.gradient(y, x, output_gradients=upstream)
    return step

  def __call__(self, name):
    self.fns[name](self.x)


def _time(runner, names, repeats, iters):
  """Interleaved best-of-`repeats` seconds per call for each name.

  A candidate that raises while warming up (keras-cv's DropBlock2D cannot
  trace with unknown dimensions) is reported as failed: (None, None).
  """
  failed = {}
  for name in names:  # Warm up: build, compile, allocate.
    try:
      runner(name)
      runner(name)
    except Exception as e:  # pylint: disable=broad-except
      failed[name] = (None, None)
      sys.stderr.write("%s fails: %s\n" % (
          " ".join(name) if isinstance(name, tuple) else name,
          str(e).splitlines()[0]))
  names = [name for name in names if name not in failed]
  samples = {name: [] for name in names}
  for _ in range(repeats):
    for name in names:
      start = time.perf_counter()
      for _ in range(iters):
        runner(name)
      samples[name].append((time.perf_counter() - start) / iters)
  timings = {name: (min(s), statistics.median(s) / min(s) - 1.0)
             for name, s in samples.items()}
  timings.update(failed)
  return timings


def run_benchmark(shapes, data_formats, block_sizes, modes, passes,
                  keep_prob, repeats, iters, stream=sys.stdout):
  """Returns a list of row dicts, printing progress to `stream`.

  For one shape, format and pass, the candidates of every mode are timed
  interleaved in one loop, so that ratios across modes (the XLA / graph
  table) compare times taken moments apart, not minutes apart.
  """
  rows = []
  rng = np.random.RandomState(0)
  modes = [m for m in modes if m in ("graph", "feed") or compat.IS_TF2]
  for shape in shapes:
    for data_format in data_formats:
      nhwc = rng.normal(size=shape).astype(np.float32)
      value = nhwc if data_format == "NHWC" else nhwc.transpose(0, 3, 1, 2)
      for pass_name in passes:
        backward = pass_name == "forward_backward"
        runners = {}
        for mode in modes:
          if mode in ("graph", "feed"):
            runners[mode] = _GraphRunner(value, block_sizes, data_format,
                                         keep_prob, backward,
                                         feed=(mode == "feed"))
          else:
            runners[mode] = _EagerRunner(value, block_sizes, data_format,
                                         keep_prob, backward, mode)
        keys = [(mode, name) for mode in modes for name in runners[mode].names]
        timings = _time(lambda key: runners[key[0]](key[1]), keys, repeats,
                        iters)
        for mode in modes:
          names = runners[mode].names
          base = timings[(mode, "tf.nn.dropout")][0]
          row = {"shape": "x".join(map(str, shape)),
                 "data_format": data_format, "mode": mode,
                 "pass": pass_name, "dropout_ms": base * 1e3,
                 "ratios": {n: None if timings[(mode, n)][0] is None
                            else timings[(mode, n)][0] / base
                            for n in names},
                 "spread": {n: timings[(mode, n)][1] for n in names}}
          rows.append(row)
          stream.write(_format_row(row, names) + "\n")
          stream.flush()
  return rows


def _format_row(row, names):
  cells = [("fails" if row["ratios"][n] is None else "%.2f" % row["ratios"][n])
           if n in row["ratios"] else "–" for n in names]
  return "| %s | %s | %s | %s | %.2f | %s |" % (
      row["shape"], row["data_format"], row["mode"], row["pass"],
      row["dropout_ms"], " | ".join(cells))


def format_table(rows):
  """A Markdown table: one row per setting, one column per candidate."""
  names = []
  for row in rows:
    names += [n for n in row["ratios"] if n not in names]
  header = ("| shape | format | mode | pass | tf.nn.dropout ms | %s |\n"
            % " | ".join(names))
  header += "|---" * (5 + len(names)) + "|\n"
  return header + "\n".join(_format_row(r, names) for r in rows) + "\n"


def format_xla_vs_graph(rows):
  """A Markdown table of XLA time / graph-mode time of our ops (absolute).

  Empty unless both modes ran. The last column, the floor `x * 1.0`, is
  XLA's own fixed cost per call against graph mode's.
  """
  by_key = {(r["shape"], r["data_format"], r["mode"], r["pass"]): r
            for r in rows}
  lines, names = [], None
  for (shape, data_format, mode, pass_name), xla in by_key.items():
    graph = by_key.get((shape, data_format, "graph", pass_name))
    if mode != "xla" or graph is None:
      continue
    if names is None:
      names = [n for n in xla["ratios"] if n.startswith(("dropblock",
                                                          "spatial_dropout"))]
      names.append("x * 1.0")
    cells = []
    for name in names:
      x, g = xla["ratios"].get(name), graph["ratios"].get(name)
      cells.append("–" if x is None or g is None else "%.2f" % (
          x * xla["dropout_ms"] / (g * graph["dropout_ms"])))
    lines.append("| %s | %s | %s | %s |" % (shape, data_format, pass_name,
                                            " | ".join(cells)))
  if not lines:
    return ""
  header = ("| shape | format | pass | %s |\n" % " | ".join(names) +
            "|---" * (3 + len(names)) + "|\n")
  return ("XLA time / graph-mode time (absolute, same op):\n\n" + header +
          "\n".join(lines) + "\n")


def random_shapes(count, seed):
  """`count` NHWC shapes drawn from the grid's ranges (half of them square)."""
  rng = np.random.RandomState(seed)
  shapes = []
  while len(shapes) < count:
    n = int(rng.choice(RANDOM_BATCHES))
    c = int(rng.choice(RANDOM_CHANNELS))
    h = int(rng.randint(RANDOM_SIDES[0], RANDOM_SIDES[1] + 1))
    w = h if rng.uniform() < 0.5 else int(
        rng.randint(RANDOM_SIDES[0], RANDOM_SIDES[1] + 1))
    if RANDOM_ELEMENTS[0] <= n * h * w * c <= RANDOM_ELEMENTS[1]:
      shapes.append((n, h, w, c))
  return shapes


def summarise(rows):
  """A Markdown table: median and worst ratio per mode, format, candidate."""
  groups = {}
  for row in rows:
    for name, ratio in row["ratios"].items():
      if ratio is not None:
        groups.setdefault((row["mode"], row["data_format"], name), []).append(
            (ratio, row["shape"], row["pass"]))
  lines = ["| mode | format | candidate | cells | median | worst | worst at |",
           "|---|---|---|---|---|---|---|"]
  for (mode, data_format, name), cells in groups.items():
    if name == "tf.nn.dropout":
      continue
    ratios = [r for r, _, _ in cells]
    worst = max(cells)
    lines.append("| %s | %s | %s | %d | %.2f | %.2f | %s %s |" % (
        mode, data_format, name, len(cells), statistics.median(ratios),
        worst[0], worst[1], worst[2]))
  lines += ["", "All dropblock block sizes together:", "",
            "| mode | format | keep_prob, training | cells | median | "
            "worst | worst at | cells > 1.0 |",
            "|---|---|---|---|---|---|---|---|"]
  pooled = {}
  for (mode, data_format, name), cells in groups.items():
    variant = name.rsplit(" ", 1)[0]
    if name.startswith("dropblock") or variant in VARIANTS:
      kind = ("tensors" if name.endswith("tensors") else
              variant if variant in VARIANTS else "Python")
      pooled.setdefault((mode, data_format, kind), []).extend(
          (r, shape, pass_name, name) for r, shape, pass_name in cells)
  for (mode, data_format, kind), cells in pooled.items():
    ratios = [r for r, _, _, _ in cells]
    worst = max(cells)
    lines.append("| %s | %s | %s | %d | %.2f | %.2f | %s %s %s | %d |" % (
        mode, data_format, kind, len(cells), statistics.median(ratios),
        worst[0], worst[3], worst[1], worst[2],
        sum(r > 1.0 for r in ratios)))
  relative = {}
  for row in rows:
    for name, ratio in row["ratios"].items():
      variant, _, block = name.rpartition(" ")
      default = row["ratios"].get("dropblock " + block)
      if variant in VARIANTS and ratio is not None and default:
        relative.setdefault((row["mode"], row["data_format"], variant),
                            []).append((ratio / default, row["shape"], block))
  if relative:
    lines += ["", "Options against the default dropblock on the same cell "
              "(time ratio; < 1 is cheaper):", "",
              "| mode | format | option | cells | median | worst | worst at "
              "| cells slower |", "|---|---|---|---|---|---|---|---|"]
    for (mode, data_format, variant), cells in relative.items():
      ratios = [r for r, _, _ in cells]
      worst = max(cells)
      lines.append("| %s | %s | %s | %d | %.2f | %.2f | %s %s | %d |" % (
          mode, data_format, variant, len(cells), statistics.median(ratios),
          worst[0], worst[2], worst[1], sum(r > 1.0 for r in ratios)))
  return "\n".join(lines) + "\n"


def _run_feed_child(shapes, stream=sys.stdout):
  """Runs the feed mode in a child process with v2 behaviour disabled."""
  with tempfile.TemporaryDirectory() as tmp:
    output = os.path.join(tmp, "feed")
    args = [sys.executable, os.path.abspath(__file__), "--feed_child",
            "--modes=feed", "--random_shapes=0",
            "--shapes=" + ",".join("x".join(map(str, s)) for s in shapes),
            "--output=" + output]
    for name in ("data_formats", "block_sizes", "passes", "variants"):
      args.append("--%s=%s" % (name, ",".join(getattr(FLAGS, name))))
    for name in ("keep_prob", "repeats", "iters"):
      args.append("--%s=%s" % (name, getattr(FLAGS, name)))
    subprocess.run(args, check=True, stdout=stream, stderr=subprocess.DEVNULL)
    with open(output + ".json") as f:
      return json.load(f)["rows"]


def _write_atomically(path, text):
  with open(path + ".tmp", "w") as f:
    f.write(text)
  os.replace(path + ".tmp", path)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Unexpected arguments: %s" % " ".join(argv[1:]))
  for name, allowed in (("modes", MODES), ("passes", PASSES),
                        ("data_formats", ("NHWC", "NCHW"))):
    bad = set(getattr(FLAGS, name)) - set(allowed)
    if bad:
      raise app.UsageError("--%s: unknown %s; allowed: %s"
                           % (name, sorted(bad), ", ".join(allowed)))
  try:
    shapes = [tuple(int(d) for d in s.split("x")) for s in FLAGS.shapes]
    block_sizes = [int(b) for b in FLAGS.block_sizes]
  except ValueError as e:
    raise app.UsageError("--shapes are NxHxWxC, --block_sizes ints: %s" % e)
  if any(len(s) != 4 for s in shapes):
    raise app.UsageError("--shapes must be NxHxWxC. Received: %s"
                         % FLAGS.shapes)
  if FLAGS.random_shapes:
    seed = (FLAGS.shape_seed if FLAGS.shape_seed is not None
            else int(time.time()) % 100000)
    drawn = random_shapes(FLAGS.random_shapes, seed)
    print("Random shapes (--shape_seed=%d): %s" % (
        seed, ", ".join("x".join(map(str, s)) for s in drawn)))
    shapes += drawn
  print("TensorFlow %s%s; ratios of best-of-%d times to tf.nn.dropout; "
        "keep_prob %.2f" % (compat.VERSION, " (v2 behaviour disabled)"
                            if FLAGS.feed_child else "", FLAGS.repeats,
                            FLAGS.keep_prob))
  sys.stdout.flush()
  modes = list(FLAGS.modes)
  rows = []
  if "feed" in modes and compat.IS_TF2 and not FLAGS.feed_child:
    modes.remove("feed")
    print("feed mode (child process, v2 behaviour disabled):")
    sys.stdout.flush()
    rows += _run_feed_child(shapes)
  if modes:
    rows += run_benchmark(shapes, FLAGS.data_formats, block_sizes, modes,
                          FLAGS.passes, FLAGS.keep_prob, FLAGS.repeats,
                          FLAGS.iters)
  table = format_table(rows)
  xla_vs_graph = format_xla_vs_graph(rows)
  if xla_vs_graph:
    table += "\n" + xla_vs_graph
  table += "\nWorst and median over cells:\n\n" + summarise(rows)
  if not FLAGS.feed_child:
    print()
    print(table)
  if FLAGS.output:
    _write_atomically(FLAGS.output + ".md", table)
    _write_atomically(FLAGS.output + ".json", json.dumps(
        {"tf_version": compat.VERSION, "keep_prob": FLAGS.keep_prob,
         "repeats": FLAGS.repeats, "iters": FLAGS.iters,
         "shapes": ["x".join(map(str, s)) for s in shapes], "rows": rows},
        indent=1))


if __name__ == "__main__":
  if "--feed_child" in sys.argv:
    tf.disable_v2_behavior()
  app.run(main)
