"""Tests for the SR comparison library and script (seconds, tiny sizes)."""

import json
import math
import os
import sys

from absl import flags
from absl.testing import flagsaver
from absl.testing import parameterized
import numpy as np

from tf1_dropblock.compat import tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "legacy_examples"))
import sr_dropblock  # pylint: disable=g-import-not-at-top,wrong-import-position
import sr_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

FLAGS = flags.FLAGS


def _write_png(path, image):
  with tf.Graph().as_default(), tf.Session() as sess:
    data = sess.run(tf.image.encode_png(tf.constant(image)))
  with open(path, "wb") as f:
    f.write(data)


def _smooth_image(seed, height, width):
  """A smooth random RGB image (learnable detail, no clipping)."""
  rng = np.random.RandomState(seed)
  yy, xx = np.mgrid[0:height, 0:width] / 7.0
  channels = [np.sin(yy * rng.uniform(0.5, 2) + xx * rng.uniform(0.5, 2)
                     + rng.uniform(0, 6)) for _ in range(3)]
  return np.round(127.5 + 100 * np.stack(channels, -1)).astype(np.uint8)


class MetricsTest(parameterized.TestCase):

  def test_identical_images_give_inf(self):
    image = _smooth_image(0, 20, 24)
    self.assertEqual(sr_lib.psnr_y(image, image, 2), float("inf"))

  @parameterized.parameters(1, 3, 10)
  def test_constant_offset_has_its_analytic_psnr(self, offset):
    image = _smooth_image(1, 30, 20)
    shifted = image + np.uint8(offset)
    # RGB + k shifts Y by k * (65.481 + 128.553 + 24.966) / 255 = k * 219/255.
    expected = 20 * math.log10(255.0 / (offset * 219.0 / 255.0))
    self.assertAlmostEqual(sr_lib.psnr_y(shifted, image, 3), expected,
                           places=9)

  def test_y_of_white_and_black(self):
    self.assertAlmostEqual(sr_lib.rgb_to_y(np.full((1, 1, 3), 255))[0, 0],
                           235.0, places=9)
    self.assertAlmostEqual(sr_lib.rgb_to_y(np.zeros((1, 1, 3)))[0, 0], 16.0)

  def test_shave_removes_the_border_only(self):
    image = np.arange(7 * 9 * 3).reshape(7, 9, 3)
    self.assertEqual(sr_lib.shave(image, 2).shape, (3, 5, 3))
    np.testing.assert_array_equal(sr_lib.shave(image, 2), image[2:5, 2:7])
    # The shaved border does not count.
    other = image.copy()
    other[0, 0] = 0
    self.assertEqual(sr_lib.psnr_y(other.astype(np.uint8),
                                   image.astype(np.uint8), 1), float("inf"))

  def test_t_quantiles(self):
    self.assertAlmostEqual(sr_lib.t_quantile_975(1), 12.706)
    self.assertAlmostEqual(sr_lib.t_quantile_975(30), 2.042)
    self.assertAlmostEqual(sr_lib.t_quantile_975(60), 2.000, places=3)
    self.assertAlmostEqual(sr_lib.t_quantile_975(10 ** 6), 1.960, places=3)

  def test_paired_comparison_interval_and_verdicts(self):
    result = sr_lib.paired_comparison([0.1, 0.2, 0.3])
    half = 4.303 * 0.1 / math.sqrt(3)
    self.assertAlmostEqual(result["mean"], 0.2)
    self.assertAlmostEqual(result["ci_low"], 0.2 - half)
    self.assertAlmostEqual(result["ci_high"], 0.2 + half)
    self.assertEqual(result["verdict"], "not resolved at this budget")
    self.assertEqual(sr_lib.paired_comparison([1.0, 1.1, 0.9])["verdict"],
                     "improves")
    self.assertEqual(sr_lib.paired_comparison([-1.0, -1.1, -0.9])["verdict"],
                     "hurts")
    single = sr_lib.paired_comparison([0.5])
    self.assertEqual(single["verdict"], "not resolved at this budget")
    self.assertTrue(math.isnan(single["ci_low"]))

  def test_collapsed_runs_are_left_out(self):
    def run(arm, seed, psnr, collapsed=False):
      return sr_lib.RunResult(arm, seed, [psnr], psnr, psnr - 30.0, collapsed,
                              0.0, 1.0, 1.0)
    runs = [run("none", 0, 31.0), run("dropblock", 0, 31.5),
            run("none", 1, 31.2), run("dropblock", 1, 30.01, True),
            run("none", 2, 31.1), run("dropblock", 2, 31.4)]
    arms = sr_lib._summarise_arms(runs, ("none", "dropblock"), 30.0)
    self.assertEqual(arms["dropblock"]["n"], 2)
    self.assertEqual(arms["dropblock"]["collapsed_seeds"], [1])
    self.assertAlmostEqual(arms["dropblock"]["mean"], 31.45)
    paired = sr_lib._paired(runs, ("none", "dropblock"))["dropblock"]
    self.assertEqual(paired["seeds"], [0, 2])
    np.testing.assert_allclose(paired["deltas"], [0.5, 0.3])


class DataTest(tf.test.TestCase):

  def test_degradation_shapes_and_constant_image(self):
    image = np.full((51, 38, 3), 77, np.uint8)
    for scale in (2, 3, 4):
      (hr, lr, bicubic), = sr_lib.degrade([image], scale)
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
    (_, lr, _), = sr_lib.degrade([np.stack([board] * 3, -1)], 2)
    self.assertLess(np.abs(lr.astype(float) - 127.5).max(), 10)

  def test_batches_are_aligned_and_depend_only_on_seed_and_step(self):
    scale = 2
    # Block-constant HR images: every flip or transpose of an aligned HR
    # patch, subsampled, is the same flip of its LR patch.
    lr = [_smooth_image(i, 20, 25) for i in range(3)]
    hr = [image.repeat(scale, 0).repeat(scale, 1) for image in lr]
    lr_batch, hr_batch = sr_lib.sample_batch(lr, hr, 3, 17, 8, 16, scale)
    self.assertEqual(lr_batch.shape, (8, 8, 8, 3))
    self.assertEqual(hr_batch.shape, (8, 16, 16, 3))
    np.testing.assert_array_equal(lr_batch, hr_batch[:, ::scale, ::scale])
    again = sr_lib.sample_batch(lr, hr, 3, 17, 8, 16, scale)
    np.testing.assert_array_equal(again[1], hr_batch)
    other = sr_lib.sample_batch(lr, hr, 3, 18, 8, 16, scale)
    self.assertFalse(np.array_equal(other[1], hr_batch))

  def test_bundled_images_are_disjoint_and_load(self):
    self.assertFalse(set(sr_lib.BUNDLED_TRAIN) & set(sr_lib.BUNDLED_TEST))
    for name, image in sr_lib.bundled_images(sr_lib.BUNDLED_TEST):
      self.assertEqual(image.dtype, np.uint8, name)
      self.assertEqual(image.shape[2], 3, name)

  def test_folder_errors(self):
    tmp = self.get_temp_dir()
    with self.assertRaisesRegex(sr_lib.DataError, "--data_dir=.* not a folder"):
      sr_lib.load_folder(os.path.join(tmp, "missing"), "data_dir")
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty, exist_ok=True)
    with self.assertRaisesRegex(sr_lib.DataError, "--test_dir=.* no PNG"):
      sr_lib.load_folder(empty, "test_dir")
    broken = os.path.join(tmp, "broken")
    os.makedirs(broken, exist_ok=True)
    with open(os.path.join(broken, "bad.png"), "wb") as f:
      f.write(b"not an image")
    with self.assertRaisesRegex(sr_lib.DataError, "Cannot read image .*bad"):
      sr_lib.load_folder(broken, "data_dir")


class SeedingTest(tf.test.TestCase):

  def test_arms_start_from_identical_weights(self):
    config = sr_lib.Config(channels=8, num_blocks=2, placement="all")
    weights = {}
    for arm in sr_lib.ARMS:
      model = sr_lib._Model(config, arm, seed=4)
      weights[arm] = model.initial_weights()
      model.close()
    model = sr_lib._Model(config, "none", seed=5)
    other_seed = model.initial_weights()
    model.close()
    self.assertGreater(len(weights["none"]), 4)
    for arm in ("dropout", "dropblock", "spatial_dropout"):
      self.assertEqual(sorted(weights[arm]), sorted(weights["none"]))
      for name, value in weights["none"].items():
        self.assertAllEqual(weights[arm][name], value, msg=name)
    self.assertNotAllClose(other_seed["sr_net/head/kernel"],
                           weights["none"]["sr_net/head/kernel"])


class DropoutArmTest(tf.test.TestCase):

  def test_drops_only_when_training(self):
    config = sr_lib.Config(channels=8, num_blocks=1, placement="last")
    lr = np.random.RandomState(0).uniform(size=(2, 12, 12, 3))
    with tf.Graph().as_default():
      tf.set_random_seed(1)
      lr_t = tf.placeholder(tf.float32, [None, None, None, 3])
      training = tf.placeholder(tf.bool, [])
      sr = sr_lib.build_network(lr_t, training, 0.5, config, "dropout",
                                seed=0)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        runs = {t: [sess.run(sr, {lr_t: lr, training: t}) for _ in range(2)]
                for t in (False, True)}
    self.assertAllEqual(runs[False][0], runs[False][1])
    self.assertNotAllClose(runs[True][0], runs[True][1])
    self.assertNotAllClose(runs[True][0], runs[False][0])


class ScriptTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    if not FLAGS.is_parsed():
      FLAGS.mark_as_parsed()
    self.data_dir = os.path.join(self.get_temp_dir(), "train")
    self.test_dir = os.path.join(self.get_temp_dir(), "test")
    for folder, seeds in ((self.data_dir, (0, 1)), (self.test_dir, (2,))):
      os.makedirs(folder, exist_ok=True)
      for seed in seeds:
        _write_png(os.path.join(folder, "img%d.png" % seed),
                   _smooth_image(seed, 40, 44))

  def _tiny_flags(self, **overrides):
    values = dict(data_dir=self.data_dir, test_dir=self.test_dir, steps=4,
                  seeds=2, batch_size=2, patch_size=16, channels=4,
                  num_blocks=1, log_every=2,
                  output_dir=os.path.join(self.get_temp_dir(), "out"))
    values.update(overrides)
    return flagsaver.flagsaver(**values)

  def test_smoke_results_object_files_and_resume(self):
    with self._tiny_flags(keep_prob_schedule="linear"):
      config = sr_dropblock.config_from_flags()
      result = sr_lib.run_comparison(config, stream=open(os.devnull, "w"))
    self.assertEqual(len(result.runs), 6)
    self.assertEqual(list(result.arms), list(sr_lib.DEFAULT_ARMS))
    self.assertEqual(set(result.paired), {"dropblock", "spatial_dropout"})
    for run in result.runs:
      self.assertEqual(len(run.psnr), 1)
      self.assertTrue(math.isfinite(run.mean_psnr))
    self.assertIn(result.paired["dropblock"]["verdict"],
                  ("improves", "hurts", "not resolved at this budget"))
    out = config.output_dir
    for name in ("results.json", "results.md", "figure.png"):
      self.assertTrue(os.path.exists(os.path.join(out, name)), name)
    with open(os.path.join(out, "results.json")) as f:
      saved = json.load(f)
    self.assertEqual(saved["tf_version"], result.tf_version)
    self.assertEqual(len(saved["runs"]), 6)
    self.assertIn("verdict", saved["paired"]["dropblock"])
    run_dir = os.path.join(out, "runs", "dropblock_seed1")
    files = os.listdir(run_dir)
    self.assertTrue(any(f.startswith("events.out.tfevents") for f in files))
    self.assertTrue(any(f.startswith("model.ckpt-4") for f in files))
    self.assertIn("| dropblock |", sr_lib.format_table(result))

    # An interrupted run (no result yet) resumes from its checkpoint; the
    # finished ones are reused.
    os.remove(os.path.join(run_dir, "result.json"))
    with self._tiny_flags(keep_prob_schedule="linear", resume=True):
      resumed = sr_lib.run_comparison(sr_dropblock.config_from_flags(),
                                      stream=open(os.devnull, "w"))
    self.assertEqual([r.mean_psnr for r in resumed.runs],
                     [r.mean_psnr for r in result.runs])
    self.assertEqual([r.start_step for r in result.runs], [0] * 6)
    self.assertEqual([(r.arm, r.seed) for r in resumed.runs
                      if r.start_step == 4], [("dropblock", 1)])
    with self._tiny_flags(steps=5, resume=True):
      with self.assertRaisesRegex(sr_lib.DataError, "other settings"):
        sr_lib.run_comparison(sr_dropblock.config_from_flags(),
                              stream=open(os.devnull, "w"))

  def test_bad_input_is_a_usage_error(self):
    small = os.path.join(self.get_temp_dir(), "small")
    os.makedirs(small, exist_ok=True)
    _write_png(os.path.join(small, "tiny.png"), _smooth_image(0, 10, 12))
    cases = [
        (dict(data_dir=os.path.join(self.get_temp_dir(), "nope")),
         "not a folder"),
        (dict(data_dir=small), "smaller than --patch_size"),
        (dict(patch_size=15), "multiple of scale"),
    ]
    for overrides, pattern in cases:
      with self._tiny_flags(**overrides):
        with self.assertRaisesRegex(sr_dropblock.app.UsageError, pattern):
          sr_dropblock.main(["sr_dropblock.py"])
    with self._tiny_flags():
      with self.assertRaisesRegex(sr_dropblock.app.UsageError, "Unexpected"):
        sr_dropblock.main(["sr_dropblock.py", "extra"])

  def test_flag_validators(self):
    for name, value in (("keep_prob", 0.0), ("keep_prob", 1.5),
                        ("arms", ["none", "bogus"]), ("arms", [])):
      with self.assertRaisesRegex(flags.IllegalFlagValueError, name):
        with flagsaver.flagsaver(**{name: value}):
          pass

if __name__ == "__main__":
  tf.test.main()
