"""The whole comparison: every arm and seed, summaries, paired deltas.
"""

import collections
import dataclasses
import os
import sys
import time

import numpy as np

from sr_example import data
from sr_example import metrics
from sr_example import report
from sr_example import settings
from sr_example import stats
from sr_example import training
from tf1_dropblock import compat


@dataclasses.dataclass
class ComparisonResult:
  config: dict
  tf_version: str
  test_sets: list       # Per set: name, images, bicubic PSNR, published.
  runs: list            # RunResult for every arm and seed.
  arms: dict            # Test set -> arm -> summary over seeds.
  paired: dict          # Test set -> "a vs b" -> paired comparison.
  wall_seconds: float
  control: dict         # Test set -> did the positive control show?
  gap: dict             # Arm -> generalisation gap over seeds (or empty).
  output_dir: str
  crops: dict = dataclasses.field(default_factory=dict, repr=False)


def comparisons(arms):
  """The (arm, baseline) pairs reported: each regulariser (and the control)
  against none, and DropBlock against the regularisers it is offered
  instead of."""
  pairs = [(arm, "none") for arm in arms if arm != "none" and "none" in arms]
  if "dropblock" in arms:
    pairs += [("dropblock", other) for other in ("dropout", "spatial_dropout")
              if other in arms]
  return pairs


def run_comparison(config, stream=None):
  """Trains every arm with every seed and compares them on held-out images.

  Args:
    config: A `Config`.
    stream: Where progress lines go (default: stdout).

  Returns:
    A `ComparisonResult`; its files are in `config.output_dir`.

  Raises:
    ValueError: For bad settings (`Config.validate`).
    DataError: For missing, unreadable or too small images, or a resume
      from a run made with other settings.
  """
  config.validate()
  stream = stream or sys.stdout
  wall_start = time.time()
  stream.write(report.settings_text(dataclasses.asdict(config)) + "\n")
  stream.flush()
  train, test_sets = data.load_data(config)
  os.makedirs(config.output_dir, exist_ok=True)
  set_info = []
  for test_set in test_sets:
    bicubic = [metrics.psnr_y(bic, hr, config.scale)
               for hr, _, bic in test_set.triples]
    published = (metrics.published_bicubic(test_set.source, config.scale)
                 if test_set.kind == "test" and test_set.condition == "clean"
                 else None)
    info = {"name": test_set.name, "images": test_set.image_names,
            "source": test_set.source, "condition": test_set.condition,
            "kind": test_set.kind,
            "bicubic_psnr": bicubic, "bicubic_mean": float(np.mean(bicubic)),
            "published_bicubic": published}
    if (published is not None and
        abs(info["bicubic_mean"] - published) > metrics.BICUBIC_TOLERANCE_DB):
      stream.write(
          "Warning: bicubic on %s is %.2f dB, the published x%d baseline is "
          "%.2f dB: is this the standard set, with its HR images?\n"
          % (test_set.name, info["bicubic_mean"], config.scale, published))
    set_info.append(info)
  progress = training.Progress(len(config.arms) * config.seeds,
                               config.steps, stream)
  runs, crops = [], {}
  for seed in range(config.seeds):
    for arm in config.arms:
      run_dir = os.path.join(config.output_dir, "runs",
                             "%s_seed%d" % (arm, seed))
      result, crop = training.train_run(config, arm, seed, train, test_sets,
                                        run_dir, progress)
      runs.append(result)
      if seed == 0:
        crops[arm] = crop
      if result.collapsed:
        stream.write("[%s seed %d] collapsed: mean gain over bicubic on the "
                     "test sets %.3f dB < %.2f dB; left out of the means.\n"
                     % (arm, seed, training.collapse_gain(
                         result.gain_over_bicubic, test_sets),
                        settings.COLLAPSE_GAIN_DB))
  first = test_sets[0].triples[0]
  crops["bicubic"] = training.center_crop(first[2])
  crops["ground truth"] = training.center_crop(first[0])
  paired_by_set = {info["name"]: paired(runs, config.arms, info["name"],
                                        config.margin_db)
                   for info in set_info}
  result = ComparisonResult(
      config=dataclasses.asdict(config), tf_version=compat.VERSION,
      test_sets=set_info, runs=runs,
      arms={info["name"]: summarise_arms(runs, config.arms, info)
            for info in set_info},
      paired=paired_by_set, wall_seconds=0.0,
      control={name: control_check(p) for name, p in paired_by_set.items()},
      gap=generalisation_gap(runs, config.arms, set_info),
      output_dir=config.output_dir, crops=crops)
  result.wall_seconds = time.time() - wall_start
  report.save_outputs(result)
  return result


def summarise_arms(runs, arms, set_info):
  """Per arm on one test set: seeds, mean ± sd, interval, gain, collapses."""
  name = set_info["name"]
  summary = collections.OrderedDict()
  for arm in arms:
    kept = [r.mean_psnr[name] for r in runs
            if r.arm == arm and not r.collapsed]
    collapsed = [r.seed for r in runs if r.arm == arm and r.collapsed]
    n = len(kept)
    mean = float(np.mean(kept)) if n else float("nan")
    sd = float(np.std(kept, ddof=1)) if n > 1 else float("nan")
    half = stats.half_width(sd, n) if n > 1 else float("nan")
    summary[arm] = {"n": n, "mean": mean, "sd": sd, "ci_half_width": half,
                    "gain_over_bicubic": mean - set_info["bicubic_mean"],
                    "collapsed_seeds": collapsed}
  return summary


def paired(runs, arms, set_name, margin):
  """Paired deltas on one test set for every pair of `comparisons(arms)`,
  over the seeds where neither run collapsed."""
  by_key = {(r.arm, r.seed): r for r in runs}
  seeds = sorted({r.seed for r in runs})
  paired = collections.OrderedDict()
  for arm, baseline in comparisons(arms):
    deltas, used = [], []
    for seed in seeds:
      run, base = by_key.get((arm, seed)), by_key.get((baseline, seed))
      if run is None or base is None or run.collapsed or base.collapsed:
        continue
      deltas.append(run.mean_psnr[set_name] - base.mean_psnr[set_name])
      used.append(seed)
    comparison = stats.paired_comparison(deltas, margin)
    comparison.update(arm=arm, baseline=baseline, deltas=deltas, seeds=used)
    paired["%s vs %s" % (arm, baseline)] = comparison
  return paired


def control_check(paired_on_set):
  """Whether the positive control came out as it must ("hurts") on a set.

  Returns None when the run has no control (or no `none` arm), else a dict:
  detected (bool), verdict and mean of "control vs none".
  """
  key = "%s vs none" % settings.CONTROL_ARM
  if key not in paired_on_set:
    return None
  p = paired_on_set[key]
  return {"detected": p["verdict"].startswith(stats.HURTS),
          "verdict": p["verdict"], "mean": p["mean"],
          "ci_low": p["ci_low"], "ci_high": p["ci_high"]}


def generalisation_gap(runs, arms, set_info):
  """Per arm: gain over bicubic on the seen tiles of the training images
  minus the gain on their held-out tiles, over the seeds (empty when no
  image was large enough to have tiles; see `data.holdout_tiles`).

  Both kinds of tile are spread evenly over the same photos, and gains
  rather than PSNR cancel what is left of their difference in difficulty
  (their bicubic PSNR): the gap is how much better the network does on
  pixels it trained on than on unseen pixels of the same photos.
  """
  kinds = {info["kind"]: info["name"] for info in set_info}
  if data.SEEN not in kinds or data.HELD_OUT not in kinds:
    return {}
  seen, held_out = kinds[data.SEEN], kinds[data.HELD_OUT]
  gap = collections.OrderedDict()
  for arm in arms:
    kept = [r for r in runs if r.arm == arm and not r.collapsed]
    gaps = [r.gain_over_bicubic[seen] - r.gain_over_bicubic[held_out]
            for r in kept]
    n = len(gaps)
    gap[arm] = {
        "n": n,
        "seen_gain": float(np.mean([r.gain_over_bicubic[seen] for r in kept]))
                     if n else float("nan"),
        "held_out_gain": float(np.mean([r.gain_over_bicubic[held_out]
                                        for r in kept]))
                         if n else float("nan"),
        "gap": float(np.mean(gaps)) if n else float("nan"),
        "gap_ci_half_width": (stats.half_width(float(np.std(gaps, ddof=1)),
                                               n) if n > 1
                              else float("nan"))}
  return gap
