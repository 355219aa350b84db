"""Images for the SR comparison: bundled photos, folders, test sets, batches.

HR images are cropped to a multiple of the scale; LR is their antialiased
bicubic downscale rounded to 8 bits (MATLAB `imresize`), under a test
condition or mixed training degradations (degradations.py); each training
image keeps a held-out strip for the generalisation gap; a training batch
depends only on (seed, step), so paired arms see identical batches.
"""

import dataclasses
import glob
import os

import numpy as np

from sr_example import degradations
from sr_example import settings
from tf1_dropblock.compat import tf


# Natural photos that ship inside scikit-image (no download). Train and test
# sets are disjoint images; grey ones are replicated to RGB.
BUNDLED_TRAIN = ("astronaut", "coffee", "rocket", "stereo_motorcycle",
                 "immunohistochemistry", "brick", "grass", "gravel", "moon")


BUNDLED_TEST = ("chelsea", "camera", "coins", "clock")


_IMAGE_PATTERNS = ("*.png", "*.jpg", "*.jpeg", "*.bmp", "*.PNG", "*.JPG",
                   "*.JPEG", "*.BMP")


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
    raise settings.DataError(
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
    raise settings.DataError("--%s=%s is not a folder." % (flag_name, path))
  files = sorted({f for pattern in _IMAGE_PATTERNS
                  for f in glob.glob(os.path.join(path, pattern))})
  if not files:
    raise settings.DataError("--%s=%s has no PNG, JPEG or BMP images."
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
          raise settings.DataError(
              "Cannot read image %s: %s"
              % (filename, _decoder_reason(e.message))) from e
        if image.ndim != 3:
          raise settings.DataError(
              "Cannot read image %s: animated images are not supported."
              % filename)
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


# Each training image's bottom strip (this fraction of its height, a
# multiple of the scale) is never sampled for training: it is the held-out
# half of the generalisation gap, the top strip of the same height (always
# sampled) the seen half.
HOLDOUT_FRACTION = 0.2


def split_holdout(hr, scale, patch_size):
  """(training region, seen strip, held-out strip) of a modcropped HR image.

  The strips are None when the image is too small to spare one (the strip
  must be at least 4 * scale rows and leave at least max(patch_size, strip)
  rows for training); the whole image then trains.
  """
  height = hr.shape[0]
  strip = int(height * HOLDOUT_FRACTION) // scale * scale
  if strip < 4 * scale or height - strip < max(patch_size, strip):
    return hr, None, None
  return hr[:height - strip], hr[:strip], hr[height - strip:]


def degrade(images, scale, bicubic=True, condition="clean", names=None,
            ops=None):
  """Makes (HR, LR, bicubic) uint8 triples, as MATLAB's `imresize` would.

  HR is cropped to a multiple of `scale`; LR is its antialiased bicubic
  downscale rounded to 8 bits, under the test `condition` (see
  degradations.py; noise is seeded by the image's name); bicubic is LR
  upscaled back, the baseline (None when `bicubic` is False: training
  images need none).
  """
  names = names or ["image%d" % i for i in range(len(images))]
  own_ops = ops is None
  ops = ops or degradations.ImageOps()
  try:
    triples = []
    for name, image in zip(names, images):
      hr = modcrop(image, scale)
      height, width = hr.shape[:2]
      lr = degradations.degrade_condition(ops, hr, scale, condition, name)
      upscaled = (ops.resize(lr, [height, width], antialias=False)
                  if bicubic else None)
      triples.append((hr, lr, upscaled))
    return triples
  finally:
    if own_ops:
      ops.close()


def sample_batch(lr_images, hr_images, seed, step, batch_size, patch_size,
                 scale, ops=None):
  """The training batch for `step` of run `seed`, the same in every arm.

  A batch depends only on (seed, step), so arms with one seed see identical
  batches and a resumed run continues with the batches it would have seen.
  Patches are random crops with random flips and transposes. With `ops` (a
  `degradations.ImageOps`) the LR patches are made from the HR patches by
  mixed degradations drawn per patch (`degradations.degrade_mixed_batch`);
  without, they are crops of the precomputed bicubic LR images.
  """
  rng = np.random.RandomState((seed * 1000003 + step) % (2 ** 32))
  lr_patch = patch_size // scale
  lr_batch = np.empty((batch_size, lr_patch, lr_patch, 3), np.uint8)
  hr_batch = np.empty((batch_size, patch_size, patch_size, 3), np.uint8)
  for i in range(batch_size):
    k = rng.randint(len(hr_images))
    lr, hr = lr_images[k], hr_images[k]
    y = rng.randint(hr.shape[0] // scale - lr_patch + 1)
    x = rng.randint(hr.shape[1] // scale - lr_patch + 1)
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
  if ops is not None:
    lr_batch = degradations.degrade_mixed_batch(ops, hr_batch, scale, rng)
  return lr_batch / np.float32(255.0), hr_batch / np.float32(255.0)


@dataclasses.dataclass
class TestSet:
  """Images evaluated and reported together: one folder under one condition,
  or the seen / held-out strips of the training images.

  `name` is the report's key: the folder's name for clean inputs, with the
  condition in brackets otherwise ("Set5 [blur2]"); "train: seen strips"
  and "train: held-out strips" for the gap.
  """
  name: str
  image_names: list
  triples: list = dataclasses.field(repr=False)  # (HR, LR, bicubic) uint8.
  source: str = ""         # The folder's report name.
  condition: str = "clean"
  kind: str = "test"       # "test", "seen" or "held-out".


SEEN, HELD_OUT = "seen", "held-out"


def set_key(source, condition):
  return source if condition == "clean" else "%s [%s]" % (source, condition)


def _set_names(folders):
  """Report names of the test folders: base names, paths where they clash."""
  names = [os.path.basename(os.path.normpath(f)) for f in folders]
  return [name if names.count(name) == 1 else folder
          for name, folder in zip(names, folders)]


def load_data(config):
  """(train, eval sets): (HR, LR) uint8 pairs of the training regions, and
  `TestSet`s: every test folder under every condition of the config, then
  the seen and held-out strips of the training images (clean) when any
  image could spare a strip.

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
      raise settings.DataError(
          "Training image %s is %dx%d, smaller than --patch_size=%d."
          % (name, image.shape[0], image.shape[1], config.patch_size))
  for _, images in named:
    for name, image in images:
      if min(image.shape[:2]) < 4 * config.scale:  # Something left to shave.
        raise settings.DataError(
            "Test image %s is %dx%d, too small to evaluate at --scale=%d."
            % (name, image.shape[0], image.shape[1], config.scale))
  ops = degradations.ImageOps()
  try:
    regions, seen, held_out = [], [], []
    for name, image in train_images:
      region, seen_strip, held_strip = split_holdout(
          modcrop(image, config.scale), config.scale, config.patch_size)
      regions.append((name, region))
      if held_strip is not None:
        seen.append((name, seen_strip))
        held_out.append((name, held_strip))
    train = [(hr, lr) for hr, lr, _ in degrade(
        [image for _, image in regions], config.scale, bicubic=False,
        names=[name for name, _ in regions], ops=ops)]
    eval_sets = []
    for condition in config.conditions:
      for set_name, images in named:
        eval_sets.append(TestSet(
            set_key(set_name, condition), [n for n, _ in images],
            degrade([image for _, image in images], config.scale,
                    condition=condition, names=[n for n, _ in images],
                    ops=ops),
            source=set_name, condition=condition))
    for kind, strips in ((SEEN, seen), (HELD_OUT, held_out)):
      if strips:
        eval_sets.append(TestSet(
            "train: %s strips" % kind, [n for n, _ in strips],
            degrade([s for _, s in strips], config.scale,
                    names=[n for n, _ in strips], ops=ops),
            source="train", kind=kind))
    return train, eval_sets
  finally:
    ops.close()
