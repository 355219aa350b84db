r"""Draw the masks: `python -m tf1_dropblock.visualize --out=masks.png`.

For one input map this draws what spatial dropout and DropBlock (block
sizes 1, 3, 7; keep_prob 0.9 and 0.7) leave of it, and, for a batch of four
examples, our per-example masks next to one mask shared across the batch
(the blog post's behaviour, re-created here by applying example 0's mask to
every example). Needs matplotlib (`pip install -e .[examples]`); not
imported by `import tf1_dropblock`.
"""

import argparse
import sys

import numpy as np

from tf1_dropblock.compat import tf
from tf1_dropblock.dropblock import dropblock
from tf1_dropblock.spatial_dropout import spatial_dropout

SIZE = 40
BATCH = 4
KEEP_PROBS = (0.9, 0.7)
BLOCK_SIZES = (1, 3, 7)


def input_maps(size=SIZE, batch=BATCH):
  """A batch of smooth, distinct [batch, size, size, 1] maps in [0.2, 1]."""
  yy, xx = np.mgrid[0:size, 0:size] / float(size)
  maps = [0.6 + 0.4 * np.sin(6 * (xx * np.cos(a) + yy * np.sin(a)) + a)
          for a in np.linspace(0.3, 2.5, batch)]
  return np.stack(maps)[..., None].astype(np.float32)


def draw_masks(seed=0):
  """Keep masks {label: [batch, size, size]} drawn in one TF1 session."""
  maps = input_maps()
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    ones = tf.ones(maps.shape)
    masks = {}
    for keep_prob in KEEP_PROBS:
      # Channels-first view: [batch, 4 channels, size, size].
      masks["spatial dropout, keep %.1f" % keep_prob] = tf.transpose(
          spatial_dropout(tf.ones([BATCH, SIZE, SIZE, 4]), keep_prob, True,
                          scale=False), [0, 3, 1, 2])
      for block in BLOCK_SIZES:
        masks["DropBlock b%d, keep %.1f" % (block, keep_prob)] = dropblock(
            ones, keep_prob, block, True, scale=False)[..., 0]
    with tf.Session() as sess:
      return maps[..., 0], sess.run(masks)


def _mosaic(channels):
  """[4, size, size] -> a 2x2 mosaic with a 2-pixel white gap."""
  gap = np.ones((SIZE, 2))
  top = np.hstack([channels[0], gap, channels[1]])
  bottom = np.hstack([channels[2], gap, channels[3]])
  return np.vstack([top, np.ones((2, top.shape[1])), bottom])


def plot(path, seed=0):
  """Writes the figure to `path` (PNG)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  maps, masks = draw_masks(seed)
  columns = 1 + 1 + len(BLOCK_SIZES)
  fig, axes = plt.subplots(len(KEEP_PROBS) + 2, columns,
                           figsize=(2.0 * columns, 2.1 * (len(KEEP_PROBS) + 2)))
  for ax in axes.ravel():
    ax.axis("off")
  style = dict(cmap="gray", vmin=0, vmax=1, interpolation="nearest")
  for row, keep_prob in enumerate(KEEP_PROBS):
    axes[row, 0].imshow(maps[0], **style)
    axes[row, 0].set_title("input map", fontsize=9)
    labels = (["spatial dropout, keep %.1f" % keep_prob]
              + ["DropBlock b%d, keep %.1f" % (b, keep_prob)
                 for b in BLOCK_SIZES])
    for column, label in enumerate(labels, start=1):
      mask = masks[label][0]
      if mask.ndim == 3:  # Spatial dropout: the 4 channels in a 2x2 mosaic.
        image = _mosaic(maps[0][None] * mask)
        label += "\n(4 channels)"
      else:
        image = maps[0] * mask
      axes[row, column].imshow(image, **style)
      axes[row, column].set_title(label, fontsize=8)
  ours = masks["DropBlock b3, keep %.1f" % KEEP_PROBS[-1]]
  for column in range(min(BATCH, columns)):
    axes[-2, column].imshow(maps[column] * ours[column], **style)
    axes[-2, column].set_title("example %d: own mask" % column, fontsize=8)
    axes[-1, column].imshow(maps[column] * ours[0], **style)
    axes[-1, column].set_title("example %d: shared mask" % column, fontsize=8,
                               color="firebrick")
  axes[-2, -1].text(0, 0.5, "tf1_dropblock:\nevery example\nand channel\n"
                    "draws its own\nmask", fontsize=9, va="center")
  axes[-1, -1].text(0, 0.5, "the blog's bug,\nre-drawn here:\none mask for\n"
                    "the whole batch", fontsize=9, va="center",
                    color="firebrick")
  fig.suptitle("What DropBlock and spatial dropout keep (black = dropped)",
               fontsize=11)
  fig.tight_layout()
  fig.savefig(path, dpi=72)
  plt.close(fig)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="masks.png", help="PNG file to write.")
  parser.add_argument("--seed", type=int, default=0, help="Graph seed.")
  args = parser.parse_args(argv)
  try:
    plot(args.out, args.seed)
  except ImportError as e:
    sys.exit("matplotlib is needed: pip install -e .[examples] (%s)" % e)
  print("Wrote %s" % args.out)


if __name__ == "__main__":
  main()
