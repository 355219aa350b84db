"""The mask picture: masks are right, and the PNG is written."""

import os
import unittest

import numpy as np

from tf1_dropblock import visualize
from tf1_dropblock.compat import tf
from tests import numpy_reference


class VisualizeTest(tf.test.TestCase):

  def test_masks(self):
    maps, masks = visualize.draw_masks(seed=1)
    self.assertEqual(maps.shape, (visualize.BATCH, visualize.SIZE,
                                  visualize.SIZE))
    for label, mask in masks.items():
      self.assertTrue(set(np.unique(mask)) <= {0.0, 1.0}, label)
      self.assertTrue(np.any(mask == 0), label)
      if label.startswith("DropBlock b"):
        block = int(label.split(",")[0].split()[1][1:])
        self.assertTrue(numpy_reference.zeros_lie_in_full_blocks(
            mask[..., None], block), label)
      else:  # Spatial dropout [batch, channels, H, W]: whole maps.
        self.assertTrue(np.all(mask.min(axis=(2, 3)) == mask.max(axis=(2, 3))))
    ours = masks["DropBlock b3, keep 0.7"]
    self.assertFalse(np.array_equal(ours[0], ours[1]))

  def test_writes_png(self):
    try:
      import matplotlib  # pylint: disable=g-import-not-at-top,unused-import
    except ImportError:
      raise unittest.SkipTest("matplotlib is not installed")
    path = os.path.join(self.get_temp_dir(), "masks.png")
    visualize.main(["--out", path, "--seed", "3"])
    with open(path, "rb") as f:
      self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
  tf.test.main()
