#!/usr/bin/env bash
# The main job on a fresh machine: makes or reuses .venv, installs, runs.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
python legacy_examples/graph_demo.py "$@"
