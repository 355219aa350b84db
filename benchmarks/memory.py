r"""Peak temporary memory of one forward pass, in units of the input size.

    python benchmarks/memory.py
    python benchmarks/memory.py --shape=64x7x7x2048 --data_format=NCHW

Builds each candidate on a variable input in a TF1 graph, runs it once with
`FULL_TRACE`, and replays the allocation records of every op in time order
to find the peak of bytes alive during the run. The input variable lives
outside the step and is not counted; the output is. A candidate that keeps
one full-size temporary beyond its output peaks at 2.0 (plus the small
sampler buffers). This is a measurement, never a test.
"""

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf2

from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

FLAGS = flags.FLAGS
flags.DEFINE_string("shape", "32x56x56x64", "NxHxWxC (NHWC order).")
flags.DEFINE_enum("data_format", "NHWC", ["NHWC", "NCHW"], "Layout.")
flags.DEFINE_list("block_sizes", ["3", "7"], "DropBlock block sizes.")
flags.DEFINE_float("keep_prob", 0.9, "keep_prob of every candidate.")


def peak_bytes(fetch, sess):
  """Peak bytes alive during one run of `fetch`, from the allocation log."""
  options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
  metadata = tf.RunMetadata()
  sess.run(fetch, options=options, run_metadata=metadata)
  events = []
  for device in metadata.step_stats.dev_stats:
    for node in device.node_stats:
      for memory in node.memory:
        for record in memory.allocation_records:
          events.append((record.alloc_micros, record.alloc_bytes))
  live = peak = 0
  for _, delta in sorted(events, key=lambda e: (e[0], -e[1])):
    live += delta
    peak = max(peak, live)
  return peak


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Unexpected arguments: %s" % " ".join(argv[1:]))
  shape = [int(d) for d in FLAGS.shape.split("x")]
  if FLAGS.data_format == "NCHW":
    shape = [shape[0], shape[3], shape[1], shape[2]]
  value = np.random.RandomState(0).normal(size=shape).astype(np.float32)
  with tf.Graph().as_default():
    x = tf.Variable(value)
    one = tf.Variable(1.0)
    candidates = {
        "x * 1.0": lambda t: t * one,
        "tf.nn.dropout": lambda t: tf2.nn.dropout(t, rate=1 - FLAGS.keep_prob),
        "spatial_dropout": lambda t: spatial_dropout(
            t, FLAGS.keep_prob, True, data_format=FLAGS.data_format),
    }
    for block in FLAGS.block_sizes:
      candidates["dropblock b%s" % block] = (
          lambda t, b=int(block): dropblock(t, FLAGS.keep_prob, b, True,
                                            data_format=FLAGS.data_format))
    outputs = {name: fn(tf.identity(x)) for name, fn in candidates.items()}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      print("Peak bytes alive in a forward run / input bytes, shape %s %s:"
            % ("x".join(map(str, shape)), FLAGS.data_format))
      for name, y in outputs.items():
        sess.run(y.op)
        print("  %-18s %.2f" % (name, peak_bytes(y.op, sess) / value.nbytes))


if __name__ == "__main__":
  app.run(main)
