#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, test and benchmark dxhub.
# Idempotent: when everything is already installed it does nothing (no apt-get update).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang
  # libraries
  libdcmtk-dev dcmtk libboost-dev libboost-system-dev nlohmann-json3-dev libexpected-dev
  libcli11-dev libspdlog-dev libfmt-dev libssl-dev libsqlite3-dev libjemalloc-dev sqlite3
  liblz4-dev
  libtomlplusplus-dev libopenjp2-7-dev libturbojpeg0-dev libpq-dev postgresql
  # unit tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev curl
  # integration tests (Debian's /usr/bin/python3 and its modules)
  python3 python3-pytest python3-pydicom python3-numpy python3-jsonschema python3-pil libgdcm-tools
  # the real MLLP client (mllp_send) and the headless browser of the viewer test
  python3-hl7 chromium
)
# Node.js and npm run the DICOMweb client and viewer tests; a machine that already has
# a Node.js that brings its own npm keeps it.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# Orthanc (the benchmarks' comparison) is installed by bench/ingest.sh itself: its
# Debian package starts a service on 4242 and 8042, dxhub's own default ports.

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
