"""Images for the SR comparison: bundled photos, folders, degradation, batches.

HR images are cropped to a multiple of the scale; LR is their antialiased
bicubic downscale rounded to 8 bits (MATLAB `imresize`); a training batch
depends only on (seed, step), so paired arms see identical batches.
"""

import dataclasses
import glob
import os

import numpy as np

from sr_example import settings
from tf1_dropblock import compat
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


@dataclasses.dataclass
class TestSet:
  """Held-out images evaluated and reported together (one folder)."""
  name: str
  image_names: list
  triples: list = dataclasses.field(repr=False)  # (HR, LR, bicubic) uint8.


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
      raise settings.DataError(
          "Training image %s is %dx%d, smaller than --patch_size=%d."
          % (name, image.shape[0], image.shape[1], config.patch_size))
  for _, images in named:
    for name, image in images:
      if min(image.shape[:2]) < 4 * config.scale:  # Something left to shave.
        raise settings.DataError(
            "Test image %s is %dx%d, too small to evaluate at --scale=%d."
            % (name, image.shape[0], image.shape[1], config.scale))
  train = [(hr, lr) for hr, lr, _ in degrade(
      [image for _, image in train_images], config.scale, bicubic=False)]
  test_sets = [TestSet(set_name, [n for n, _ in images],
                       degrade([image for _, image in images], config.scale))
               for set_name, images in named]
  return train, test_sets
