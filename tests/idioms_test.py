"""The TF1 idioms legacy code calls the ops in, where the TF version has them.

`tf.compat.v1.layers` models (TF 1.15, TF <= 2.15, or tf_keras with
TF_USE_LEGACY_KERAS=1), `tf.estimator` (gone from TF 2.16), a
`MonitoredTrainingSession` with checkpoints, and a frozen inference graph.
Each test skips itself, saying why, where its idiom does not exist.
"""

import os

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf


def _images(batch=8, size=12, channels=3, seed=0):
  rng = np.random.RandomState(seed)
  return rng.uniform(size=(batch, size, size, channels)).astype(np.float32)


def _conv_net(images, training, use_v1_layers):
  """conv -> batch norm -> relu -> dropblock -> spatial dropout -> logits."""
  if use_v1_layers:
    h = tf.layers.conv2d(images, 16, 3, padding="same", name="conv")
    # A short run: moving averages that follow the batch statistics fast.
    h = tf.layers.batch_normalization(h, training=training, momentum=0.5,
                                      name="bn")
  else:
    kernel = tf.get_variable("conv/kernel", [3, 3, 3, 16])
    h = tf.nn.conv2d(images, kernel, [1, 1, 1, 1], "SAME")
  h = tf.nn.relu(h)
  h = dropblock(h, 0.8, 3, training=training, seed=1)
  h = spatial_dropout(h, 0.9, training=training, seed=2)
  weights = tf.get_variable("logits/kernel", [16, 4])
  return tf.matmul(tf.reduce_mean(h, [1, 2]), weights)


class V1LayersTest(tf.test.TestCase):

  def test_layers_model_trains_in_a_session(self):
    if not compat.has_v1_layers():
      self.skipTest("tf.compat.v1.layers needs Keras 2: TF <= 2.15, or "
                    "tf_keras with TF_USE_LEGACY_KERAS=1 (found TF %s with "
                    "Keras 3)." % compat.VERSION)
    x, labels = _images(), np.arange(8) % 4
    with tf.Graph().as_default():
      tf.set_random_seed(0)
      images = tf.placeholder(tf.float32, [None, 12, 12, 3])
      is_training = tf.placeholder(tf.bool, [])
      logits = _conv_net(images, is_training, use_v1_layers=True)
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=labels, logits=logits))
      with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.AdamOptimizer(1e-2).minimize(loss)
      with self.session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {images: x, is_training: False})
        for _ in range(40):
          sess.run(train, {images: x, is_training: True})
        last = sess.run(loss, {images: x, is_training: False})
        evals = [sess.run(logits, {images: x, is_training: False})
                 for _ in range(2)]
    self.assertLess(last, first)
    self.assertAllEqual(evals[0], evals[1])  # Nothing random at eval.


class EstimatorTest(tf.test.TestCase):

  def test_train_evaluate_predict(self):
    estimator_module = getattr(tf, "estimator", None)
    if estimator_module is None or not hasattr(estimator_module,
                                               "Estimator"):
      self.skipTest("tf.estimator is gone from TF %s (removed in 2.16)."
                    % compat.VERSION)
    x, labels = _images(16), (np.arange(16) % 4).astype(np.int32)
    modes_seen = []

    def model_fn(features, labels, mode):
      training = mode == tf.estimator.ModeKeys.TRAIN
      modes_seen.append((mode, training))
      logits = _conv_net(features, training, use_v1_layers=False)
      if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=logits)
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=labels, logits=logits))
      train = tf.train.AdamOptimizer(1e-2).minimize(
          loss, global_step=tf.train.get_or_create_global_step())
      return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train)

    def input_fn():
      return tf.data.Dataset.from_tensor_slices((x, labels)).batch(8)

    estimator = tf.estimator.Estimator(
        model_fn, model_dir=os.path.join(self.get_temp_dir(), "model"))
    estimator.train(lambda: input_fn().repeat(), steps=20)
    metrics = estimator.evaluate(input_fn)
    predictions = [list(estimator.predict(lambda: tf.data.Dataset.
                                          from_tensor_slices(x).batch(8)))
                   for _ in range(2)]
    self.assertEqual(metrics["global_step"], 20)
    self.assertTrue(np.isfinite(metrics["loss"]))
    self.assertAllEqual(np.stack(predictions[0]), np.stack(predictions[1]))
    self.assertEqual({training for _, training in modes_seen}, {True, False})


class MonitoredSessionTest(tf.test.TestCase):

  def test_checkpoint_saved_and_restored(self):
    checkpoint_dir = os.path.join(self.get_temp_dir(), "monitored")
    x = _images()

    def build():
      images = tf.constant(x)
      is_training = tf.placeholder_with_default(True, [])
      logits = _conv_net(images, is_training, use_v1_layers=False)
      loss = tf.reduce_mean(tf.square(logits))
      step = tf.train.get_or_create_global_step()
      train = tf.train.GradientDescentOptimizer(1e-2).minimize(
          loss, global_step=step)
      return is_training, logits, step, train

    with tf.Graph().as_default():
      tf.set_random_seed(0)
      _, _, step, train = build()
      with tf.train.MonitoredTrainingSession(
          checkpoint_dir=checkpoint_dir, save_checkpoint_steps=5,
          log_step_count_steps=None) as sess:
        for _ in range(7):
          sess.run(train)
        saved_weights = sess.run(tf.trainable_variables())
    self.assertIsNotNone(tf.train.latest_checkpoint(checkpoint_dir))
    with tf.Graph().as_default():
      is_training, logits, step, train = build()
      with tf.train.MonitoredTrainingSession(
          checkpoint_dir=checkpoint_dir, save_checkpoint_steps=None,
          save_checkpoint_secs=None, log_step_count_steps=None) as sess:
        self.assertEqual(sess.run(step), 7)  # Saved at the end.
        for restored, saved in zip(sess.run(tf.trainable_variables()),
                                   saved_weights):
          self.assertAllEqual(restored, saved)
        sess.run(train)
        self.assertEqual(sess.run(step), 8)


class FrozenGraphTest(tf.test.TestCase):

  def test_inference_graph_has_no_random_op_and_same_outputs(self):
    x = _images()
    with tf.Graph().as_default() as graph:
      images = tf.placeholder(tf.float32, [None, 12, 12, 3], name="images")
      logits = tf.identity(_conv_net(images, False, use_v1_layers=False),
                           name="logits")
      with self.session(graph=graph) as sess:
        sess.run(tf.global_variables_initializer())
        expected = sess.run(logits, {images: x})
        frozen = tf.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), ["logits"])
    self.assertEmpty([node.name for node in frozen.node
                      if "Random" in node.op or "Stateless" in node.op])
    with tf.Graph().as_default() as graph:
      tf.import_graph_def(frozen, name="")
      with self.session(graph=graph) as sess:
        actual = sess.run("logits:0", {"images:0": x})
    self.assertAllEqual(actual, expected)


if __name__ == "__main__":
  tf.test.main()
