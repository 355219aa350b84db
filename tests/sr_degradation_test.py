"""Test degradations and the training images' held-out tiles
(sr_example/degradations.py, sr_example/data.py)."""

from unittest import mock

import numpy as np

from tests import _sr_testing  # Sets the example's import path.
from tf1_dropblock.compat import tf
from sr_example import data  # pylint: disable=g-bad-import-order
from sr_example import degradations  # pylint: disable=g-bad-import-order
from sr_example import metrics  # pylint: disable=g-bad-import-order
from sr_example import settings  # pylint: disable=g-bad-import-order


class BlurNoiseJpegTest(tf.test.TestCase):

  def test_blur_keeps_constants_and_spreads_a_point_by_sigma(self):
    for sigma in (0.2, 1.0, 2.0, 3.0):
      kernel = degradations.gaussian_kernel(sigma)
      self.assertAlmostEqual(kernel.sum(), 1.0)
      self.assertAllClose(kernel, kernel[::-1])
      constant = np.full((9, 7, 3), 42, np.uint8)
      self.assertAllClose(degradations.blur(constant, sigma), constant)
    # A point in a large image: its blur's variance along each axis is
    # sigma^2 (kernel truncated at 3 sigma: within 3 %).
    point = np.zeros((61, 61, 1))
    point[30, 30] = 1.0
    spread = degradations.blur(point, 2.0)[:, :, 0]
    self.assertAlmostEqual(spread.sum(), 1.0, places=6)
    rows = np.arange(61) - 30
    variance = (spread.sum(1) * rows ** 2).sum()
    self.assertAllClose(variance, 4.0, rtol=0.03)
    # Wider than the image: reflected, still a weighted mean.
    tiny = _sr_testing.smooth_image(0, 4, 5)
    out = degradations.blur(tiny, 3.0)
    self.assertEqual(out.shape, tiny.shape)
    self.assertTrue(np.all(out >= tiny.min()) and np.all(out <= tiny.max()))

  def test_noise_has_its_sigma(self):
    image = np.full((100, 100, 3), 128, np.uint8)
    noisy = degradations.add_noise(image, 20.0, np.random.RandomState(0))
    diff = noisy.astype(float) - 128
    # sd of a sample sd of n = 30000 normals: 20 / sqrt(2n) = 0.08; rounding
    # adds 1/12 to the variance. 6 standard errors:
    self.assertAllClose(diff.std(), np.sqrt(400 + 1 / 12.), atol=0.5)
    self.assertLess(abs(diff.mean()), 6 * 20 / np.sqrt(30000))
    self.assertEqual(noisy.dtype, np.uint8)

  def test_jpeg_loses_more_at_lower_quality(self):
    ops = degradations.ImageOps()
    try:
      image = _sr_testing.smooth_image(3, 64, 64)
      image = np.clip(image.astype(int) + np.random.RandomState(1).randint(
          -40, 40, image.shape), 0, 255).astype(np.uint8)
      psnr = {q: metrics.psnr_y(ops.jpeg(image, q), image, 0)
              for q in (30, 50, 95)}
    finally:
      ops.close()
    self.assertLess(psnr[30], psnr[50])
    self.assertLess(psnr[50], psnr[95])
    self.assertLess(psnr[95], float("inf"))

  def test_test_conditions_are_reproducible_per_image_name(self):
    hr = _sr_testing.smooth_image(4, 40, 40)
    ops = degradations.ImageOps()
    try:
      lr = {c: degradations.degrade_condition(ops, hr, 2, c, "a.png")
            for c in settings.CONDITIONS}
      again = degradations.degrade_condition(ops, hr, 2, "noise20", "a.png")
      other = degradations.degrade_condition(ops, hr, 2, "noise20", "b.png")
    finally:
      ops.close()
    for condition, image in lr.items():
      self.assertEqual(image.shape, (20, 20, 3), condition)
      if condition != "clean":
        self.assertFalse(np.array_equal(image, lr["clean"]), condition)
    self.assertAllEqual(again, lr["noise20"])
    self.assertFalse(np.array_equal(other, lr["noise20"]))
    # Blur removes detail the clean input keeps.
    self.assertLess(np.abs(np.diff(lr["blur2"].astype(float), axis=0)).mean(),
                    np.abs(np.diff(lr["clean"].astype(float), axis=0)).mean())

  def test_mixed_batches_draw_each_degradation_with_its_probability(self):
    calls = {"blur": 0, "noise": 0, "jpeg": 0}
    real_blur, real_noise = degradations.blur, degradations.add_noise

    def counting(name, real):
      def wrapped(*args):
        calls[name] += 1
        return real(*args)
      return wrapped

    hr = np.stack([_sr_testing.smooth_image(i, 16, 16) for i in range(400)])
    ops = degradations.ImageOps()
    try:
      with mock.patch.object(degradations, "blur",
                             counting("blur", real_blur)), \
          mock.patch.object(degradations, "add_noise",
                            counting("noise", real_noise)), \
          mock.patch.object(ops, "jpeg", counting("jpeg", ops.jpeg)):
        lr = degradations.degrade_mixed_batch(ops, hr, 2,
                                              np.random.RandomState(5))
      again = degradations.degrade_mixed_batch(ops, hr, 2,
                                               np.random.RandomState(5))
    finally:
      ops.close()
    self.assertEqual(lr.shape, (400, 8, 8, 3))
    self.assertAllEqual(lr, again)
    # Binomial(400, 0.5): sd 10; 4.5 sd either side.
    for name, count in calls.items():
      self.assertBetween(count, 155, 245, msg=name)


class HoldoutTest(tf.test.TestCase):

  def test_allowed_patches_are_exactly_those_off_the_held_out_tiles(self):
    scale, patch = 2, 8
    hr = np.zeros((40, 56, 3), np.uint8)
    allowed, seen, held = data.holdout_tiles(hr, scale, patch)
    rows, cols = 5, 7
    held_cells = [(i, j) for i in range(rows) for j in range(cols)
                  if (i + 2 * j) % 5 == 0]
    seen_cells = [(i, j) for i in range(rows) for j in range(cols)
                  if (i + 2 * j) % 5 == 2]
    self.assertEqual(len(held), len(held_cells))
    self.assertEqual(len(seen), len(seen_cells))
    # Brute force over every LR top-left corner.
    grid_h, grid_w = 20 - 4 + 1, 28 - 4 + 1
    expected = []
    for y in range(grid_h):
      for x in range(grid_w):
        top, left = y * scale, x * scale
        overlaps = any(top < (i + 1) * patch and i * patch < top + patch and
                       left < (j + 1) * patch and j * patch < left + patch
                       for i, j in held_cells)
        if not overlaps:
          expected.append(y * grid_w + x)
    self.assertAllEqual(allowed, expected)
    # Each seen tile is a place a training patch can take.
    for i, j in seen_cells:
      self.assertIn((i * patch // scale) * grid_w + j * patch // scale,
                    set(allowed))
    # Too few tiles: the whole image trains, no tiles to evaluate.
    self.assertEqual(data.holdout_tiles(np.zeros((8, 40, 3), np.uint8),
                                        2, 8), (None, [], []))

  def test_training_patches_never_touch_a_held_out_tile(self):
    scale, patch = 2, 8
    hr = np.random.RandomState(0).randint(0, 250, (48, 64, 3)).astype(
        np.uint8)
    for i in range(6):
      for j in range(8):
        if (i + 2 * j) % 5 == 0:
          hr[i * patch:(i + 1) * patch, j * patch:(j + 1) * patch] = 255
    allowed, _, held = data.holdout_tiles(hr, scale, patch)
    self.assertTrue(all(np.all(tile == 255) for tile in held))
    lr = hr[::scale, ::scale]
    for step in range(20):
      _, hr_batch = data.sample_batch([lr], [hr], 1, step, 16, patch, scale,
                                      allowed=[allowed])
      self.assertLess(hr_batch.max(), 250 / 255.0 + 1e-6)

  def test_mixed_batches_keep_the_hr_patches_and_depend_on_seed_and_step(
      self):
    scale = 2
    hr = [_sr_testing.smooth_image(i, 40, 50) for i in range(3)]
    ops = degradations.ImageOps()
    try:
      lr = [degradations.degrade(ops, image, scale) for image in hr]
      clean = data.sample_batch(lr, hr, 3, 17, 200, 16, scale)
      mixed = data.sample_batch(lr, hr, 3, 17, 200, 16, scale, ops)
      again = data.sample_batch(lr, hr, 3, 17, 200, 16, scale, ops)
      bicubic = ops.resize(np.round(clean[1] * 255), [8, 8], antialias=True)
    finally:
      ops.close()
    self.assertAllEqual(mixed[1], clean[1])
    self.assertAllEqual(mixed[0], again[0])
    self.assertEqual(mixed[0].shape, clean[0].shape)
    unchanged = sum(np.array_equal(a, b)
                    for a, b in zip(np.round(mixed[0] * 255), bicubic))
    # 1 in 8 patches gets no degradation (Binomial(200, 1/8): mean 25, sd
    # 4.7); a few blurs at sigma near 0.2 may round away too.
    self.assertBetween(unchanged, 10, 50)


if __name__ == "__main__":
  tf.test.main()
