"""Our ops against Keras's own layers where Keras has the same semantics.

Keras's SpatialDropout1D/2D/3D are what `spatial_dropout` matches: whole
feature maps dropped with probability `rate`, kept ones scaled by
1 / (1 - rate), nothing dropped in inference. Bounds at 5 sd, derived
beside each assertion.
"""

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf


def _maps(y):
  """[N * C, spatial] rows, one per (example, channel) map (channels last)."""
  y = np.moveaxis(np.asarray(y), -1, 1)
  return y.reshape(y.shape[0] * y.shape[1], -1)


class KerasSpatialDropoutTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    if not compat.IS_TF2:
      self.skipTest("Compared with eager Keras (TF 2.x).")
    self.keras = compat.keras()

  def test_same_semantics_as_keras_spatial_dropout(self):
    keep_prob = 0.7
    for keras_cls, shape in (
        (self.keras.layers.SpatialDropout1D, (200, 6, 8)),
        (self.keras.layers.SpatialDropout2D, (200, 4, 5, 8)),
        (self.keras.layers.SpatialDropout3D, (200, 2, 3, 4, 8))):
      x = np.full(shape, 2.0, np.float32)
      theirs = keras_cls(1.0 - keep_prob)
      outputs = {"keras": theirs(x, training=True),
                 "ours": spatial_dropout(x, keep_prob, training=True)}
      kept_values = set()
      for name, y in outputs.items():
        maps = _maps(y)
        # Whole maps, all kept or all dropped.
        self.assertAllEqual(maps, np.broadcast_to(maps[:, :1], maps.shape),
                            msg=name)
        kept_values |= set(np.unique(maps[:, 0][maps[:, 0] != 0]))
        # 1600 maps kept with probability 0.7: sd sqrt(.21 / 1600) = 0.0115.
        self.assertNear(np.mean(maps[:, 0] != 0), keep_prob, 5 * 0.0115,
                        msg=name)
      # The same scale 1 / keep_prob in both.
      for value in kept_values:
        self.assertNear(value, 2.0 / keep_prob, 1e-5)
      # Both are the identity in inference.
      self.assertAllEqual(theirs(x, training=False), x)
      self.assertAllEqual(spatial_dropout(x, keep_prob, training=False), x)


if __name__ == "__main__":
  tf.test.main()
