"""keep_prob schedules: DropBlock works best with keep_prob ramped down."""

from tf1_dropblock import _checks
from tf1_dropblock.compat import tf


def linear_keep_prob(step, total_steps, final_keep_prob,
                     initial_keep_prob=1.0, name=None):
  """keep_prob falling linearly from `initial_keep_prob` to `final_keep_prob`.

  The DropBlock paper (Sec. 3) ramps keep_prob linearly from 1 to its
  target over training. At `step` s the value is

      initial + (final - initial) * min(max(s, 0), total_steps) / total_steps

  so steps before 0 give `initial_keep_prob` and steps past `total_steps`
  give `final_keep_prob` (the step is clipped, as documented).

  Args:
    step: Python int or integer scalar tensor, e.g.
      `tf.compat.v1.train.get_or_create_global_step()`.
    total_steps: Positive Python int, the length of the ramp.
    final_keep_prob: Python number in (0, 1], the value from `total_steps`
      on.
    initial_keep_prob: Python number in (0, 1], the value at step 0.
    name: Optional name scope (default "linear_keep_prob").

  Returns:
    A scalar float32 tensor, usable as `keep_prob` of `dropblock` and
    `spatial_dropout`.

  Raises:
    TypeError: If `step` is neither an int nor an integer tensor, or
      `total_steps` is not an int.
    ValueError: If `total_steps` is not positive or a keep_prob is outside
      (0, 1].
  """
  if not _checks.is_python_int(total_steps):
    raise TypeError("`total_steps` must be an int. Received: total_steps=%r"
                    % (total_steps,))
  if total_steps < 1:
    raise ValueError("`total_steps` must be positive. Received: "
                     "total_steps=%r" % (total_steps,))
  for arg_name, value in (("final_keep_prob", final_keep_prob),
                          ("initial_keep_prob", initial_keep_prob)):
    if tf.is_tensor(value):
      raise TypeError("`%s` must be a Python number. Received a tensor: "
                      "%s=%r" % (arg_name, arg_name, value))
    _checks.check_keep_prob(value, arg_name=arg_name)
  if not (_checks.is_python_int(step) or tf.is_tensor(step)
          or isinstance(step, tf.Variable)):
    raise TypeError("`step` must be an int or an integer tensor. Received: "
                    "step=%r" % (step,))
  with tf.name_scope(name, "linear_keep_prob", [step]):
    step = tf.convert_to_tensor(step, name="step")
    if not step.dtype.is_integer:
      raise TypeError("`step` must be an integer tensor. Received: step with "
                      "dtype %s" % step.dtype.name)
    progress = tf.clip_by_value(
        tf.cast(step, tf.float32) / float(total_steps), 0.0, 1.0)
    return tf.add(float(initial_keep_prob),
                  (float(final_keep_prob) - float(initial_keep_prob))
                  * progress, name="keep_prob")
