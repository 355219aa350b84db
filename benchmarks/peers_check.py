r"""Probes keras-cv's DropBlock2D beside ours, for the README's comparison.

Not part of the test suite: keras-cv is not a dependency. In a throw-away
virtualenv with `pip install tensorflow-cpu keras-cv` and this package:

    python benchmarks/peers_check.py

Each line is one behaviour, measured on both layers with the same input:
whether blocks stay whole on a non-square map, whether the layer runs in a
`tf.function` graph with an unknown batch, whether it takes channels-first
input, what comes out when every unit is dropped, whether masks differ per
example and channel, and how the output is rescaled.
"""

import re
import sys

import numpy as np

try:
  import keras_cv  # pylint: disable=g-import-not-at-top
except ImportError:
  sys.exit("keras-cv is not installed; see this file's docstring.")
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from tf1_dropblock.layers import DropBlock2D  # pylint: disable=g-import-not-at-top


def _attempt(fn):
  try:
    return fn(), None
  except Exception as e:  # pylint: disable=broad-except
    # Keras and tf.function wrap the cause in headers, the user's stack
    # and the call's arguments; the cause is the line saying what is wrong.
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
             for line in str(e).splitlines()]
    causes = [line for line in lines
              if re.search(r"must be|not supported|Unrecognized|cannot", line)]
    lines = causes or [line for line in lines if line]
    return None, "%s: %s" % (type(e).__name__, lines[0][:100] if lines else "")


def _whole_blocks(y, block):
  """True if every zero of an NHWC output lies in an all-zero block."""
  zero = np.asarray(y) == 0
  _, height, width, _ = zero.shape
  covered = np.zeros_like(zero)
  for i in range(height - block + 1):
    for j in range(width - block + 1):
      full = zero[:, i:i + block, j:j + block].all(axis=(1, 2))
      covered[:, i:i + block, j:j + block] |= full[:, None, None]
  return bool(np.array_equal(covered, zero))


def probe(name, make):
  """Runs every probe on one layer factory `make(rate, block, **kw)`."""
  rows = {}
  x = np.ones((8, 10, 17, 16), np.float32)
  y, error = _attempt(lambda: make(0.3, 3)(x, training=True))
  rows["non-square 10x17 map, block 3: blocks whole"] = (
      error or str(_whole_blocks(y, 3)))
  if y is not None:
    y = np.asarray(y)
    maps = np.moveaxis(y, -1, 1).reshape(8 * 16, -1)
    distinct = len({m.tobytes() for m in (maps != 0)})
    rows["distinct masks among 128 (example, channel) maps"] = str(distinct)
    kept = y[y != 0]
    rows["kept value (count/kept of the batch = %.4f)" % (
        y.size / max(kept.size, 1))] = "%.4f" % kept.mean()

  layer = make(0.3, 3)
  graph_fn = tf.function(lambda t: layer(t, training=True),
                         input_signature=[tf.TensorSpec([None, 10, 17, 16])])
  _, error = _attempt(lambda: graph_fn(x))
  rows["tf.function, unknown batch"] = error or "runs"
  _, error = _attempt(lambda: make(0.3, 3, data_format="channels_first")(
      np.ones((8, 16, 10, 17), np.float32), training=True))
  rows["channels_first"] = error or "runs"
  # A block as large as the map: one seed per map, drawn with the rate.
  y, error = _attempt(lambda: make(0.999999, 4)(
      np.ones((2, 4, 4, 1), np.float32), training=True))
  if y is not None:
    y = np.asarray(y)
    rows["every unit dropped (rate ~1, block = 4x4 map)"] = (
        "NaN" if np.isnan(y).any() else "zeros" if not y.any()
        else "some kept")
  else:
    rows["every unit dropped (rate ~1, block = 4x4 map)"] = error
  for key, value in rows.items():
    print("%-12s | %-55s | %s" % (name, key, value))


def main():
  print("TensorFlow %s, keras-cv %s" % (tf.__version__, keras_cv.__version__))
  probe("keras-cv", lambda rate, block, **kw: keras_cv.layers.DropBlock2D(
      rate, block, seed=1, **kw))
  probe("tf1_dropblock", lambda rate, block, **kw: DropBlock2D(
      1.0 - rate, block, seed=1, **kw))


if __name__ == "__main__":
  main()
