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


# The generalisation gap compares tiles of the training images that
# training never sees with tiles it does. Each image is cut into a grid of
# square tiles (side: the patch size); tile (i, j) is held out when
# (i + 2 j) % 5 == 0, a fifth of the tiles spread evenly over the image, and
# a tile with (i + 2 j) % 5 == 2 is a seen tile of the same count. Training
# patches never overlap a held-out tile. Seen and held-out tiles come from
# the same photos in the same proportions, so their difference measures
# overfitting rather than content.
HOLDOUT_PERIOD = 5
HELD_OUT_PHASE, SEEN_PHASE = 0, 2
# At most this many tiles of each kind per image are evaluated.
MAX_EVAL_TILES = 12


def holdout_tiles(hr, scale, patch_size):
  """(allowed, seen, held_out) for one modcropped HR training image.

  Returns:
    allowed: flat indices into the [h - p + 1, w - p + 1] grid of LR
      top-left corners (h, w the LR size, p = patch_size / scale) of the
      training patches that avoid every held-out tile; None when the image
      has fewer than 2 x 3 tiles (it then trains whole and gives no tiles).
    seen, held_out: lists of HR tiles (patch_size square, uint8), at most
      `MAX_EVAL_TILES` each, taken evenly from the image's tiles.
  """
  rows, cols = hr.shape[0] // patch_size, hr.shape[1] // patch_size
  if rows * cols < 6 or min(rows, cols) < 2:
    return None, [], []
  lr_patch = patch_size // scale
  lr_h, lr_w = hr.shape[0] // scale, hr.shape[1] // scale
  blocked = np.zeros((lr_h, lr_w), np.int32)
  kinds = {HELD_OUT_PHASE: [], SEEN_PHASE: []}
  for i in range(rows):
    for j in range(cols):
      phase = (i + 2 * j) % HOLDOUT_PERIOD
      if phase in kinds:
        kinds[phase].append((i, j))
      if phase == HELD_OUT_PHASE:
        blocked[i * lr_patch:(i + 1) * lr_patch,
                j * lr_patch:(j + 1) * lr_patch] = 1
  # A patch at (y, x) overlaps a held-out tile iff its window of `blocked`
  # sums above 0 (a summed-area table gives every window at once).
  table = np.pad(blocked.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
  p = lr_patch
  window = (table[p:, p:] - table[:-p, p:] - table[p:, :-p] + table[:-p, :-p])
  allowed = np.flatnonzero(window.ravel() == 0)

  def tiles(cells):
    picks = np.linspace(0, len(cells) - 1,
                        min(len(cells), MAX_EVAL_TILES)).round().astype(int)
    return [hr[cells[k][0] * patch_size:(cells[k][0] + 1) * patch_size,
               cells[k][1] * patch_size:(cells[k][1] + 1) * patch_size]
            for k in sorted(set(picks))]

  return allowed, tiles(kinds[SEEN_PHASE]), tiles(kinds[HELD_OUT_PHASE])


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
                 scale, ops=None, allowed=None):
  """The training batch for `step` of run `seed`, the same in every arm.

  A batch depends only on (seed, step), so arms with one seed see identical
  batches and a resumed run continues with the batches it would have seen.
  Patches are random crops with random flips and transposes. With `ops` (a
  `degradations.ImageOps`) the LR patches are made from the HR patches by
  mixed degradations drawn per patch (`degradations.degrade_mixed_batch`);
  without, they are crops of the precomputed bicubic LR images. `allowed`
  (per image: flat indices of the LR top-left corners a patch may take, or
  None for any) keeps patches off the held-out tiles (`holdout_tiles`).
  """
  rng = np.random.RandomState((seed * 1000003 + step) % (2 ** 32))
  lr_patch = patch_size // scale
  lr_batch = np.empty((batch_size, lr_patch, lr_patch, 3), np.uint8)
  hr_batch = np.empty((batch_size, patch_size, patch_size, 3), np.uint8)
  for i in range(batch_size):
    k = rng.randint(len(hr_images))
    lr, hr = lr_images[k], hr_images[k]
    grid_w = hr.shape[1] // scale - lr_patch + 1
    if allowed is None or allowed[k] is None:
      y = rng.randint(hr.shape[0] // scale - lr_patch + 1)
      x = rng.randint(grid_w)
    else:
      y, x = divmod(int(allowed[k][rng.randint(len(allowed[k]))]), grid_w)
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
  or the seen / held-out tiles of the training images.

  `name` is the report's key: the folder's name for clean inputs, with the
  condition in brackets otherwise ("Set5 [blur2]"); "train: seen tiles"
  and "train: held-out tiles" for the gap.
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


@dataclasses.dataclass
class TrainImage:
  """One training image: HR, its bicubic LR, and where patches may go."""
  name: str
  hr: np.ndarray = dataclasses.field(repr=False)
  lr: np.ndarray = dataclasses.field(repr=False)
  allowed: np.ndarray = dataclasses.field(default=None, repr=False)


def load_data(config):
  """(train, eval sets): `TrainImage`s and `TestSet`s: every test folder
  under every condition of the config, then the seen and held-out tiles of
  the training images (clean) when any image is large enough to have them.

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
    train, tiles = [], {SEEN: [], HELD_OUT: []}
    for (name, image), (hr, lr, _) in zip(train_images, degrade(
        [image for _, image in train_images], config.scale, bicubic=False,
        names=[name for name, _ in train_images], ops=ops)):
      allowed, seen, held_out = holdout_tiles(hr, config.scale,
                                              config.patch_size)
      train.append(TrainImage(name, hr, lr, allowed))
      tiles[SEEN] += [("%s tile %d" % (name, k), t)
                      for k, t in enumerate(seen)]
      tiles[HELD_OUT] += [("%s tile %d" % (name, k), t)
                          for k, t in enumerate(held_out)]
    eval_sets = []
    for condition in config.conditions:
      for set_name, images in named:
        eval_sets.append(TestSet(
            set_key(set_name, condition), [n for n, _ in images],
            degrade([image for _, image in images], config.scale,
                    condition=condition, names=[n for n, _ in images],
                    ops=ops),
            source=set_name, condition=condition))
    for kind in (SEEN, HELD_OUT):
      if tiles[kind]:
        eval_sets.append(TestSet(
            "train: %s tiles" % kind, [n for n, _ in tiles[kind]],
            degrade([t for _, t in tiles[kind]], config.scale,
                    names=[n for n, _ in tiles[kind]], ops=ops),
            source="train", kind=kind))
    return train, eval_sets
  finally:
    ops.close()
