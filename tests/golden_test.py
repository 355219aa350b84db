"""Golden masks: fixed seeds give these exact masks, bit for bit.

Written before the code was reorganised, so a refactor provably changes
no mask: each case's output under fixed graph- and op-level seeds is
reduced to a fingerprint (a hash of where it is zero, the zero count and
the rescaling factor) and compared with the value recorded here. Graph
mode runs with unknown shapes (placeholders) and with static ones
(constants), which take different paths; eager and XLA run where TF 2.x
has them. A mask change that is meant must update GOLDEN, with the reason
in the commit message:

    python -m tests.golden_test --print

(XLA's values are per TF version and computed in a fresh process; see
`xla_fingerprints`.)
"""

import hashlib
import json
import os
import subprocess
import sys

from absl.testing import parameterized
import numpy as np

from tests import _testing
from tf1_dropblock import compat
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

# name: (shape, op).
CASES = {
    "dropblock_nhwc_b3": ((2, 12, 16, 3), lambda t: dropblock(
        t, 0.8, 3, True, seed=7)),
    "dropblock_nchw_b2x3": ((2, 3, 12, 16), lambda t: dropblock(
        t, 0.8, (2, 3), True, data_format="NCHW", seed=7)),
    "dropblock_b1": ((2, 9, 9, 4), lambda t: dropblock(t, 0.7, 1, True,
                                                        seed=3)),
    "dropblock_b7_256ch": ((1, 10, 10, 256), lambda t: dropblock(
        t, 0.9, 7, True, seed=5)),
    "dropblock_nwc_b4": ((3, 30, 2), lambda t: dropblock(t, 0.8, 4, True,
                                                          seed=2)),
    "dropblock_ncdhw_b2": ((1, 2, 4, 6, 6), lambda t: dropblock(
        t, 0.8, 2, True, data_format="NCDHW", seed=2)),
    "dropblock_shared_example": ((4, 12, 12, 3), lambda t: dropblock(
        t, 0.8, 3, True, seed=9, share_channels=True, normalize="example")),
    "spatial_dropout_nhwc": ((8, 4, 4, 6), lambda t: spatial_dropout(
        t, 0.6, True, seed=1)),
    # Block 1 draws sparse seeds at a low rate, dense noise at a high one.
    "dropblock_b1_low_rate": ((2, 9, 9, 4), lambda t: dropblock(
        t, 0.9, 1, True, seed=3)),
}
GRAPH_SEED = 1234

# Recorded at 3b837fe's tree (+ this test), 2026-12-01; the same on TF
# 1.15.5, 2.15.1 and 2.21.0 (graph, static graph and eager). The two
# channels-first cases changed on purpose when seeds came to be drawn in
# the input's own layout (graph mode's block map, 2026-12-01, session 3).
# `dropblock_b1` (rate 0.3) changed when block 1 came to draw dense noise
# above rate 0.125; `dropblock_b1_low_rate` (rate 0.1, sparse seeds) was
# added then (session 4, the same on 1.15.5, 2.15.1 and 2.21.0). Every
# case that draws sparse seeds changed when the geometric gaps came to be
# drawn from one 32-bit word each instead of a float64 uniform (session 10,
# 2026-12-06; the same on 1.15.5, 2.15.1 and 2.21.0); XLA's sampler, the
# dense block-1 draw and spatial_dropout did not change.
GOLDEN = {
    'dropblock_nhwc_b3/graph': ('d9c44b7024c6030a', 212, 1.2255),
    'dropblock_nhwc_b3/graph_static': ('d9c44b7024c6030a', 212, 1.2255),
    'dropblock_nhwc_b3/eager': ('d9c44b7024c6030a', 212, 1.2255),
    'dropblock_nchw_b2x3/graph': ('66f9b9f33bdd4212', 198, 1.2075),
    'dropblock_nchw_b2x3/graph_static': ('66f9b9f33bdd4212', 198, 1.2075),
    'dropblock_nchw_b2x3/eager': ('66f9b9f33bdd4212', 198, 1.2075),
    'dropblock_b1/graph': ('abf7a7c9a378baa6', 205, 1.4628),
    'dropblock_b1/graph_static': ('abf7a7c9a378baa6', 205, 1.4628),
    'dropblock_b1/eager': ('abf7a7c9a378baa6', 205, 1.4628),
    'dropblock_b7_256ch/graph': ('5d8bfd25d1543b3e', 2315, 1.0994),
    'dropblock_b7_256ch/graph_static': ('5d8bfd25d1543b3e', 2315, 1.0994),
    'dropblock_b7_256ch/eager': ('5d8bfd25d1543b3e', 2315, 1.0994),
    'dropblock_nwc_b4/graph': ('94eebb7d105a3c1a', 24, 1.1538),
    'dropblock_nwc_b4/graph_static': ('94eebb7d105a3c1a', 24, 1.1538),
    'dropblock_nwc_b4/eager': ('94eebb7d105a3c1a', 24, 1.1538),
    'dropblock_ncdhw_b2/graph': ('5bb051711267b23b', 30, 1.1163),
    'dropblock_ncdhw_b2/graph_static': ('5bb051711267b23b', 30, 1.1163),
    'dropblock_ncdhw_b2/eager': ('5bb051711267b23b', 30, 1.1163),
    'dropblock_shared_example/graph': ('97ae80eb3be30d67', 354, 1.2576),
    'dropblock_shared_example/graph_static': ('97ae80eb3be30d67', 354, 1.2576),
    'dropblock_shared_example/eager': ('97ae80eb3be30d67', 354, 1.2576),
    'spatial_dropout_nhwc/graph': ('5dc53eb60f960343', 304, 1.6667),
    'spatial_dropout_nhwc/graph_static': ('5dc53eb60f960343', 304, 1.6667),
    'spatial_dropout_nhwc/eager': ('5dc53eb60f960343', 304, 1.6667),
    'dropblock_b1_low_rate/graph': ('3b8bbed7bbeaa4a9', 76, 1.1329),
    'dropblock_b1_low_rate/graph_static': ('3b8bbed7bbeaa4a9', 76, 1.1329),
    'dropblock_b1_low_rate/eager': ('3b8bbed7bbeaa4a9', 76, 1.1329),
}
# XLA draws its noise key differently from release to release (2.15.1 and
# 2.21.0 disagree), so its golden values are per TF version; other
# versions skip the XLA comparison.
GOLDEN_XLA = {
    (2, 15): {
        'dropblock_nhwc_b3/xla': ('51a66ac16af9a126', 191, 1.1988),
        'dropblock_nchw_b2x3/xla': ('422d94ee3fa50b09', 244, 1.2687),
        'dropblock_b1/xla': ('5356e2b6f43ce98e', 185, 1.3996),
        'dropblock_b7_256ch/xla': ('a3a07a07fec322d8', 2143, 1.0914),
        'dropblock_nwc_b4/xla': ('c218ebb4ea19c641', 42, 1.3043),
        'dropblock_ncdhw_b2/xla': ('edd10fb297cc27de', 59, 1.2576),
        'dropblock_shared_example/xla': ('990f396b4ee25b4f', 243, 1.1636),
        'spatial_dropout_nhwc/xla': ('8edc95c4360f4891', 288, 1.6667),
        'dropblock_b1_low_rate/xla': ('d12ba42e2de4d9e5', 67, 1.1153),
    },
    (2, 21): {
        'dropblock_nhwc_b3/xla': ('231400a099c75ca9', 201, 1.2114),
        'dropblock_nchw_b2x3/xla': ('56f5a937d73246cf', 218, 1.2334),
        'dropblock_b1/xla': ('701002abe3abcff9', 192, 1.4211),
        'dropblock_b7_256ch/xla': ('7e249b63a47a565d', 2574, 1.1118),
        'dropblock_nwc_b4/xla': ('227c16501e084815', 46, 1.3433),
        'dropblock_ncdhw_b2/xla': ('97c85679eaf2f6df', 38, 1.152),
        'dropblock_shared_example/xla': ('45aca4fc997165b4', 204, 1.1339),
        'spatial_dropout_nhwc/xla': ('fbb7d6967343a119', 288, 1.6667),
        'dropblock_b1_low_rate/xla': ('743cbe6690c093d7', 61, 1.1039),
    },
}


def fingerprint(y):
  """(hash of the zero pattern, zero count, mean kept value) of `y`."""
  y = np.asarray(y, np.float64)
  zero = y == 0
  digest = hashlib.sha256(np.packbits(zero).tobytes()).hexdigest()[:16]
  kept = y[~zero]
  return digest, int(zero.sum()), round(float(kept.mean()), 4) if kept.size \
      else 0.0


def _static_graph_run(fn, x):
  with tf.Graph().as_default():
    tf.set_random_seed(GRAPH_SEED)
    y = fn(tf.constant(x))
    with tf.Session() as sess:
      return sess.run(y)


def compute(name, mode):
  shape, fn = CASES[name]
  x = np.ones(shape, np.float32)
  if mode == "graph_static":
    return fingerprint(_static_graph_run(fn, x))
  return fingerprint(_testing.run(mode, fn, x, graph_seed=GRAPH_SEED))


def modes():
  return ("graph", "graph_static") + (
      ("eager", "xla") if compat.IS_TF2 else ())


def xla_fingerprints():
  """{case/xla: fingerprint}, computed in a fresh process in CASES order.

  Under XLA the op-level seed fixes the first masks of a process only: the
  compiled stateful key draw continues its stream from call to call (even
  after `tf.random.set_seed`), so a process's history changes them.
  """
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [root] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
             TF_CPP_MIN_LOG_LEVEL="3")
  output = subprocess.run(
      [sys.executable, os.path.abspath(__file__), "--xla_json"], env=env,
      check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
  return {key: tuple(value) for key, value in
          json.loads(output.decode().strip().splitlines()[-1]).items()}


class GoldenTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(*[(name, name) for name in CASES])
  def test_masks_are_unchanged(self, name):
    for mode in ("graph", "graph_static") + (
        ("eager",) if compat.IS_TF2 else ()):
      key = "%s/%s" % (name, mode)
      self.assertEqual(compute(name, mode), tuple(GOLDEN[key]), msg=key)

  def test_xla_masks_are_unchanged(self):
    if compat.TF_VERSION not in GOLDEN_XLA:
      self.skipTest("No XLA golden values for TF %d.%d." % compat.TF_VERSION)
    golden = GOLDEN_XLA[compat.TF_VERSION]
    for key, value in xla_fingerprints().items():
      self.assertEqual(value, tuple(golden[key]), msg=key)


if __name__ == "__main__":
  if "--xla_json" in sys.argv:
    print(json.dumps({"%s/xla" % case: compute(case, "xla")
                      for case in CASES}))
  elif "--print" in sys.argv:
    for case in CASES:
      for run_mode in ("graph", "graph_static", "eager")[
          :3 if compat.IS_TF2 else 2]:
        print("    %r: %r," % ("%s/%s" % (case, run_mode),
                               compute(case, run_mode)))
    if compat.IS_TF2:
      for key, value in xla_fingerprints().items():
        print("    %r: %r," % (key, value))
  else:
    tf.test.main()
