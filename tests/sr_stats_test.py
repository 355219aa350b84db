"""Paired intervals, verdicts and seeds needed (sr_example/stats.py)."""

import math

from absl.testing import parameterized
import numpy as np

from tests import _sr_testing  # Sets the example's import path.
from tf1_dropblock.compat import tf
from sr_example import stats  # pylint: disable=g-bad-import-order

class StatsTest(parameterized.TestCase):

  def test_t_quantiles(self):
    self.assertAlmostEqual(stats.t_quantile_975(1), 12.706)
    self.assertAlmostEqual(stats.t_quantile_975(30), 2.042)
    self.assertAlmostEqual(stats.t_quantile_975(31), 2.0395, places=4)
    self.assertAlmostEqual(stats.t_quantile_975(60), 2.0003, places=4)
    self.assertAlmostEqual(stats.t_quantile_975(10 ** 6), 1.960, places=3)
    with self.assertRaisesRegex(ValueError, "df must be >= 1"):
      stats.t_quantile_975(0)

  def test_quantiles_match_scipy(self):
    try:
      # pylint: disable-next=g-import-not-at-top
      from scipy import stats as scipy_stats
    except ImportError:
      self.skipTest("SciPy is not installed")
    for df in list(range(1, 61)) + [100, 1000]:
      self.assertAlmostEqual(stats.t_quantile_975(df),
                             scipy_stats.t.ppf(0.975, df), places=3)
      self.assertLess(abs(stats.chi2_quantile(0.8, df)
                          / scipy_stats.chi2.ppf(0.8, df) - 1), 0.015)

  def test_paired_comparison_interval_and_verdicts(self):
    result = stats.paired_comparison([0.1, 0.2, 0.3], margin=0.05)
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
          stats.paired_comparison(deltas, margin)["verdict"], verdict,
          msg=str(deltas))
    single = stats.paired_comparison([0.5], 0.05)
    self.assertEqual(single["verdict"], "not resolved")
    self.assertTrue(math.isnan(single["ci_low"]))
    self.assertIsNone(single["seeds_needed"])
    with self.assertRaisesRegex(ValueError, "margin must be positive"):
      stats.paired_comparison([0.1, 0.2], margin=0.0)

  def test_seeds_needed_is_monotone_and_exact_at_its_boundary(self):
    self.assertEqual(stats.seeds_needed(0.0, 0.05), 2)
    needed = [stats.seeds_needed(sd, 0.05)
              for sd in (0.005, 0.01, 0.02, 0.04, 0.08)]
    self.assertEqual(needed, sorted(needed))
    self.assertIsNone(stats.seeds_needed(float("nan"), 0.05))
    self.assertIsNone(stats.seeds_needed(100.0, 0.05))
    # The criterion holds at n and fails at n - 1.
    def inflated_half(sd, n):
      return stats.half_width(
          sd * math.sqrt(stats.chi2_quantile(0.8, n - 1) / (n - 1)), n)
    for sd in (0.01, 0.02, 0.03):
      n = stats.seeds_needed(sd, 0.05)
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
    n = stats.seeds_needed(sd, margin)
    rng = np.random.RandomState(7)
    trials = 4000
    narrow = resolved = 0
    for _ in range(trials):
      result = stats.paired_comparison(rng.normal(0.0, sd, n), margin)
      if result["half_width"] <= margin / 2:
        narrow += 1
        resolved += result["verdict"] != "not resolved"
    self.assertEqual(resolved, narrow)
    self.assertGreater(narrow / trials, stats.POWER - 0.05)
    self.assertLess(narrow / trials, 0.97)
    # One seed fewer falls short of the stated power.
    short = sum(stats.paired_comparison(rng.normal(0.0, sd, n - 1),
                                           margin)["half_width"] <= margin / 2
                for _ in range(trials)) / trials
    self.assertLess(short, stats.POWER + 0.05)


if __name__ == "__main__":
  tf.test.main()
