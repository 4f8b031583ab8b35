#!/usr/bin/env bash
# Installs the Debian packages cimsim needs (only those missing), then configures and builds it
# (Release, Ninja) into build/. Run as root, or as a user with sudo. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libsystemc-dev libboost-dev libboost-iostreams-dev libyaml-cpp-dev libspdlog-dev libeigen3-dev
  libcli11-dev nlohmann-json3-dev
  libonnx-dev libprotobuf-dev  # cimsim import (ONNX models)
  libtorch-dev  # the trainer (cimsim-train) only; the simulator builds without it
  libopenblas0-pthread  # LibTorch's BLAS (libblas.so.3): without it the reference BLAS, 2-4x slower
  libgtest-dev libgmock-dev libbenchmark-dev
  gtkwave python3 python3-numpy python3-matplotlib dataset-fashion-mnist
  python3-onnx python3-pytest python3-yaml  # the import tests (ONNX files built with onnx.helper)
  pybind11-dev python3-pandas  # the Python module (import cimsim); load_sweep gives a DataFrame with pandas
  python3-torch  # cimsim.torch: the trainer's layers in PyTorch scripts (the same LibTorch 1.13 as libtorch-dev)
  clang-14 libclang-rt-14-dev libomp-14-dev  # tools/fuzz.sh: libFuzzer and the sanitizer runtimes, OpenMP for clang
  slurm-wlm munge  # the Slurm sweep test (tests/slurm)
  strace  # fault injection (a failing rename) in the robustness tests (tests/robustness)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
