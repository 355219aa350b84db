#!/usr/bin/env bash
# The main job on a fresh machine: makes or reuses .venv, installs, and runs
# the SR comparison on bundled images. Extra arguments go to the script,
# e.g. ./run_main.sh --seeds=5 --output_dir=/tmp/sr
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure_env.sh
python legacy_examples/sr_dropblock.py "$@"
