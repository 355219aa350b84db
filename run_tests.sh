#!/usr/bin/env bash
# Tests what users install, on every TensorFlow that legacy code runs on:
#   1. builds the sdist and the wheel the standard way (python -m build, an
#      isolated build), checks them (twine check; scripts/check_package.py:
#      the library only, every module, LICENSE, no forced TensorFlow);
#   2. in each environment, a virtualenv made (once) from nothing, installs
#      that wheel with its test and examples extras and runs the suite from
#      a copy outside the source tree, so the installed package is tested:
#   latest   TF 2.x latest (tensorflow-cpu), Keras 3               .venv-latest
#   tf215    TF 2.15 on Python 3.11, the last with Keras 2 bundled  .venv-tf215
#   tfkeras  TF 2.x latest (full wheel) + tf-keras,
#            TF_USE_LEGACY_KERAS=1 (tf.compat.v1.layers work)       .venv-tfkeras
#   tf1      TF 1.15.5 on pyenv's Python 3.7 (graph mode)           .venv-tf1
# Tests that the four environments would only repeat run where they differ,
# to keep CI short: the two-worker tests (tests/multi_worker_test.py) in
# latest (custom loop) and tfkeras (custom loop and Keras fit); the SR
# example's tests (tests/sr_*, no Keras in them) in latest and tf1 (TF 2.x
# and 1.15); the device report (tests/devices_test.py) wherever the kernel
# registry differs (latest, tfkeras with GPU kernels, tf1). tfkeras has the
# same TensorFlow as latest, so there only the tests that touch Keras, the
# layers, the idioms or the registry run (the op's own tests, e.g.
# dropblock_test, golden_test, properties_test, run in latest).
# TF1_DROPBLOCK_MATRIX picks a subset, e.g. TF1_DROPBLOCK_MATRIX=latest.
# Extra arguments go to pytest. An environment whose Python is missing is
# reported and skipped; a failing one fails the run.
set -euo pipefail
cd "$(dirname "$0")"
repo="$PWD"

matrix="${TF1_DROPBLOCK_MATRIX:-latest tf215 tfkeras tf1}"
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
failed=()
summary=()

echo "== Build: sdist and wheel"
build_venv="$repo/.venv-build"
if [ ! -x "$build_venv/bin/python" ]; then
  python3 -m venv "$build_venv"
fi
"$build_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  build twine 2>&1 | { grep -v "^WARNING: Location '" || true; }
rm -rf "$repo/dist"
"$build_venv/bin/python" -m build --outdir "$repo/dist" "$repo" >/dev/null
"$build_venv/bin/python" -m twine check --strict "$repo"/dist/*
"$build_venv/bin/python" scripts/check_package.py "$repo/dist"
wheel="$(ls "$repo"/dist/*.whl)"

# The suite, outside the source tree: `import tf1_dropblock` can only find
# the installed wheel.
suite_root="$(mktemp -d)"
trap 'rm -rf "$suite_root"' EXIT
cp -r tests legacy_examples benchmarks pytest.ini "$suite_root/"

run_env() {  # name, python, tf packages, venv, pytest args..., -- env...
  local name="$1" python="$2" packages="$3" venv="$4"
  shift 4
  local extra_args=() assignments=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do extra_args+=("$1"); shift; done
  [ "$#" -gt 0 ] && shift
  assignments=("$@")
  if [ ! -x "$python" ] && ! command -v "$python" >/dev/null 2>&1; then
    echo "== Skipping $name: no interpreter $python (pyenv)."
    summary+=("$name: skipped (no $python)")
    return
  fi
  local start=$SECONDS
  if (
    export PYTHON="$python" TF_PACKAGE="$packages" TF1_DROPBLOCK_VENV="$venv"
    export TF1_DROPBLOCK_WHEEL="$wheel" TF1_DROPBLOCK_TEST_INSTALLED=1
    for assignment in "${assignments[@]+"${assignments[@]}"}"; do
      export "${assignment?}"
    done
    source scripts/ensure_env.sh
    cd "$suite_root"
    echo "== Tests [$name] on TensorFlow $(python -c 'import tensorflow as tf; print(tf.__version__)')${TF_USE_LEGACY_KERAS:+ with tf_keras}, installed $(basename "$wheel")"
    python -m pytest tests "${extra_args[@]+"${extra_args[@]}"}" \
      "${PYTEST_ARGS[@]+"${PYTEST_ARGS[@]}"}"
  ); then
    summary+=("$name: passed in $((SECONDS - start)) s")
  else
    summary+=("$name: FAILED after $((SECONDS - start)) s")
    failed+=("$name")
  fi
}

PYTEST_ARGS=("$@")
no_multi_worker=(--ignore=tests/multi_worker_test.py)
no_sr=(--ignore-glob=tests/sr_*_test.py)
op_only=()
for file in dropblock_test dropblock_nd_test golden_test properties_test \
    spatial_dropout_test validation_test schedules_test graph_size_test \
    visualize_test export_test; do
  op_only+=("--ignore=tests/$file.py")
done
for name in $matrix; do
  case "$name" in
    latest)
      run_env latest python3 "${TF_PACKAGE:-tensorflow-cpu}" \
        "$repo/.venv-latest" ;;
    tf215)
      run_env tf215 "$pyenv_root/versions/3.11.7/bin/python" \
        "tensorflow-cpu==2.15.1" "$repo/.venv-tf215" "${no_multi_worker[@]}" \
        "${no_sr[@]}" --ignore=tests/devices_test.py ;;
    tfkeras)
      run_env tfkeras "$pyenv_root/versions/3.11.7/bin/python" \
        "tensorflow tf-keras" "$repo/.venv-tfkeras" "${no_sr[@]}" \
        "${op_only[@]}" -- \
        TF_USE_LEGACY_KERAS=1 ;;
    tf1)
      run_env tf1 "$pyenv_root/versions/3.7.16/bin/python" \
        "tensorflow==1.15.5 protobuf<3.21" \
        "${TF1_DROPBLOCK_VENV_TF1:-$repo/.venv-tf1}" "${no_multi_worker[@]}" ;;
    *)
      echo "Unknown environment '$name' in TF1_DROPBLOCK_MATRIX" >&2
      exit 2 ;;
  esac
done

echo "== Summary"
printf '  %s\n' "${summary[@]}"
[ "${#failed[@]}" -eq 0 ]
