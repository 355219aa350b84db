"""How LR inputs are made from HR images: bicubic, blur, noise, JPEG.

The classical degradation model, y = JPEG_q((x * k_sigma) downscaled + n),
applied in that order (as Real-ESRGAN's first order and Kong et al.'s
Reflash Dropout experiments do):

1. Gaussian blur of the HR image (isotropic, sigma in HR pixels, kernel
   radius ceil(3 sigma), borders reflected);
2. antialiased bicubic downscale by the scale factor (MATLAB `imresize`),
   rounded to 8 bits;
3. additive Gaussian noise (sigma in 8-bit levels), clipped and rounded;
4. JPEG compression at quality q (TensorFlow's encoder and decoder).

Training with `degradation="mixed"` draws, per patch, each step with
probability `MIXED_PROBABILITY` and its strength uniformly from the ranges
below, from the batch's random state, so a batch depends only on (seed,
step). Test conditions use fixed strengths (`CONDITION_PARAMS`); the noise of
a test image is drawn from a seed derived from its name.
"""

import math
import zlib

import numpy as np

from tf1_dropblock import compat
from tf1_dropblock.compat import tf


# Ranges of the "mixed" training degradations (about Kong et al.'s).
BLUR_SIGMA_RANGE = (0.2, 3.0)     # HR pixels.
NOISE_SIGMA_RANGE = (1.0, 30.0)   # 8-bit levels.
JPEG_QUALITY_RANGE = (30, 95)     # Inclusive.
# Each of the three steps is applied to a patch with this probability,
# independently (so 1/8 of the patches are clean bicubic).
MIXED_PROBABILITY = 0.5


# Test conditions: (blur sigma, noise sigma, JPEG quality); None skips.
CONDITION_PARAMS = {
    "clean": (None, None, None),
    "blur2": (2.0, None, None),
    "noise20": (None, 20.0, None),
    "jpeg50": (None, None, 50),
}


CONDITION_LABELS = {
    "clean": "clean (bicubic)",
    "blur2": "blur σ=2",
    "noise20": "noise σ=20",
    "jpeg50": "JPEG q=50",
}


def gaussian_kernel(sigma):
  """A normalised 1-D Gaussian of radius ceil(3 sigma)."""
  radius = max(1, int(math.ceil(3.0 * sigma)))
  x = np.arange(-radius, radius + 1, dtype=np.float64)
  kernel = np.exp(-0.5 * (x / sigma) ** 2)
  return kernel / kernel.sum()


def blur(image, sigma):
  """Gaussian blur of an HxWxC image (any numeric dtype) -> float64.

  Separable, with reflected borders (kernels wider than the image are
  reflected as often as needed).
  """
  kernel = gaussian_kernel(sigma)
  radius = len(kernel) // 2
  out = np.asarray(image, np.float64)
  for axis in (0, 1):
    pad = [(0, 0)] * out.ndim
    pad[axis] = (radius, radius)
    padded = np.pad(out, pad, mode="symmetric")
    size = out.shape[axis]
    acc = np.zeros_like(out)
    for i, weight in enumerate(kernel):
      acc += weight * np.take(padded, np.arange(i, i + size), axis=axis)
    out = acc
  return out


def add_noise(image, sigma, rng):
  """uint8 image + N(0, sigma^2) per value, clipped and rounded -> uint8."""
  noisy = image.astype(np.float64) + rng.normal(0.0, sigma, image.shape)
  return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def name_seed(name):
  """A stable seed from an image name (for a test image's noise)."""
  return zlib.crc32(name.encode("utf-8"))


class ImageOps(object):
  """Bicubic resizing and JPEG round trips in one small TF graph.

  JPEG quality is an attribute of TensorFlow's encoder (on TF 1.15 there is
  no tensor-quality op), so an encoder per quality is added on first use.
  """

  def __init__(self):
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._images = tf.placeholder(tf.float32, [None, None, None, 3])
      self._size = tf.placeholder(tf.int32, [2])
      self._resized = {}
      for antialias in (False, True):
        resized = compat.resize_bicubic(self._images, self._size,
                                        antialias=antialias)
        self._resized[antialias] = tf.cast(
            tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)
      self._jpeg_input = tf.placeholder(tf.uint8, [None, None, 3])
    self._jpeg = {}
    self._sess = tf.Session(graph=self._graph)

  def resize(self, images, size, antialias):
    """[N, h, w, 3] or [h, w, 3] -> same rank at `size`, rounded uint8."""
    images = np.asarray(images, np.float32)
    single = images.ndim == 3
    out = self._sess.run(self._resized[antialias], {
        self._images: images[None] if single else images,
        self._size: list(size)})
    return out[0] if single else out

  def jpeg(self, image, quality):
    """A uint8 HxWx3 image through a JPEG encode/decode at `quality`."""
    quality = int(quality)
    if quality not in self._jpeg:
      with self._graph.as_default():
        encoded = tf.image.encode_jpeg(self._jpeg_input, quality=quality)
        self._jpeg[quality] = tf.image.decode_jpeg(encoded, channels=3)
    return self._sess.run(self._jpeg[quality], {self._jpeg_input: image})

  def close(self):
    self._sess.close()


def degrade(ops, hr, scale, blur_sigma=None, noise_sigma=None,
            jpeg_quality=None, rng=None):
  """One HR uint8 image -> its LR uint8 input under the given degradations.

  Args:
    ops: An `ImageOps`.
    hr: [H, W, 3] uint8, H and W multiples of `scale`.
    scale: The downscaling factor.
    blur_sigma, noise_sigma, jpeg_quality: The strengths; None skips a step.
    rng: A `np.random.RandomState` for the noise (needed with noise).

  Returns:
    [H / scale, W / scale, 3] uint8.
  """
  height, width = hr.shape[:2]
  source = hr if blur_sigma is None else blur(hr, blur_sigma)
  lr = ops.resize(source, [height // scale, width // scale], antialias=True)
  if noise_sigma is not None:
    lr = add_noise(lr, noise_sigma, rng)
  if jpeg_quality is not None:
    lr = ops.jpeg(lr, jpeg_quality)
  return lr


def degrade_condition(ops, hr, scale, condition, name):
  """A test image's LR input under a named condition (`CONDITION_PARAMS`);
  its noise, if any, is seeded by the image's name."""
  blur_sigma, noise_sigma, quality = CONDITION_PARAMS[condition]
  rng = np.random.RandomState(name_seed(name))
  return degrade(ops, hr, scale, blur_sigma, noise_sigma, quality, rng)


def degrade_mixed_batch(ops, hr_batch, scale, rng):
  """LR inputs for a batch of HR uint8 patches, degradations drawn per patch
  from `rng` (see the module docstring). Returns [N, h, w, 3] uint8.

  Draws, per patch in order: three coins (blur, noise, JPEG), then the
  three strengths (drawn whether used or not, so one patch's choices never
  shift the next patch's), then the noise itself when used.
  """
  hr_batch = np.asarray(hr_batch)
  params = []
  sources = np.empty(hr_batch.shape, np.float32)
  for i, hr in enumerate(hr_batch):
    use = rng.uniform(size=3) < MIXED_PROBABILITY
    strengths = (rng.uniform(*BLUR_SIGMA_RANGE),
                 rng.uniform(*NOISE_SIGMA_RANGE),
                 rng.randint(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))
    params.append([s if u else None for s, u in zip(strengths, use)])
    sources[i] = hr if params[-1][0] is None else blur(hr, params[-1][0])
  height, width = hr_batch.shape[1:3]
  lr = ops.resize(sources, [height // scale, width // scale], antialias=True)
  for i, (_, noise_sigma, quality) in enumerate(params):
    if noise_sigma is not None:
      lr[i] = add_noise(lr[i], noise_sigma, rng)
    if quality is not None:
      lr[i] = ops.jpeg(lr[i], quality)
  return lr
