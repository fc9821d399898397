#!/usr/bin/env bash
# Configures and builds dxhub with a CMake preset (debug, release, asan, ci; default release).
# Usage: bash scripts/build.sh [preset]
set -euo pipefail

preset="${1:-release}"
cd "$(dirname "$0")/.."

jobs="$(nproc 2>/dev/null || echo 2)"
cmake --preset "$preset"
cmake --build --preset "$preset" -j"$jobs"
echo "build: build/$preset/apps/dxhub/dxhub"
