"""Keras layers: training flag, config, saving, fit/predict, schedules."""

import os

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock.compat import tf
from tests import numpy_reference


def _keras():
  return compat.keras()


class LayersTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    if not compat.IS_TF2:
      self.skipTest("The layer tests use eager Keras (TF 2.x).")
    from tf1_dropblock import layers  # pylint: disable=g-import-not-at-top
    self.layers = layers
    self.keras = _keras()

  def _model(self, layer):
    keras = self.keras
    inputs = keras.Input((12, 12, 4))
    hidden = keras.layers.Conv2D(4, 1, kernel_initializer="ones")(inputs)
    return keras.Model(inputs, layer(hidden))

  def test_masks_in_training_identity_in_inference(self):
    for layer in (self.layers.DropBlock2D(0.6, 3, seed=1),
                  self.layers.SpatialDropout2D(0.5, seed=2)):
      x = np.ones((8, 12, 12, 4), np.float32)
      train = np.asarray(layer(x, training=True))
      self.assertGreater(np.count_nonzero(train == 0), 0)
      self.assertAllEqual(np.asarray(layer(x, training=False)), x)
      self.assertAllEqual(np.asarray(layer(x)), x)  # None: not training.

  def test_block_geometry_through_the_layer(self):
    layer = self.layers.DropBlock2D(0.7, (2, 3), data_format="channels_first")
    y = np.asarray(layer(np.ones((4, 3, 9, 10), np.float32), training=True))
    self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(
        y, (2, 3), "NCHW"))

  def test_config_round_trip(self):
    for cls, kwargs in (
        (self.layers.DropBlock2D, dict(keep_prob=0.8, block_size=(3, 5),
                                       data_format="channels_first", seed=4,
                                       ramp_steps=100, name="db")),
        (self.layers.SpatialDropout2D, dict(keep_prob=0.7, seed=3,
                                            name="sd"))):
      layer = cls(**kwargs)
      config = layer.get_config()
      clone = cls.from_config(config)
      self.assertEqual(clone.get_config(), config)
      for key, value in kwargs.items():
        self.assertEqual(config[key], value)

  def test_fit_predict_save_and_load(self):
    keras = self.keras
    for layer in (self.layers.DropBlock2D(0.8, 3, ramp_steps=10),
                  self.layers.SpatialDropout2D(0.8)):
      model = self._model(layer)
      model.compile(optimizer="sgd", loss="mse")
      x = np.random.RandomState(0).uniform(size=(8, 12, 12, 4))
      x = x.astype(np.float32)
      history = model.fit(x, x, batch_size=4, epochs=1, verbose=0)
      self.assertTrue(np.isfinite(history.history["loss"][0]))
      predicted = model.predict(x, verbose=0)
      self.assertAllClose(predicted, model(x, training=False))
      path = os.path.join(self.get_temp_dir(),
                          "model_%s.keras" % layer.__class__.__name__)
      model.save(path)
      loaded = keras.models.load_model(path)
      self.assertAllClose(loaded.predict(x, verbose=0), predicted)
      self.assertEqual(loaded.layers[-1].get_config(), layer.get_config())
      if layer.ramp_steps:
        # Two training batches were seen; the count is saved and restored.
        self.assertEqual(int(np.asarray(layer.steps_seen)), 2)
        self.assertEqual(int(np.asarray(loaded.layers[-1].steps_seen)), 2)

  def test_every_rank_masks_saves_loads_and_ramps(self):
    keras = self.keras
    rng = np.random.RandomState(3)
    cases = (
        (self.layers.DropBlock1D, dict(block_size=3), (24, 4),
         keras.layers.Conv1D),
        (self.layers.DropBlock3D, dict(block_size=(2, 3, 3)), (6, 8, 8, 4),
         keras.layers.Conv3D),
        (self.layers.SpatialDropout1D, {}, (24, 4), keras.layers.Conv1D),
        (self.layers.SpatialDropout3D, {}, (6, 8, 8, 4), keras.layers.Conv3D),
        (self.layers.DropBlock2D, dict(block_size=3, share_channels=True,
                                       normalize="example"), (12, 12, 4),
         keras.layers.Conv2D))
    for cls, kwargs, shape, conv in cases:
      name = cls.__name__
      layer = cls(keep_prob=0.7, seed=1, ramp_steps=4, **kwargs)
      x = np.ones((8,) + shape, np.float32)
      self.assertAllEqual(np.asarray(layer(x, training=False)), x)
      self.assertAllEqual(np.asarray(layer(x)), x)
      for _ in range(4):  # Ramp to keep_prob 0.7.
        y = np.asarray(layer(x, training=True))
      self.assertGreater(np.mean(y == 0), 0.05, msg=name)
      if name.startswith("Spatial"):
        maps = np.moveaxis(y, -1, 1).reshape(8 * shape[-1], -1)
        self.assertAllEqual(maps, np.broadcast_to(maps[:, :1], maps.shape))
      else:
        self.assertTrue(numpy_reference.zeros_lie_in_full_blocks_nd(
            y, kwargs["block_size"]), msg=name)
      if kwargs.get("share_channels"):
        self.assertAllEqual(y, np.broadcast_to(y[..., :1], y.shape))
      config = layer.get_config()
      self.assertEqual(cls.from_config(config).get_config(), config)
      for key, value in kwargs.items():
        self.assertEqual(config[key], value)
      # A model around it trains, predicts, saves and loads.
      inputs = keras.Input(shape)
      model = keras.Model(inputs, cls(0.8, ramp_steps=10, **kwargs)(
          conv(4, 1)(inputs)))
      model.compile(optimizer="sgd", loss="mse")
      data = rng.uniform(size=(8,) + shape).astype(np.float32)
      model.fit(data, data, batch_size=4, epochs=1, verbose=0)
      predicted = model.predict(data, verbose=0)
      path = os.path.join(self.get_temp_dir(), "model_%s.keras" % name)
      model.save(path)
      loaded = keras.models.load_model(path)
      self.assertAllClose(loaded.predict(data, verbose=0), predicted)
      self.assertEqual(int(np.asarray(loaded.layers[-1].steps_seen)), 2)
      self.assertEqual(loaded.layers[-1].get_config(),
                       model.layers[-1].get_config())

  def test_layers_refuse_inputs_of_another_rank(self):
    x = np.ones((2, 8, 8, 3), np.float32)
    for layer in (self.layers.DropBlock1D(0.8, 3),
                  self.layers.DropBlock3D(0.8, 3),
                  self.layers.SpatialDropout1D(0.8),
                  self.layers.SpatialDropout3D(0.8)):
      with self.assertRaisesRegex(ValueError, "is for rank-"):
        layer(x, training=True)

  def test_ramp_increases_drops_only_while_training(self):
    layer = self.layers.DropBlock2D(0.5, 3, ramp_steps=3, seed=1)
    x = np.ones((16, 16, 16, 8), np.float32)
    dropped = []
    for _ in range(4):
      dropped.append(np.mean(np.asarray(layer(x, training=True)) == 0))
      layer(x, training=False)  # Does not count.
    self.assertEqual(dropped[0], 0.0)  # keep_prob 1 at step 0.
    self.assertTrue(dropped[0] < dropped[1] < dropped[2] < dropped[3])
    self.assertEqual(int(np.asarray(layer.steps_seen)), 4)
    # From step 3 on keep_prob is 0.5: the exact expectation, with the
    # bound of dropblock_test (sd <= sqrt(p(1-p) * 25 / 32768) < 0.014).
    expected = numpy_reference.expected_dropped_fraction(0.5, 3, 16, 16)
    self.assertNear(dropped[3], expected, 5 * 0.014)

  def test_mixed_float16_trains_a_step(self):
    keras = self.keras
    mixed = keras.mixed_precision
    # Keras before TF 2.4 has only the experimental spelling.
    set_policy = getattr(mixed, "set_global_policy", None) or getattr(
        getattr(mixed, "experimental", None), "set_policy")
    set_policy("mixed_float16")
    try:
      inputs = keras.Input((12, 12, 4))
      hidden = keras.layers.Conv2D(4, 3, padding="same")(inputs)
      hidden = self.layers.DropBlock2D(0.1, 3)(hidden)
      outputs = keras.layers.Activation("linear", dtype="float32")(hidden)
      model = keras.Model(inputs, outputs)
      layer = model.layers[2]
      self.assertEqual(getattr(layer, "compute_dtype", None)
                       or layer._compute_dtype, "float16")  # TF 2.3.
      model.compile(optimizer="adam", loss="mse")
      x = np.random.RandomState(1).uniform(size=(8, 12, 12, 4))
      history = model.fit(x.astype(np.float32), x.astype(np.float32),
                          epochs=1, verbose=0)
      self.assertTrue(np.isfinite(history.history["loss"][0]))
      y = model.layers[2](tf.cast(np.full((2, 12, 12, 4), 100.0), tf.float16),
                          training=True)
      self.assertEqual(y.dtype, tf.float16)
      self.assertTrue(np.all(np.isfinite(np.asarray(y, np.float32))))
    finally:
      set_policy("float32")

  def test_bad_ramp_steps(self):
    with self.assertRaisesRegex(ValueError, "ramp_steps"):
      self.layers.DropBlock2D(0.9, 3, ramp_steps=-1)

  def test_constructor_rejects_bad_arguments(self):
    # As keras-cv's DropBlock2D and Keras's Dropout do: at construction,
    # naming the argument and the value, like the functional ops.
    cases = [
        (ValueError, r"keep_prob.*Received: keep_prob=1\.1",
         dict(keep_prob=1.1)),
        (ValueError, r"keep_prob.*Received: keep_prob=-0\.1",
         dict(keep_prob=-0.1)),
        (ValueError, r"keep_prob.*Received: keep_prob=0\.0",
         dict(keep_prob=0.0)),
        (TypeError, r"keep_prob.*Received: keep_prob='high'",
         dict(keep_prob="high")),
        (ValueError, r"block_size.*Received: block_size=0",
         dict(block_size=0)),
        (ValueError, r"block_size.*Received: block_size=\(3, 3, 3\)",
         dict(block_size=(3, 3, 3))),
        (TypeError, r"block_size.*Received: block_size=2\.5",
         dict(block_size=2.5)),
        (ValueError, r"data_format.*Received: data_format='NCDHW'",
         dict(data_format="NCDHW")),
        (ValueError, r"data_format.*Received: data_format='nhwc'",
         dict(data_format="nhwc")),
        (TypeError, r"seed.*Received: seed='1'", dict(seed="1")),
        (TypeError, r"ramp_steps.*Received: ramp_steps=1\.5",
         dict(ramp_steps=1.5)),
        (TypeError, r"ramp_steps.*Received: ramp_steps=True",
         dict(ramp_steps=True)),
    ]
    for error, message, kwargs in cases:
      with self.assertRaisesRegex(error, message, msg=kwargs):
        self.layers.DropBlock2D(**dict(dict(keep_prob=0.9, block_size=3),
                                       **kwargs))
      if "block_size" not in kwargs:
        with self.assertRaisesRegex(error, message, msg=kwargs):
          self.layers.SpatialDropout2D(**dict(dict(keep_prob=0.9),
                                              **kwargs))
    for error, message, kwargs in (
        (TypeError, r"share_channels.*Received: share_channels=1",
         dict(share_channels=1)),
        (ValueError, r"normalize.*Received: normalize='per_example'",
         dict(normalize="per_example"))):
      with self.assertRaisesRegex(error, message):
        self.layers.DropBlock2D(0.9, 3, **kwargs)
    for cls, good, bad in (
        (self.layers.DropBlock1D, "NCW", "NHWC"),
        (self.layers.DropBlock3D, "NCDHW", "NCW"),
        (self.layers.SpatialDropout1D, "NWC", "NDHWC"),
        (self.layers.SpatialDropout3D, "NDHWC", "NCHW")):
      cls(0.9, data_format=good)
      with self.assertRaisesRegex(
          ValueError, r"data_format.*Received: data_format='%s'" % bad):
        cls(0.9, data_format=bad)
    with self.assertRaisesRegex(ValueError, r"`block_size` needs 1 entries"):
      self.layers.DropBlock1D(0.9, (3, 3))
    # Good spellings construct.
    self.layers.DropBlock2D(1.0, (2, 5), data_format="NCHW", seed=3,
                            ramp_steps=0)
    self.layers.SpatialDropout2D(0.5, data_format="channels_first")


class LayersGraphModeTest(tf.test.TestCase):
  """The layers in a TF1 graph with a `training` placeholder (TF 1.15's
  tf.keras, or Keras 2 on TF 2.x); Keras 3 layers are eager/tf.function."""

  def test_training_placeholder_and_ramp(self):
    if compat.IS_TF2 and compat.is_keras3():
      self.skipTest("Keras 3 layers do not take TF1 graph placeholders.")
    from tf1_dropblock import layers  # pylint: disable=g-import-not-at-top
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, [None, 16, 16, 8])
      training = tf.placeholder(tf.bool, [])
      layer = layers.DropBlock2D(0.5, 3, ramp_steps=2, seed=1)
      y = layer(x, training=training)
      self.assertEqual(layers.DropBlock2D.from_config(
          layer.get_config()).get_config(), layer.get_config())
      ones = np.ones((8, 16, 16, 8), np.float32)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        dropped = [np.mean(sess.run(y, {x: ones, training: True}) == 0)
                   for _ in range(3)]
        self.assertAllEqual(sess.run(y, {x: ones, training: False}), ones)
        self.assertEqual(sess.run(layer.steps_seen), 3)
    self.assertEqual(dropped[0], 0.0)  # keep_prob 1 at step 0.
    self.assertTrue(0 < dropped[1] < dropped[2], dropped)


if __name__ == "__main__":
  tf.test.main()
