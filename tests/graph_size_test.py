"""Ops that one call adds to a graph, against the budgets in `_testing`.

Legacy TF1 models call the ops dozens of times; every op is built, placed
and scheduled on each `Session.run`. The counts are printed (run with -s to
see them). This file counts in the process's default behaviour: TF 2.x
control flow on TF 2.x (a tensor `training` builds an `If` whose branches
live in the function library, counted too), TF1 control flow on TF 1.15;
`graph_v1_test.py` counts with v2 behaviour disabled.
"""

from absl.testing import parameterized

from tests import _testing
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

_OPS = {
    "dropblock": lambda x, k, t, f: dropblock(x, k, 3, t, data_format=f),
    # Block 1 with a tensor keep_prob switches between two draws.
    "dropblock_block1": lambda x, k, t, f: dropblock(x, k, 1, t,
                                                     data_format=f),
    "dropblock_block7": lambda x, k, t, f: dropblock(x, k, 7, t,
                                                     data_format=f),
    "spatial_dropout": lambda x, k, t, f: spatial_dropout(
        x, k, t, data_format=f),
}


class GraphSizeTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(
      *[(name + "_" + fmt, name, fmt) for name in _OPS
        for fmt in ("NHWC", "NCHW")])
  def test_ops_per_call_within_budget(self, name, data_format):
    for label, shape in _testing.GRAPH_SIZE_SHAPES:
      for tensors, budget in ((False, _testing.MAX_OPS_PYTHON_TRAINING),
                              (True, _testing.MAX_OPS_TENSOR_TRAINING)):
        count = _testing.ops_per_call(_OPS[name], shape, tensors,
                                      data_format)
        print("ops per call: %s %s %s %s: %d" % (
            name, data_format, label, "tensor keep_prob and training"
            if tensors else "Python values", count))
        self.assertLessEqual(count, budget, msg=(label, tensors))
        self.assertGreater(count, 5)  # It did build the op.

  @parameterized.named_parameters(("python_training", False),
                                  ("tensor_training", True))
  def test_later_calls_share_one_function(self, tensors):
    # In a TF1 graph the multiplier is one library function per
    # configuration: a second call on another shape adds its call site,
    # not the ~90 ops of the multiplier again.
    graph = tf.Graph()
    with graph.as_default():
      keep_prob = tf.placeholder(tf.float32, []) if tensors else 0.9
      training = tf.placeholder(tf.bool, []) if tensors else True
      first = tf.placeholder(tf.float32, [None, 14, 14, 256])
      second = tf.placeholder(tf.float32, [None, 7, 7, 512])
      dropblock(first, keep_prob, 7, training)
      before = _testing.all_nodes(graph)
      dropblock(second, keep_prob, 7, training)
      added = _testing.all_nodes(graph) - before
    print("ops added by a second call: %d" % added)
    self.assertLessEqual(added, 30 if tensors else 12)

  def test_not_training_adds_no_random_op(self):
    graph = tf.Graph()
    with graph.as_default():
      x = tf.placeholder(tf.float32, [None, None, None, 8])
      dropblock(x, 0.9, 3, training=False)
      spatial_dropout(x, 0.9, training=None)
      self.assertEmpty([op for op in graph.get_operations()
                        if "Random" in op.type])


if __name__ == "__main__":
  tf.test.main()
