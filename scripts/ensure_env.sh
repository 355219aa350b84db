# Sourced by run_main.sh and run_tests.sh: makes or reuses a virtualenv with
# TensorFlow and this package installed, and activates it.
#   TF1_DROPBLOCK_VENV  where the venv lives (default: .venv in the repo)
#   TF_PACKAGE          the TensorFlow wheel (default: tensorflow-cpu; use
#                       "tensorflow" on a GPU machine)
#   PYTHON              the interpreter to build the venv from (default python3)
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TF1_DROPBLOCK_VENV:-$repo_root/.venv}"
python="${PYTHON:-python3}"
tf_package="${TF_PACKAGE:-tensorflow-cpu}"

if [ ! -x "$venv/bin/python" ]; then
  echo "Creating virtualenv $venv from $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
stamp="$venv/.tf1_dropblock-installed"
if [ ! -f "$stamp" ] || [ "$repo_root/setup.py" -nt "$stamp" ]; then
  echo "Installing $tf_package and tf1_dropblock[test,examples] into $venv"
  # shellcheck disable=SC2086
  python -m pip install --quiet --disable-pip-version-check $tf_package
  python -m pip install --quiet --disable-pip-version-check \
    -e "$repo_root[test,examples]"
  touch "$stamp"
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
cd "$repo_root"
