"""Shared by the SR example's tests: its import path and small images."""

import os
import sys

import numpy as np

from tf1_dropblock.compat import tf

# The example's modules import each other as top-level `sr_example`, as
# the script does when run from legacy_examples/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "legacy_examples"))


def write_png(path, image):
  with tf.Graph().as_default(), tf.Session() as sess:
    data = sess.run(tf.image.encode_png(tf.constant(image)))
  with open(path, "wb") as f:
    f.write(data)


def smooth_image(seed, height, width):
  """A smooth random RGB image (learnable detail, no clipping)."""
  rng = np.random.RandomState(seed)
  yy, xx = np.mgrid[0:height, 0:width] / 7.0
  channels = [np.sin(yy * rng.uniform(0.5, 2) + xx * rng.uniform(0.5, 2)
                     + rng.uniform(0, 6)) for _ in range(3)]
  return np.round(127.5 + 100 * np.stack(channels, -1)).astype(np.uint8)
