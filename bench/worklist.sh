#!/usr/bin/env bash
# Modality Worklist C-FIND latency with ITEMS booked requests (default 10,000 over
# 20 days, ten stations, four modalities), over one open association, median and
# p95 of RUNS queries each; the same items served by DCMTK's wlmscpfs from .wl files
# for comparison (bench/worklist_seed.py writes both).
# Usage: bash bench/worklist.sh [ITEMS] [RUNS]   (build the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
items="${1:-10000}"
runs="${2:-200}"
build=build/release
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-worklist-bench.XXXXXX")"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export TCP_NODELAY=1

start_dxhub() {
  "$build/apps/dxhub/dxhub" serve --data-dir "$work/data" --dicom-port 0 --http-port 0 --hl7-port 0 \
    --knowledge-dir knowledge --log-level warn >"$work/ready" 2>"$work/log" &
  pids+=($!)
  for _ in $(seq 300); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
  dicom="$(grep -o 'dicom=[^ ]*' "$work/ready" | cut -d= -f2)"
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
start_dxhub  # creates and migrates the index
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
start=$(( $(date +%s) / 86400 * 86400 + 86400 ))
day=$(date -d "@$(( start + 3 * 86400 ))" +%Y%m%d)
/usr/bin/python3 bench/worklist_seed.py "$work/data/index.sqlite" "$work/wl/WLMSCP" "$items" "$start"
echo "== seeded $items booked requests; querying day $day"

sps="ScheduledProcedureStepSequence[0]"
queries=(
  "$sps.ScheduledStationAETitle=CT1;$sps.ScheduledProcedureStepStartDate=$day"
  "$sps.Modality=MR;$sps.ScheduledProcedureStepStartDate=$day"
  "$sps.ScheduledProcedureStepStartDate=$day"
  "AccessionNumber=WL00004242"
  "PatientName=PATEL^Q*"
)

start_dxhub
echo "== dxhub"
"$build/bench/dxhub_worklist_latency" "${dicom%%:*}" "${dicom##*:}" DXHUB "$runs" "${queries[@]}"

port=$(( 20000 + RANDOM % 20000 ))
wlmscpfs -dfp "$work/wl" "$port" >"$work/wlm.log" 2>&1 &
pids+=($!)
sleep 1
echo "== DCMTK wlmscpfs $(dpkg-query -W -f '${Version}' dcmtk)"
"$build/bench/dxhub_worklist_latency" 127.0.0.1 "$port" WLMSCP "$((runs / 10))" "${queries[@]}"
