"""The SR network: identical starts, the dropout arm (sr_example/network.py)."""

from unittest import mock

import numpy as np

from tests import _sr_testing  # Sets the example's import path.
from tf1_dropblock.compat import tf
from sr_example import network  # pylint: disable=g-bad-import-order
from sr_example import settings  # pylint: disable=g-bad-import-order

class SeedingTest(tf.test.TestCase):

  def test_arms_start_from_identical_weights(self):
    config = settings.Config(channels=8, num_blocks=2, placement="all")
    weights = {}
    for arm in settings.ARMS:
      model = network.Model(config, arm, seed=4)
      weights[arm] = model.initial_weights()
      model.close()
    model = network.Model(config, "none", seed=5)
    other_seed = model.initial_weights()
    model.close()
    self.assertGreater(len(weights["none"]), 4)
    for arm in ("dropout", "dropblock", "spatial_dropout", "control"):
      self.assertEqual(sorted(weights[arm]), sorted(weights["none"]))
      for name, value in weights["none"].items():
        self.assertAllEqual(weights[arm][name], value, msg=name)
    self.assertNotAllClose(other_seed["sr_net/head/kernel"],
                           weights["none"]["sr_net/head/kernel"])


def _outputs(config, arm, keep_prob, lr):
  """{training: [two SR outputs]} of a freshly built network."""
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    lr_t = tf.placeholder(tf.float32, [None, None, None, 3])
    training = tf.placeholder(tf.bool, [])
    sr = network.build_network(lr_t, training, keep_prob, config, arm,
                               seed=0)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return {t: [sess.run(sr, {lr_t: lr, training: t}) for _ in range(2)]
              for t in (False, True)}


class DropoutArmTest(tf.test.TestCase):

  def test_drops_only_when_training(self):
    config = settings.Config(channels=8, num_blocks=1, placement="last")
    lr = np.random.RandomState(0).uniform(size=(2, 12, 12, 3))
    runs = _outputs(config, "dropout", 0.5, lr)
    self.assertAllEqual(runs[False][0], runs[False][1])
    self.assertNotAllClose(runs[True][0], runs[True][1])
    self.assertNotAllClose(runs[True][0], runs[False][0])

  def test_control_is_dropout_after_every_block_whatever_the_settings(self):
    # keep_prob 1 and one regulariser before the last conv: the control arm
    # still drops, at CONTROL_KEEP_PROB, after each of the 3 blocks.
    config = settings.Config(channels=8, num_blocks=3, placement="last",
                             keep_prob=1.0)
    rates = []
    real_dropout = tf.nn.dropout

    def recording_dropout(x, rate, **kwargs):
      rates.append(rate)
      return real_dropout(x, rate=rate, **kwargs)

    lr = np.random.RandomState(0).uniform(size=(1, 8, 8, 3))
    with mock.patch.object(tf.nn, "dropout", recording_dropout):
      out = _outputs(config, "control", 1.0, lr)
    self.assertEqual(rates, [1.0 - settings.CONTROL_KEEP_PROB] * 3)
    self.assertAllEqual(out[False][0], out[False][1])
    self.assertNotAllClose(out[True][0], out[True][1])


if __name__ == "__main__":
  tf.test.main()
