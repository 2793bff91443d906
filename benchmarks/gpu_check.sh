#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and its driver (under 5 minutes on a fresh clone):
# a venv of its own with tensorflow[and-cuda] (TensorFlow's CUDA libraries from PyPI), then
# benchmarks/gpu_check.py, which says what it checks. Exits non-zero on any failure.
#
#     bash benchmarks/gpu_check.sh [--seconds 60]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GPU_CHECK_VENV:-.venv-gpu}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check . "tensorflow[and-cuda]"
exec "$venv/bin/python" benchmarks/gpu_check.py "$@"
