"""Block geometry of one DropBlock call: seed region, seed map, blocks.

Owns where seeds may go (the valid seed region of the paper), the seed
probability gamma, how a flat list of seed positions becomes a full-size
seed map, and how seeds are expanded into blocks. Dimensions stay Python
ints where the static shape knows them (see `_shapes`), so a graph with
static shapes holds constants, not shape arithmetic.

The mask is built channels-last, `[N, spatial..., C]` (CPU pooling is fast
only there), as a map of -1 (kept) and 0 (dropped): a seed is a 0 on a -1
background, and a max-pool over a block window then zeros every unit some
block covers.
"""

from tf1_dropblock import _shapes
from tf1_dropblock import compat
from tf1_dropblock.compat import tf


_INT8_MIN_CHANNELS = 256


class BlockGeometry(object):
  """The map, valid seed region and block placement of one input.

  A stride-1 SAME max-pool with a `block` window covers `[p - (block - 1)
  // 2, p + block // 2]` around output p. The seed of the block whose
  first row is i therefore sits at row `i + block // 2` (exact for odd and
  even blocks); a block clipped to a shorter map (one seed row, i = 0) has
  its seed at `min(block // 2, size - 1)`, which covers every row.
  Sequences are one-row images, `[N, 1, W, C]` with blocks `(1, block_w)`.

  Attributes:
    batch, channels: N and C (Python ints or int64 scalars).
    sizes, blocks: Spatial sizes and block sizes of the map, 2 or 3 each.
    clipped: The block extent along each axis, clipped to the map.
    valid: Seed positions along each spatial axis: `size - block + 1`
      where a whole block fits, 1 where the block is clipped to a shorter
      map (and on an empty axis, whose cell count is clipped to 0).
    gaps: `size - valid` per axis.
    offsets: Where the seed of a block sits relative to its first cell.
    map_strides, valid_strides: Row-major strides of the map and of the
      seed region, the batch stride first.
    num_valid_cells: N * prod(valid) * C, the cells a seed may be drawn in
      (0 for an empty input).
    num_units: N * prod(sizes) * C, the size of the input.
  """

  def __init__(self, dims, data_format, blocks):
    """`dims`: the input's dimensions (`_shapes.dimensions`)."""
    self.data_format = data_format
    self.input_dims = dims
    self.channels_first = data_format[1] == "C"
    if self.channels_first:
      self.batch, self.channels, sizes = dims[0], dims[1], dims[2:]
    else:
      self.batch, self.channels, sizes = dims[0], dims[-1], dims[1:-1]
    blocks = tuple(blocks)
    self.static_channels = self.channels if _shapes.is_static(
        self.channels) else None
    if getattr(dims, "tensors", None) and not _shapes.is_static(*sizes):
      # Shape arithmetic is then done in tensors anyway; static batch or
      # channel counts in it would only add constant ops.
      self.batch, self.channels = (
          (dims.tensors[0], dims.tensors[1]) if self.channels_first
          else (dims.tensors[0], dims.tensors[-1]))
    if len(sizes) == 1:
      sizes, blocks = [1] + sizes, (1,) + blocks
    self.sizes, self.blocks = sizes, blocks
    # The block clipped to the map, its seed region and size - valid (the
    # block's extent minus 1). An empty axis gets a region of 1 here; the
    # cell count below is then clipped to the map's, 0.
    self.clipped = [b if b == 1 else _shapes.minimum(s, b)
                    for s, b in zip(sizes, blocks)]
    self.gaps = [0 if b == 1 else c - 1
                 for b, c in zip(blocks, self.clipped)]
    self.valid = [s if b == 1 else s - gap
                  for s, b, gap in zip(sizes, blocks, self.gaps)]
    self.offsets = [0 if b == 1 else _shapes.minimum(b // 2, gap)
                    for b, gap in zip(blocks, self.gaps)]
    # Row-major strides of the map [N, sizes..., C] and of the valid seed
    # region [N, valid..., C]; entry 0 is the batch stride.
    self.map_strides = _strides(self.channels, sizes)
    self.valid_strides = _strides(self.channels, self.valid)
    self.num_units = _shapes.product([self.batch, self.map_strides[0]])
    self.num_valid_cells = _shapes.product([self.batch,
                                            self.valid_strides[0]])
    if not all(b == 1 for b in blocks):
      self.num_valid_cells = _shapes.minimum(self.num_valid_cells,
                                             self.num_units)

  def gamma(self, keep_prob):
    """Seed probability of Eq. 1, with blocks clipped to the map.

    (1 - keep_prob) / prod(block) * prod(size) / prod(size - block + 1)
    over the spatial axes, a Python float when keep_prob and the spatial
    sizes are static, else a float64 scalar; 0 on an empty map.
    """
    numerator = _shapes.product(
        [s for s, b in zip(self.sizes, self.blocks) if b > 1])
    denominator = _shapes.product(
        [c for c, b in zip(self.clipped, self.blocks) if b > 1] +
        [v for v, b in zip(self.valid, self.blocks) if b > 1])
    static_keep_prob = compat.get_static_value(keep_prob)
    if static_keep_prob is not None and _shapes.is_static(numerator,
                                                          denominator):
      if denominator == 0:
        return 0.0
      return (1.0 - float(static_keep_prob)) * numerator / denominator
    rate = (1.0 - float(static_keep_prob) if static_keep_prob is not None
            else 1.0 - tf.cast(keep_prob, tf.float64))
    if _shapes.is_static(numerator, denominator):
      return rate * (numerator / denominator if denominator else 0.0)
    ratio = tf.math.divide_no_nan(tf.cast(numerator, tf.float64),
                                  tf.cast(denominator, tf.float64))
    return rate * ratio

  def map_dtype(self, compute_dtype):
    """The dtype to build and pool the -1/0 map in (a CPU choice).

    With many channels, int8 max-pooling is far faster than float32 on
    CPU (vectorised across the channels; at 1x148x40x2048 with block 9,
    7 ms against 45 ms), and the cast back costs less than it saves; with
    few channels it is slower (at 4x224x224x16, block 5: 7.5 against 3.0
    ms), and at 128-256 channels the op was as fast either way (measured
    on TF 2.21, 2-core x86). So int8 from 256 known channels on 2-D maps
    (MaxPool3D has no int8 kernel) where int8 pooling is fast (see
    `compat.INT8_MAX_POOL_IS_FAST`), the compute dtype otherwise.
    """
    if (compat.INT8_MAX_POOL_IS_FAST and len(self.blocks) == 2
        and self.static_channels is not None
        and self.static_channels >= _INT8_MIN_CHANNELS):
      return tf.int8
    return compute_dtype

  def seed_map(self, positions, dtype=tf.float32):
    """The channels-last -1/0 map with seeds at `positions`.

    Args:
      positions: Increasing int64 flat indices into the valid seed region
        laid out `[N, valid..., C]`, row-major.
      dtype: The map's dtype.

    Returns:
      A `[N, sizes..., C]` tensor: 0 at the seeds, -1 elsewhere.
    """
    # A flat index f into the valid region, with q_k = f // (stride of axis
    # k in the valid region), lands at f + sum_k q_k * stride_{k+1} *
    # (size_{k+1} - valid_{k+1}) + sum_k offset_k * stride_k in the map
    # (the strides of the map; axis 0 is the batch), since the coordinates
    # are q_k - valid_k * q_{k-1}.
    terms = [positions]
    shift = []
    for axis, (gap, offset) in enumerate(zip(self.gaps, self.offsets)):
      if not _shapes.is_zero(gap):
        terms.append((positions // self.valid_strides[axis]) * (
            self.map_strides[axis + 1] * gap))
      if not _shapes.is_zero(offset):
        shift.append(offset * self.map_strides[axis + 1])
    index = _shapes.total(terms + [_shapes.total(shift)])
    # Indices are increasing, as SparseToDense wants; it writes the -1
    # background and the seeds in one pass, far faster than a scatter.
    seed_map = tf.raw_ops.SparseToDense(
        sparse_indices=index, output_shape=_shapes.as_shape(
            [self.num_units]),
        sparse_values=tf.constant(0, dtype),
        default_value=tf.constant(-1, dtype), validate_indices=False)
    if self._folds_rows():
      # Laid out for `expand`'s first pool; it restores the map shape.
      return tf.reshape(seed_map, _shapes.as_shape(
          [self.batch, self.sizes[0], 1, -1]))
    return tf.reshape(seed_map, self._map_shape())

  def _map_shape(self):
    """The shape argument of the channels-last map [N, sizes..., C]."""
    shape = getattr(self.input_dims, "shape", None)
    if shape is None or self.channels_first or len(self.input_dims) == 3:
      shape = _shapes.as_shape([self.batch] + self.sizes + [self.channels])
    return shape

  def _folds_rows(self):
    """Whether the row pool runs with rows folded into the channels.

    [N, H, W, C] viewed as [N, H, 1, W * C]: the same windows, vectorised
    over W * C values instead of C, where that is faster
    (`compat.FOLD_ROWS_FOR_ROW_POOL`).
    """
    return (compat.FOLD_ROWS_FOR_ROW_POOL and len(self.blocks) == 2
            and self.blocks[0] > 1
            and max(self.blocks) >= compat.SEPARABLE_POOL_FROM_BLOCK)

  def expand(self, seed_map):
    """Blocks from a channels-last seed map, in the input's layout.

    A stride-1 SAME max-pool with the block window: one 1-D pool per axis
    from `compat.SEPARABLE_POOL_FROM_BLOCK` on, where that is faster on
    CPU, else a single pool. `seed_map` comes from `seed_map`, folded for
    the row pool where `_folds_rows`.
    """
    blocks = self.blocks
    pool = tf.nn.max_pool2d if len(blocks) == 2 else tf.nn.max_pool3d
    separable = max(blocks) >= compat.SEPARABLE_POOL_FROM_BLOCK
    if self._folds_rows():
      seed_map = tf.reshape(pool(seed_map, [blocks[0], 1], 1, "SAME"),
                            self._map_shape())
      blocks = (1,) + tuple(blocks[1:])
    if separable:
      for axis, block in enumerate(blocks):
        if block > 1:
          window = [1] * len(blocks)
          window[axis] = block
          seed_map = pool(seed_map, window, 1, "SAME")
    elif max(blocks) > 1:
      seed_map = pool(seed_map, list(blocks), 1, "SAME")
    return self.to_input_layout(seed_map)

  def to_input_layout(self, values):
    """From the channels-last map layout to the input's data format."""
    rank = len(self.input_dims)
    if self.channels_first:
      map_rank = len(values.shape)
      values = tf.transpose(
          values, [0, map_rank - 1] + list(range(1, map_rank - 1)))
    if rank == 3:
      values = tf.reshape(values, _shapes.as_shape(self.input_dims))
    return values


def _strides(channels, sizes):
  """[batch stride, stride of spatial axis 1, ...] of [N, sizes..., C]."""
  strides = [channels]
  for size in reversed(sizes):
    strides.insert(0, _shapes.product([strides[0], size]))
  return strides
