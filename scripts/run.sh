#!/usr/bin/env bash
# The run command: installs dependencies, builds dxhub, loads a few demo studies (fake
# patients only) into ./dxhub-data on first run, then serves DICOM on 4242 and HTTP on
# 8042, loopback only. Ctrl-C stops it. Environment: DXHUB_DATA_DIR overrides the folder.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh
bash scripts/build.sh release

dxhub=build/release/apps/dxhub/dxhub
data_dir="${DXHUB_DATA_DIR:-./dxhub-data}"
mkdir -p "$data_dir"

instances="$("$dxhub" status --data-dir "$data_dir" \
  | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["instances"])')"
if [ "$instances" = "0" ]; then
  demo="$(mktemp -d)"
  trap 'rm -rf "$demo"' EXIT
  gen=(/usr/bin/python3 tests/tools/dicomgen.py)
  "${gen[@]}" ct --out "$demo/ct" --studies 2 --series 2 --slices 40 --seed demo-ct
  "${gen[@]}" mr --out "$demo/mr" --studies 2 --series 3 --slices 20 --seed demo-mr
  "${gen[@]}" cr --out "$demo/cr" --studies 3 --series 2 --seed demo-cr
  "${gen[@]}" multiframe --out "$demo/mf" --slices 30 --seed demo-mf
  "$dxhub" import "$demo" --data-dir "$data_dir"
  rm -rf "$demo"
  trap - EXIT
fi

echo "dxhub: demo archive in $data_dir; try: echoscu -aec DXHUB 127.0.0.1 4242" >&2
exec "$dxhub" serve --data-dir "$data_dir" --dicom-port 4242 --http-port 8042 --ae-title DXHUB
