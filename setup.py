"""Installs tf1_dropblock: `pip install -e .[test]`."""

import os
import re

from setuptools import find_packages
from setuptools import setup

_HERE = os.path.dirname(os.path.abspath(__file__))


# Tested (README, "TensorFlow versions tested"): 1.15.5 and every 2.x minor
# from 2.3 to 2.21. On 2.2 XLA has no float64 Cumsum (the seed sampler's);
# 2.0 and 2.1 were not tried.
_SUPPORTED = ">=1.15,!=2.0.*,!=2.1.*,!=2.2.*"


def _tensorflow_requirement():
  """The TensorFlow distribution to require: the one installed, if any.

  `tensorflow`, `tensorflow-cpu` and the vendor builds all provide the same
  `tensorflow` module; requiring plain `tensorflow` next to an installed
  `tensorflow-cpu` would install a second, clashing copy. Falls back to
  `tensorflow` when none is installed (or the build is isolated from it).
  """
  try:
    from importlib import metadata  # pylint: disable=g-import-not-at-top
  except ImportError:  # Python 3.7.
    try:
      import importlib_metadata as metadata  # pylint: disable=g-import-not-at-top
    except ImportError:
      return "tensorflow" + _SUPPORTED
  for dist in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu",
               "tensorflow-macos", "intel-tensorflow", "tf-nightly"):
    try:
      metadata.version(dist)
    except Exception:  # pylint: disable=broad-except
      continue
    return dist + _SUPPORTED
  return "tensorflow" + _SUPPORTED


def _version():
  with open(os.path.join(_HERE, "tf1_dropblock", "__init__.py")) as f:
    return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


setup(
    name="tf1_dropblock",
    version=_version(),
    description=("DropBlock and spatial dropout for TensorFlow 1.x-style "
                 "graph code, on TF 1.15 and TF 2.x."),
    long_description=open(os.path.join(_HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["tf1_dropblock", "tf1_dropblock.*"]),
    python_requires=">=3.7",
    install_requires=[_tensorflow_requirement(), "numpy"],
    extras_require={
        "test": ["pytest", "absl-py"],
        # The SR example: bundled test photos (scikit-image) and its figure.
        "examples": ["absl-py", "scikit-image", "matplotlib"],
    },
    license="Apache-2.0",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
