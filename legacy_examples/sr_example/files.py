"""Files that survive a kill: atomic writes and tolerant reads.
"""

import json
import math
import os
import tempfile


def write_atomic(path, data):
  """Writes bytes or text to `path` through a temporary file and a rename.

  A kill mid-write leaves the previous file or the new one, never a part.
  """
  folder = os.path.dirname(path) or "."
  fd, temporary = tempfile.mkstemp(dir=folder,
                                   prefix="." + os.path.basename(path))
  try:
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(temporary, path)
  except BaseException:
    if os.path.exists(temporary):
      os.remove(temporary)
    raise


def read_json(path):
  """(value, None), or (None, reason) when `path` is missing or unreadable."""
  try:
    with open(path) as f:
      return json.load(f), None
  except FileNotFoundError:
    return None, "missing"
  except (OSError, ValueError) as e:
    return None, "unreadable (%s)" % e


def json_safe(value):
  if isinstance(value, float) and not math.isfinite(value):
    return None
  if isinstance(value, dict):
    return {k: json_safe(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [json_safe(v) for v in value]
  return value
