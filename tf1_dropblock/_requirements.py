"""Which TensorFlow tf1_dropblock runs on, checked once at import.

The package does not depend on a TensorFlow distribution (`tensorflow`,
`tensorflow-cpu` and vendor builds all provide the `tensorflow` module), so
a missing or unsupported one is caught here, before any other module
imports it, with an error that says what was found and what to install.
"""

import re

# Tested: 1.15.5 and every 2.x minor from 2.3 to 2.21 (docs/compatibility.md).
# 2.0-2.2 are excluded (2.2's XLA has no float64 Cumsum; 2.0/2.1 untried);
# newer 2.x releases are accepted untested; 3.x is not.
SUPPORTED_RANGE = "1.15.x, or 2.3 and newer 2.x (tested through 2.21)"

INSTALL_HINT = (
    'pip install "tf1_dropblock[tensorflow-cpu]" (CPU) or '
    '"tf1_dropblock[tensorflow]" (GPU); for TF 1.15 (Python 3.7): '
    'pip install "tensorflow==1.15.5" "protobuf<3.21"')


def parse_version(version):
  """(major, minor) from a version string such as "2.21.0" or "2.22.0rc1".

  Returns None when the string does not start with two numbers.
  """
  match = re.match(r"\s*(\d+)\.(\d+)", str(version))
  return (int(match.group(1)), int(match.group(2))) if match else None


def is_supported(version):
  """Whether a TensorFlow version string is in `SUPPORTED_RANGE`."""
  parsed = parse_version(version)
  if parsed is None:
    return False
  return parsed == (1, 15) or (2, 3) <= parsed < (3, 0)


def check_tensorflow():
  """Imports TensorFlow and checks its version.

  Raises:
    ImportError: TensorFlow cannot be imported, or its version is outside
      `SUPPORTED_RANGE`; the message names the version found, the range
      and the install command.
  """
  try:
    import tensorflow  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(
        "tf1_dropblock needs TensorFlow %s, and none could be imported "
        "(%s). Install one: %s" % (SUPPORTED_RANGE, e, INSTALL_HINT)) from e
  version = getattr(tensorflow, "__version__", "unknown")
  if not is_supported(version):
    raise ImportError(
        "tf1_dropblock supports TensorFlow %s; found TensorFlow %s at %s. "
        "Install a supported one: %s"
        % (SUPPORTED_RANGE, version,
           getattr(tensorflow, "__file__", "?"), INSTALL_HINT))
