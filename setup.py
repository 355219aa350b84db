"""Shim for tools that still call setup.py; the metadata is in pyproject.toml.

Install with `pip install .[tensorflow-cpu]` (or `.[tensorflow]`, or bring
your own TensorFlow); build with `python -m build`.
"""

from setuptools import setup

setup()
