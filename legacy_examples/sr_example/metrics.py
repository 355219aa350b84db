"""PSNR as SR papers report it, and their published bicubic baselines.

Y channel of ITU-R BT.601 studio YCbCr (MATLAB `rgb2ycbcr`), peak 255,
`scale` pixels shaved from each border.
"""

import math
import os

import numpy as np


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


def published_bicubic(set_name, scale):
  """The published bicubic Y-PSNR of a standard test set, or None."""
  return PUBLISHED_BICUBIC.get(os.path.basename(set_name).lower(),
                               {}).get(scale)
