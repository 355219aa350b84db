"""A short TF1-style demo: masks drawn in a Session with placeholders.

    python legacy_examples/graph_demo.py
"""

import numpy as np

from tf1_dropblock import dropblock
from tf1_dropblock import spatial_dropout
from tf1_dropblock.compat import tf


def main():
  tf.disable_v2_behavior()
  x = tf.placeholder(tf.float32, [None, None, None, None], name="x")
  training = tf.placeholder(tf.bool, [], name="training")
  keep_prob = tf.placeholder(tf.float32, [], name="keep_prob")
  outputs = {
      "dropblock(block 3)": dropblock(x, keep_prob, 3, training, seed=1),
      "spatial_dropout": spatial_dropout(x, keep_prob, training, seed=2),
  }
  with tf.Session() as sess:
    ones = np.ones((1, 8, 14, 2), np.float32)
    feed = {x: ones, training: True, keep_prob: 0.8}
    for label in ("dropblock(block 3)", "spatial_dropout"):
      mask = sess.run(outputs[label], feed) != 0
      print("%s, keep_prob=0.8, an 8x14 map per channel (# kept, . dropped):"
            % label)
      for channel in range(2):
        print("\n".join("  " + "".join("#" if v else "." for v in row)
                        for row in mask[0, :, :, channel]))
        print()


if __name__ == "__main__":
  main()
