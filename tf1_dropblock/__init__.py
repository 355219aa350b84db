"""DropBlock and spatial dropout for TensorFlow 1.x-style graph code.

Works on TensorFlow 1.15 and 2.x: `tf.compat.v1` sessions with placeholders,
eager execution, `tf.function` and XLA. Keras layers live in
`tf1_dropblock.layers` and the mask picture in `tf1_dropblock.visualize`;
neither is imported here (they import Keras and matplotlib).
"""

from tf1_dropblock.dropblock import dropblock
from tf1_dropblock.schedules import linear_keep_prob
from tf1_dropblock.spatial_dropout import spatial_dropout

__version__ = "0.1.0"

__all__ = ["dropblock", "linear_keep_prob", "spatial_dropout"]
