"""One training run (arm, seed): the loop, checkpoints, resume, evaluation.
"""

import dataclasses
import io
import json
import math
import os
import shutil
import time

import numpy as np

from sr_example import data
from sr_example import degradations
from sr_example import files
from sr_example import metrics
from sr_example import network
from sr_example import settings
from tf1_dropblock.compat import tf


@dataclasses.dataclass
class RunResult:
  arm: str
  seed: int
  psnr: dict               # Test set -> PSNR per image, dB.
  mean_psnr: dict          # Test set -> mean PSNR, dB.
  gain_over_bicubic: dict  # Test set -> mean gain over bicubic, dB.
  collapsed: bool
  final_loss: float
  steps_per_second: float
  train_seconds: float
  start_step: int = 0      # > 0 when resumed from a checkpoint.


class Progress(object):
  """Progress lines (step, loss, steps/s, ETA) and the projected total.

  Runs reused by --resume cost nothing and are not timed. A trained run's
  cost is split into its fixed part (graph build, initialisation,
  evaluation) and its seconds per step, so the ETA of the runs still to
  train holds whatever mix of reused, resumed and new runs is left.
  """

  def __init__(self, total_runs, steps_per_run, stream):
    self.total_runs = total_runs
    self.steps_per_run = steps_per_run
    self.finished_runs = 0
    self.stream = stream
    self.start = time.time()
    self._fixed = []          # Seconds outside the training loop, per run.
    self._per_step = []       # Training seconds per step, per run.
    self._run_start = None

  def reused(self):
    self.finished_runs += 1

  def run_started(self):
    self._run_start = time.time()

  def run_finished(self, trained_steps, train_seconds):
    total = time.time() - self._run_start
    self.finished_runs += 1
    if trained_steps:
      self._fixed.append(max(total - train_seconds, 0.0))
      self._per_step.append(train_seconds / trained_steps)
      self.stream.write("Projected total: %s (%d of %d runs done; %s left, "
                        "about %s per run)\n" % (
                            _format_seconds(time.time() - self.start
                                            + self._left(0.0)),
                            self.finished_runs, self.total_runs,
                            _format_seconds(self._left(0.0)),
                            _format_seconds(self._full_run())))
      self.stream.flush()

  def _full_run(self, rate=None):
    if self._per_step:
      return (float(np.mean(self._fixed)) +
              self.steps_per_run * float(np.mean(self._per_step)))
    return self.steps_per_run / rate if rate else float("nan")

  def _left(self, current_run_left, rate=None):
    """Seconds left: the current run's rest plus the runs not started."""
    not_started = self.total_runs - self.finished_runs - (
        1 if current_run_left else 0)
    return current_run_left + not_started * self._full_run(rate)

  def line(self, label, step, steps, loss, rate):
    run_left = (steps - step) / rate if rate > 0 else float("nan")
    if step == steps:
      run_left = 1e-9  # Evaluation left; counted as part of this run.
    eta = self._left(run_left, rate)
    self.stream.write("[%s] step %d/%d  loss %.4f  %.1f steps/s  "
                      "ETA %s\n" % (label, step, steps, loss, rate,
                                    _format_seconds(eta)))
    self.stream.flush()


def _format_seconds(seconds):
  if not math.isfinite(seconds):
    return "?"
  minutes, seconds = divmod(int(round(seconds)), 60)
  return "%dm%02ds" % (minutes, seconds) if minutes else "%ds" % seconds


def train_run(config, arm, seed, train, test_sets, run_dir, progress):
  """Trains one arm with one seed (resuming if asked) and evaluates it."""
  label = "%s seed %d" % (arm, seed)
  result_path = os.path.join(run_dir, "result.json")
  key_path = os.path.join(run_dir, "config.json")
  run_key = config.run_key()
  if config.resume and os.path.exists(key_path):
    saved_key, problem = files.read_json(key_path)
    if problem:
      raise settings.DataError(
          "--resume: %s is %s; delete %s to train this run again."
          % (key_path, problem, run_dir))
    if saved_key != run_key:
      raise settings.DataError("--resume: %s was made with other settings; use "
                      "another --output_dir or drop --resume." % run_dir)
    saved, problem = files.read_json(result_path)
    crop_path = os.path.join(run_dir, "crop.npy")
    if saved is not None and os.path.exists(crop_path):
      progress.reused()
      result = RunResult(**saved)
      # Decided again from the saved gains, so the rule of this version
      # applies to runs finished by an earlier one.
      result.collapsed = is_collapsed(result.gain_over_bicubic, test_sets)
      return result, np.load(crop_path)
    if problem != "missing":
      progress.stream.write("[%s] result.json %s: evaluating again from the "
                            "last checkpoint.\n" % (label, problem))
  elif os.path.exists(run_dir):
    shutil.rmtree(run_dir)
  os.makedirs(run_dir, exist_ok=True)
  files.write_atomic(key_path, json.dumps(run_key, indent=1, sort_keys=True))

  progress.run_started()
  model = network.Model(config, arm, seed)
  ops = (degradations.ImageOps() if config.degradation == "mixed" else None)
  try:
    with model.graph.as_default():
      result, crop = _train_model(model, config, arm, seed, train, test_sets,
                                  run_dir, progress, ops)
  finally:
    model.close()
    if ops is not None:
      ops.close()
  progress.run_finished(config.steps - result.start_step,
                        result.train_seconds)
  return result, crop


def _train_model(model, config, arm, seed, train, test_sets, run_dir,
                 progress, ops):
  """The training loop, evaluation and run files of one built model."""
  label = "%s seed %d" % (arm, seed)
  model.sess.run(model.init)
  checkpoint = tf.train.latest_checkpoint(run_dir)
  if config.resume and checkpoint:
    model.saver.restore(model.sess, checkpoint)
  step = int(model.sess.run(model.global_step))
  writer = tf.summary.FileWriter(run_dir, graph=model.graph)
  hr_train, lr_train = [t.hr for t in train], [t.lr for t in train]
  allowed = [t.allowed for t in train]
  loss = float("nan")
  start, window_start, window_step = time.time(), time.time(), step
  start_step = step
  while step < config.steps:
    lr_batch, hr_batch = data.sample_batch(lr_train, hr_train, seed, step,
                                      config.batch_size, config.patch_size,
                                      config.scale, ops, allowed)
    _, loss, summary = model.sess.run(
        [model.train_op, model.loss, model.summary],
        {model.lr: lr_batch, model.hr: hr_batch, model.training: True})
    step += 1
    if step % config.log_every == 0 or step == config.steps:
      writer.add_summary(summary, step)
      now = time.time()
      rate = (step - window_step) / max(now - window_start, 1e-9)
      window_start, window_step = now, step
      progress.line(label, step, config.steps, loss, rate)
    if step % config.checkpoint_every == 0 or step == config.steps:
      model.saver.save(model.sess, os.path.join(run_dir, "model.ckpt"),
                       global_step=step)
  train_seconds = time.time() - start
  psnr, means, gains, crop = {}, {}, {}, None
  for test_set in test_sets:
    outputs = [model.super_resolve(lr) for _, lr, _ in test_set.triples]
    psnr[test_set.name] = [
        metrics.psnr_y(out, hr, config.scale)
        for out, (hr, _, _) in zip(outputs, test_set.triples)]
    bicubic = [metrics.psnr_y(bic, hr, config.scale)
               for hr, _, bic in test_set.triples]
    means[test_set.name] = float(np.mean(psnr[test_set.name]))
    gains[test_set.name] = means[test_set.name] - float(np.mean(bicubic))
    if crop is None:
      crop = center_crop(outputs[0])
  trained = step - start_step
  result = RunResult(
      arm=arm, seed=seed, psnr=psnr, mean_psnr=means,
      gain_over_bicubic=gains,
      collapsed=is_collapsed(gains, test_sets),
      final_loss=float(loss),
      steps_per_second=(trained / train_seconds if trained else
                        float("nan")),
      train_seconds=train_seconds, start_step=start_step)
  writer.add_summary(tf.Summary(value=[
      tf.Summary.Value(tag="psnr_y/" + name, simple_value=value)
      for name, value in means.items()]), step)
  writer.close()
  buffer = io.BytesIO()
  np.save(buffer, crop)
  files.write_atomic(os.path.join(run_dir, "crop.npy"), buffer.getvalue())
  # Written last: its presence marks the run as finished.
  files.write_atomic(
      os.path.join(run_dir, "result.json"),
      json.dumps(files.json_safe(dataclasses.asdict(result)), indent=1))
  return result, crop


def collapse_gain(gains, test_sets):
  """The gain over bicubic that decides a collapse: the mean over the test
  sets under every test condition (not the training tiles).

  A network that collapsed to its bicubic input gains about 0 dB under
  every condition. One trained on mixed degradations may well lose to
  bicubic on clean inputs while gaining dBs on degraded ones: not a
  collapse, which is why no single condition decides.
  """
  return float(np.mean([gains[t.name] for t in test_sets
                        if t.kind == "test"]))


def is_collapsed(gains, test_sets):
  return bool(collapse_gain(gains, test_sets) < settings.COLLAPSE_GAIN_DB)


def center_crop(image, size=96):
  """A central square crop, for the figure."""
  height, width = image.shape[:2]
  size = min(size, height, width)
  top, left = (height - size) // 2, (width - size) // 2
  return image[top:top + size, left:left + size]
