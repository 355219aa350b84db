"""DropBlock and spatial dropout for TensorFlow 1.x-style graph code.

Works on TensorFlow 1.15 and 2.x: `tf.compat.v1` sessions with placeholders,
eager execution, `tf.function` and XLA. Keras layers live in
`tf1_dropblock.layers` and the mask picture in `tf1_dropblock.visualize`;
neither is imported here (they import Keras and matplotlib).
"""

# Before anything imports TensorFlow: a clear error if it is missing or out
# of the supported range.
from tf1_dropblock import _requirements

_requirements.check_tensorflow()

# pylint: disable=g-import-not-at-top,wrong-import-position
from tf1_dropblock.dropblock import dropblock
from tf1_dropblock.schedules import linear_keep_prob
from tf1_dropblock.spatial_dropout import spatial_dropout

__version__ = "0.3.0"

__all__ = ["dropblock", "linear_keep_prob", "spatial_dropout"]
