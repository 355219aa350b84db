"""Statistics of the SR comparison: paired intervals, verdicts, seeds needed.

Every comparison is paired by seed (both arms start from the same weights
and see the same batches), so its unit is the per-seed difference Δ in dB.
This module turns a list of Δs into a 95 % Student t interval, a verdict
against an equivalence margin, and the number of seeds that would resolve
the margin at the observed spread. Pure Python and NumPy (no SciPy): the
quantiles are tables plus textbook expansions, checked against SciPy in the
tests where it is installed.
"""

import math

import numpy as np

IMPROVES = "improves"
HURTS = "hurts"
NOT_RESOLVED = "not resolved"

# The 0.975 quantiles of Student's t for df = 1..30 (two-sided 95 %).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
         2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
         2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
         2.042)
_Z = {0.975: 1.959964, 0.8: 0.841621}

# Seeds needed is reported up to this; beyond it the answer is "more".
MAX_SEEDS = 10000
# The probability that a run with the recommended number of seeds gives an
# interval narrow enough to resolve the margin (see `seeds_needed`).
POWER = 0.8


def t_quantile_975(df):
  """The 0.975 quantile of Student's t with `df` degrees of freedom.

  Exact to 3 decimals from a table up to 30, then the Cornish-Fisher
  expansion around the normal quantile (error < 1e-4 beyond 30).
  """
  if df < 1:
    raise ValueError("df must be >= 1. Received: df=%r" % df)
  if df <= len(_T975):
    return _T975[df - 1]
  z = _Z[0.975]
  return (z + (z ** 3 + z) / (4 * df)
          + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
          + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z)
          / (384 * df ** 3))


def chi2_quantile(p, df):
  """The `p` quantile of chi-squared with `df` degrees of freedom.

  Wilson-Hilferty: df * (1 - 2/(9 df) + z_p sqrt(2/(9 df)))^3; within 1.5 %
  of the exact value for p = 0.8 from df = 1 (tested against SciPy).
  """
  if p not in _Z:
    raise ValueError("p must be one of %s. Received: p=%r" % (sorted(_Z), p))
  if df < 1:
    raise ValueError("df must be >= 1. Received: df=%r" % df)
  c = 2.0 / (9.0 * df)
  return df * (1.0 - c + _Z[p] * math.sqrt(c)) ** 3


def half_width(sd, n):
  """Half-width of the 95 % t interval of a mean of n values with this sd."""
  return t_quantile_975(n - 1) * sd / math.sqrt(n)


def seeds_needed(sd, margin):
  """Paired seeds for which the 95 % interval resolves ±margin.

  An interval no wider than the margin (half-width <= margin / 2) always
  resolves it: it either excludes 0 or lies inside ±margin, whatever the
  true effect. The sample sd of n seeds is random; with a true sd equal to
  the observed `sd`, (n - 1) s^2 / sd^2 is chi-squared with n - 1 degrees
  of freedom. So this is the smallest n >= 2 with

      t_{0.975, n-1} * sd * sqrt(chi2_{0.8, n-1} / (n - 1)) / sqrt(n)
          <= margin / 2,

  i.e. the interval is that narrow with probability 0.8 (`POWER`).

  Args:
    sd: The observed sd of the paired differences (dB).
    margin: The equivalence margin (dB), > 0.

  Returns:
    An int, or None when sd is undefined (fewer than 2 seeds) or the
    answer exceeds `MAX_SEEDS`.
  """
  if sd is None or not math.isfinite(sd):
    return None
  for n in range(2, MAX_SEEDS + 1):
    inflated = sd * math.sqrt(chi2_quantile(POWER, n - 1) / (n - 1))
    if half_width(inflated, n) <= margin / 2.0:
      return n
  return None


def no_effect_verdict(margin):
  return "no effect beyond ±%g dB" % margin


def paired_comparison(deltas, margin):
  """Mean paired difference with a 95 % t interval and a verdict.

  Args:
    deltas: Per-seed differences (arm minus baseline), in dB.
    margin: The equivalence margin in dB, > 0.

  Returns:
    A dict: n, mean, sd, ci_low, ci_high, half_width, verdict and
    seeds_needed (`seeds_needed`). The verdict is "improves" (the interval
    is above 0), "hurts" (below 0), "no effect beyond ±margin" (inside
    ±margin) or "not resolved" (none of these, or fewer than 2 seeds).
    An interval above 0 and inside the margin reads "improves, by less than
    ±margin".
  """
  if not margin > 0:
    raise ValueError("margin must be positive. Received: margin=%r" % margin)
  deltas = np.asarray(deltas, np.float64)
  n = int(deltas.size)
  nan = float("nan")
  result = {"n": n, "mean": float(np.mean(deltas)) if n else nan,
            "sd": nan, "ci_low": nan, "ci_high": nan, "half_width": nan,
            "verdict": NOT_RESOLVED, "seeds_needed": None, "margin": margin}
  if n < 2:
    return result
  sd = float(np.std(deltas, ddof=1))
  half = half_width(sd, n)
  low, high = result["mean"] - half, result["mean"] + half
  result.update(sd=sd, ci_low=low, ci_high=high, half_width=half,
                seeds_needed=seeds_needed(sd, margin))
  inside = -margin < low and high < margin
  if low > 0:
    result["verdict"] = IMPROVES + (
        ", by less than ±%g dB" % margin if inside else "")
  elif high < 0:
    result["verdict"] = HURTS + (
        ", by less than ±%g dB" % margin if inside else "")
  elif inside:
    result["verdict"] = no_effect_verdict(margin)
  return result
