"""The whole comparison through the script: training, resume, report, files."""

import dataclasses
import io
import json
import math
import os
from unittest import mock

from absl import flags
from absl.testing import flagsaver
from absl.testing import parameterized
import numpy as np

from tests import _sr_testing  # Sets the example's import path.
from tf1_dropblock.compat import tf
import sr_dropblock  # pylint: disable=g-bad-import-order
from sr_example import comparison  # pylint: disable=g-bad-import-order
from sr_example import files  # pylint: disable=g-bad-import-order
from sr_example import report  # pylint: disable=g-bad-import-order
from sr_example import settings  # pylint: disable=g-bad-import-order
from sr_example import training  # pylint: disable=g-bad-import-order

FLAGS = flags.FLAGS

class ComparisonTest(parameterized.TestCase):

  def test_collapsed_runs_are_left_out(self):
    def run(arm, seed, psnr, collapsed=False):
      return training.RunResult(arm, seed, {"s": [psnr]}, {"s": psnr},
                              {"s": psnr - 30.0}, collapsed, 0.0, 1.0, 1.0)
    runs = [run("none", 0, 31.0), run("dropblock", 0, 31.5),
            run("none", 1, 31.2), run("dropblock", 1, 30.01, True),
            run("none", 2, 31.1), run("dropblock", 2, 31.4)]
    info = {"name": "s", "bicubic_mean": 30.0}
    arms = comparison.summarise_arms(runs, ("none", "dropblock"), info)
    self.assertEqual(arms["dropblock"]["n"], 2)
    self.assertEqual(arms["dropblock"]["collapsed_seeds"], [1])
    self.assertAlmostEqual(arms["dropblock"]["mean"], 31.45)
    paired = comparison.paired(runs, ("none", "dropblock"), "s",
                            0.05)["dropblock vs none"]
    self.assertEqual(paired["seeds"], [0, 2])
    np.testing.assert_allclose(paired["deltas"], [0.5, 0.3])

  def test_comparisons(self):
    self.assertEqual(comparison.comparisons(settings.ARMS), [
        ("dropout", "none"), ("dropblock", "none"),
        ("spatial_dropout", "none"), ("control", "none"),
        ("dropblock", "dropout"), ("dropblock", "spatial_dropout")])
    self.assertEqual(comparison.comparisons(("dropblock", "dropout")),
                     [("dropblock", "dropout")])
    self.assertEqual(comparison.comparisons(("none",)), [])


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
        _sr_testing.write_png(os.path.join(folder, "img%d.png" % seed),
                   _sr_testing.smooth_image(seed, 48, 56))

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
        settings, "COLLAPSE_GAIN_DB", -math.inf):
      return comparison.run_comparison(sr_dropblock.config_from_flags(),
                                   stream=stream or open(os.devnull, "w"))

  def test_smoke_results_object_files_and_resume(self):
    result = self._run(keep_prob_schedule="linear")
    num_runs = 2 * len(settings.Config.arms)
    self.assertEqual(len(result.runs), num_runs)
    self.assertEqual(list(result.arms["test"]), list(settings.Config.arms))
    self.assertEqual(list(result.paired["test"]), [
        "dropout vs none", "dropblock vs none", "spatial_dropout vs none",
        "control vs none", "dropblock vs dropout",
        "dropblock vs spatial_dropout"])
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
    table = report.format_table(result)
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
    with self.assertRaisesRegex(settings.DataError, "other settings"):
      self._run(steps=5, resume=True)
    with open(os.path.join(cut_dir, "config.json"), "w") as f:
      f.write("{")
    with self.assertRaisesRegex(settings.DataError,
                                "config.json is unreadable.*delete"):
      self._run(keep_prob_schedule="linear", resume=True)

  def test_test_sets_are_reported_separately_and_checked(self):
    set5 = os.path.join(self.get_temp_dir(), "Set5")
    os.makedirs(set5, exist_ok=True)
    _sr_testing.write_png(os.path.join(set5, "a.png"),
                          _sr_testing.smooth_image(5, 40, 40))
    log = io.StringIO()
    result = self._run(stream=log, test_dir=self.test_dir + "," + set5,
                       arms=["none", "dropblock"], seeds=1,
                       output_dir=os.path.join(self.get_temp_dir(), "sets"))
    self.assertEqual([s["name"] for s in result.test_sets],
                     ["test", "Set5", "train: seen tiles",
                      "train: held-out tiles"])
    self.assertEqual(result.test_sets[1]["published_bicubic"], 33.66)
    self.assertIsNone(result.test_sets[0]["published_bicubic"])
    # A smooth synthetic image is far easier than Set5: the check says so.
    self.assertIn("Warning: bicubic on Set5", log.getvalue())
    for run in result.runs:
      self.assertEqual(set(run.psnr), {"test", "Set5", "train: seen tiles",
                                       "train: held-out tiles"})
    self.assertEqual(set(result.paired), set(run.psnr))
    table = report.format_table(result)
    self.assertIn("on test:", table)
    self.assertIn("on Set5:", table)
    self.assertIn("(published 33.66)", table)

  def test_presets_and_explicit_flags(self):
    with flagsaver.flagsaver(preset="reflash"):
      config = sr_dropblock.config_from_flags()
    self.assertEqual(
        (config.preset, config.placement, config.keep_prob,
         config.degradation, config.conditions, config.arms),
        ("reflash", "last", 0.5, "mixed", settings.CONDITIONS,
         ("none", "spatial_dropout", "dropblock", "control")))
    with flagsaver.flagsaver(preset="reflash", keep_prob=0.7, scale="3",
                             conditions=["clean", "jpeg50"]):
      config = sr_dropblock.config_from_flags()
    self.assertEqual((config.keep_prob, config.scale, config.conditions,
                      config.placement), (0.7, 3, ("clean", "jpeg50"), "last"))
    with flagsaver.flagsaver(preset="blog"):
      config = sr_dropblock.config_from_flags()
    self.assertEqual((config.placement, config.keep_prob, config.block_size,
                      config.degradation, config.arms),
                     ("all", 0.8, 3, "bicubic", settings.Config.arms))
    self.assertIn("--preset=blog --arms=none,dropout,dropblock,"
                  "spatial_dropout,control --placement=all --keep_prob=0.8",
                  report.settings_text(dataclasses.asdict(config)))
    with self.assertRaisesRegex(ValueError, "preset must be one of.*'nope'"):
      settings.Config.from_preset("nope")

  def test_conditions_and_training_tiles_are_reported_separately(self):
    log = io.StringIO()
    result = self._run(stream=log, preset="reflash", seeds=1,
                       conditions=["clean", "noise20"],
                       output_dir=os.path.join(self.get_temp_dir(), "cond"))
    self.assertIn("Settings: --preset=reflash", log.getvalue())
    self.assertEqual(
        [(s["name"], s["kind"], s["condition"]) for s in result.test_sets],
        [("test", "test", "clean"), ("test [noise20]", "test", "noise20"),
         ("train: seen tiles", "seen", "clean"),
         ("train: held-out tiles", "held-out", "clean")])
    noisy = result.test_sets[1]
    self.assertLess(noisy["bicubic_mean"], result.test_sets[0]["bicubic_mean"])
    self.assertEqual(set(result.paired), {s["name"] for s in result.test_sets})
    self.assertIn("control vs none", result.paired["test [noise20]"])
    self.assertEqual(set(result.gap), set(result.config["arms"]))
    for run in result.runs:
      self.assertEqual(len(run.psnr["train: seen tiles"]), 4)
    table = report.format_table(result)
    self.assertIn("on test [noise20]:", table)
    self.assertIn("## Generalisation gap", table)
    self.assertIn("control vs none (positive control)", table)

  def test_report_marks_verdicts_when_the_control_is_not_detected(self):
    def run(arm, seed, psnr, seen, held):
      return training.RunResult(
          arm, seed, {}, {"s": psnr, "seen": 30.0 + seen, "held": 30 + held},
          {"s": psnr - 30.0, "seen": seen, "held": held}, False, 0.0, 1.0,
          1.0)
    def result_for(control_psnr):
      runs = []
      for seed, noise in enumerate((0.0, 0.01, -0.01)):
        runs += [run("none", seed, 31.0 + noise, 1.00, 0.99),
                 run("dropblock", seed, 31.002 + noise, 1.00, 0.995),
                 run("control", seed, control_psnr + noise, 0.9, 0.9)]
      arms = ("none", "dropblock", "control")
      set_info = [{"name": "s", "kind": "test", "condition": "clean",
                   "images": ["a"], "bicubic_mean": 30.0,
                   "published_bicubic": None},
                  {"name": "seen", "kind": "seen", "condition": "clean",
                   "images": ["a"], "bicubic_mean": 30.0,
                   "published_bicubic": None},
                  {"name": "held", "kind": "held-out", "condition": "clean",
                   "images": ["a"], "bicubic_mean": 30.0,
                   "published_bicubic": None}]
      paired = {i["name"]: comparison.paired(runs, arms, i["name"], 0.05)
                for i in set_info[:1]}
      paired.update(seen={}, held={})
      config = dataclasses.asdict(settings.Config(arms=arms, seeds=3))
      return comparison.ComparisonResult(
          config=config, tf_version="x", test_sets=set_info, runs=runs,
          arms={i["name"]: comparison.summarise_arms(runs, arms, i)
                for i in set_info},
          paired=paired, wall_seconds=1.0,
          control={"s": comparison.control_check(paired["s"])},
          gap=comparison.generalisation_gap(runs, arms, set_info),
          output_dir="")
    insensitive = result_for(31.0)
    self.assertFalse(insensitive.control["s"]["detected"])
    table = report.format_table(insensitive)
    self.assertIn("Positive control not detected** on s", table)
    self.assertIn("| dropblock vs none | 3 | +0.002 |", table)
    self.assertRegex(table, r"\| dropblock vs none \|.*improves, by less "
                     r"than ±0.05 dB † \|")
    self.assertRegex(table, r"\| control vs none \(positive control\) \|"
                     r".*no effect beyond ±0.05 dB \|")
    self.assertAlmostEqual(insensitive.gap["none"]["gap"], 0.01)
    self.assertIn("**Too small for a regulariser to help**", table)
    sensitive = result_for(30.5)
    self.assertTrue(sensitive.control["s"]["detected"])
    table = report.format_table(sensitive)
    self.assertNotIn("†", table)
    self.assertIn("Positive control detected on 1 of 1", table)

  def test_projected_total_counts_reused_runs_as_done(self):
    log = io.StringIO()
    progress = training.Progress(total_runs=6, steps_per_run=100, stream=log)
    for _ in range(3):
      progress.reused()
    clock = [1000.0]
    with mock.patch.object(training.time, "time", lambda: clock[0]):
      progress.start = clock[0]
      progress.run_started()
      clock[0] += 12.0  # 2 s build and evaluation, 10 s for 100 steps.
      progress.run_finished(100, 10.0)
      # 2 runs left at 12 s each.
      self.assertIn("Projected total: 36s (4 of 6 runs done; 24s left, "
                    "about 12s per run)", log.getvalue())
      progress.run_started()
      progress.line("x", 50, 100, 0.1, rate=10.0)
    # This run: 5 s of steps left; one more run of 12 s.
    self.assertIn("ETA 17s", log.getvalue())

  def test_write_atomic_keeps_the_old_file_when_interrupted(self):
    path = os.path.join(self.get_temp_dir(), "atomic", "file.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    files.write_atomic(path, "old")
    with mock.patch.object(os, "fsync", side_effect=KeyboardInterrupt):
      with self.assertRaises(KeyboardInterrupt):
        files.write_atomic(path, "new")
    with open(path) as f:
      self.assertEqual(f.read(), "old")
    self.assertEqual(os.listdir(os.path.dirname(path)), ["file.json"])
    files.write_atomic(path, b"bytes")
    with open(path, "rb") as f:
      self.assertEqual(f.read(), b"bytes")

  def test_bad_input_is_a_usage_error(self):
    small = os.path.join(self.get_temp_dir(), "small")
    os.makedirs(small, exist_ok=True)
    _sr_testing.write_png(os.path.join(small, "tiny.png"),
                          _sr_testing.smooth_image(0, 10, 12))
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
