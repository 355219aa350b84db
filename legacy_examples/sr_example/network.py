"""The SR network and its TF1 training graph, one per arm and seed.

An EDSR-like residual network built from `get_variable` and `tf.nn.conv2d`
(so it runs on TF 1.15 and on TF 2.x with Keras 3) in a `tf.compat.v1`
graph with a bool `training` placeholder. Every initializer and
regulariser op has a name-derived seed, so arms start identical.
"""

import zlib

import numpy as np

import tf1_dropblock
from tf1_dropblock import compat
from tf1_dropblock.compat import tf
from sr_example import settings


def _seed_for(name, seed):
  """A stable op-level seed from a name, so ops keep their seeds whatever
  else the graph contains (TF1 otherwise derives them from creation order)."""
  return (zlib.crc32(name.encode("utf-8")) + 7919 * seed) % (2 ** 31 - 1)


def _conv(inputs, out_channels, name, seed, kernel=3, gain=2.0):
  in_channels = inputs.shape.as_list()[-1]
  with tf.variable_scope(name):
    kernel_var = tf.get_variable(
        "kernel", [kernel, kernel, in_channels, out_channels],
        initializer=tf.variance_scaling_initializer(
            scale=gain, mode="fan_in", distribution="truncated_normal",
            seed=_seed_for(tf.get_variable_scope().name + "/kernel", seed)))
    bias = tf.get_variable("bias", [out_channels],
                           initializer=tf.zeros_initializer())
    return tf.nn.bias_add(
        tf.nn.conv2d(inputs, kernel_var, strides=[1, 1, 1, 1],
                     padding="SAME"), bias)


def build_network(lr, training, keep_prob, config, arm, seed):
  """The SR network: LR [N, h, w, 3] in [0, 1] -> SR [N, h*s, w*s, 3].

  Head conv, `num_blocks` residual blocks, a body conv with a long skip,
  then conv + pixel shuffle, added to the bicubic upscale of the input.
  The regulariser of `arm` goes on the last feature map before the
  upsampler, i.e. before the last convolution (placement "last"), or after
  every residual block ("all"). The "control" arm is element-wise dropout
  at `settings.CONTROL_KEEP_PROB` after every residual block, whatever the
  placement and `keep_prob`.
  """
  scale, channels = config.scale, config.channels

  control = arm == settings.CONTROL_ARM
  placement = "all" if control else config.placement

  def regularise(features, name):
    if arm == "none":
      return features
    op_seed = _seed_for(name, seed)
    if control:
      return compat.smart_cond(
          training, lambda: tf.nn.dropout(
              features, rate=1.0 - settings.CONTROL_KEEP_PROB, seed=op_seed,
              name=name),
          lambda: features)
    if arm == "dropout":
      # Element-wise dropout, the line the blog replaced, switched off when
      # not training like the other arms.
      return compat.smart_cond(
          training, lambda: tf.nn.dropout(features, rate=1.0 - keep_prob,
                                          seed=op_seed, name=name),
          lambda: features)
    if arm == "dropblock":
      return tf1_dropblock.dropblock(features, keep_prob, config.block_size,
                                     training=training, seed=op_seed,
                                     name=name)
    return tf1_dropblock.spatial_dropout(features, keep_prob,
                                         training=training, seed=op_seed,
                                         name=name)

  with tf.variable_scope("sr_net"):
    head = _conv(lr - 0.5, channels, "head", seed)
    features = head
    for i in range(config.num_blocks):
      residual = tf.nn.relu(_conv(features, channels, "block%d/conv1" % i,
                                  seed))
      residual = _conv(residual, channels, "block%d/conv2" % i, seed,
                       gain=0.1)
      features = features + residual
      if placement == "all":
        features = regularise(features, "block%d/regulariser" % i)
    features = _conv(features, channels, "body_end", seed) + head
    if placement == "last":
      features = regularise(features, "regulariser")
    detail = tf.nn.depth_to_space(
        _conv(features, 3 * scale * scale, "upsample", seed, gain=0.1), scale)
    size = tf.shape(lr)[1:3] * scale
    return compat.resize_bicubic(lr, size) + detail


class Model(object):
  """The training graph of one arm and seed, with its session."""

  def __init__(self, config, arm, seed):
    self.graph = tf.Graph()
    with self.graph.as_default():
      tf.set_random_seed(seed)
      self.lr = tf.placeholder(tf.float32, [None, None, None, 3], name="lr")
      self.hr = tf.placeholder(tf.float32, [None, None, None, 3], name="hr")
      self.training = tf.placeholder(tf.bool, [], name="training")
      self.global_step = tf.train.get_or_create_global_step()
      if config.keep_prob_schedule == "linear":
        keep_prob = tf1_dropblock.linear_keep_prob(
            self.global_step, config.steps, config.keep_prob)
      else:
        keep_prob = tf.constant(config.keep_prob, tf.float32)
      self.keep_prob = keep_prob
      self.sr = build_network(self.lr, self.training, keep_prob, config, arm,
                              seed)
      self.loss = tf.reduce_mean(tf.abs(self.sr - self.hr))
      learning_rate = tf.train.cosine_decay(
          config.learning_rate, self.global_step, config.steps, alpha=0.1)
      self.train_op = tf.train.AdamOptimizer(learning_rate).minimize(
          self.loss, global_step=self.global_step)
      self.summary = tf.summary.merge([
          tf.summary.scalar("loss", self.loss),
          tf.summary.scalar("keep_prob", keep_prob),
          tf.summary.scalar("learning_rate", learning_rate)])
      self.output = tf.cast(
          tf.clip_by_value(tf.round(self.sr * 255.0), 0, 255), tf.uint8)
      self.saver = tf.train.Saver(max_to_keep=1)
      self.init = tf.global_variables_initializer()
    self.graph.finalize()
    self.sess = tf.Session(graph=self.graph)

  def initial_weights(self):
    """{variable name: value} after initialisation (for tests)."""
    self.sess.run(self.init)
    with self.graph.as_default():
      variables = tf.trainable_variables()
    return dict(zip([v.op.name for v in variables],
                    self.sess.run(variables)))

  def super_resolve(self, lr_uint8):
    return self.sess.run(self.output, {
        self.lr: lr_uint8[None].astype(np.float32) / 255.0,
        self.training: False})[0]

  def close(self):
    self.sess.close()
