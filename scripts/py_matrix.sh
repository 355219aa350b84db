#!/usr/bin/env bash
# On demand (not in CI): the latest TensorFlow that pip finds for each
# Python from 3.9 to 3.13 (pyenv's interpreters), the built wheel installed
# in a throw-away virtualenv, and the core suite run against it from
# outside the source tree. One line per Python.
#   scripts/py_matrix.sh                 # 3.9 3.10 3.11 3.12 3.13
#   scripts/py_matrix.sh 3.12 3.13       # just these
#   TF_PACKAGE=tensorflow scripts/py_matrix.sh   # the full wheel instead
# Results go to stdout and to $PY_MATRIX_OUT (default /tmp/py_matrix.txt).
# TF 1.15 on Python 3.7 is the test command's `tf1` environment.
set -uo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

pythons=("$@")
if [ "${#pythons[@]}" -eq 0 ]; then
  pythons=(3.9 3.10 3.11 3.12 3.13)
fi
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
out="${PY_MATRIX_OUT:-/tmp/py_matrix.txt}"
tf_package="${TF_PACKAGE:-tensorflow-cpu}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One wheel, built the standard way, for every interpreter.
python3 -m venv "$work/build" && "$work/build/bin/pip" install --quiet \
  --disable-pip-version-check build >/dev/null 2>&1 \
  && "$work/build/bin/python" -m build --wheel --outdir "$work/dist" . \
  >/dev/null 2>&1 || { echo "wheel build failed" >&2; exit 1; }
wheel="$(ls "$work"/dist/*.whl)"
mkdir -p "$work/suite"
cp -r tests benchmarks pytest.ini "$work/suite/"
# The suite without the SR example and the figure (their extras are not
# needed to judge the ops), as scripts/tf_matrix.sh runs it.
core=(tests/api_test.py tests/compat_test.py tests/dropblock_test.py
      tests/dropblock_nd_test.py tests/spatial_dropout_test.py
      tests/validation_test.py tests/schedules_test.py tests/export_test.py
      tests/layers_test.py tests/graph_v1_test.py tests/graph_size_test.py
      tests/idioms_test.py tests/properties_test.py tests/peers_test.py
      tests/golden_test.py tests/multi_worker_test.py)

: > "$out"
for version in "${pythons[@]}"; do
  python="$(ls -d "$pyenv_root"/versions/"$version".*/bin/python 2>/dev/null \
            | tail -1)"
  venv="$work/py$version"
  start=$SECONDS
  line="Python $version:"
  if [ -z "$python" ]; then
    line="$line cannot run here: no pyenv interpreter $version.*"
  elif ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    line="$line venv failed"
  elif ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "$tf_package" "$wheel[test]" >"$work/install.log" 2>&1; then
    line="$line does not install: $(grep -m1 -E 'ERROR' "$work/install.log" | cut -c1-160)"
  else
    installed="$("$venv/bin/python" -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null)"
    full="$("$python" -c 'import platform; print(platform.python_version())')"
    result="$(cd "$work/suite" && TF1_DROPBLOCK_TEST_INSTALLED=1 \
        TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -m pytest -q \
        -p no:cacheprovider "${core[@]}" 2>&1 | tail -1)"
    line="$line $full, $tf_package $installed: $result"
  fi
  line="$line [$((SECONDS - start)) s]"
  echo "$line" | tee -a "$out"
  rm -rf "$venv"
done
