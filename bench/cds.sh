#!/usr/bin/env bash
# Decision support: evaluations per second on one thread with the whole knowledge
# base (over the clinical vignettes), and CDS Hooks order-sign round-trip latency
# against a running dxhub (durable and not), with GET /health as the HTTP floor.
# Usage: bash bench/cds.sh [CALLS]   (build the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-5000}"
build=build/release
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-cds-bench.XXXXXX")"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for durable in false true; do
  rm -rf "$work/data" "$work/ready"
  "$build/apps/dxhub/dxhub" serve --data-dir "$work/data" --dicom-port 0 --http-port 0 --hl7-port 0 --durable "$durable" \
    --knowledge-dir knowledge --log-level warn >"$work/ready" 2>"$work/log" &
  server_pid=$!
  for _ in $(seq 100); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
  http="$(grep -o 'http=[^ ]*' "$work/ready" | cut -d= -f2)"
  echo "== durable=$durable"
  # Pinned to one CPU so that the evaluation figure is one core's.
  taskset -c 0 "$build/bench/dxhub_cds_bench" knowledge tests/scenarios/cds --server "$http" --calls "$calls"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
