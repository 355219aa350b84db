"""The report of a comparison: Markdown tables, results.json, the figure.
"""

import dataclasses
import io
import json
import math
import os

import numpy as np

from sr_example import files
from sr_example import settings
from sr_example import stats


SEEDS_NEEDED_NOTE = (
    "Seeds needed: the smallest n for which, at the observed paired sd, the "
    "95 %% interval is at most the margin wide with probability %.1f; such "
    "an interval either excludes 0 or lies inside ±margin, so it settles "
    "the question: t(0.975, n-1) * sd * sqrt(chi2(%.1f, n-1) / (n-1)) / "
    "sqrt(n) <= margin / 2." % (stats.POWER, stats.POWER))


def _fmt(value, spec="%.3f"):
  return "n/a" if value is None or not math.isfinite(value) else spec % value


def _bicubic_cell(info):
  text = _fmt(info["bicubic_mean"])
  if info["published_bicubic"] is not None:
    text += " (published %.2f)" % info["published_bicubic"]
  return text


def format_table(result):
  """The Markdown report: per test set, per-arm PSNR, gains, paired deltas,
  verdicts and seeds needed."""
  cfg = result.config
  margin = cfg["margin_db"]
  lines = []
  for info in result.test_sets:
    name = info["name"]
    lines += [
        "## SR x%d on %s: PSNR (Y, shave %d) on %d held-out images, %d "
        "seed(s), %d steps" % (cfg["scale"], name, cfg["scale"],
                               len(info["images"]), cfg["seeds"],
                               cfg["steps"]),
        "",
        "| arm | runs | PSNR mean ± sd (dB) | gain over bicubic (dB) |",
        "|---|---|---|---|",
        "| bicubic | – | %s | – |" % _bicubic_cell(info),
    ]
    for arm, s in result.arms[name].items():
      lines.append("| %s | %d%s | %s ± %s | %s |" % (
          arm, s["n"],
          " (%d collapsed)" % len(s["collapsed_seeds"])
          if s["collapsed_seeds"] else "",
          _fmt(s["mean"]), _fmt(s["sd"]),
          _fmt(s["gain_over_bicubic"], "%+.3f")))
    if result.paired[name]:
      lines += ["", "| comparison (paired by seed) | n | Δ mean (dB) | "
                "95 %% CI (dB) | verdict (margin ±%g dB) | seeds needed |"
                % margin, "|---|---|---|---|---|---|"]
      for label, p in result.paired[name].items():
        needed = p["seeds_needed"]
        lines.append("| %s | %d | %s | [%s, %s] | %s | %s |" % (
            label, p["n"], _fmt(p["mean"], "%+.3f"),
            _fmt(p["ci_low"], "%+.3f"), _fmt(p["ci_high"], "%+.3f"),
            p["verdict"],
            "n/a" if needed is None and p["n"] < 2 else
            (needed if needed is not None
             else "> %d" % stats.MAX_SEEDS)))
    lines.append("")
  lines += [SEEDS_NEEDED_NOTE, "",
            "Test images: %s. TF %s; %.0f s wall time." % (
                "; ".join("%s: %s" % (i["name"], ", ".join(i["images"]))
                          for i in result.test_sets),
                result.tf_version, result.wall_seconds)]
  if any(r.collapsed for r in result.runs):
    lines.append("Collapsed runs (gain over bicubic < %.2f dB) are left out "
                 "of the means and the paired deltas."
                 % settings.COLLAPSE_GAIN_DB)
  return "\n".join(lines) + "\n"


def save_outputs(result):
  """Writes results.json, results.md and figure.png to the output folder,
  each atomically."""
  payload = dataclasses.asdict(result)
  payload.pop("crops")
  payload["note"] = ("PSNR in dB on the Y channel (BT.601), 8-bit outputs, "
                     "scale pixels shaved; null marks an undefined value "
                     "(e.g. an interval from fewer than 2 seeds). " +
                     SEEDS_NEEDED_NOTE)
  files.write_atomic(os.path.join(result.output_dir, "results.json"),
               json.dumps(files.json_safe(payload), indent=1))
  files.write_atomic(os.path.join(result.output_dir, "results.md"),
               format_table(result))
  buffer = io.BytesIO()
  save_figure(result, buffer)
  files.write_atomic(os.path.join(result.output_dir, "figure.png"),
               buffer.getvalue())


def save_figure(result, target):
  """Paired Δ per seed with the 95 % interval and the ±margin band (first
  test set), beside crops of its first image. `target`: a path or file."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  set_name = result.test_sets[0]["name"]
  paired = result.paired[set_name]
  margin = result.config["margin_db"]
  panels = ["bicubic"] + list(result.config["arms"]) + ["ground truth"]
  fig = plt.figure(figsize=(2.2 * max(len(panels), 4), 5.6))
  grid = fig.add_gridspec(2, len(panels), height_ratios=[1.3, 1])
  ax = fig.add_subplot(grid[0, :])
  labels = list(paired)
  ax.axhspan(-margin, margin, color="0.9",
             label="±%g dB margin" % margin)
  ax.axhline(0.0, color="grey", linewidth=0.8)
  for i, label in enumerate(labels):
    p = paired[label]
    if p["deltas"]:
      offsets = np.linspace(-0.15, 0.15, len(p["deltas"]))
      ax.plot(i + offsets, p["deltas"], "o", color="tab:blue", alpha=0.45,
              markersize=4, label="one seed" if i == 0 else None)
    if p["n"] >= 2:
      ax.errorbar([i + 0.3], [p["mean"]], yerr=[[p["mean"] - p["ci_low"]],
                                                [p["ci_high"] - p["mean"]]],
                  fmt="s", color="black", capsize=5,
                  label="mean, 95 % interval" if i == 0 else None)
    ax.annotate(p["verdict"], (i, 1.0), xycoords=("data", "axes fraction"),
                ha="center", va="bottom", fontsize=8)
  ax.set_xticks(range(len(labels)))
  ax.set_xticklabels(labels, fontsize=8)
  ax.set_xlim(-0.5, max(len(labels), 1) - 0.5)
  ax.set_ylabel("paired Δ PSNR, Y (dB)")
  ax.set_title("x%d on %s: change per seed (%d seeds, %d steps)"
               % (result.config["scale"], set_name, result.config["seeds"],
                  result.config["steps"]), fontsize=10)
  ax.legend(loc="lower right", fontsize=8)
  for i, name in enumerate(panels):
    crop_ax = fig.add_subplot(grid[1, i])
    if name in result.crops:
      crop_ax.imshow(result.crops[name], interpolation="nearest")
    crop_ax.set_title(name + ("" if name in ("bicubic", "ground truth")
                              else " (seed 0)"), fontsize=9)
    crop_ax.axis("off")
  fig.tight_layout()
  fig.savefig(target, dpi=80, format="png")
  plt.close(fig)
