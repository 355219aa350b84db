"""Images, degradation and batches (sr_example/data.py)."""

import os

import numpy as np

from tests import _sr_testing  # Sets the example's import path.
from tf1_dropblock.compat import tf
from sr_example import data  # pylint: disable=g-bad-import-order
from sr_example import settings  # pylint: disable=g-bad-import-order

class DataTest(tf.test.TestCase):

  def test_degradation_shapes_and_constant_image(self):
    image = np.full((51, 38, 3), 77, np.uint8)
    for scale in (2, 3, 4):
      (hr, lr, bicubic), = data.degrade([image], scale)
      self.assertEqual(hr.shape, (51 - 51 % scale, 38 - 38 % scale, 3))
      self.assertEqual(lr.shape, (hr.shape[0] // scale, hr.shape[1] // scale,
                                  3))
      self.assertEqual(bicubic.shape, hr.shape)
      self.assertEqual(lr.dtype, np.uint8)
      self.assertTrue(np.all(lr == 77) and np.all(bicubic == 77))

  def test_downscale_is_antialiased(self):
    # A 1-pixel checkerboard averages to grey only with an antialiasing
    # kernel; point-sampling bicubic would keep extreme values.
    board = (np.indices((32, 32)).sum(0) % 2 * 255).astype(np.uint8)
    (_, lr, _), = data.degrade([np.stack([board] * 3, -1)], 2)
    self.assertLess(np.abs(lr.astype(float) - 127.5).max(), 10)

  def test_batches_are_aligned_and_depend_only_on_seed_and_step(self):
    scale = 2
    # Block-constant HR images: every flip or transpose of an aligned HR
    # patch, subsampled, is the same flip of its LR patch.
    lr = [_sr_testing.smooth_image(i, 20, 25) for i in range(3)]
    hr = [image.repeat(scale, 0).repeat(scale, 1) for image in lr]
    lr_batch, hr_batch = data.sample_batch(lr, hr, 3, 17, 8, 16, scale)
    self.assertEqual(lr_batch.shape, (8, 8, 8, 3))
    self.assertEqual(hr_batch.shape, (8, 16, 16, 3))
    np.testing.assert_array_equal(lr_batch, hr_batch[:, ::scale, ::scale])
    again = data.sample_batch(lr, hr, 3, 17, 8, 16, scale)
    np.testing.assert_array_equal(again[1], hr_batch)
    other = data.sample_batch(lr, hr, 3, 18, 8, 16, scale)
    self.assertFalse(np.array_equal(other[1], hr_batch))

  def test_bundled_images_are_disjoint_and_load(self):
    self.assertFalse(set(data.BUNDLED_TRAIN) & set(data.BUNDLED_TEST))
    for name, image in data.bundled_images(data.BUNDLED_TEST):
      self.assertEqual(image.dtype, np.uint8, name)
      self.assertEqual(image.shape[2], 3, name)

  def test_folder_errors(self):
    tmp = self.get_temp_dir()
    with self.assertRaisesRegex(settings.DataError,
                                "--data_dir=.* not a folder"):
      data.load_folder(os.path.join(tmp, "missing"), "data_dir")
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty, exist_ok=True)
    with self.assertRaisesRegex(settings.DataError, "--test_dir=.* no PNG"):
      data.load_folder(empty, "test_dir")
    broken = os.path.join(tmp, "broken")
    os.makedirs(broken, exist_ok=True)
    with open(os.path.join(broken, "bad.png"), "wb") as f:
      f.write(b"not an image")
    with self.assertRaisesRegex(
        settings.DataError, "Cannot read image .*bad.png: .*(image|JPEG)") as e:
      data.load_folder(broken, "data_dir")
    self.assertNotIn("Graph execution error", str(e.exception))
    self.assertNotIn("[[", str(e.exception))


if __name__ == "__main__":
  tf.test.main()
