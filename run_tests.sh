#!/usr/bin/env bash
# Runs the whole test suite on every TensorFlow that legacy code runs on,
# each in its own virtualenv made (once) from nothing:
#   latest   TF 2.x latest (tensorflow-cpu), Keras 3               .venv
#   tf215    TF 2.15 on Python 3.11, the last with Keras 2 bundled  .venv-tf215
#   tfkeras  TF 2.x latest (full wheel) + tf-keras,
#            TF_USE_LEGACY_KERAS=1 (tf.compat.v1.layers work)       .venv-tfkeras
#   tf1      TF 1.15.5 on pyenv's Python 3.7 (graph mode)           .venv-tf1
# TF1_DROPBLOCK_MATRIX picks a subset, e.g. TF1_DROPBLOCK_MATRIX=latest.
# Extra arguments go to pytest. An environment whose Python is missing is
# reported and skipped; a failing one fails the run.
set -euo pipefail
cd "$(dirname "$0")"

matrix="${TF1_DROPBLOCK_MATRIX:-latest tf215 tfkeras tf1}"
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
failed=()
summary=()

run_env() {  # name, python, tf packages, venv, extra env (KEY=VALUE...)
  local name="$1" python="$2" packages="$3" venv="$4"
  shift 4
  if [ ! -x "$python" ] && ! command -v "$python" >/dev/null 2>&1; then
    echo "== Skipping $name: no interpreter $python (pyenv)."
    summary+=("$name: skipped (no $python)")
    return
  fi
  local start=$SECONDS
  if (
    export PYTHON="$python" TF_PACKAGE="$packages" TF1_DROPBLOCK_VENV="$venv"
    for assignment in "$@"; do export "${assignment?}"; done
    source scripts/ensure_env.sh
    echo "== Tests [$name] on TensorFlow $(python -c 'import tensorflow as tf; print(tf.__version__)')${TF_USE_LEGACY_KERAS:+ with tf_keras}"
    python -m pytest tests "${PYTEST_ARGS[@]}"
  ); then
    summary+=("$name: passed in $((SECONDS - start)) s")
  else
    summary+=("$name: FAILED after $((SECONDS - start)) s")
    failed+=("$name")
  fi
}

PYTEST_ARGS=("$@")
for name in $matrix; do
  case "$name" in
    latest)
      run_env latest python3 "${TF_PACKAGE:-tensorflow-cpu}" \
        "${TF1_DROPBLOCK_VENV:-$PWD/.venv}" ;;
    tf215)
      run_env tf215 "$pyenv_root/versions/3.11.7/bin/python" \
        "tensorflow-cpu==2.15.1" "$PWD/.venv-tf215" ;;
    tfkeras)
      run_env tfkeras "$pyenv_root/versions/3.11.7/bin/python" \
        "tensorflow tf-keras" "$PWD/.venv-tfkeras" TF_USE_LEGACY_KERAS=1 ;;
    tf1)
      run_env tf1 "$pyenv_root/versions/3.7.16/bin/python" \
        "tensorflow==1.15.5 protobuf<3.21" \
        "${TF1_DROPBLOCK_VENV_TF1:-$PWD/.venv-tf1}" ;;
    *)
      echo "Unknown environment '$name' in TF1_DROPBLOCK_MATRIX" >&2
      exit 2 ;;
  esac
done

echo "== Summary"
printf '  %s\n' "${summary[@]}"
[ "${#failed[@]}" -eq 0 ]
