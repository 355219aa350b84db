"""Installs tf1_dropblock: `pip install -e .[test]`."""

import os
import re

from setuptools import find_packages
from setuptools import setup

_HERE = os.path.dirname(os.path.abspath(__file__))


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
    # Any TensorFlow from 1.15 on; `tensorflow-cpu` satisfies it too when
    # installed first (the set-up scripts do that on CPU-only machines).
    install_requires=["numpy"],
    extras_require={
        "tf": ["tensorflow>=1.15"],
        "tf-cpu": ["tensorflow-cpu>=1.15"],
        "test": ["pytest", "absl-py"],
        "examples": ["absl-py"],
    },
    license="Apache-2.0",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
