"""Tests for the SR comparison library and script (seconds, tiny sizes)."""

import io
import json
import math
import os
import sys
from unittest import mock

from absl import flags
from absl.testing import flagsaver
from absl.testing import parameterized
import numpy as np

from tf1_dropblock.compat import tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "legacy_examples"))
import sr_dropblock  # pylint: disable=g-import-not-at-top,wrong-import-position
import sr_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
import sr_stats  # pylint: disable=g-import-not-at-top,wrong-import-position

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


class StatsTest(parameterized.TestCase):

  def test_t_quantiles(self):
    self.assertAlmostEqual(sr_stats.t_quantile_975(1), 12.706)
    self.assertAlmostEqual(sr_stats.t_quantile_975(30), 2.042)
    self.assertAlmostEqual(sr_stats.t_quantile_975(31), 2.0395, places=4)
    self.assertAlmostEqual(sr_stats.t_quantile_975(60), 2.0003, places=4)
    self.assertAlmostEqual(sr_stats.t_quantile_975(10 ** 6), 1.960, places=3)
    with self.assertRaisesRegex(ValueError, "df must be >= 1"):
      sr_stats.t_quantile_975(0)

  def test_quantiles_match_scipy(self):
    try:
      from scipy import stats  # pylint: disable=g-import-not-at-top
    except ImportError:
      self.skipTest("SciPy is not installed")
    for df in list(range(1, 61)) + [100, 1000]:
      self.assertAlmostEqual(sr_stats.t_quantile_975(df),
                             stats.t.ppf(0.975, df), places=3)
      self.assertLess(abs(sr_stats.chi2_quantile(0.8, df)
                          / stats.chi2.ppf(0.8, df) - 1), 0.015)

  def test_paired_comparison_interval_and_verdicts(self):
    result = sr_stats.paired_comparison([0.1, 0.2, 0.3], margin=0.05)
    half = 4.303 * 0.1 / math.sqrt(3)
    self.assertAlmostEqual(result["mean"], 0.2)
    self.assertAlmostEqual(result["ci_low"], 0.2 - half)
    self.assertAlmostEqual(result["ci_high"], 0.2 + half)
    self.assertAlmostEqual(result["half_width"], half)
    self.assertEqual(result["verdict"], "not resolved")
    cases = [([1.0, 1.1, 0.9], 0.05, "improves"),
             ([-1.0, -1.1, -0.9], 0.05, "hurts"),
             ([0.01, -0.01, 0.0, 0.005], 0.05, "no effect beyond ±0.05 dB"),
             ([0.01, -0.01, 0.0, 0.005], 0.01, "not resolved"),
             ([0.02, 0.021, 0.019], 0.05, "improves, by less than ±0.05 dB"),
             ([-0.02, -0.021, -0.019], 0.05, "hurts, by less than ±0.05 dB")]
    for deltas, margin, verdict in cases:
      self.assertEqual(
          sr_stats.paired_comparison(deltas, margin)["verdict"], verdict,
          msg=str(deltas))
    single = sr_stats.paired_comparison([0.5], 0.05)
    self.assertEqual(single["verdict"], "not resolved")
    self.assertTrue(math.isnan(single["ci_low"]))
    self.assertIsNone(single["seeds_needed"])
    with self.assertRaisesRegex(ValueError, "margin must be positive"):
      sr_stats.paired_comparison([0.1, 0.2], margin=0.0)

  def test_seeds_needed_is_monotone_and_exact_at_its_boundary(self):
    self.assertEqual(sr_stats.seeds_needed(0.0, 0.05), 2)
    needed = [sr_stats.seeds_needed(sd, 0.05)
              for sd in (0.005, 0.01, 0.02, 0.04, 0.08)]
    self.assertEqual(needed, sorted(needed))
    self.assertIsNone(sr_stats.seeds_needed(float("nan"), 0.05))
    self.assertIsNone(sr_stats.seeds_needed(100.0, 0.05))
    # The criterion holds at n and fails at n - 1.
    def inflated_half(sd, n):
      return sr_stats.half_width(
          sd * math.sqrt(sr_stats.chi2_quantile(0.8, n - 1) / (n - 1)), n)
    for sd in (0.01, 0.02, 0.03):
      n = sr_stats.seeds_needed(sd, 0.05)
      self.assertLessEqual(inflated_half(sd, n), 0.025)
      self.assertGreater(inflated_half(sd, n - 1), 0.025)

  @parameterized.parameters(0.015, 0.03)
  def test_seeds_needed_resolve_the_margin_with_the_stated_power(self, sd):
    # Simulated experiments with a true sd of `sd` and no effect: with the
    # recommended n, the interval must be at most the margin wide (and so
    # give a verdict) in ~80 % of them. 4000 trials: the binomial sd of the
    # fraction is 0.0063; the bounds leave 5 sd plus 0.02 for the chi2
    # approximation.
    margin = 0.05
    n = sr_stats.seeds_needed(sd, margin)
    rng = np.random.RandomState(7)
    trials = 4000
    narrow = resolved = 0
    for _ in range(trials):
      result = sr_stats.paired_comparison(rng.normal(0.0, sd, n), margin)
      if result["half_width"] <= margin / 2:
        narrow += 1
        resolved += result["verdict"] != "not resolved"
    self.assertEqual(resolved, narrow)
    self.assertGreater(narrow / trials, sr_stats.POWER - 0.05)
    self.assertLess(narrow / trials, 0.97)
    # One seed fewer falls short of the stated power.
    short = sum(sr_stats.paired_comparison(rng.normal(0.0, sd, n - 1),
                                           margin)["half_width"] <= margin / 2
                for _ in range(trials)) / trials
    self.assertLess(short, sr_stats.POWER + 0.05)

  def test_collapsed_runs_are_left_out(self):
    def run(arm, seed, psnr, collapsed=False):
      return sr_lib.RunResult(arm, seed, {"s": [psnr]}, {"s": psnr},
                              {"s": psnr - 30.0}, collapsed, 0.0, 1.0, 1.0)
    runs = [run("none", 0, 31.0), run("dropblock", 0, 31.5),
            run("none", 1, 31.2), run("dropblock", 1, 30.01, True),
            run("none", 2, 31.1), run("dropblock", 2, 31.4)]
    info = {"name": "s", "bicubic_mean": 30.0}
    arms = sr_lib._summarise_arms(runs, ("none", "dropblock"), info)
    self.assertEqual(arms["dropblock"]["n"], 2)
    self.assertEqual(arms["dropblock"]["collapsed_seeds"], [1])
    self.assertAlmostEqual(arms["dropblock"]["mean"], 31.45)
    paired = sr_lib._paired(runs, ("none", "dropblock"), "s",
                            0.05)["dropblock vs none"]
    self.assertEqual(paired["seeds"], [0, 2])
    np.testing.assert_allclose(paired["deltas"], [0.5, 0.3])

  def test_comparisons(self):
    self.assertEqual(sr_lib.comparisons(sr_lib.ARMS), [
        ("dropout", "none"), ("dropblock", "none"),
        ("spatial_dropout", "none"), ("dropblock", "dropout"),
        ("dropblock", "spatial_dropout")])
    self.assertEqual(sr_lib.comparisons(("dropblock", "dropout")),
                     [("dropblock", "dropout")])
    self.assertEqual(sr_lib.comparisons(("none",)), [])


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
    with self.assertRaisesRegex(
        sr_lib.DataError, "Cannot read image .*bad.png: .*(image|JPEG)") as e:
      sr_lib.load_folder(broken, "data_dir")
    self.assertNotIn("Graph execution error", str(e.exception))
    self.assertNotIn("[[", str(e.exception))


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

  def _run(self, stream=None, **overrides):
    # Four steps do not train a network past bicubic: no run may count as
    # collapsed here, or the comparisons would be empty.
    with self._tiny_flags(**overrides), mock.patch.object(
        sr_lib, "COLLAPSE_GAIN_DB", -math.inf):
      return sr_lib.run_comparison(sr_dropblock.config_from_flags(),
                                   stream=stream or open(os.devnull, "w"))

  def test_smoke_results_object_files_and_resume(self):
    result = self._run(keep_prob_schedule="linear")
    num_runs = 2 * len(sr_lib.DEFAULT_ARMS)
    self.assertEqual(len(result.runs), num_runs)
    self.assertEqual(list(result.arms["test"]), list(sr_lib.DEFAULT_ARMS))
    self.assertEqual(list(result.paired["test"]), [
        "dropout vs none", "dropblock vs none", "spatial_dropout vs none",
        "dropblock vs dropout", "dropblock vs spatial_dropout"])
    for run in result.runs:
      self.assertEqual(len(run.psnr["test"]), 1)
      self.assertTrue(math.isfinite(run.mean_psnr["test"]))
    comparison = result.paired["test"]["dropblock vs dropout"]
    by_key = {(r.arm, r.seed): r for r in result.runs}
    np.testing.assert_allclose(comparison["deltas"], [
        by_key[("dropblock", s)].mean_psnr["test"]
        - by_key[("dropout", s)].mean_psnr["test"] for s in (0, 1)])
    self.assertIn(comparison["verdict"].split(",")[0],
                  ("improves", "hurts", "not resolved",
                   "no effect beyond ±0.05 dB"))
    out = os.path.join(self.get_temp_dir(), "out")
    for name in ("results.json", "results.md", "figure.png"):
      self.assertTrue(os.path.exists(os.path.join(out, name)), name)
    self.assertFalse([f for f in os.listdir(out) if f.startswith(".")])
    with open(os.path.join(out, "results.json")) as f:
      saved = json.load(f)
    self.assertEqual(saved["tf_version"], result.tf_version)
    self.assertEqual(len(saved["runs"]), num_runs)
    self.assertIn("seeds_needed", saved["paired"]["test"]["dropblock vs none"])
    self.assertIn("Seeds needed", saved["note"])
    run_dir = os.path.join(out, "runs", "dropblock_seed1")
    files = os.listdir(run_dir)
    self.assertTrue(any(f.startswith("events.out.tfevents") for f in files))
    self.assertTrue(any(f.startswith("model.ckpt-4") for f in files))
    table = sr_lib.format_table(result)
    self.assertIn("| dropblock |", table)
    self.assertIn("| dropblock vs dropout | 2 |", table)

    # An interrupted run (no result yet) resumes from its checkpoint; one
    # whose result.json was cut short is evaluated again from it; the
    # finished ones are reused.
    os.remove(os.path.join(run_dir, "result.json"))
    cut_dir = os.path.join(out, "runs", "none_seed0")
    with open(os.path.join(cut_dir, "result.json"), "r+") as f:
      f.truncate(40)
    log = io.StringIO()
    resumed = self._run(stream=log, keep_prob_schedule="linear", resume=True)
    self.assertIn("[none seed 0] result.json unreadable", log.getvalue())
    self.assertEqual([r.mean_psnr for r in resumed.runs],
                     [r.mean_psnr for r in result.runs])
    self.assertEqual([r.start_step for r in result.runs], [0] * num_runs)
    self.assertEqual(sorted((r.arm, r.seed) for r in resumed.runs
                            if r.start_step == 4),
                     [("dropblock", 1), ("none", 0)])
    with self.assertRaisesRegex(sr_lib.DataError, "other settings"):
      self._run(steps=5, resume=True)
    with open(os.path.join(cut_dir, "config.json"), "w") as f:
      f.write("{")
    with self.assertRaisesRegex(sr_lib.DataError,
                                "config.json is unreadable.*delete"):
      self._run(keep_prob_schedule="linear", resume=True)

  def test_test_sets_are_reported_separately_and_checked(self):
    set5 = os.path.join(self.get_temp_dir(), "Set5")
    os.makedirs(set5, exist_ok=True)
    _write_png(os.path.join(set5, "a.png"), _smooth_image(5, 40, 40))
    log = io.StringIO()
    result = self._run(stream=log, test_dir=self.test_dir + "," + set5,
                       arms=["none", "dropblock"], seeds=1,
                       output_dir=os.path.join(self.get_temp_dir(), "sets"))
    self.assertEqual([s["name"] for s in result.test_sets], ["test", "Set5"])
    self.assertEqual(result.test_sets[1]["published_bicubic"], 33.66)
    self.assertIsNone(result.test_sets[0]["published_bicubic"])
    # A smooth synthetic image is far easier than Set5: the check says so.
    self.assertIn("Warning: bicubic on Set5", log.getvalue())
    for run in result.runs:
      self.assertEqual(set(run.psnr), {"test", "Set5"})
    self.assertEqual(set(result.paired), {"test", "Set5"})
    table = sr_lib.format_table(result)
    self.assertIn("on test:", table)
    self.assertIn("on Set5:", table)
    self.assertIn("(published 33.66)", table)

  def test_write_atomic_keeps_the_old_file_when_interrupted(self):
    path = os.path.join(self.get_temp_dir(), "atomic", "file.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sr_lib.write_atomic(path, "old")
    with mock.patch.object(os, "fsync", side_effect=KeyboardInterrupt):
      with self.assertRaises(KeyboardInterrupt):
        sr_lib.write_atomic(path, "new")
    with open(path) as f:
      self.assertEqual(f.read(), "old")
    self.assertEqual(os.listdir(os.path.dirname(path)), ["file.json"])
    sr_lib.write_atomic(path, b"bytes")
    with open(path, "rb") as f:
      self.assertEqual(f.read(), b"bytes")

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
