"""Y-PSNR as SR papers compute it (legacy_examples/sr_example/metrics.py)."""

import math

from absl.testing import parameterized
import numpy as np

from tests import _sr_testing  # Sets the example's import path.
from tf1_dropblock.compat import tf
from sr_example import metrics  # pylint: disable=g-bad-import-order

class MetricsTest(parameterized.TestCase):

  def test_identical_images_give_inf(self):
    image = _sr_testing.smooth_image(0, 20, 24)
    self.assertEqual(metrics.psnr_y(image, image, 2), float("inf"))

  @parameterized.parameters(1, 3, 10)
  def test_constant_offset_has_its_analytic_psnr(self, offset):
    image = _sr_testing.smooth_image(1, 30, 20)
    shifted = image + np.uint8(offset)
    # RGB + k shifts Y by k * (65.481 + 128.553 + 24.966) / 255 = k * 219/255.
    expected = 20 * math.log10(255.0 / (offset * 219.0 / 255.0))
    self.assertAlmostEqual(metrics.psnr_y(shifted, image, 3), expected,
                           places=9)

  def test_y_of_white_and_black(self):
    self.assertAlmostEqual(metrics.rgb_to_y(np.full((1, 1, 3), 255))[0, 0],
                           235.0, places=9)
    self.assertAlmostEqual(metrics.rgb_to_y(np.zeros((1, 1, 3)))[0, 0], 16.0)

  def test_shave_removes_the_border_only(self):
    image = np.arange(7 * 9 * 3).reshape(7, 9, 3)
    self.assertEqual(metrics.shave(image, 2).shape, (3, 5, 3))
    np.testing.assert_array_equal(metrics.shave(image, 2), image[2:5, 2:7])
    # The shaved border does not count.
    other = image.copy()
    other[0, 0] = 0
    self.assertEqual(metrics.psnr_y(other.astype(np.uint8),
                                   image.astype(np.uint8), 1), float("inf"))


if __name__ == "__main__":
  tf.test.main()
