"""A small NumPy reference for the masks, independent of the TF code."""

import numpy as np


def clipped_block(block_size, height, width):
  """The block actually used on a height x width map: clipped to the map."""
  block_h, block_w = ((block_size, block_size)
                      if np.isscalar(block_size) else block_size)
  return min(block_h, height), min(block_w, width)


def gamma(keep_prob, block_size, height, width):
  """Eq. 1 of the DropBlock paper, with the block clipped to the map."""
  block_h, block_w = clipped_block(block_size, height, width)
  valid = (height - block_h + 1) * (width - block_w + 1)
  return (1.0 - keep_prob) * height * width / (block_h * block_w * valid)


def to_nhwc(array, data_format):
  return array if data_format == "NHWC" else np.transpose(array, (0, 2, 3, 1))


def from_nhwc(array, data_format):
  return array if data_format == "NHWC" else np.transpose(array, (0, 3, 1, 2))


def dropblock_keep_mask(noise, gamma_value, block_size, height, width,
                        data_format="NHWC"):
  """Keep mask (1 kept, 0 dropped) from uniform noise on the seed region.

  `noise` has shape [N, valid_h, valid_w, C] (NHWC) or [N, C, valid_h,
  valid_w] (NCHW); a value below `gamma_value` seeds a block whose top-left
  corner is that position.
  """
  seeds = to_nhwc(np.asarray(noise), data_format) < np.float32(gamma_value)
  block_h, block_w = clipped_block(block_size, height, width)
  batch, valid_h, valid_w, channels = seeds.shape
  assert valid_h == height - block_h + 1 and valid_w == width - block_w + 1
  dropped = np.zeros((batch, height, width, channels), dtype=bool)
  for di in range(block_h):
    for dj in range(block_w):
      dropped[:, di:di + valid_h, dj:dj + valid_w, :] |= seeds
  return from_nhwc((~dropped).astype(np.float32), data_format)


def expected_dropped_fraction(keep_prob, block_size, height, width):
  """Exact expected fraction of dropped units of one map.

  A position is kept only if none of the seeds whose block covers it fires.
  Along an axis, position i is covered by the seeds s in [0, valid) with
  s <= i < s + block: n(i) = min(i, valid - 1) - max(0, i - block + 1) + 1
  of them. Seeds are independent Bernoulli(gamma), so
  P(kept at (i, j)) = (1 - gamma) ** (n_h(i) * n_w(j)), and the expected
  dropped fraction is 1 - the mean of that over the map. It is below
  1 - keep_prob because blocks overlap (0.0946 at 56x56, block 7, keep 0.9).
  """
  block_h, block_w = clipped_block(block_size, height, width)
  g = gamma(keep_prob, block_size, height, width)

  def cover_counts(size, block):
    valid = size - block + 1
    i = np.arange(size)
    return np.minimum(i, valid - 1) - np.maximum(0, i - block + 1) + 1

  counts = np.outer(cover_counts(height, block_h), cover_counts(width, block_w))
  return 1.0 - np.mean((1.0 - g) ** counts)


def zeros_lie_in_full_blocks(output, block_size, data_format="NHWC"):
  """True if every zero lies in an all-zero clipped block inside the map."""
  zero = to_nhwc(np.asarray(output), data_format) == 0
  _, height, width, _ = zero.shape
  block_h, block_w = clipped_block(block_size, height, width)
  valid_h, valid_w = height - block_h + 1, width - block_w + 1
  # full[:, s, t, :]: the block with top-left corner (s, t) is all zero.
  full = np.ones((zero.shape[0], valid_h, valid_w, zero.shape[3]), dtype=bool)
  for di in range(block_h):
    for dj in range(block_w):
      full &= zero[:, di:di + valid_h, dj:dj + valid_w, :]
  covered = np.zeros_like(zero)
  for di in range(block_h):
    for dj in range(block_w):
      covered[:, di:di + valid_h, dj:dj + valid_w, :] |= full
  return bool(np.array_equal(covered, zero))
