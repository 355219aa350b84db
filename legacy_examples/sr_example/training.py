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
  """Prints step, loss, steps/s and the whole comparison's ETA."""

  def __init__(self, total_steps, stream):
    self.total_steps = total_steps
    self.done_steps = 0
    self.start = time.time()
    self.stream = stream

  def line(self, label, step, steps, loss, rate):
    elapsed = time.time() - self.start
    overall = self.done_steps / elapsed if elapsed > 0 else 0.0
    remaining = self.total_steps - self.done_steps
    eta = remaining / overall if overall > 0 else float("nan")
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
      progress.done_steps += config.steps
      return RunResult(**saved), np.load(crop_path)
    if problem != "missing":
      progress.stream.write("[%s] result.json %s: evaluating again from the "
                            "last checkpoint.\n" % (label, problem))
  elif os.path.exists(run_dir):
    shutil.rmtree(run_dir)
  os.makedirs(run_dir, exist_ok=True)
  files.write_atomic(key_path, json.dumps(run_key, indent=1, sort_keys=True))

  model = network.Model(config, arm, seed)
  try:
    with model.graph.as_default():
      return _train_model(model, config, arm, seed, train, test_sets,
                          run_dir, progress)
  finally:
    model.close()


def _train_model(model, config, arm, seed, train, test_sets, run_dir,
                 progress):
  """The training loop, evaluation and run files of one built model."""
  label = "%s seed %d" % (arm, seed)
  model.sess.run(model.init)
  checkpoint = tf.train.latest_checkpoint(run_dir)
  if config.resume and checkpoint:
    model.saver.restore(model.sess, checkpoint)
  step = int(model.sess.run(model.global_step))
  progress.done_steps += step
  writer = tf.summary.FileWriter(run_dir, graph=model.graph)
  hr_train, lr_train = [t[0] for t in train], [t[1] for t in train]
  loss = float("nan")
  start, window_start, window_step = time.time(), time.time(), step
  start_step = step
  while step < config.steps:
    lr_batch, hr_batch = data.sample_batch(lr_train, hr_train, seed, step,
                                      config.batch_size, config.patch_size,
                                      config.scale)
    _, loss, summary = model.sess.run(
        [model.train_op, model.loss, model.summary],
        {model.lr: lr_batch, model.hr: hr_batch, model.training: True})
    step += 1
    progress.done_steps += 1
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
      collapsed=bool(np.mean(list(gains.values())) < settings.COLLAPSE_GAIN_DB),
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


def center_crop(image, size=96):
  """A central square crop, for the figure."""
  height, width = image.shape[:2]
  size = min(size, height, width)
  top, left = (height - size) // 2, (width - size) // 2
  return image[top:top + size, left:left + size]
