"""Block seeds drawn sparsely: only as many random numbers as seeds.

Bernoulli(gamma) seeds over the n cells of the valid seed region, taken in
flat order, are exactly the points of a Bernoulli process: the gaps between
successive seeds are i.i.d. Geometric(gamma) on {1, 2, ...}, drawn here by
inversion as floor(log(1 - u) / log(1 - gamma)) + 1 with u uniform in
[0, 1), in float64 (the distribution is exact to about 1e-16). Seeds are
distinct and in increasing order by construction.

Enough gaps are drawn to pass the end of the region with overwhelming
probability: mean + 10 sqrt(mean) + 32 for a mean count `n * gamma`. By the
Chernoff bound the count of Bernoulli seeds exceeds that with probability
below exp(-48) < 1e-20 (whatever n and gamma), and only then would the last
cells of the region miss seeds they should have had: a deviation from the
exact distribution far below the float64 rounding of the inversion itself.

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


def draw_rows(mean):
  """The number of rows of `_ROW` gaps drawn for a mean seed count
  `mean`: at least mean + 10 sqrt(mean) + 32 gaps."""
  if isinstance(mean, float):
    return int(math.ceil((mean + 10.0 * math.sqrt(mean) + 32.0) / _ROW))
  return tf.cast(tf.math.ceil(
      mean * (1.0 / _ROW) + (10.0 / _ROW) * tf.sqrt(mean) + 32.0 / _ROW),
                 tf.int32)


def _prefix_sums(rows):
  """Inclusive prefix sums of float64 `rows` ([R, _ROW]) in row-major
  order, as an [R, _ROW] tensor; exact where the sums are integers below
  2^53."""
  within = tf.matmul(rows, tf.constant(np.triu(np.ones([_ROW, _ROW])),
                                       tf.float64))
  before = tf.cumsum(tf.reduce_sum(rows, axis=1, keepdims=True), axis=0,
                     exclusive=True)
  return within + before


def sparse_seed_positions(num_cells, gamma, key, dtype=tf.int64):
  """Flat positions of Bernoulli(`gamma`) seeds over `num_cells` cells.

  Args:
    num_cells: Python int or int64 scalar, the size of the seed region.
    gamma: Python float or float64 scalar in [0, 1), the seed probability.
    key: int32 `[2]` key of the stateless noise.
    dtype: int64, or float64 for the positions as they are summed (exact
      integers below 2^53), for index arithmetic done in float64.

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
  uniform = tf.raw_ops.StatelessRandomUniform(
      shape=tf.stack([rows, _ROW]) if tf.is_tensor(rows) else [rows, _ROW],
      seed=key, dtype=tf.float64, name="gap_noise")
  # u is a multiple of 2^-52, so 1 - u is exact, in (0, 1] (and `Log` is
  # vectorised where `Log1p` is not: half the time on TF 1.15).
  log_keep = tf.math.log(1.0 - uniform)
  if static_gamma is not None:
    log_keep *= 1.0 / math.log1p(-static_gamma)
  else:
    log_keep /= tf.math.log1p(-gamma)
  positions = tf.reshape(_prefix_sums(tf.floor(log_keep) + 1.0) - 1.0, [-1])
  # Positions increase, so those inside the region are counted by a binary
  # search. With gamma == 0 (a tensor keep_prob of 1) they are all
  # infinite or NaN (inf * 0 in the product), which compare False: no
  # seeds.
  inside = tf.raw_ops.LowerBound(
      sorted_inputs=tf.reshape(positions, [1, -1]),
      values=(tf.constant([[cells]], tf.float64) if isinstance(cells, float)
              else tf.reshape(cells, [1, 1])),
      out_type=tf.int32)
  positions = tf.slice(positions, [0], tf.squeeze(inside, [0]))
  return positions if dtype == tf.float64 else tf.cast(positions, dtype)
