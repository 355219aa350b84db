"""Pins the public API and the package's manners on import."""

import os
import subprocess
import sys
import unittest

import tf1_dropblock


class ApiTest(unittest.TestCase):

  def test_all(self):
    self.assertEqual(sorted(tf1_dropblock.__all__),
                     ["dropblock", "linear_keep_prob", "spatial_dropout"])
    for name in tf1_dropblock.__all__:
      self.assertTrue(callable(getattr(tf1_dropblock, name)))
    self.assertRegex(tf1_dropblock.__version__, r"^\d+\.\d+\.\d+$")

  def test_import_neither_loads_keras_nor_changes_tf_state(self):
    code = (
        "import sys, tensorflow as tf\n"
        "before = tf.executing_eagerly()\n"
        "keras_before = {m for m in sys.modules if 'keras' in m}\n"
        "import tf1_dropblock\n"
        "new = {m for m in sys.modules if 'keras' in m} - keras_before\n"
        "assert not new, sorted(new)[:5]\n"
        "assert tf.executing_eagerly() == before\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    result = subprocess.run([sys.executable, "-c", code], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False)
    self.assertEqual(result.returncode, 0, result.stdout[-3000:])


if __name__ == "__main__":
  unittest.main()
