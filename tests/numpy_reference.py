"""A small NumPy reference for the masks, independent of the TF code.

Arrays are channels-last, `[N, spatial..., C]`, with 1 to 3 spatial axes;
the 2-D helpers also take NCHW.
"""

import itertools

import numpy as np


def clipped_blocks(block_size, sizes):
  """The blocks actually used on a map of `sizes`: clipped to the map."""
  blocks = ((block_size,) * len(sizes) if np.isscalar(block_size)
            else tuple(block_size))
  return tuple(min(b, s) for b, s in zip(blocks, sizes))


def clipped_block(block_size, height, width):
  return clipped_blocks(block_size, (height, width))


def gamma_nd(keep_prob, block_size, sizes):
  """Eq. 1 of the DropBlock paper over any number of spatial axes."""
  blocks = clipped_blocks(block_size, sizes)
  valid = np.prod([s - b + 1 for s, b in zip(sizes, blocks)])
  return (1.0 - keep_prob) * np.prod(sizes) / (np.prod(blocks) * valid)


def gamma(keep_prob, block_size, height, width):
  return gamma_nd(keep_prob, block_size, (height, width))


def to_nhwc(array, data_format):
  return array if data_format == "NHWC" else np.transpose(array, (0, 2, 3, 1))


def from_nhwc(array, data_format):
  return array if data_format == "NHWC" else np.transpose(array, (0, 3, 1, 2))


def _windows(num_spatial, blocks, valid):
  """Slices of every offset of a block over the valid seed region."""
  for offsets in itertools.product(*[range(b) for b in blocks]):
    yield (slice(None),) + tuple(
        slice(o, o + v) for o, v in zip(offsets, valid)) + (slice(None),)


def _expand(seeds, blocks, sizes):
  clipped = clipped_blocks(blocks, sizes)
  valid = seeds.shape[1:-1]
  dropped = np.zeros((seeds.shape[0],) + tuple(sizes) + (seeds.shape[-1],),
                     dtype=bool)
  for window in _windows(len(sizes), clipped, valid):
    dropped[window] |= seeds
  return (~dropped).astype(np.float32)


def keep_mask_from_seeds(seeds, block_size, sizes):
  """Keep mask from seeds `[N, valid..., C]` on a map of `sizes`."""
  return _expand(np.asarray(seeds, bool), block_size, tuple(sizes))


def dropblock_keep_mask(noise, gamma_value, block_size, height, width,
                        data_format="NHWC"):
  """2-D keep mask from uniform noise on the valid seed region.

  `noise` has shape [N, valid_h, valid_w, C] (NHWC) or [N, C, valid_h,
  valid_w] (NCHW); a value below `gamma_value` seeds a block whose top-left
  corner is that position.
  """
  seeds = to_nhwc(np.asarray(noise), data_format) < np.float32(gamma_value)
  block_h, block_w = clipped_block(block_size, height, width)
  assert seeds.shape[1:3] == (height - block_h + 1, width - block_w + 1)
  return from_nhwc(keep_mask_from_seeds(seeds, block_size, (height, width)),
                   data_format)


def expected_dropped_fraction_nd(keep_prob, block_size, sizes):
  """Exact expected fraction of dropped units of one map.

  A position is kept only if none of the seeds whose block covers it fires.
  Along an axis, position i is covered by the seeds s in [0, valid) with
  s <= i < s + block: n(i) = min(i, valid - 1) - max(0, i - block + 1) + 1
  of them. Seeds are independent Bernoulli(gamma), so P(kept at p) =
  (1 - gamma) ** prod_axes n(p_axis), and the expected dropped fraction is
  1 - the mean of that over the map. It is below 1 - keep_prob because
  blocks overlap (0.0946 at 56x56, block 7, keep 0.9).
  """
  blocks = clipped_blocks(block_size, sizes)
  g = gamma_nd(keep_prob, block_size, sizes)

  def cover_counts(size, block):
    valid = size - block + 1
    i = np.arange(size)
    return np.minimum(i, valid - 1) - np.maximum(0, i - block + 1) + 1

  counts = np.ones(())
  for size, block in zip(sizes, blocks):
    counts = np.multiply.outer(counts, cover_counts(size, block))
  return 1.0 - np.mean((1.0 - g) ** counts)


def expected_dropped_fraction(keep_prob, block_size, height, width):
  return expected_dropped_fraction_nd(keep_prob, block_size, (height, width))


def zeros_lie_in_full_blocks_nd(output, block_size):
  """True if every zero of channels-last `output` is in an all-zero block."""
  zero = np.asarray(output) == 0
  sizes = zero.shape[1:-1]
  blocks = clipped_blocks(block_size, sizes)
  valid = tuple(s - b + 1 for s, b in zip(sizes, blocks))
  full = np.ones((zero.shape[0],) + valid + (zero.shape[-1],), dtype=bool)
  for window in _windows(len(sizes), blocks, valid):
    full &= zero[window]
  covered = np.zeros_like(zero)
  for window in _windows(len(sizes), blocks, valid):
    covered[window] |= full
  return bool(np.array_equal(covered, zero))


def zeros_lie_in_full_blocks(output, block_size, data_format="NHWC"):
  """2-D version; `output` in NHWC or NCHW."""
  return zeros_lie_in_full_blocks_nd(to_nhwc(np.asarray(output), data_format),
                                     block_size)
