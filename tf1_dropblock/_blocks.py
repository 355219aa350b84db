"""Block geometry of one DropBlock call: seed region, gamma, blocks.

Owns where seeds may go (the valid seed region of the paper), the seed
probability gamma, and how a flat list of seed positions becomes the map
of their blocks. Dimensions stay Python ints where the static shape knows
them (see `_shapes`), so a graph with static shapes holds constants, not
shape arithmetic.

The map is -1 (kept) and 0 (dropped), in the input's layout, made one of
three ways: scattered, every cell of every seed's block (found by index
arithmetic) a 0 on a background of -1s; pooled, as the paper does, one
marker per seed max-pooled over its block; or swept, the seeds spread
over their blocks by ANDing the map with rolled copies of itself, eight
channels per 64-bit word. The scatter's cost grows with the rate, the
others' do not, but they pass over the whole map; each is used where it
was measured cheaper (`BlockGeometry.negated_keep_map`).
"""

import numpy as np

from tf1_dropblock import _pooling
from tf1_dropblock import _shapes
from tf1_dropblock import compat
from tf1_dropblock.compat import tf


class BlockGeometry(object):
  """The map, valid seed region and block placement of one input.

  Everything is laid out like the input (`data_format`). The valid seed
  region is the input with each spatial size `s` replaced by `s - block +
  1`; a seed at index i along an axis zeros `[i, i + block)` there, and a
  block clipped to a shorter map (one seed position, i = 0) zeros the whole
  axis.

  Attributes:
    sizes, blocks: Spatial sizes (Python ints or int64 scalars) and block
      sizes, one per spatial axis.
    clipped: The block extent along each spatial axis, clipped to the map.
    valid: Seed positions along each spatial axis: `size - block + 1`
      where a whole block fits, 1 where the block is clipped to a shorter
      map (and on an empty axis, whose cell count is clipped to 0).
    gaps: `size - valid` per spatial axis.
    spatial_axes: The spatial axes' places in the input's layout.
    map_strides, valid_strides: Row-major strides of the input and of the
      valid seed region, one per axis of the input.
    num_valid_cells: The size of the valid seed region (0 for an empty
      input).
    num_units: The size of the input.
  """

  def __init__(self, dims, data_format, blocks):
    """`dims`: the input's dimensions (`_shapes.dimensions`)."""
    self.input_dims = dims
    self.data_format = data_format
    self._map_shape_cache = None
    rank = len(dims)
    self.spatial_axes = (list(range(2, rank)) if data_format[1] == "C"
                         else list(range(1, rank - 1)))
    layout = list(dims)
    sizes = [layout[axis] for axis in self.spatial_axes]
    if getattr(dims, "tensors", None) and not _shapes.is_static(*sizes):
      # Shape arithmetic is then done in tensors anyway; static batch or
      # channel counts in it would only add constant ops.
      layout = [t if axis not in self.spatial_axes and _shapes.is_static(d)
                and d != 1 else d
                for axis, (d, t) in enumerate(zip(layout, dims.tensors))]
    self.sizes, self.blocks = sizes, tuple(blocks)
    # The block clipped to the map, its seed region and size - valid (the
    # block's extent minus 1). An empty axis gets a region of 1 here; the
    # cell count below is then clipped to the map's, 0.
    self.clipped = [b if b == 1 else _shapes.minimum(s, b)
                    for s, b in zip(sizes, self.blocks)]
    self.gaps = [0 if b == 1 else c - 1
                 for b, c in zip(self.blocks, self.clipped)]
    self.valid = [s if b == 1 else s - gap
                  for s, b, gap in zip(sizes, self.blocks, self.gaps)]
    valid_layout = list(layout)
    for axis, valid in zip(self.spatial_axes, self.valid):
      valid_layout[axis] = valid
    self.map_strides = _strides(layout)
    self.valid_strides = _strides(valid_layout)
    self.num_units = _shapes.product([layout[0], self.map_strides[0]])
    self.num_valid_cells = _shapes.product([valid_layout[0],
                                            self.valid_strides[0]])
    if not all(b == 1 for b in self.blocks):
      self.num_valid_cells = _shapes.minimum(self.num_valid_cells,
                                             self.num_units)

  def gamma(self, keep_prob):
    """Seed probability of Eq. 1, with blocks clipped to the map.

    (1 - keep_prob) / prod(block) * prod(size) / prod(size - block + 1)
    over the spatial axes, a Python float when keep_prob and the spatial
    sizes are static, else a float64 scalar; 0 on an empty map.
    """
    axes = [i for i, block in enumerate(self.blocks) if block > 1]
    static_keep_prob = compat.get_static_value(keep_prob)
    rate = (1.0 - float(static_keep_prob) if static_keep_prob is not None
            else 1.0 - tf.cast(keep_prob, tf.float64))
    extents = [self.clipped[i] for i in axes]
    if _shapes.is_static(*[self.sizes[i] for i in axes] + extents +
                         [self.valid[i] for i in axes]):
      numerator = _shapes.product([self.sizes[i] for i in axes])
      denominator = _shapes.product(extents + [self.valid[i] for i in axes])
      if static_keep_prob is not None:
        if denominator == 0:
          return 0.0
        return (1.0 - float(static_keep_prob)) * numerator / denominator
      return rate * (numerator / denominator if denominator else 0.0)
    # The same ratio from the strides the block map needs anyway: the
    # channels and the axes of unit blocks cancel (0 on an empty input).
    numerator = self.map_strides[0]
    denominator = _shapes.product(extents + [self.valid_strides[0]])
    ratio = tf.math.divide_no_nan(tf.cast(numerator, tf.float64),
                                  tf.cast(denominator, tf.float64))
    return rate * ratio

  def corners(self, centres):
    """Flat indices into the input of the seeds' blocks' first cells.

    Args:
      centres: Flat indices into the valid seed region, row-major, plus
        0.5, as float64 (the indices exact integers below 2^52).

    Returns:
      int64 flat indices into the input, row-major.
    """
    # A region cell f with coordinates c_k lands at sum_k c_k * (map
    # stride k) in the input. The difference from f is the sum, over the
    # axes a where the map is larger, of (f's flat index over the axes
    # before a, i.e. f // valid stride a-1) * (map stride a) * (size_a -
    # valid_a), as expanding c_k = q_k - valid_k * q_{k-1} shows.
    # The quotients by float64 division, vectorised where int64 `FloorDiv`
    # is a scalar division per element (~4 ns on our CPUs; a third of the
    # sampler's time at keep_prob 0.5 with blocks of 2). Exact: (f + 0.5) /
    # s lies at least 0.5 / s from an integer, and its rounding error,
    # below (f / s) * 2^-53, is smaller when f < 2^52. The +0.5 stays in
    # the sum, which the cast to int64 truncates.
    terms = [centres]
    for axis, gap in zip(self.spatial_axes, self.gaps):
      if not _shapes.is_zero(gap):
        stride = self.valid_strides[axis - 1]
        coefficient = _shapes.product([self.map_strides[axis], gap])
        quotient = tf.floor(
            centres if _shapes.is_static(stride) and stride == 1
            else centres / _shapes.as_float64(stride))
        terms.append(quotient * _shapes.as_float64(coefficient))
    return tf.cast(_shapes.total(terms), tf.int64)

  def negated_keep_map(self, centres, dtype, keep_prob):
    """The map of the blocks of the seeds at `centres`: -1 kept, 0 dropped.

    Negated, as max-pooling makes it; the caller folds the sign into the
    scale factor, which multiplies the map anyway. Built one of three
    ways, with the same result:

    - scattered (`_scattered_map`): every cell of every block written as a
      0 on a background of -1s, about (1 - keep_prob) * n writes;
    - pooled (`_pooled_map`): one marker per seed written, then a
      stride-1 max-pool with a block-sized window spreads it over its
      block, a fixed cost at any rate;
    - swept (`_swept_map`): only the seeds written, then spread by ANDing
      the map with rolled copies of itself, ceil(log2(block)) passes per
      axis, eight channels per 64-bit word.

    The scatter's cost grows with the rate, the others' do not; which is
    cheaper was measured (docs/performance.md). TF 2.x sweeps for blocks
    of 2-4 at high rates (`_swept_map_pays`). TF 1.15
    (`compat.POOLED_BLOCK_MAPS`), whose scattered writes are slow, pools
    or sweeps at high rates with many channels (`_pooled_map_pays`): it
    sweeps one-example and very large examples, where its CPU pooling,
    which splits the work by example, runs on one thread or out of cache
    (`_sweeps_examples`), and pools the rest. With sizes or `keep_prob`
    known only at run time, `tf.cond`s pick.

    Args:
      centres: Seed positions plus 0.5, as `corners` takes them.
      dtype: The map's dtype.
      keep_prob: Scalar tensor (or Python float), the keep probability.

    Returns:
      A tensor of the input's shape and layout.
    """
    corners = self.corners(centres)
    if compat.POOLED_BLOCK_MAPS:
      pays = self._pooled_map_pays(keep_prob)
      sweeps = False if pays is False else self._sweeps_examples()
    else:
      pays = sweeps = self._swept_map_pays(keep_prob)
    if pays is False:
      return self._scattered_map(corners, dtype)
    # Shape arithmetic before any branches: TF1 control flow would repeat
    # it in each, behind a `Switch` for every tensor it takes from outside.
    self._map_shapes()
    if sweeps is not False:
      shifts, word_shape = self._sweep_shifts(), self._word_shape()
      swept = lambda: self._swept_map(corners, dtype, shifts, word_shape)
    if sweeps is not True:
      marker = self._marker_offset()
      pooled = lambda: self._pooled_map(corners, dtype, marker)
    if sweeps is True:
      other = swept
    elif sweeps is False:
      other = pooled
    else:
      other = lambda: tf.cond(sweeps, swept, pooled)
    if pays is True:
      return other()
    offsets = self._block_offsets()
    return tf.cond(pays, other,
                   lambda: self._scattered_map(corners, dtype, offsets))

  def _sweeps_examples(self):
    """TF 1.15, where the map is not scattered: whether to sweep rather
    than pool (a Python bool or a bool scalar tensor). Sweeps one example,
    or examples of at least `_SWEPT_MIN_EXAMPLE_UNITS` units, when the
    channels are a multiple of 8."""
    batch, channels = self.input_dims[0], self.input_dims[-1]
    per_example = self.map_strides[0]
    if _shapes.is_static(channels):
      if channels % 8:
        return False
      by_8 = True
    else:
      by_8 = tf.equal(channels % 8, 0)
    large = [batch == 1 if _shapes.is_static(batch) else tf.equal(batch, 1),
             per_example >= _SWEPT_MIN_EXAMPLE_UNITS
             if _shapes.is_static(per_example)
             else tf.greater_equal(per_example, _SWEPT_MIN_EXAMPLE_UNITS)]
    if any(value is True for value in large):
      large = True
    else:
      large = [value for value in large if value is not False]
      if not large:
        return False
      large = large[0] if len(large) == 1 else tf.logical_or(*large)
    if by_8 is True:
      return large
    return by_8 if large is True else tf.logical_and(by_8, large)

  def _rate_and_channels(self, keep_prob, min_rate, channels_ok):
    """Whether the rate is at least `min_rate` and `channels_ok(channels)`:
    a Python bool, or a bool scalar tensor where either is known only at
    run time. False for an empty map."""
    channels = self.input_dims[-1]
    static_keep_prob = compat.get_static_value(keep_prob)
    conditions = []
    if static_keep_prob is not None:
      if 1.0 - float(static_keep_prob) < min_rate:
        return False
    else:
      conditions.append(keep_prob <= tf.constant(1.0 - min_rate,
                                                 keep_prob.dtype))
    if _shapes.is_static(self.num_units) and self.num_units == 0:
      return False  # (Either map works when empty, but is not needed.)
    if _shapes.is_static(channels):
      if not channels_ok(channels):
        return False
    else:
      conditions.append(channels_ok(channels))
    if not conditions:
      return True
    return conditions[0] if len(conditions) == 1 else tf.logical_and(
        *conditions)

  def _pooled_map_pays(self, keep_prob):
    """Whether to pool: a Python bool, or a bool scalar tensor."""
    if self.data_format[-1] != "C":
      return False
    return self._rate_and_channels(
        keep_prob, _POOLED_MIN_RATE,
        lambda channels: channels >= _POOLED_MIN_CHANNELS)

  def _swept_map_pays(self, keep_prob):
    """Whether to sweep: a Python bool, or a bool scalar tensor."""
    passes = sum(_sweep_passes(block) for block in self.blocks)
    if self.data_format[-1] != "C" or passes > len(_SWEPT_MIN_RATE):
      return False
    return self._rate_and_channels(
        keep_prob, _SWEPT_MIN_RATE[passes - 1],
        lambda channels: tf.equal(channels % 8, 0) if tf.is_tensor(channels)
        else channels % 8 == 0)

  def _scattered_map(self, corners, dtype, offsets=None):
    """`negated_keep_map` by writing every cell of every block, from the
    blocks' first cells `corners` (int64 flat indices into the input) and
    `offsets` (`_block_offsets()`, computed here if None).

    Each seed zeros the cells of its block, `corners` plus every in-block
    offset, in one `SparseToDense` over a background of -1s. Blocks overlap,
    so some cells are listed more than once; they all write the same 0,
    and `SparseToDense` without index validation takes indices in any
    order and repeated.

    Two choices keep the scattered writes, one thread's work, cheap at
    high rates on TF 2.x: the map is written in `compat.KEEP_MAP_DTYPE`
    (int8, then cast), and the cells are listed offset by offset, each
    pass over the seeds in increasing order, so the writes stream through
    memory instead of jumping between the rows of one block. At keep_prob
    0.5 they took a 64x7x7x2048 block-5 map's `SparseToDense` from 17.8 ms
    to 3.8 ms (TF 2.21). TF 1.15 writes a float map, seed by seed: its
    8-bit casts are slow, and with a float map the offset-by-offset order
    was slower there (docs/performance.md).
    """
    if offsets is None:
      offsets = self._block_offsets()
    if isinstance(offsets, list) and offsets == [0]:
      cells = corners
    else:
      if isinstance(offsets, list):
        offsets = tf.constant(offsets, tf.int64)
      if compat.KEEP_MAP_DTYPE is None:
        # Seed by seed: a float map (TF 1.15) is written faster one block
        # after another.
        cells = tf.reshape(tf.reshape(corners, [-1, 1]) + offsets, [-1])
      else:
        cells = tf.reshape(tf.reshape(offsets, [-1, 1]) + corners, [-1])
    return self._written_map(cells, compat.KEEP_MAP_DTYPE or dtype, dtype)

  def _pooled_map(self, corners, dtype, marker=None):
    """`negated_keep_map` by max-pooling a map of seed markers, from the
    blocks' first cells `corners` (int64 flat indices into the input) and
    `marker` (`_marker_offset()`, computed here if None).

    A stride-1 SAME pool's window at cell i spans `[i - (b - 1) // 2, i +
    b // 2]` along an axis with block b, so a seed whose block starts at
    p is marked at `p + b // 2`: the windows that reach the marker are
    exactly those of the block's cells. A block clipped to a shorter map
    (p = 0) is marked at `min(b // 2, size - 1)`, which every window of the
    axis reaches.
    """
    if marker is None:
      marker = self._marker_offset()
    cells = corners
    if not (_shapes.is_static(marker) and marker == 0):
      cells += marker
    seed_map = self._written_map(cells, tf.float32, tf.float32)
    blocks = self.blocks
    if len(blocks) == 1:
      # A sequence as a one-row image: [N, 1, W, C].
      seed_map = tf.expand_dims(seed_map, 1)
      blocks = (1,) + blocks
    keep = _pooling.expand_blocks(seed_map, blocks)
    if len(self.blocks) == 1:
      keep = tf.squeeze(keep, [1])
    return keep if dtype == tf.float32 else tf.cast(keep, dtype)

  def _swept_map(self, corners, dtype, shifts=None, word_shape=None):
    """`negated_keep_map` by sweeping a map of the seeds, from the blocks'
    first cells `corners` (int64 flat indices into the input), `shifts`
    (`_sweep_shifts()`) and `word_shape` (`_word_shape()`), computed here
    if None.

    Only the seeds are written, a 0 on a background of -1s (int8), and
    each is then spread over its block one axis at a time: the map ANDed
    with itself rolled forward along the axis by 1, 2, 4, ... cells (the
    block's extent - 1 in all), so that a cell is 0 when a seed within
    its block's reach behind it is. The channels go eight at a time, as
    int64 words (channels last, a multiple of 8). Cells a roll brings
    round from the axis' end lie past every block's reach so far (a
    block's first cell is in the valid seed region), so they are -1 and
    change nothing.
    """
    if shifts is None:
      shifts = self._sweep_shifts()
    if word_shape is None:
      word_shape = self._word_shape()
    flat_shape, shape = self._map_shapes()
    seeds = tf.raw_ops.SparseToDense(
        sparse_indices=corners, output_shape=flat_shape,
        sparse_values=tf.constant(0, tf.int8),
        default_value=tf.constant(-1, tf.int8), validate_indices=False)
    words = tf.bitcast(tf.reshape(seeds, word_shape), tf.int64)
    for axis, shift in shifts:
      words = tf.bitwise.bitwise_and(words, tf.roll(words, shift, axis))
    keep = tf.reshape(tf.bitcast(words, tf.int8), shape)
    return tf.cast(keep, dtype)

  def _word_shape(self):
    """The map's shape with its channels as [-1, 8] (bytes of words)."""
    return _shapes.as_shape(list(self.input_dims)[:-1] + [-1, 8])

  def _sweep_shifts(self):
    """(axis, cells) of `_swept_map`'s rolls: cells a Python int or an
    int64 scalar.

    Along an axis of extent e (the block clipped to the map) a roll
    reaches min(w, e - w) cells further, w its reach so far (1, 2, 4,
    ...); the last of the axis' ceil(log2(block)) rolls reaches e. So
    the reach stops at e also when e is known only at run time and is
    shorter than the block.
    """
    shifts = []
    for axis, block, gap in zip(self.spatial_axes, self.blocks, self.gaps):
      reach, remaining = 1, gap
      passes = _sweep_passes(block)
      for index in range(passes):
        step = (remaining if index == passes - 1
                else _shapes.minimum(reach, remaining))
        if not _shapes.is_zero(step):
          shifts.append((axis, step))
        if index < passes - 1:
          reach, remaining = reach + step, remaining - step
    return shifts

  def _written_map(self, cells, map_dtype, dtype):
    """A map of the input's shape: 0 at flat indices `cells`, -1 elsewhere,
    written in `map_dtype` and cast to `dtype`."""
    flat_shape, shape = self._map_shapes()
    written = tf.raw_ops.SparseToDense(
        sparse_indices=cells, output_shape=flat_shape,
        sparse_values=tf.constant(0, map_dtype),
        default_value=tf.constant(-1, map_dtype), validate_indices=False)
    written = tf.reshape(written, shape)
    return written if map_dtype == dtype else tf.cast(written, dtype)

  def _map_shapes(self):
    """The flat and full shapes of the map (lists, or int64 tensors built
    once)."""
    if self._map_shape_cache is None:
      shape = getattr(self.input_dims, "shape", None)
      self._map_shape_cache = (
          _shapes.as_shape([self.num_units]),
          _shapes.as_shape(self.input_dims) if shape is None else shape)
    return self._map_shape_cache

  def _marker_offset(self):
    """Flat offset from a block's first cell to its pooling marker: a
    Python int or an int64 scalar (see `_pooled_map`)."""
    terms = []
    for axis, block, gap in zip(self.spatial_axes, self.blocks, self.gaps):
      if block > 1:
        terms.append(_shapes.product([_shapes.minimum(gap, block // 2),
                                      self.map_strides[axis]]))
    return _shapes.total(terms) if terms else 0

  def _block_offsets(self):
    """Flat offsets of a block's cells from its first, in the input: a
    list of Python ints, or a 1-D int64 tensor.

    Cell d of a block along an axis is at `min(d, gap)` (gap = clipped
    extent - 1), so a block clipped to a shorter map covers it, with
    repeats where the size is not known until run time.
    """
    axes = [i for i, block in enumerate(self.blocks) if block > 1]
    cells = np.meshgrid(*[np.arange(self.blocks[i]) for i in axes],
                        indexing="ij")
    fixed = np.zeros(int(np.prod([self.blocks[i] for i in axes])), np.int64)
    terms = []
    for i, cell in zip(axes, cells):
      gap, stride = self.gaps[i], self.map_strides[self.spatial_axes[i]]
      cell = cell.ravel()
      if _shapes.is_static(gap):
        cell = np.minimum(cell, gap)
        if _shapes.is_static(stride):
          fixed += cell * stride
          continue
        term = tf.constant(cell, tf.int64)
      else:
        term = tf.minimum(tf.constant(cell, tf.int64), gap)
      terms.append(term if _shapes.is_static(stride) and stride == 1
                   else term * stride)
    if not terms:
      return sorted(set(fixed.tolist()))
    if fixed.any():
      terms.append(tf.constant(fixed))
    return _shapes.total(terms)


# The pooled map is built from this rate (1 - keep_prob) on and for maps of
# at least this many channels (channels last). Below the rate the scatter
# writes fewer cells than a pool pass reads (at keep_prob 0.7 the pool had
# the better median but more cells above tf.nn.dropout's time); with fewer
# channels CPU pooling is not vectorised well. Measured on TF 1.15
# (docs/performance.md, "Pooled block maps").
_POOLED_MIN_RATE = 0.35
_POOLED_MIN_CHANNELS = 32


# The swept map (TF 2.x, channels last, channels a multiple of 8) is built
# for blocks of at most this many passes in all (blocks 2-4 along each of
# two axes), from the rate (1 - keep_prob) in the entry for its pass count:
# below it the scatter writes fewer cells than the passes read. Measured on
# TF 2.21 (docs/performance.md, "32-bit gap words and swept block maps").
_SWEPT_MIN_RATE = (0.15, 0.2, 0.3, 0.35)
# TF 1.15 sweeps instead of pooling for one example or for examples of at
# least this many units: its CPU max-pool splits its work by example, so
# one example runs on one thread, and large float maps leave the cache
# (1x224x224x64, 4x224x224x64: the sweep 10-25 % faster; 16x56x56x64,
# 16x28x28x256: the pool 5-30 % faster; docs/performance.md).
_SWEPT_MIN_EXAMPLE_UNITS = 2 ** 20


def _sweep_passes(block):
  """The rolls that spread a seed over a block of `block` cells along an
  axis: ceil(log2(block))."""
  return (block - 1).bit_length()


def _strides(dims):
  """Row-major strides of an array of dimensions `dims`."""
  strides = [1]
  for size in reversed(dims[1:]):
    strides.insert(0, _shapes.product([strides[0], size]))
  return strides
