"""Block seeds drawn sparsely: only as many random numbers as seeds.

Bernoulli(gamma) seeds over the n cells of the valid seed region, taken in
flat order, are exactly the points of a Bernoulli process: the gaps between
successive seeds are i.i.d. Geometric(gamma) on {1, 2, ...}, drawn here by
inversion as floor(log(u) / log(1 - gamma)) + 1, in float64, from one
32-bit random word per gap: u = k / (2^31 - 1) for k drawn uniform on {1,
..., 2^31 - 2} (`StatelessRandomUniformInt`, a word modulo 2^31 - 2, which
favours its four lowest values by 2^-32 each). Each gap's distribution is
then exact to within 2^-30 in probability (a float32 uniform, as
`tf.nn.dropout` draws, has steps of 2^-23); a float64 uniform, which TF
builds from two words, cost twice the random numbers. Seeds are distinct
and in increasing order by construction.

Enough gaps are drawn to pass the end of the region with overwhelming
probability: mean + 10 sqrt(mean) + 32 for a mean count `n * gamma`. By the
Chernoff bound the count of Bernoulli seeds exceeds that with probability
below exp(-48) < 1e-20 (whatever n and gamma), and only then would the last
cells of the region miss seeds they should have had: a deviation from the
exact distribution far below the 32-bit steps of u.

This is the graph-mode (and eager, `tf.function`) sampler; XLA, which needs
static sizes, has its own forms in `dropblock`.
"""

import math

import numpy as np

from tf1_dropblock import _shapes
from tf1_dropblock.compat import tf


# Gaps are drawn and summed in rows of this many: a matrix product sums
# within rows (vectorised), a scan of the row totals between them. TF's
# `Cumsum` is a serial scan, ~7 ns per element on our CPUs; at keep_prob
# 0.5 with blocks of 2 it was the sampler's costliest op, and the product
# and the short scan take about a third of its time (docs/performance.md).
# The sums are of integers below 2^53, exact in float64 in any order: the
# positions are the same as a scan's.
_ROW = 16

# u = k / _WORDS for a gap's k, drawn uniform on [1, _WORDS).
_WORDS = 2 ** 31 - 1


def draw_rows(mean):
  """The number of rows of `_ROW` gaps drawn for a mean seed count
  `mean`: (sqrt(mean) + 6)^2 / _ROW rounded up, which is at least mean +
  10 sqrt(mean) + 32 gaps (and at most 2 sqrt(mean) + 4 + _ROW more)."""
  if isinstance(mean, float):
    return int(math.ceil((math.sqrt(mean) + 6.0) ** 2 / _ROW))
  root = tf.sqrt(mean) * (1.0 / math.sqrt(_ROW)) + 6.0 / math.sqrt(_ROW)
  return tf.cast(tf.math.ceil(tf.square(root)), tf.int32)


def _positions(gaps, offset):
  """The position of each gap's seed plus `offset`, row-major over float64
  `gaps` ([R, _ROW]): the sum of the gaps up to it, less one. Exact where
  the sums are integers below 2^53."""
  within = tf.matmul(gaps, tf.constant(np.triu(np.ones([_ROW, _ROW])),
                                       tf.float64))
  # Row totals by a product too: a reduction over 16 is slower.
  totals = tf.matmul(gaps, tf.constant(np.ones([_ROW, 1]), tf.float64))
  before = tf.cumsum(totals, axis=0, exclusive=True) + (offset - 1.0)
  return within + before


def sparse_seed_positions(num_cells, gamma, key, dtype=tf.int64,
                          centres=False):
  """Flat positions of Bernoulli(`gamma`) seeds over `num_cells` cells.

  Args:
    num_cells: Python int or int64 scalar, the size of the seed region.
    gamma: Python float or float64 scalar in [0, 1), the seed probability.
    key: int32 `[2]` key of the stateless noise.
    dtype: int64, or float64 for the positions as they are summed (exact
      integers below 2^53), for index arithmetic done in float64.
    centres: If true (float64 only), each position plus 0.5, the centre of
      its cell, as `_blocks.BlockGeometry.corners` takes them.

  Returns:
    A 1-D tensor of `dtype`: increasing positions in `[0, num_cells)`.
  """
  static_gamma = gamma if isinstance(gamma, float) else None
  if static_gamma == 0.0 or (_shapes.is_static(num_cells) and num_cells == 0):
    return tf.zeros([0], dtype)
  if _shapes.is_static(num_cells):
    cells = float(num_cells)
  else:
    cells = tf.cast(num_cells, tf.float64)
  rows = draw_rows(cells * gamma)
  words = tf.raw_ops.StatelessRandomUniformInt(
      shape=tf.stack([rows, _ROW]) if tf.is_tensor(rows) else [rows, _ROW],
      seed=key, minval=tf.constant(1, tf.int32),
      maxval=tf.constant(_WORDS, tf.int32), name="gap_noise")
  # log(u) = log(k) - log(_WORDS) < 0.
  log_word = tf.math.log(tf.cast(words, tf.float64))
  if static_gamma is not None:
    # floor(log(u) / log(1 - gamma) + 1): the division and the constants
    # folded into one multiply-add.
    inverse = 1.0 / math.log1p(-static_gamma)
    gaps = tf.floor(log_word * inverse + (1.0 - math.log(_WORDS) * inverse))
  else:
    # The same as (log(k) - (log(_WORDS) - log(1 - gamma))) / log(1 -
    # gamma); with gamma == 0 (a tensor keep_prob of 1) every gap is
    # infinite.
    log_keep = tf.math.log1p(-gamma)
    gaps = tf.floor((log_word - (math.log(_WORDS) - log_keep)) / log_keep)
  positions = tf.reshape(_positions(gaps, 0.5 if centres else 0.0), [-1])
  # Positions increase, so those inside the region are counted by a binary
  # search. With gamma == 0 they are all infinite or NaN (inf * 0 in the
  # product), which compare False: no seeds.
  inside = tf.raw_ops.LowerBound(
      sorted_inputs=tf.reshape(positions, [1, -1]),
      values=(tf.constant([[cells]], tf.float64) if isinstance(cells, float)
              else tf.reshape(cells, [1, 1])),
      out_type=tf.int32)
  positions = tf.slice(positions, [0], tf.squeeze(inside, [0]))
  return positions if dtype == tf.float64 else tf.cast(positions, dtype)
