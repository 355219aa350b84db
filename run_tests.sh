#!/usr/bin/env bash
# Runs the whole test suite: on TensorFlow 2.x in .venv, then the same tests
# on TensorFlow 1.15.5 (graph mode; eager/XLA cases skip themselves) in
# .venv-tf1, if pyenv's Python 3.7 is on this machine.
set -euo pipefail
cd "$(dirname "$0")"

(
  source scripts/ensure_env.sh
  echo "== Tests on TensorFlow $(python -c 'import tensorflow as tf; print(tf.__version__)')"
  python -m pytest tests "$@"
)

py37="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/3.7.16/bin/python"
if [ -x "$py37" ]; then
  (
    export PYTHON="$py37" TF_PACKAGE="tensorflow==1.15.5 protobuf<3.21"
    export TF1_DROPBLOCK_VENV="${TF1_DROPBLOCK_VENV_TF1:-$PWD/.venv-tf1}"
    source scripts/ensure_env.sh
    echo "== Tests on TensorFlow $(python -c 'import tensorflow as tf; print(tf.__version__)')"
    python -m pytest tests "$@"
  )
else
  echo "== Skipping TensorFlow 1.15 tests: no Python 3.7 at $py37 (pyenv)."
fi
