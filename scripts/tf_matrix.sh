#!/usr/bin/env bash
# The wider compatibility run, on demand (not in CI): the core suite on
# every installable TensorFlow minor from 2.3 to the latest, each in its own
# throw-away virtualenv, one line per version. Python 3.8 for TF <= 2.13,
# 3.11 from 2.14 (pyenv's interpreters).
#   scripts/tf_matrix.sh                 # every minor, 2.3 ... 2.21
#   scripts/tf_matrix.sh 2.8 2.15        # just these
# Results go to stdout and to $TF_MATRIX_OUT (default /tmp/tf_matrix.txt).
# pip's cache is shared, so a second run downloads nothing.
set -uo pipefail
cd "$(dirname "$0")/.."

versions=("$@")
if [ "${#versions[@]}" -eq 0 ]; then
  versions=(2.3 2.4 2.5 2.6 2.7 2.8 2.9 2.10 2.11 2.12 2.13 2.14 2.15 2.16 2.17
            2.18 2.19 2.20 2.21)
fi
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
out="${TF_MATRIX_OUT:-/tmp/tf_matrix.txt}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The suite without the SR example and the figure (their extras are not
# needed to judge the ops).
core=(tests/api_test.py tests/compat_test.py tests/dropblock_test.py
      tests/dropblock_nd_test.py tests/spatial_dropout_test.py
      tests/validation_test.py tests/schedules_test.py tests/export_test.py
      tests/layers_test.py tests/graph_v1_test.py tests/graph_size_test.py
      tests/idioms_test.py tests/properties_test.py tests/peers_test.py
      tests/golden_test.py)

# One wheel for every venv: the build backend needs Python >= 3.9, and
# TF <= 2.13 runs on 3.8 here, so an editable install cannot be built there.
"$pyenv_root/versions/3.11.7/bin/python" -m pip wheel --quiet --no-deps \
  --disable-pip-version-check -w "$work/wheel" . >"$work/wheel.log" 2>&1 || {
  echo "Cannot build the wheel:"; cat "$work/wheel.log"; exit 1; }
wheel="$(ls "$work"/wheel/*.whl)"
: > "$out"
for version in "${versions[@]}"; do
  minor="${version#2.}"
  if [ "$minor" -le 13 ]; then
    python="$pyenv_root/versions/3.8.18/bin/python"
  else
    python="$pyenv_root/versions/3.11.7/bin/python"
  fi
  extra=""
  case "$version" in
    2.2|2.3) extra="numpy<1.19 protobuf<3.21" ;;
    2.4|2.5|2.6) extra="numpy<1.20" ;;  # built against numpy 1.19
    2.7|2.8|2.9|2.10) extra="protobuf<3.21 numpy<1.24" ;;
    2.11) extra="numpy<1.24" ;;
    # TF 2.20 asks for protobuf>=5.28 with no upper bound; with protobuf 7
    # its graph writer (tf.io.write_graph, MonitoredTrainingSession's
    # graph.pbtxt) fails: MessageToString lost `float_format`.
    2.20) extra="protobuf<7" ;;
  esac
  venv="$work/tf$version"
  start=$SECONDS
  line="TF $version:"
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    line="$line cannot work here: no $python"
  elif ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "tensorflow-cpu==$version.*" $extra pytest absl-py \
      >"$work/install.log" 2>&1; then
    line="$line does not install: $(grep -m1 -E 'ERROR' "$work/install.log" | cut -c1-160)"
  elif ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
      --no-deps "$wheel" >>"$work/install.log" 2>&1; then
    line="$line package install failed: $(grep -m1 -E 'ERROR' "$work/install.log" | cut -c1-160)"
  else
    installed="$("$venv/bin/python" -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null)"
    result="$(TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -m pytest -q \
        -p no:cacheprovider "${core[@]}" 2>&1 | tail -1)"
    line="$line $installed (Python $("$python" -c 'import platform; print(platform.python_version())')): $result"
  fi
  line="$line [$((SECONDS - start)) s]"
  echo "$line" | tee -a "$out"
  rm -rf "$venv"
done
