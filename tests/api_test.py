"""Pins the public API and the package's manners on import."""

import os
import subprocess
import sys
import tempfile
import unittest

import tf1_dropblock
from tf1_dropblock import _requirements

# Set by the test command when the suite runs against an installed wheel.
_INSTALLED = os.environ.get("TF1_DROPBLOCK_TEST_INSTALLED") == "1"


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


class RequirementsTest(unittest.TestCase):

  def test_supported_range(self):
    for version in ("1.15.0", "1.15.5", "2.3.0", "2.12.1", "2.21.0",
                    "2.22.0rc1", "2.30.0.dev20270101"):
      self.assertTrue(_requirements.is_supported(version), version)
    for version in ("1.14.0", "1.13.2", "2.0.0", "2.1.4", "2.2.3", "3.0.0",
                    "0.12", "", "unknown"):
      self.assertFalse(_requirements.is_supported(version), version)

  def _import_with_fake_tensorflow(self, module_text):
    """Imports tf1_dropblock in a child whose `tensorflow` is a stub."""
    with tempfile.TemporaryDirectory() as stub:
      with open(os.path.join(stub, "tensorflow.py"), "w") as f:
        f.write(module_text)
      package = os.path.dirname(os.path.dirname(os.path.abspath(
          tf1_dropblock.__file__)))
      env = dict(os.environ, PYTHONPATH=os.pathsep.join([stub, package]))
      return subprocess.run(
          [sys.executable, "-c", "import tf1_dropblock"], env=env,
          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
          universal_newlines=True, check=False, timeout=120)

  def test_unsupported_tensorflow_is_named_with_range_and_install_line(self):
    result = self._import_with_fake_tensorflow('__version__ = "2.1.0"\n')
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("ImportError: tf1_dropblock supports TensorFlow 1.15.x, or "
                  "2.3 and newer 2.x", result.stdout)
    self.assertIn("found TensorFlow 2.1.0", result.stdout)
    self.assertIn('pip install "tf1_dropblock[tensorflow-cpu]"', result.stdout)

  def test_missing_tensorflow_says_what_to_install(self):
    result = self._import_with_fake_tensorflow(
        'raise ImportError("No module named tensorflow")\n')
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("tf1_dropblock needs TensorFlow 1.15.x", result.stdout)
    self.assertIn("none could be imported (No module named tensorflow)",
                  result.stdout)
    self.assertIn("pip install", result.stdout)


@unittest.skipUnless(_INSTALLED, "Runs when the suite tests an installed "
                     "wheel (TF1_DROPBLOCK_TEST_INSTALLED=1).")
class InstalledPackageTest(unittest.TestCase):

  def test_the_package_comes_from_the_installed_wheel(self):
    location = os.path.realpath(tf1_dropblock.__file__)
    self.assertIn("site-packages", location)
    try:
      from importlib import metadata  # pylint: disable=g-import-not-at-top
    except ImportError:  # Python 3.7: pip vendors no backport; skip.
      return
    self.assertEqual(metadata.version("tf1_dropblock"),
                     tf1_dropblock.__version__)
    files = [str(f) for f in metadata.files("tf1_dropblock")]
    self.assertTrue(any(f.endswith("LICENSE") for f in files), files)
    self.assertFalse([f for f in files if f.startswith(
        ("tests/", "benchmarks/", "legacy_examples/"))])
    requires = metadata.requires("tf1_dropblock") or []
    self.assertFalse([r for r in requires if r.startswith("tensorflow")
                      and "extra ==" not in r], requires)


if __name__ == "__main__":
  unittest.main()
