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
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
import zlib

import numpy as np

import sr_stats
import tf1_dropblock
from tf1_dropblock import compat
from tf1_dropblock.compat import tf

ARMS = ("none", "dropout", "dropblock", "spatial_dropout")
DEFAULT_ARMS = ARMS
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

# Bicubic Y-PSNR of the standard test sets as SR papers publish it (x2, x3,
# x4; e.g. the EDSR and VDSR papers), to check a user's copy and our
# degradation against. Keys are lower-case folder names.
PUBLISHED_BICUBIC = {
    "set5": {2: 33.66, 3: 30.39, 4: 28.42},
    "set14": {2: 30.24, 3: 27.55, 4: 26.00},
    "b100": {2: 29.56, 3: 27.21, 4: 25.96},
    "bsd100": {2: 29.56, 3: 27.21, 4: 25.96},
    "urban100": {2: 26.88, 3: 24.46, 4: 23.14},
}
# Our bicubic baseline on such a set should be this close to the published.
BICUBIC_TOLERANCE_DB = 0.1

# Bumped when a run's result.json changes shape, so --resume never mixes.
_RESULT_FORMAT = 2

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
  seeds: int = 8
  steps: int = 300
  batch_size: int = 16
  patch_size: int = 48
  channels: int = 32
  num_blocks: int = 4
  learning_rate: float = 1e-3
  output_dir: str = "sr_output"
  resume: bool = False
  log_every: int = 100
  checkpoint_every: int = 200
  margin_db: float = 0.05

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
    if not self.margin_db > 0:
      raise ValueError("margin_db must be positive. Received: margin_db=%r"
                       % self.margin_db)

  def run_key(self):
    """The settings a saved run must share to be resumed."""
    key = dataclasses.asdict(self)
    for name in ("output_dir", "resume", "seeds", "arms", "log_every",
                 "margin_db"):
      key.pop(name)
    key["result_format"] = _RESULT_FORMAT
    return key

  def test_dirs(self):
    """The --test_dir folders, in order (empty: the bundled images)."""
    return [d for d in self.test_dir.split(",") if d]


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
                          % (filename, _decoder_reason(e.message))) from e
        if image.ndim != 3:
          raise DataError("Cannot read image %s: animated images are not "
                          "supported." % filename)
        images.append((os.path.basename(filename), to_rgb_uint8(image)))
  return images


def _decoder_reason(message):
  """The decoder's own words from a TF error message.

  TF 2.x wraps them in "Graph execution error:", the node's Python stack
  and a `[[{{node ...}}]]` line; TF 1.15 puts them first.
  """
  noise = ("Graph execution error", "Detected at node", "File ", "Node:",
           "[[")
  lines = [line.strip() for line in message.splitlines()]
  reasons = [line for line in lines
             if line and not line.startswith(noise)]
  return reasons[-1] if reasons else message.strip()


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


def degrade(images, scale, bicubic=True):
  """Makes (HR, LR, bicubic) uint8 triples, as MATLAB's `imresize` would.

  HR is cropped to a multiple of `scale`; LR is its antialiased bicubic
  downscale rounded to 8 bits; bicubic is LR upscaled back, the baseline
  (None when `bicubic` is False: training images need none).
  """
  resizer = _Resizer()
  try:
    triples = []
    for image in images:
      hr = modcrop(image, scale)
      height, width = hr.shape[:2]
      lr = resizer(hr, [height // scale, width // scale], antialias=True)
      upscaled = (resizer(lr, [height, width], antialias=False)
                  if bicubic else None)
      triples.append((hr, lr, upscaled))
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
class TestSet:
  """Held-out images evaluated and reported together (one folder)."""
  name: str
  image_names: list
  triples: list = dataclasses.field(repr=False)  # (HR, LR, bicubic) uint8.


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


@dataclasses.dataclass
class ComparisonResult:
  config: dict
  tf_version: str
  test_sets: list       # Per set: name, images, bicubic PSNR, published.
  runs: list            # RunResult for every arm and seed.
  arms: dict            # Test set -> arm -> summary over seeds.
  paired: dict          # Test set -> "a vs b" -> paired comparison.
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


def write_atomic(path, data):
  """Writes bytes or text to `path` through a temporary file and a rename.

  A kill mid-write leaves the previous file or the new one, never a part.
  """
  folder = os.path.dirname(path) or "."
  fd, temporary = tempfile.mkstemp(dir=folder,
                                   prefix="." + os.path.basename(path))
  try:
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(temporary, path)
  except BaseException:
    if os.path.exists(temporary):
      os.remove(temporary)
    raise


def _read_json(path):
  """(value, None), or (None, reason) when `path` is missing or unreadable."""
  try:
    with open(path) as f:
      return json.load(f), None
  except FileNotFoundError:
    return None, "missing"
  except (OSError, ValueError) as e:
    return None, "unreadable (%s)" % e


def _train_run(config, arm, seed, train, test_sets, run_dir, progress):
  """Trains one arm with one seed (resuming if asked) and evaluates it."""
  label = "%s seed %d" % (arm, seed)
  result_path = os.path.join(run_dir, "result.json")
  key_path = os.path.join(run_dir, "config.json")
  run_key = config.run_key()
  if config.resume and os.path.exists(key_path):
    saved_key, problem = _read_json(key_path)
    if problem:
      raise DataError("--resume: %s is %s; delete %s to train this run "
                      "again." % (key_path, problem, run_dir))
    if saved_key != run_key:
      raise DataError("--resume: %s was made with other settings; use "
                      "another --output_dir or drop --resume." % run_dir)
    saved, problem = _read_json(result_path)
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
  write_atomic(key_path, json.dumps(run_key, indent=1, sort_keys=True))

  model = _Model(config, arm, seed)
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
  psnr, means, gains, crop = {}, {}, {}, None
  for test_set in test_sets:
    outputs = [model.super_resolve(lr) for _, lr, _ in test_set.triples]
    psnr[test_set.name] = [psnr_y(out, hr, config.scale) for out, (hr, _, _)
                           in zip(outputs, test_set.triples)]
    bicubic = [psnr_y(bic, hr, config.scale)
               for hr, _, bic in test_set.triples]
    means[test_set.name] = float(np.mean(psnr[test_set.name]))
    gains[test_set.name] = means[test_set.name] - float(np.mean(bicubic))
    if crop is None:
      crop = _crop(outputs[0])
  trained = step - start_step
  result = RunResult(
      arm=arm, seed=seed, psnr=psnr, mean_psnr=means,
      gain_over_bicubic=gains,
      collapsed=bool(np.mean(list(gains.values())) < COLLAPSE_GAIN_DB),
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
  write_atomic(os.path.join(run_dir, "crop.npy"), buffer.getvalue())
  # Written last: its presence marks the run as finished.
  write_atomic(os.path.join(run_dir, "result.json"),
               json.dumps(_json_safe(dataclasses.asdict(result)), indent=1))
  return result, crop


def _crop(image, size=96):
  """A central square crop, for the figure."""
  height, width = image.shape[:2]
  size = min(size, height, width)
  top, left = (height - size) // 2, (width - size) // 2
  return image[top:top + size, left:left + size]


def _set_names(folders):
  """Report names of the test folders: base names, paths where they clash."""
  names = [os.path.basename(os.path.normpath(f)) for f in folders]
  return [name if names.count(name) == 1 else folder
          for name, folder in zip(names, folders)]


def load_data(config):
  """(train, test sets): (HR, LR) uint8 pairs and `TestSet`s.

  Raises:
    DataError: For missing, unreadable or too small images.
  """
  if config.data_dir:
    train_images = load_folder(config.data_dir, "data_dir")
  else:
    train_images = bundled_images(BUNDLED_TRAIN)
  folders = config.test_dirs()
  if folders:
    named = list(zip(_set_names(folders),
                     [load_folder(f, "test_dir") for f in folders]))
  else:
    named = [("bundled", bundled_images(BUNDLED_TEST))]
  for name, image in train_images:
    if min(image.shape[:2]) < config.patch_size:
      raise DataError(
          "Training image %s is %dx%d, smaller than --patch_size=%d."
          % (name, image.shape[0], image.shape[1], config.patch_size))
  for _, images in named:
    for name, image in images:
      if min(image.shape[:2]) < 4 * config.scale:  # Something left to shave.
        raise DataError("Test image %s is %dx%d, too small to evaluate at "
                        "--scale=%d." % (name, image.shape[0], image.shape[1],
                                         config.scale))
  train = [(hr, lr) for hr, lr, _ in degrade(
      [image for _, image in train_images], config.scale, bicubic=False)]
  test_sets = [TestSet(set_name, [n for n, _ in images],
                       degrade([image for _, image in images], config.scale))
               for set_name, images in named]
  return train, test_sets


def published_bicubic(set_name, scale):
  """The published bicubic Y-PSNR of a standard test set, or None."""
  return PUBLISHED_BICUBIC.get(os.path.basename(set_name).lower(),
                               {}).get(scale)


def comparisons(arms):
  """The (arm, baseline) pairs reported: each regulariser against none,
  and DropBlock against the regularisers it is offered instead of."""
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
  train, test_sets = load_data(config)
  os.makedirs(config.output_dir, exist_ok=True)
  set_info = []
  for test_set in test_sets:
    bicubic = [psnr_y(bic, hr, config.scale)
               for hr, _, bic in test_set.triples]
    published = published_bicubic(test_set.name, config.scale)
    info = {"name": test_set.name, "images": test_set.image_names,
            "bicubic_psnr": bicubic, "bicubic_mean": float(np.mean(bicubic)),
            "published_bicubic": published}
    if (published is not None and
        abs(info["bicubic_mean"] - published) > BICUBIC_TOLERANCE_DB):
      stream.write(
          "Warning: bicubic on %s is %.2f dB, the published x%d baseline is "
          "%.2f dB: is this the standard set, with its HR images?\n"
          % (test_set.name, info["bicubic_mean"], config.scale, published))
    set_info.append(info)
  progress = _Progress(len(config.arms) * config.seeds * config.steps, stream)
  runs, crops = [], {}
  for seed in range(config.seeds):
    for arm in config.arms:
      run_dir = os.path.join(config.output_dir, "runs",
                             "%s_seed%d" % (arm, seed))
      result, crop = _train_run(config, arm, seed, train, test_sets, run_dir,
                                progress)
      runs.append(result)
      if seed == 0:
        crops[arm] = crop
      if result.collapsed:
        stream.write("[%s seed %d] collapsed: gain over bicubic %.3f dB < "
                     "%.2f dB; left out of the means.\n"
                     % (arm, seed, np.mean(list(
                         result.gain_over_bicubic.values())),
                        COLLAPSE_GAIN_DB))
  first = test_sets[0].triples[0]
  crops["bicubic"] = _crop(first[2])
  crops["ground truth"] = _crop(first[0])
  result = ComparisonResult(
      config=dataclasses.asdict(config), tf_version=compat.VERSION,
      test_sets=set_info, runs=runs,
      arms={info["name"]: _summarise_arms(runs, config.arms, info)
            for info in set_info},
      paired={info["name"]: _paired(runs, config.arms, info["name"],
                                    config.margin_db)
              for info in set_info},
      wall_seconds=0.0, output_dir=config.output_dir, crops=crops)
  result.wall_seconds = time.time() - wall_start
  save_outputs(result)
  return result


def _summarise_arms(runs, arms, set_info):
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
    half = sr_stats.half_width(sd, n) if n > 1 else float("nan")
    summary[arm] = {"n": n, "mean": mean, "sd": sd, "ci_half_width": half,
                    "gain_over_bicubic": mean - set_info["bicubic_mean"],
                    "collapsed_seeds": collapsed}
  return summary


def _paired(runs, arms, set_name, margin):
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
    comparison = sr_stats.paired_comparison(deltas, margin)
    comparison.update(arm=arm, baseline=baseline, deltas=deltas, seeds=used)
    paired["%s vs %s" % (arm, baseline)] = comparison
  return paired


# ----------------------------------------------------------------------------
# Report.

SEEDS_NEEDED_NOTE = (
    "Seeds needed: the smallest n for which, at the observed paired sd, the "
    "95 %% interval is at most the margin wide with probability %.1f; such "
    "an interval either excludes 0 or lies inside ±margin, so it settles "
    "the question: t(0.975, n-1) * sd * sqrt(chi2(%.1f, n-1) / (n-1)) / "
    "sqrt(n) <= margin / 2." % (sr_stats.POWER, sr_stats.POWER))


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
             else "> %d" % sr_stats.MAX_SEEDS)))
    lines.append("")
  lines += [SEEDS_NEEDED_NOTE, "",
            "Test images: %s. TF %s; %.0f s wall time." % (
                "; ".join("%s: %s" % (i["name"], ", ".join(i["images"]))
                          for i in result.test_sets),
                result.tf_version, result.wall_seconds)]
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
  """Writes results.json, results.md and figure.png to the output folder,
  each atomically."""
  payload = dataclasses.asdict(result)
  payload.pop("crops")
  payload["note"] = ("PSNR in dB on the Y channel (BT.601), 8-bit outputs, "
                     "scale pixels shaved; null marks an undefined value "
                     "(e.g. an interval from fewer than 2 seeds). " +
                     SEEDS_NEEDED_NOTE)
  write_atomic(os.path.join(result.output_dir, "results.json"),
               json.dumps(_json_safe(payload), indent=1))
  write_atomic(os.path.join(result.output_dir, "results.md"),
               format_table(result))
  buffer = io.BytesIO()
  save_figure(result, buffer)
  write_atomic(os.path.join(result.output_dir, "figure.png"),
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
