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


# The settings printed at the start of a run and at the top of the report.
_SETTING_NAMES = ("preset", "arms", "placement", "keep_prob", "block_size",
                  "keep_prob_schedule", "scale", "degradation", "conditions",
                  "steps", "seeds", "batch_size", "patch_size", "channels",
                  "num_blocks", "learning_rate", "margin_db")


def settings_text(cfg):
  """One line with the values this run uses (preset plus overrides)."""
  def value(name):
    v = cfg[name]
    return ",".join(v) if isinstance(v, (list, tuple)) else str(v)
  return ("Settings: " + " ".join("--%s=%s" % (name, value(name))
                                  for name in _SETTING_NAMES) +
          " (control: element-wise dropout, keep_prob %g, after every "
          "residual block)" % settings.CONTROL_KEEP_PROB)


def _insensitive(result, name):
  check = result.control.get(name)
  return check is not None and not check["detected"]


def summary_lines(result):
  """Plain sentences first: can the run see an effect, was there anything
  to regularise, and the answers on clean inputs of the first test set."""
  cfg = result.config
  margin = cfg["margin_db"]
  lines = ["## What this run shows", ""]
  tests = [i["name"] for i in result.test_sets if i["kind"] == "test"]
  checks = [(name, result.control.get(name)) for name in tests]
  checks = [(name, c) for name, c in checks if c is not None]
  if not checks:
    lines.append("- **No positive control** in this run (arms without "
                 "`control` and `none`): its verdicts have not been shown "
                 "to detect an effect.")
  else:
    missed = [name for name, c in checks if not c["detected"]]
    if missed:
      lines.append(
          "- **Positive control not detected** on %s: the control (known "
          "to lower PSNR) did not come out \"hurts\", so this run could "
          "not detect an effect of that size there; verdicts on those sets "
          "are marked †." % ", ".join(missed))
    if len(missed) < len(checks):
      shown = [c for name, c in checks if c["detected"]]
      lines.append(
          "- Positive control detected on %d of %d test set(s) (control vs "
          "none %s dB): the run can see an effect of that size."
          % (len(shown), len(checks), " / ".join(
              _fmt(c["mean"], "%+.3f") for c in shown)))
  none_gap = result.gap.get("none")
  if none_gap and none_gap["n"]:
    gap = none_gap["gap"]
    text = ("- Generalisation gap of `none` (gain over bicubic on seen "
            "minus held-out tiles of the training images): %s dB (± %s)."
            % (_fmt(gap, "%+.3f"), _fmt(none_gap["gap_ci_half_width"])))
    if not gap > margin:
      text += (" **Too small for a regulariser to help**: it is below the "
               "±%g dB margin, so even closing it entirely could not "
               "improve held-out PSNR by more than the run resolves; a "
               "\"no effect\" here says little about a longer or larger "
               "training." % margin)
    else:
      text += " There is overfitting for a regulariser to reduce."
    lines.append(text)
  elif not result.gap:
    lines.append("- No generalisation gap: no training image was large "
                 "enough for held-out tiles (2 x 3 tiles of --patch_size).")
  if tests:
    first = tests[0]
    for label, p in result.paired[first].items():
      if p["arm"] == settings.CONTROL_ARM:
        continue
      lines.append("- %s on %s: %s dB [%s, %s], %s%s." % (
          label, first, _fmt(p["mean"], "%+.3f"), _fmt(p["ci_low"], "%+.3f"),
          _fmt(p["ci_high"], "%+.3f"), p["verdict"],
          " †" if _insensitive(result, first) else ""))
  lines.append("")
  return lines


def _set_table(result, info):
  cfg = result.config
  name = info["name"]
  margin = cfg["margin_db"]
  what = {"test": "%d held-out images" % len(info["images"]),
          "seen": "%d seen tiles of the training images"
                  % len(info["images"]),
          "held-out": "%d held-out tiles of the training images"
                      % len(info["images"])}[info["kind"]]
  lines = [
      "## SR x%d on %s: PSNR (Y, shave %d) on %s, %d seed(s), %d steps"
      % (cfg["scale"], name, cfg["scale"], what, cfg["seeds"], cfg["steps"]),
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
  if result.paired[name] and info["kind"] == "test":
    mark = " †" if _insensitive(result, name) else ""
    lines += ["", "| comparison (paired by seed) | n | Δ mean (dB) | "
              "95 %% CI (dB) | verdict (margin ±%g dB) | seeds needed |"
              % margin, "|---|---|---|---|---|---|"]
    for label, p in result.paired[name].items():
      needed = p["seeds_needed"]
      control = p["arm"] == settings.CONTROL_ARM
      lines.append("| %s%s | %d | %s | [%s, %s] | %s | %s |" % (
          label, " (positive control)" if control else "", p["n"],
          _fmt(p["mean"], "%+.3f"),
          _fmt(p["ci_low"], "%+.3f"), _fmt(p["ci_high"], "%+.3f"),
          p["verdict"] + ("" if control else mark),
          "n/a" if needed is None and p["n"] < 2 else
          (needed if needed is not None
           else "> %d" % stats.MAX_SEEDS)))
    if mark:
      lines += ["", "† The positive control was not detected on this set: "
                "the run could not see an effect of its size here."]
  lines.append("")
  return lines


def _gap_table(result):
  if not result.gap:
    return []
  tests = [i["name"] for i in result.test_sets if i["kind"] == "test"]
  lines = ["## Generalisation gap: gain over bicubic (dB) on the training "
           "images' seen and held-out tiles, beside the test sets", "",
           "| arm | seen tiles | held-out tiles | gap (seen − held-out) "
           "| %s |" % " | ".join(tests),
           "|---|---|---|---|%s" % ("---|" * len(tests))]
  for arm, g in result.gap.items():
    lines.append("| %s | %s | %s | %s ± %s | %s |" % (
        arm, _fmt(g["seen_gain"], "%+.3f"), _fmt(g["held_out_gain"], "%+.3f"),
        _fmt(g["gap"], "%+.3f"), _fmt(g["gap_ci_half_width"]),
        " | ".join(_fmt(result.arms[t][arm]["gain_over_bicubic"], "%+.3f")
                   for t in tests)))
  lines.append("")
  return lines


def format_table(result):
  """The Markdown report: what the run shows, then per set (and condition)
  per-arm PSNR, gains, paired deltas, verdicts and seeds needed, and the
  generalisation gap."""
  lines = ["Settings: " + settings_text(result.config)[len("Settings: "):],
           ""]
  lines += summary_lines(result)
  for info in result.test_sets:
    if info["kind"] == "test":
      lines += _set_table(result, info)
  lines += _gap_table(result)
  lines += [SEEDS_NEEDED_NOTE, "",
            "Test images: %s. TF %s; %.0f s wall time." % (
                "; ".join("%s: %s" % (i["name"], ", ".join(i["images"]))
                          for i in result.test_sets
                          if i["kind"] == "test"
                          and i["condition"] == result.test_sets[0][
                              "condition"]),
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
                  result.config["steps"]), fontsize=10, pad=18)
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
