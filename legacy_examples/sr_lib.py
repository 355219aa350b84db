"""Super-resolution comparison behind `sr_dropblock.py`: the testable part.

Trains a small residual SR network (EDSR-like, built from `get_variable` and
`tf.nn.conv2d` so it runs on TF 1.15 and on TF 2.x with Keras 3) once per arm
and seed, in a `tf.compat.v1` graph with a bool `training` placeholder, and
reports the PSNR change each regulariser makes, paired by seed, with a t
confidence interval and a verdict.

Measurement protocol (as SR papers report it): HR images cropped to a
multiple of the scale; LR = bicubic downscale with antialiasing (MATLAB
`imresize`), rounded to 8 bits; PSNR on the Y channel of ITU-R BT.601 studio
YCbCr, peak 255, `scale` pixels shaved from each border.
"""

import collections
import dataclasses
import glob
import json
import math
import os
import shutil
import sys
import time
import zlib

import numpy as np

import tf1_dropblock
from tf1_dropblock import compat
from tf1_dropblock.compat import tf

ARMS = ("none", "dropout", "dropblock", "spatial_dropout")
DEFAULT_ARMS = ("none", "dropblock", "spatial_dropout")
PLACEMENTS = ("last", "all")
SCHEDULES = ("constant", "linear")

# Natural photos that ship inside scikit-image (no download). Train and test
# sets are disjoint images; grey ones are replicated to RGB.
BUNDLED_TRAIN = ("astronaut", "coffee", "rocket", "stereo_motorcycle",
                 "immunohistochemistry", "brick", "grass", "gravel", "moon")
BUNDLED_TEST = ("chelsea", "camera", "coins", "clock")

# A run whose mean gain over bicubic is below this has collapsed to (about)
# its bicubic input; it is reported and left out of the means.
COLLAPSE_GAIN_DB = 0.05

_IMAGE_PATTERNS = ("*.png", "*.jpg", "*.jpeg", "*.bmp", "*.PNG", "*.JPG",
                   "*.JPEG", "*.BMP")


class DataError(ValueError):
  """Bad user data: missing folders, unreadable or too small images."""


@dataclasses.dataclass
class Config:
  """Everything a comparison run depends on; mirrors the script's flags."""
  data_dir: str = ""
  test_dir: str = ""
  scale: int = 2
  arms: tuple = DEFAULT_ARMS
  keep_prob: float = 0.9
  block_size: int = 3
  placement: str = "last"
  keep_prob_schedule: str = "constant"
  seeds: int = 3
  steps: int = 600
  batch_size: int = 16
  patch_size: int = 48
  channels: int = 32
  num_blocks: int = 4
  learning_rate: float = 1e-3
  output_dir: str = "sr_output"
  resume: bool = False
  log_every: int = 100
  checkpoint_every: int = 200

  def validate(self):
    """Raises ValueError naming the first bad setting."""
    if self.scale not in (2, 3, 4):
      raise ValueError("scale must be 2, 3 or 4. Received: scale=%r"
                       % self.scale)
    if not self.arms or any(arm not in ARMS for arm in self.arms):
      raise ValueError("arms must be a comma list of %s. Received: arms=%r"
                       % (", ".join(ARMS), ",".join(self.arms)))
    if len(set(self.arms)) != len(self.arms):
      raise ValueError("arms must not repeat. Received: arms=%r"
                       % ",".join(self.arms))
    if not 0.0 < self.keep_prob <= 1.0:
      raise ValueError("keep_prob must be in (0, 1]. Received: keep_prob=%r"
                       % self.keep_prob)
    if self.placement not in PLACEMENTS:
      raise ValueError("placement must be one of %s. Received: %r"
                       % (PLACEMENTS, self.placement))
    if self.keep_prob_schedule not in SCHEDULES:
      raise ValueError("keep_prob_schedule must be one of %s. Received: %r"
                       % (SCHEDULES, self.keep_prob_schedule))
    for name in ("block_size", "seeds", "steps", "batch_size", "channels",
                 "num_blocks", "log_every", "checkpoint_every"):
      if getattr(self, name) < 1:
        raise ValueError("%s must be positive. Received: %s=%r"
                         % (name, name, getattr(self, name)))
    if self.patch_size < 2 * self.scale or self.patch_size % self.scale:
      raise ValueError(
          "patch_size must be a multiple of scale and at least 2 * scale. "
          "Received: patch_size=%r, scale=%r" % (self.patch_size, self.scale))
    if not self.learning_rate > 0:
      raise ValueError("learning_rate must be positive. Received: %r"
                       % self.learning_rate)

  def run_key(self):
    """The settings a saved run must share to be resumed."""
    key = dataclasses.asdict(self)
    for name in ("output_dir", "resume", "seeds", "arms", "log_every"):
      key.pop(name)
    return key


# ----------------------------------------------------------------------------
# Data and degradation.


def to_rgb_uint8(image):
  """HxW, HxWx1, HxWx3 or HxWx4 image -> HxWx3 uint8."""
  image = np.asarray(image)
  if image.dtype == bool:
    image = image.astype(np.uint8) * 255
  elif image.dtype != np.uint8:
    image = np.clip(np.round(image * 255.0 if image.max() <= 1.0 else image),
                    0, 255).astype(np.uint8)
  if image.ndim == 2:
    image = image[:, :, None]
  if image.shape[2] == 1:
    image = np.repeat(image, 3, axis=2)
  return np.ascontiguousarray(image[:, :, :3])


def bundled_images(names):
  """[(name, HxWx3 uint8)] from scikit-image's bundled sample photos."""
  try:
    from skimage import data as skdata  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise DataError(
        "The bundled images come from scikit-image, which is not installed "
        "(pip install -e '.[examples]'), or pass --data_dir and --test_dir."
    ) from e
  images = []
  for name in names:
    image = getattr(skdata, name)()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disp).
      image = image[0]
    images.append((name, to_rgb_uint8(image)))
  return images


def load_folder(path, flag_name):
  """[(file name, HxWx3 uint8)] for the PNG/JPEG/BMP images in `path`."""
  if not os.path.isdir(path):
    raise DataError("--%s=%s is not a folder." % (flag_name, path))
  files = sorted({f for pattern in _IMAGE_PATTERNS
                  for f in glob.glob(os.path.join(path, pattern))})
  if not files:
    raise DataError("--%s=%s has no PNG, JPEG or BMP images."
                    % (flag_name, path))
  images = []
  with tf.Graph().as_default():
    contents = tf.placeholder(tf.string, [])
    decoded = tf.image.decode_image(contents, channels=3)
    with tf.Session() as sess:
      for filename in files:
        with open(filename, "rb") as f:
          raw = f.read()
        try:
          image = sess.run(decoded, {contents: raw})
        except tf.errors.OpError as e:
          raise DataError("Cannot read image %s: %s"
                          % (filename, e.message.splitlines()[0])) from e
        if image.ndim != 3:
          raise DataError("Cannot read image %s: animated images are not "
                          "supported." % filename)
        images.append((os.path.basename(filename), to_rgb_uint8(image)))
  return images


def modcrop(image, scale):
  """Crops H and W down to multiples of `scale` (top-left kept)."""
  height, width = image.shape[:2]
  return image[:height - height % scale, :width - width % scale]


class _Resizer(object):
  """Bicubic resizing of single uint8 images in one small graph."""

  def __init__(self):
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._image = tf.placeholder(tf.float32, [None, None, 3])
      self._size = tf.placeholder(tf.int32, [2])
      self._antialias = {}
      for antialias in (False, True):
        resized = compat.resize_bicubic(self._image[None], self._size,
                                        antialias=antialias)[0]
        self._antialias[antialias] = tf.cast(
            tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)
    self._sess = tf.Session(graph=self._graph)

  def __call__(self, image, size, antialias):
    return self._sess.run(self._antialias[antialias],
                          {self._image: image, self._size: size})

  def close(self):
    self._sess.close()


def degrade(images, scale):
  """Makes (HR, LR, bicubic) uint8 triples, as MATLAB's `imresize` would.

  HR is cropped to a multiple of `scale`; LR is its antialiased bicubic
  downscale rounded to 8 bits; bicubic is LR upscaled back, the baseline.
  """
  resizer = _Resizer()
  try:
    triples = []
    for image in images:
      hr = modcrop(image, scale)
      height, width = hr.shape[:2]
      lr = resizer(hr, [height // scale, width // scale], antialias=True)
      bicubic = resizer(lr, [height, width], antialias=False)
      triples.append((hr, lr, bicubic))
    return triples
  finally:
    resizer.close()


def sample_batch(lr_images, hr_images, seed, step, batch_size, patch_size,
                 scale):
  """The training batch for `step` of run `seed`, the same in every arm.

  A batch depends only on (seed, step), so arms with one seed see identical
  batches and a resumed run continues with the batches it would have seen.
  Patches are random crops with random flips and transposes.
  """
  rng = np.random.RandomState((seed * 1000003 + step) % (2 ** 32))
  lr_patch = patch_size // scale
  lr_batch = np.empty((batch_size, lr_patch, lr_patch, 3), np.float32)
  hr_batch = np.empty((batch_size, patch_size, patch_size, 3), np.float32)
  for i in range(batch_size):
    k = rng.randint(len(lr_images))
    lr, hr = lr_images[k], hr_images[k]
    y = rng.randint(lr.shape[0] - lr_patch + 1)
    x = rng.randint(lr.shape[1] - lr_patch + 1)
    lr_crop = lr[y:y + lr_patch, x:x + lr_patch]
    hr_crop = hr[y * scale:(y + lr_patch) * scale,
                 x * scale:(x + lr_patch) * scale]
    flip, mirror, transpose = rng.randint(2, size=3)
    for op, flag in ((np.flipud, flip), (np.fliplr, mirror),
                     (lambda a: a.transpose(1, 0, 2), transpose)):
      if flag:
        lr_crop, hr_crop = op(lr_crop), op(hr_crop)
    lr_batch[i] = lr_crop
    hr_batch[i] = hr_crop
  return lr_batch / 255.0, hr_batch / 255.0


# ----------------------------------------------------------------------------
# Metrics and statistics.


def rgb_to_y(image):
  """Y of BT.601 studio YCbCr, as MATLAB's rgb2ycbcr, from 0..255 RGB."""
  rgb = np.asarray(image, np.float64) / 255.0
  return 16.0 + rgb @ np.array([65.481, 128.553, 24.966])


def shave(image, border):
  """Removes `border` pixels from each side of H and W."""
  if border == 0:
    return image
  return image[border:-border, border:-border]


def psnr_y(output, reference, border):
  """PSNR (dB, peak 255) on the Y channel after shaving `border` pixels.

  Both images are HxWx3 uint8 (or 0..255 values rounded to integers by the
  caller). Returns `inf` for identical images.
  """
  if output.shape != reference.shape:
    raise ValueError("Images differ in shape: %s vs %s"
                     % (output.shape, reference.shape))
  diff = shave(rgb_to_y(output), border) - shave(rgb_to_y(reference), border)
  if diff.size == 0:
    raise ValueError("Nothing left after shaving %d pixels from a %s image."
                     % (border, output.shape))
  mse = np.mean(diff ** 2)
  return float("inf") if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


# Two-sided 95 % quantiles of Student's t, df = 1..30.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
         2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
         2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
         2.042)


def t_quantile_975(df):
  """The 0.975 quantile of Student's t with `df` degrees of freedom."""
  if df < 1:
    raise ValueError("df must be >= 1. Received: %r" % df)
  if df <= len(_T975):
    return _T975[df - 1]
  z = 1.959964  # Cornish-Fisher expansion around the normal quantile.
  return (z + (z ** 3 + z) / (4 * df)
          + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2))


def paired_comparison(deltas):
  """Mean paired difference with a 95 % t interval and a verdict.

  Args:
    deltas: Per-seed differences (regularised minus none), in dB.

  Returns:
    A dict with n, mean, sd, ci_low, ci_high and verdict: "improves" or
    "hurts" when the interval excludes 0, else "not resolved at this
    budget" (always so with fewer than 2 seeds: no interval exists).
  """
  deltas = np.asarray(deltas, np.float64)
  n = int(deltas.size)
  result = {"n": n, "mean": float(np.mean(deltas)) if n else float("nan"),
            "sd": float("nan"), "ci_low": float("nan"),
            "ci_high": float("nan"),
            "verdict": "not resolved at this budget"}
  if n < 2:
    return result
  sd = float(np.std(deltas, ddof=1))
  half = t_quantile_975(n - 1) * sd / math.sqrt(n)
  result.update(sd=sd, ci_low=result["mean"] - half,
                ci_high=result["mean"] + half)
  if result["ci_low"] > 0:
    result["verdict"] = "improves"
  elif result["ci_high"] < 0:
    result["verdict"] = "hurts"
  return result


# ----------------------------------------------------------------------------
# Model.


def _seed_for(name, seed):
  """A stable op-level seed from a name, so ops keep their seeds whatever
  else the graph contains (TF1 otherwise derives them from creation order)."""
  return (zlib.crc32(name.encode("utf-8")) + 7919 * seed) % (2 ** 31 - 1)


def _conv(inputs, out_channels, name, seed, kernel=3, gain=2.0):
  in_channels = inputs.shape.as_list()[-1]
  with tf.variable_scope(name):
    kernel_var = tf.get_variable(
        "kernel", [kernel, kernel, in_channels, out_channels],
        initializer=tf.variance_scaling_initializer(
            scale=gain, mode="fan_in", distribution="truncated_normal",
            seed=_seed_for(tf.get_variable_scope().name + "/kernel", seed)))
    bias = tf.get_variable("bias", [out_channels],
                           initializer=tf.zeros_initializer())
    return tf.nn.bias_add(
        tf.nn.conv2d(inputs, kernel_var, strides=[1, 1, 1, 1],
                     padding="SAME"), bias)


def build_network(lr, training, keep_prob, config, arm, seed):
  """The SR network: LR [N, h, w, 3] in [0, 1] -> SR [N, h*s, w*s, 3].

  Head conv, `num_blocks` residual blocks, a body conv with a long skip,
  then conv + pixel shuffle, added to the bicubic upscale of the input.
  The regulariser of `arm` goes on the last feature map before the
  upsampler (placement "last") or after every residual block ("all").
  """
  scale, channels = config.scale, config.channels

  def regularise(features, name):
    if arm == "none":
      return features
    op_seed = _seed_for(name, seed)
    if arm == "dropout":
      # Element-wise dropout, the line the blog replaced, switched off when
      # not training like the other arms.
      return compat.smart_cond(
          training, lambda: tf.nn.dropout(features, rate=1.0 - keep_prob,
                                          seed=op_seed, name=name),
          lambda: features)
    if arm == "dropblock":
      return tf1_dropblock.dropblock(features, keep_prob, config.block_size,
                                     training=training, seed=op_seed,
                                     name=name)
    return tf1_dropblock.spatial_dropout(features, keep_prob,
                                         training=training, seed=op_seed,
                                         name=name)

  with tf.variable_scope("sr_net"):
    head = _conv(lr - 0.5, channels, "head", seed)
    features = head
    for i in range(config.num_blocks):
      residual = tf.nn.relu(_conv(features, channels, "block%d/conv1" % i,
                                  seed))
      residual = _conv(residual, channels, "block%d/conv2" % i, seed,
                       gain=0.1)
      features = features + residual
      if config.placement == "all":
        features = regularise(features, "block%d/regulariser" % i)
    features = _conv(features, channels, "body_end", seed) + head
    if config.placement == "last":
      features = regularise(features, "regulariser")
    detail = tf.nn.depth_to_space(
        _conv(features, 3 * scale * scale, "upsample", seed, gain=0.1), scale)
    size = tf.shape(lr)[1:3] * scale
    return compat.resize_bicubic(lr, size) + detail


class _Model(object):
  """The training graph of one arm and seed, with its session."""

  def __init__(self, config, arm, seed):
    self.graph = tf.Graph()
    with self.graph.as_default():
      tf.set_random_seed(seed)
      self.lr = tf.placeholder(tf.float32, [None, None, None, 3], name="lr")
      self.hr = tf.placeholder(tf.float32, [None, None, None, 3], name="hr")
      self.training = tf.placeholder(tf.bool, [], name="training")
      self.global_step = tf.train.get_or_create_global_step()
      if config.keep_prob_schedule == "linear":
        keep_prob = tf1_dropblock.linear_keep_prob(
            self.global_step, config.steps, config.keep_prob)
      else:
        keep_prob = tf.constant(config.keep_prob, tf.float32)
      self.keep_prob = keep_prob
      self.sr = build_network(self.lr, self.training, keep_prob, config, arm,
                              seed)
      self.loss = tf.reduce_mean(tf.abs(self.sr - self.hr))
      learning_rate = tf.train.cosine_decay(
          config.learning_rate, self.global_step, config.steps, alpha=0.1)
      self.train_op = tf.train.AdamOptimizer(learning_rate).minimize(
          self.loss, global_step=self.global_step)
      self.summary = tf.summary.merge([
          tf.summary.scalar("loss", self.loss),
          tf.summary.scalar("keep_prob", keep_prob),
          tf.summary.scalar("learning_rate", learning_rate)])
      self.output = tf.cast(
          tf.clip_by_value(tf.round(self.sr * 255.0), 0, 255), tf.uint8)
      self.saver = tf.train.Saver(max_to_keep=1)
      self.init = tf.global_variables_initializer()
    self.graph.finalize()
    self.sess = tf.Session(graph=self.graph)

  def initial_weights(self):
    """{variable name: value} after initialisation (for tests)."""
    self.sess.run(self.init)
    with self.graph.as_default():
      variables = tf.trainable_variables()
    return dict(zip([v.op.name for v in variables],
                    self.sess.run(variables)))

  def super_resolve(self, lr_uint8):
    return self.sess.run(self.output, {
        self.lr: lr_uint8[None].astype(np.float32) / 255.0,
        self.training: False})[0]

  def close(self):
    self.sess.close()


# ----------------------------------------------------------------------------
# Training, evaluation and the comparison.


@dataclasses.dataclass
class RunResult:
  arm: str
  seed: int
  psnr: list            # Per test image, dB.
  mean_psnr: float
  gain_over_bicubic: float
  collapsed: bool
  final_loss: float
  steps_per_second: float
  train_seconds: float
  start_step: int = 0   # > 0 when resumed from a checkpoint.


@dataclasses.dataclass
class ComparisonResult:
  config: dict
  tf_version: str
  test_images: list
  bicubic_psnr: list
  bicubic_mean: float
  runs: list            # RunResult for every arm and seed.
  arms: dict            # arm -> summary over seeds.
  paired: dict          # regularised arm -> paired_comparison vs "none".
  wall_seconds: float
  output_dir: str
  crops: dict = dataclasses.field(default_factory=dict, repr=False)


class _Progress(object):
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


def _train_run(config, arm, seed, train, test, run_dir, progress):
  """Trains one arm with one seed (resuming if asked) and evaluates it."""
  result_path = os.path.join(run_dir, "result.json")
  key_path = os.path.join(run_dir, "config.json")
  run_key = config.run_key()
  if config.resume and os.path.exists(key_path):
    with open(key_path) as f:
      if json.load(f) != run_key:
        raise DataError("--resume: %s was made with other settings; use "
                        "another --output_dir or drop --resume." % run_dir)
    if os.path.exists(result_path):
      with open(result_path) as f:
        saved = json.load(f)
      progress.done_steps += config.steps
      crop = np.load(os.path.join(run_dir, "crop.npy"))
      return RunResult(**saved), crop
  elif os.path.exists(run_dir):
    shutil.rmtree(run_dir)
  os.makedirs(run_dir, exist_ok=True)
  with open(key_path, "w") as f:
    json.dump(run_key, f, indent=1, sort_keys=True)

  model = _Model(config, arm, seed)
  try:
    with model.graph.as_default():
      return _train_model(model, config, arm, seed, train, test, run_dir,
                          progress)
  finally:
    model.close()


def _train_model(model, config, arm, seed, train, test, run_dir, progress):
  """The training loop, evaluation and run files of one built model."""
  label = "%s seed %d" % (arm, seed)
  model.sess.run(model.init)
  checkpoint = tf.train.latest_checkpoint(run_dir)
  if config.resume and checkpoint:
    model.saver.restore(model.sess, checkpoint)
  step = int(model.sess.run(model.global_step))
  progress.done_steps += step
  writer = tf.summary.FileWriter(run_dir, graph=model.graph)
  lr_train, hr_train = [t[1] for t in train], [t[0] for t in train]
  loss = float("nan")
  start, window_start, window_step = time.time(), time.time(), step
  start_step = step
  while step < config.steps:
    lr_batch, hr_batch = sample_batch(lr_train, hr_train, seed, step,
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
  outputs = [model.super_resolve(lr) for _, lr, _ in test]
  psnr = [psnr_y(out, hr, config.scale)
          for out, (hr, _, _) in zip(outputs, test)]
  bicubic = [psnr_y(bic, hr, config.scale) for hr, _, bic in test]
  gain = float(np.mean(psnr) - np.mean(bicubic))
  result = RunResult(
      arm=arm, seed=seed, psnr=psnr, mean_psnr=float(np.mean(psnr)),
      gain_over_bicubic=gain, collapsed=bool(gain < COLLAPSE_GAIN_DB),
      final_loss=float(loss),
      steps_per_second=(step - start_step) / max(train_seconds, 1e-9),
      train_seconds=train_seconds, start_step=start_step)
  writer.add_summary(tf.Summary(value=[
      tf.Summary.Value(tag="psnr_y", simple_value=result.mean_psnr),
      tf.Summary.Value(tag="gain_over_bicubic", simple_value=gain)]), step)
  writer.close()
  crop = _crop(outputs[0])
  np.save(os.path.join(run_dir, "crop.npy"), crop)
  with open(os.path.join(run_dir, "result.json"), "w") as f:
    json.dump(dataclasses.asdict(result), f, indent=1)
  return result, crop


def _crop(image, size=96):
  """A central square crop, for the figure."""
  height, width = image.shape[:2]
  size = min(size, height, width)
  top, left = (height - size) // 2, (width - size) // 2
  return image[top:top + size, left:left + size]


def load_data(config):
  """(train, test, test names): lists of (HR, LR, bicubic) uint8 triples."""
  if config.data_dir:
    train_images = load_folder(config.data_dir, "data_dir")
  else:
    train_images = bundled_images(BUNDLED_TRAIN)
  if config.test_dir:
    test_images = load_folder(config.test_dir, "test_dir")
  else:
    test_images = bundled_images(BUNDLED_TEST)
  for name, image in train_images:
    if min(image.shape[:2]) < config.patch_size:
      raise DataError(
          "Training image %s is %dx%d, smaller than --patch_size=%d."
          % (name, image.shape[0], image.shape[1], config.patch_size))
  for name, image in test_images:
    if min(image.shape[:2]) < 4 * config.scale:  # Something left to shave.
      raise DataError("Test image %s is %dx%d, too small to evaluate at "
                      "--scale=%d." % (name, image.shape[0], image.shape[1],
                                       config.scale))
  train = degrade([image for _, image in train_images], config.scale)
  test = degrade([image for _, image in test_images], config.scale)
  return train, test, [name for name, _ in test_images]


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
  train, test, test_names = load_data(config)
  os.makedirs(config.output_dir, exist_ok=True)
  bicubic = [psnr_y(bic, hr, config.scale) for hr, _, bic in test]
  progress = _Progress(len(config.arms) * config.seeds * config.steps, stream)
  runs, crops = [], {}
  for seed in range(config.seeds):
    for arm in config.arms:
      run_dir = os.path.join(config.output_dir, "runs",
                             "%s_seed%d" % (arm, seed))
      result, crop = _train_run(config, arm, seed, train, test, run_dir,
                                progress)
      runs.append(result)
      if seed == 0:
        crops[arm] = crop
      if result.collapsed:
        stream.write("[%s seed %d] collapsed: gain over bicubic %.3f dB < "
                     "%.2f dB; left out of the means.\n"
                     % (arm, seed, result.gain_over_bicubic, COLLAPSE_GAIN_DB))
  crops["bicubic"] = _crop(test[0][2])
  crops["ground truth"] = _crop(test[0][0])
  result = ComparisonResult(
      config=dataclasses.asdict(config), tf_version=compat.VERSION,
      test_images=test_names,
      bicubic_psnr=bicubic, bicubic_mean=float(np.mean(bicubic)), runs=runs,
      arms=_summarise_arms(runs, config.arms, float(np.mean(bicubic))),
      paired=_paired(runs, config.arms), wall_seconds=0.0,
      output_dir=config.output_dir, crops=crops)
  result.wall_seconds = time.time() - wall_start
  save_outputs(result)
  return result


def _summarise_arms(runs, arms, bicubic_mean):
  summary = collections.OrderedDict()
  for arm in arms:
    kept = [r.mean_psnr for r in runs if r.arm == arm and not r.collapsed]
    collapsed = [r.seed for r in runs if r.arm == arm and r.collapsed]
    n = len(kept)
    mean = float(np.mean(kept)) if n else float("nan")
    sd = float(np.std(kept, ddof=1)) if n > 1 else float("nan")
    half = (t_quantile_975(n - 1) * sd / math.sqrt(n)) if n > 1 else \
        float("nan")
    summary[arm] = {"n": n, "mean": mean, "sd": sd, "ci_half_width": half,
                    "gain_over_bicubic": mean - bicubic_mean,
                    "collapsed_seeds": collapsed}
  return summary


def _paired(runs, arms):
  """Paired deltas vs "none" over the seeds where neither run collapsed."""
  if "none" not in arms:
    return {}
  by_key = {(r.arm, r.seed): r for r in runs}
  paired = collections.OrderedDict()
  for arm in arms:
    if arm == "none":
      continue
    deltas, seeds = [], []
    for (run_arm, seed), run in sorted(by_key.items()):
      base = by_key.get(("none", seed))
      if run_arm != arm or base is None or run.collapsed or base.collapsed:
        continue
      deltas.append(run.mean_psnr - base.mean_psnr)
      seeds.append(seed)
    comparison = paired_comparison(deltas)
    comparison.update(deltas=deltas, seeds=seeds)
    paired[arm] = comparison
  return paired


# ----------------------------------------------------------------------------
# Report.


def _fmt(value, spec="%.3f"):
  return "n/a" if value is None or not math.isfinite(value) else spec % value


def format_table(result):
  """The Markdown report: per-arm PSNR, gains, paired deltas and verdicts."""
  cfg = result.config
  lines = [
      "## SR x%d: PSNR (Y, shave %d) on %d held-out images, %d seed(s), "
      "%d steps" % (cfg["scale"], cfg["scale"], len(result.test_images),
                    cfg["seeds"], cfg["steps"]),
      "",
      "| arm | runs | PSNR mean ± sd (dB) | gain over bicubic (dB) |",
      "|---|---|---|---|",
      "| bicubic | – | %s | – |" % _fmt(result.bicubic_mean),
  ]
  for arm, s in result.arms.items():
    lines.append("| %s | %d%s | %s ± %s | %s |" % (
        arm, s["n"],
        " (%d collapsed)" % len(s["collapsed_seeds"])
        if s["collapsed_seeds"] else "",
        _fmt(s["mean"]), _fmt(s["sd"]), _fmt(s["gain_over_bicubic"], "%+.3f")))
  if result.paired:
    lines += ["", "| arm vs none (paired by seed) | n | Δ mean (dB) | "
              "95 % CI (dB) | verdict |", "|---|---|---|---|---|"]
    for arm, p in result.paired.items():
      lines.append("| %s | %d | %s | [%s, %s] | %s |" % (
          arm, p["n"], _fmt(p["mean"], "%+.3f"), _fmt(p["ci_low"], "%+.3f"),
          _fmt(p["ci_high"], "%+.3f"), p["verdict"]))
  lines += ["", "Test images: %s. TF %s; %.0f s wall time." % (
      ", ".join(result.test_images), result.tf_version, result.wall_seconds)]
  if any(r.collapsed for r in result.runs):
    lines.append("Collapsed runs (gain over bicubic < %.2f dB) are left out "
                 "of the means and the paired deltas." % COLLAPSE_GAIN_DB)
  return "\n".join(lines) + "\n"


def _json_safe(value):
  if isinstance(value, float) and not math.isfinite(value):
    return None
  if isinstance(value, dict):
    return {k: _json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_json_safe(v) for v in value]
  return value


def save_outputs(result):
  """Writes results.json, results.md and figure.png to the output folder."""
  payload = dataclasses.asdict(result)
  payload.pop("crops")
  payload["note"] = ("PSNR in dB on the Y channel (BT.601), 8-bit outputs, "
                     "scale pixels shaved; null marks an undefined value "
                     "(e.g. an interval from fewer than 2 seeds).")
  with open(os.path.join(result.output_dir, "results.json"), "w") as f:
    json.dump(_json_safe(payload), f, indent=1)
  with open(os.path.join(result.output_dir, "results.md"), "w") as f:
    f.write(format_table(result))
  save_figure(result, os.path.join(result.output_dir, "figure.png"))


def save_figure(result, path):
  """PSNR per arm with 95 % intervals, and crops of the first test image."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  panels = ["bicubic"] + list(result.arms) + ["ground truth"]
  fig = plt.figure(figsize=(2.2 * max(len(panels), 3), 5.2))
  grid = fig.add_gridspec(2, len(panels), height_ratios=[1.1, 1])
  ax = fig.add_subplot(grid[0, :])
  names = list(result.arms)
  means = [result.arms[a]["mean"] for a in names]
  errors = [result.arms[a]["ci_half_width"] for a in names]
  errors = [e if math.isfinite(e) else 0.0 for e in errors]
  ax.errorbar(range(len(names)), means, yerr=errors, fmt="o", capsize=6)
  ax.axhline(result.bicubic_mean, color="grey", linestyle="--",
             label="bicubic %.2f dB" % result.bicubic_mean)
  ax.set_xticks(range(len(names)))
  ax.set_xticklabels(names)
  ax.set_xlim(-0.5, len(names) - 0.5)
  ax.set_ylabel("PSNR, Y (dB)")
  ax.set_title("x%d, mean over %d seed(s) with 95%% t interval"
               % (result.config["scale"], result.config["seeds"]))
  ax.legend(loc="lower right")
  for i, name in enumerate(panels):
    crop_ax = fig.add_subplot(grid[1, i])
    crop_ax.imshow(result.crops[name], interpolation="nearest")
    crop_ax.set_title(name + ("" if name in ("bicubic", "ground truth")
                              else " (seed 0)"), fontsize=9)
    crop_ax.axis("off")
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
