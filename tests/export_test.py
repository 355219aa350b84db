"""Distribution (per-replica masks) and SavedModel export of a TF1 graph."""

import os
import subprocess
import sys
import unittest

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

_DISTRIBUTE_CHILD = "--distribute-child"


def _distribute_child():
  """Runs in a fresh process: two logical CPUs must be set before TF starts."""
  import tensorflow as tf2  # pylint: disable=g-import-not-at-top
  cpu = tf2.config.list_physical_devices("CPU")[0]
  tf2.config.set_logical_device_configuration(
      cpu, [tf2.config.LogicalDeviceConfiguration()] * 2)
  strategy = tf2.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
  x = tf2.ones([2, 16, 16, 4])
  for op in (lambda t: dropblock(t, 0.6, 3, True, seed=7),
             lambda t: spatial_dropout(t, 0.5, True, seed=7)):
    for run in (strategy.run, tf2.function(strategy.run)):
      per_replica = run(op, args=(x,))
      values = [np.asarray(v) for v in strategy.experimental_local_results(
          per_replica)]
      assert len(values) == 2, len(values)
      assert all(np.any(v == 0) for v in values), "no drops"
      assert not np.array_equal(values[0], values[1]), "replicas share masks"
  print("distribute child OK")


class DistributeTest(unittest.TestCase):

  @unittest.skipUnless(compat.IS_TF2, "tf.distribute replicas need TF 2.x.")
  def test_each_replica_draws_its_own_masks(self):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [root] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__), _DISTRIBUTE_CHILD],
        env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=600, check=False)
    self.assertEqual(result.returncode, 0, result.stdout[-4000:])
    self.assertIn("distribute child OK", result.stdout)


class SavedModelTest(tf.test.TestCase):

  def _build(self):
    """A TF1 graph: conv, DropBlock behind a `training` placeholder."""
    x = tf.placeholder(tf.float32, [None, None, None, 3], name="x")
    training = tf.placeholder_with_default(False, [], name="training")
    kernel = tf.get_variable("kernel", [3, 3, 3, 4], initializer=tf.
                             random_normal_initializer(seed=1))
    hidden = tf.nn.conv2d(x, kernel, [1, 1, 1, 1], "SAME")
    y = dropblock(hidden, 0.7, 3, training=training, seed=2)
    return x, training, y

  def test_export_in_inference_mode_and_reload(self):
    path = os.path.join(self.get_temp_dir(), "saved_model")
    inputs = np.random.RandomState(0).normal(size=(2, 9, 11, 3))
    inputs = inputs.astype(np.float32)
    with tf.Graph().as_default():
      x, training, y = self._build()
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expected = sess.run(y, {x: inputs})
        self.assertGreater(np.count_nonzero(
            sess.run(y, {x: inputs, training: True}) == 0), 0)
        builder = tf.saved_model.builder.SavedModelBuilder(path)
        signature = tf.saved_model.signature_def_utils.predict_signature_def(
            inputs={"x": x}, outputs={"y": y})
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.tag_constants.SERVING],
            signature_def_map={"serving_default": signature})
        builder.save()
    with tf.Graph().as_default():
      with tf.Session() as sess:
        meta = tf.saved_model.loader.load(
            sess, [tf.saved_model.tag_constants.SERVING], path)
        signature = meta.signature_def["serving_default"]
        loaded = sess.run(signature.outputs["y"].name,
                          {signature.inputs["x"].name: inputs})
    self.assertAllEqual(loaded, expected)
    if compat.IS_TF2:
      import tensorflow as tf2  # pylint: disable=g-import-not-at-top
      serving = tf2.saved_model.load(path).signatures["serving_default"]
      self.assertAllEqual(serving(x=tf2.constant(inputs))["y"], expected)


if __name__ == "__main__":
  if _DISTRIBUTE_CHILD in sys.argv:
    _distribute_child()
  else:
    tf.test.main()
