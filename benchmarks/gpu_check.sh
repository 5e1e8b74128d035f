#!/bin/sh
# The prepared GPU check on a bare CUDA machine (python3.12 + CUDA torch); wheels from `make gpu-wheels`.
cd "$(dirname "$0")/.." && exec python3 benchmarks/gpu_check.py --device "${DEVICE:-cuda}" "$@"
