"""DropBlock under XLA: its own path, kept out of the graph path's way.

XLA needs static sizes and fuses elementwise work, so the choices differ
from graph mode's (`_blocks`): seed maps come from `_xla_seeds`; a
channels-first input is masked as it lies in memory, [N * C, spatial...,
1]; blocks are expanded by a doubling sliding max there (pooling is not
vectorised across such a layout); the mask is int8 where `tf.maximum`
takes int8 (a quarter of float32's memory traffic); and `computed_once`
barriers keep XLA from recomputing a mask in every consumer.
"""

from tf1_dropblock import _masking
from tf1_dropblock import _pooling
from tf1_dropblock import _xla_seeds
from tf1_dropblock import compat
from tf1_dropblock.compat import tf


def multiplier(shape, keep_prob, scale, key, data_format, blocks,
                    normalize):
  """`_multiplier` under XLA: static sizes, int8 maps, folded channels.

  Args:
    shape: The input shape, int32 `[rank]` in `data_format` order.
    Others: As for `_multiplier`; `blocks` has one entry per spatial axis.
  """
  map_shape, blocks = map_layout_shape(shape, data_format, blocks,
                                 fold_channels=True)
  geometry = _xla_seeds.SeedGeometry(map_shape, blocks)
  gamma = _xla_seeds.seed_probability(keep_prob, geometry)
  # XLA fuses the casts, so the full-size maps can be int8, a quarter of
  # the memory traffic of float32 (MaxPool3D takes floats only).
  map_dtype = (tf.int8 if len(blocks) == 2 and compat.INT8_MAXIMUM
               else tf.float32)
  if compat.get_static_value(keep_prob) is not None:
    # XLA needs static sizes; with a constant keep_prob the draw count
    # depends only on shapes, which XLA treats as compile-time constants.
    seed_map = _xla_seeds.sparse_seed_map(geometry, gamma, key, dtype=map_dtype)
  elif not compat.XLA_CASE_SEES_OUTER_SHAPES:
    seed_map = _xla_seeds.dense_seed_map(geometry, gamma, key, map_dtype)
  else:
    seed_map = _xla_seeds.bucketed_seed_map(keep_prob, geometry, gamma, key,
                                  map_dtype)
  # seed_map holds -1 (no seed) and 0 (a seed); max-pooling it gives -1
  # where a unit is kept and 0 where a block drops it.
  folded = data_format[-1] != "C"
  neg_keep = from_map_layout(
      _pooling.expand_blocks(seed_map, blocks, sliding=folded), shape,
      data_format, fold_channels=True)
  if folded and max(blocks) > 1:
    # The sliding max is elementwise: without this XLA would redo its last
    # step in each consumer (the count, the forward and backward multiply).
    neg_keep = _masking.computed_once(neg_keep)
  if normalize == "example":
    neg_keep = tf.cast(neg_keep, tf.float32)
    per_example = list(range(1, len(data_format)))
    num_kept = -tf.reduce_sum(neg_keep, axis=per_example, keepdims=True)
    count = tf.cast(tf.size(neg_keep) // tf.shape(neg_keep)[0], tf.float32)
  elif neg_keep.dtype == tf.int8:
    inner_spatial_axis = -1 if data_format[-1] != "C" else -2
    num_kept = -_sum_of_int8_map(neg_keep, inner_spatial_axis)
    neg_keep = tf.cast(neg_keep, tf.float32)
    count = tf.cast(tf.size(neg_keep), tf.float32)
  else:
    num_kept = -tf.reduce_sum(neg_keep)
    count = tf.cast(tf.size(neg_keep), tf.float32)
  factor = tf.math.divide_no_nan(count, num_kept)
  factor = -_masking.select_scale(scale, factor)
  if keep_prob.dtype != tf.float32:
    neg_keep, factor = (tf.cast(neg_keep, keep_prob.dtype),
                        tf.cast(factor, keep_prob.dtype))
  return neg_keep * factor


def _sum_of_int8_map(values, axis):
  """The float32 sum of an int8 map of -1s and 0s, in two steps, for XLA.

  Summed in one step, XLA's CPU backend wrote an int32 copy of the whole
  map and reduced it through a reduce-window: the count alone took 35-70 %
  of the op's fusion time (profiled at four shapes). Summing along one
  spatial axis first (in int32, widening fused) and then the rest avoids
  both. The second sum is float32, which also keeps XLA from merging the
  two into one; it is exact below 2^24 kept units and, beyond that, as
  exact as graph mode's float32 count.
  """
  partial = tf.reduce_sum(tf.cast(values, tf.int32), axis=axis)
  return tf.reduce_sum(tf.cast(partial, tf.float32))


def map_layout_shape(shape, data_format, blocks, fold_channels=False):
  """The channels-last shape [N, spatial..., C] the mask is built in.

  Seeds are i.i.d., so any layout gives the same distribution. CPU pooling
  is fast only channels-last (a depth-1 layout for NCHW was 3-8x slower),
  so a channels-first mask is built channels-last and transposed once at
  the end. Under XLA pooling is as fast on any layout and a transpose is a
  full extra pass, so there (`fold_channels`) a channels-first tensor is
  taken as it lies in memory: [N * C, spatial..., 1], a reshape away.
  Sequences become one-row images, [N, 1, W, C], with blocks (1, block_w).

  Returns:
    The map shape (int32 tensor) and the blocks, one per map spatial axis.
  """
  if data_format[-1] != "C":
    if fold_channels:
      shape = tf.concat([[shape[0] * shape[1]], shape[2:], [1]], 0)
    else:
      perm = [0] + list(range(2, len(data_format))) + [1]
      shape = tf.gather(shape, perm)
  if len(blocks) == 1:
    return tf.stack([shape[0], 1, shape[1], shape[2]]), (1,) + blocks
  return shape, blocks


def from_map_layout(mask, shape, data_format, fold_channels=False):
  """Back from the map layout of `map_layout_shape` to `data_format`."""
  if data_format[-1] != "C" and not fold_channels:
    rank = len(mask.shape)
    mask = tf.transpose(mask, [0, rank - 1] + list(range(1, rank - 1)))
  if len(data_format) == 3 or fold_channels:
    mask = tf.reshape(mask, shape)
  return mask
