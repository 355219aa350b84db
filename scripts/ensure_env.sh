# Sourced by run_main.sh and run_tests.sh: makes or reuses a virtualenv with
# TensorFlow and this package installed, and activates it.
#   TF1_DROPBLOCK_VENV   where the venv lives (default: .venv in the repo)
#   TF_PACKAGE           the TensorFlow wheel(s) (default: tensorflow-cpu;
#                        use "tensorflow" on a GPU machine)
#   PYTHON               the interpreter to build the venv from (default
#                        python3)
#   TF1_DROPBLOCK_WHEEL  a built wheel to install (with its test and
#                        examples extras) instead of the editable source
#                        tree: what the test command does
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TF1_DROPBLOCK_VENV:-$repo_root/.venv}"
python="${PYTHON:-python3}"
tf_package="${TF_PACKAGE:-tensorflow-cpu}"
wheel="${TF1_DROPBLOCK_WHEEL:-}"
pip_install=(pip_filtered python -m pip install --quiet
             --disable-pip-version-check)
# pip warns about every find-links folder of this machine's pip config that
# does not exist; those lines bury real errors in the log.
# With pipefail the status is pip's.
pip_filtered() {
  "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
}

if [ ! -x "$venv/bin/python" ]; then
  echo "Creating virtualenv $venv from $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
source "$venv/bin/activate"
tf_stamp="$venv/.tf1_dropblock-tensorflow"
if [ ! -f "$tf_stamp" ] || [ "$(cat "$tf_stamp")" != "$tf_package" ]; then
  echo "Installing $tf_package into $venv"
  # shellcheck disable=SC2086
  "${pip_install[@]}" $tf_package
  echo "$tf_package" > "$tf_stamp"
fi
if [ -n "$wheel" ]; then
  echo "Installing $(basename "$wheel")[test,examples] into $venv"
  "${pip_install[@]}" --force-reinstall --no-deps "$wheel"
  "${pip_install[@]}" "$wheel[test,examples]"
  rm -f "$venv/.tf1_dropblock-editable"
else
  stamp="$venv/.tf1_dropblock-editable"
  if [ ! -f "$stamp" ] || [ "$repo_root/pyproject.toml" -nt "$stamp" ]; then
    echo "Installing tf1_dropblock[test,examples] (editable) into $venv"
    "${pip_install[@]}" -e "$repo_root[test,examples]"
    touch "$stamp"
  fi
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
cd "$repo_root"
