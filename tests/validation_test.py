"""Bad input raises clear errors naming the argument; edge cases are valid."""

from absl.testing import parameterized
import numpy as np

from tests import _testing
from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf

OPS = (
    ("dropblock", lambda x, keep_prob, **kw: dropblock(x, keep_prob, 3, **kw)),
    ("spatial_dropout", spatial_dropout),
)


def _placeholder(shape=(None, None, None, None), dtype=tf.float32):
  return tf.placeholder(dtype, shape)


class PythonValueErrorsTest(parameterized.TestCase, tf.test.TestCase):
  """Python values are rejected while the graph is built."""

  def _check(self, error, pattern, fn):
    with tf.Graph().as_default():
      with self.assertRaisesRegex(error, pattern):
        fn()

  @parameterized.named_parameters(*OPS)
  def test_keep_prob_out_of_range(self, op):
    for keep_prob in (0, 0.0, -0.1, 1.5, float("nan"), np.float32(2)):
      self._check(ValueError, r"`keep_prob` must be in \(0, 1\]. Received: "
                  r"keep_prob=", lambda: op(_placeholder(), keep_prob,
                                           training=True))

  @parameterized.named_parameters(*OPS)
  def test_keep_prob_wrong_kind(self, op):
    for keep_prob in ("0.5", True, None, [0.5]):
      self._check(TypeError, "keep_prob", lambda: op(_placeholder(), keep_prob,
                                                     training=True))

  @parameterized.named_parameters(*OPS)
  def test_x_not_float(self, op):
    self._check(TypeError, r"`x` must be .*Received: x.dtype=int32",
                lambda: op(_placeholder(dtype=tf.int32), 0.9, training=True))

  def test_x_wrong_rank(self):
    for shape in ((None, None), (2, 3, 4, 5, 6, 7), ()):
      self._check(ValueError, r"`x` must have rank 3 or 4 or 5. Received: "
                  r"x.shape=", lambda: dropblock(_placeholder(shape), 0.9, 3,
                                                 True))
      self._check(ValueError, r"`x` must have rank 3 or 4 or 5. Received: "
                  r"x.shape=",
                  lambda: spatial_dropout(_placeholder(shape), 0.9, True))

  def test_share_channels_and_normalize(self):
    x = lambda: _placeholder((2, 8, 8, 3))
    for value in (1, "yes", None):
      self._check(TypeError, r"`share_channels` must be a Python bool. "
                  r"Received: share_channels=%r" % (value,),
                  lambda: dropblock(x(), 0.9, 3, True, share_channels=value))
    for value in ("channel", "", None, "Batch"):
      self._check(ValueError, r"`normalize` must be one of 'batch', "
                  r"'example'. Received: normalize=%r" % (value,),
                  lambda: dropblock(x(), 0.9, 3, True, normalize=value))
    # Keyword-only: a sixth positional argument is refused.
    self._check(TypeError, "positional",
                lambda: dropblock(x(), 0.9, 3, True, True, "NHWC"))

  def test_data_format_for_another_rank(self):
    for shape, data_format in (((2, 5, 5, 5, 3), "NHWC"),
                               ((2, 5, 3), "NCHW"), ((2, 5, 5, 3), "NWC")):
      self._check(ValueError, "`data_format` '%s' is for rank-.*Received: "
                  "x.shape=" % data_format,
                  lambda: dropblock(_placeholder(shape), 0.9, 3, True,
                                    data_format=data_format))

  def test_block_size_length_must_match_rank(self):
    for shape, block_size in (((2, 8, 8, 3), (3, 3, 3)), ((2, 8, 3), (3, 3)),
                              ((2, 4, 8, 8, 3), (3, 3))):
      for training in (True, False):  # Checked before the identity path.
        self._check(ValueError, "`block_size` needs %d entries"
                    % (len(shape) - 2),
                    lambda: dropblock(_placeholder(shape), 0.9, block_size,
                                      training, data_format="channels_last"))

  @parameterized.named_parameters(*OPS)
  def test_unknown_data_format(self, op):
    for data_format in ("NWHC", "nhwc", None, 4):
      self._check(ValueError, "`data_format` must be one of .*Received: "
                  "data_format=", lambda: op(_placeholder(), 0.9,
                                             data_format=data_format))

  @parameterized.named_parameters(*OPS)
  def test_training_and_scale_wrong_kind(self, op):
    for training in ("yes", 1, 0.0):
      self._check(TypeError, "`training` must be .*Received: training=",
                  lambda: op(_placeholder(), 0.9, training=training))
    self._check(TypeError, "`scale` must be .*Received: scale=None",
                lambda: op(_placeholder(), 0.9, training=True, scale=None))
    self._check(TypeError, "`training` must be a bool tensor",
                lambda: op(_placeholder(), 0.9,
                           training=tf.placeholder(tf.float32, [])))
    self._check(ValueError, "`training` must be a scalar",
                lambda: op(_placeholder(), 0.9,
                           training=tf.placeholder(tf.bool, [2])))

  @parameterized.named_parameters(*OPS)
  def test_keep_prob_tensor_wrong_shape_or_dtype(self, op):
    self._check(ValueError, "`keep_prob` must be a scalar",
                lambda: op(_placeholder(), tf.placeholder(tf.float32, [3]),
                           training=True))
    self._check(TypeError, "`keep_prob` must be a float tensor",
                lambda: op(_placeholder(), tf.placeholder(tf.string, []),
                           training=True))

  @parameterized.named_parameters(*OPS)
  def test_bad_seed(self, op):
    for seed in ("1", 1.5, True, [1]):
      self._check(TypeError, "`seed` must be None or an int. Received: seed=",
                  lambda: op(_placeholder(), 0.9, training=True, seed=seed))

  def test_bad_block_size(self):
    for block_size, error in ((0, ValueError), (-1, ValueError),
                              ((3, 0), ValueError), ((0, 3), ValueError),
                              ((), ValueError), ((1, 2, 3, 4), ValueError),
                              (2.0, TypeError), (True, TypeError),
                              ((2, 2.5), TypeError), (None, TypeError),
                              ("3", TypeError)):
      self._check(error, "`block_size` .*Received: block_size=",
                  lambda: dropblock(_placeholder(), 0.9, block_size, True))


class TensorValueErrorsTest(parameterized.TestCase, tf.test.TestCase):
  """Tensor values are checked when they run."""

  @parameterized.named_parameters(*[
      (name + "_" + mode, op, mode) for name, op in OPS
      for mode in _testing.MODES if mode != "xla"])  # XLA drops assertions.
  def test_keep_prob_tensor_out_of_range(self, op, mode):
    x = np.ones((2, 6, 6, 2), np.float32)
    for keep_prob in (0.0, -0.5, 1.5, float("nan")):
      with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                  r"`keep_prob` must be in \(0, 1\]"):
        _testing.run(mode, lambda t, k: op(t, k, training=True), x,
                     np.float32(keep_prob))
    # The check holds when `training` is a tensor, too.
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "keep_prob"):
      _testing.run(mode, lambda t, k, b: op(t, k, training=b), x,
                   np.float32(1.5), True)

  def test_unknown_rank_is_checked_at_run_time(self):
    with tf.Graph().as_default():
      x = tf.placeholder(tf.float32, None)
      y = dropblock(x, 0.9, 3, training=True)
      with tf.Session() as sess:
        self.assertEqual(sess.run(y, {x: np.ones((1, 4, 4, 1))}).shape,
                         (1, 4, 4, 1))
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "rank 4"):
          sess.run(y, {x: np.ones((4, 4, 1))})


class EdgeCasesTest(parameterized.TestCase, tf.test.TestCase):

  @parameterized.named_parameters(*[
      ("%s_%s_%s" % (name, mode, fmt), op, mode, fmt)
      for name, op in OPS for mode in _testing.MODES
      for fmt in ("NHWC", "NCHW")])
  def test_tiny_and_empty_inputs_give_finite_output(self, op, mode, fmt):
    for shape in ((0, 5, 5, 3), (3, 1, 1, 2), (2, 2, 3, 2), (2, 0, 4, 1),
                  (1, 4, 4, 0)):
      x = np.ones(shape, np.float32)
      y = _testing.run(mode, lambda t: op(t, 0.5, training=True,
                                          data_format=fmt), x)
      self.assertEqual(y.shape, shape)
      self.assertTrue(np.all(np.isfinite(y)))


if __name__ == "__main__":
  tf.test.main()
