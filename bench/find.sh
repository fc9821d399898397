#!/usr/bin/env bash
# C-FIND study-level latency with 100,000 studies indexed.
# Seeds an index through InstanceIndex::InsertBatch, starts dxhub on it, and times
# (1) whole findscu runs (process start, association, query, release) for PatientID,
# AccessionNumber and PatientName prefix queries, next to echoscu (the same run
# without a query) as the floor, and (2) the query exchange alone, over one open
# association (bench/find_latency.cpp). Prints median and p95 in ms.
# Usage: bash bench/find.sh [STUDIES] [RUNS]   (build the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
studies="${1:-100000}"
runs="${2:-50}"
build=build/release
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-find-bench.XXXXXX")"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export TCP_NODELAY=1

"$build/bench/dxhub_seed_studies" "$work/data" "$studies" >/dev/null
"$build/apps/dxhub/dxhub" serve --data-dir "$work/data" --dicom-port 0 --http-port 0 --hl7-port 0 >"$work/ready" 2>"$work/log" &
server_pid=$!
for _ in $(seq 100); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
port="$(grep -o 'dicom=[^ ]*' "$work/ready" | cut -d: -f2)"

# Query values taken from the seeded index itself.
read -r patient_id name < <(sqlite3 -separator ' ' "$work/data/index.sqlite" \
  "SELECT patient_id, patient_name FROM patients WHERE pk = $((studies / 4))")
accession="$(sqlite3 "$work/data/index.sqlite" "SELECT accession_number FROM studies WHERE pk = $((studies / 3))")"
surname="${name%%^*}"
given="${name#*^}"

time_ms() {  # runs "$@" $runs times, prints the sorted wall times in ms
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $(( (end - start) / 1000 ))
  done | sort -n
}
report() {  # label, match count, times (µs, sorted)
  local label="$1" matches="$2"; shift 2
  local times=("$@") n=${#times[@]}
  local median=${times[$((n / 2))]} p95=${times[$((n * 95 / 100))]}
  printf '%-34s %8s %10.2f %10.2f\n' "$label" "$matches" "$(echo "$median/1000" | bc -l)" "$(echo "$p95/1000" | bc -l)"
}
find_study() { findscu -S -aec DXHUB 127.0.0.1 "$port" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID \
  -k PatientName -k PatientID -k StudyDate -k AccessionNumber -k ModalitiesInStudy "$@"; }
matches() { find_study "$@" -v 2>&1 | grep -c "Find Response: .*Pending" || true; }

echo "studies=$studies runs=$runs cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\" cores=$(nproc)"
printf '%-34s %8s %10s %10s\n' query matches median_ms p95_ms
mapfile -t t < <(time_ms echoscu -aec DXHUB 127.0.0.1 "$port"); report "C-ECHO (floor)" "-" "${t[@]}"
mapfile -t t < <(time_ms find_study -k "PatientID=$patient_id"); report "PatientID=$patient_id" "$(matches -k "PatientID=$patient_id")" "${t[@]}"
mapfile -t t < <(time_ms find_study -k "AccessionNumber=$accession"); report "AccessionNumber=$accession" "$(matches -k "AccessionNumber=$accession")" "${t[@]}"
q="$surname^${given:0:2}*"
mapfile -t t < <(time_ms find_study -k "PatientName=$q"); report "PatientName=$q" "$(matches -k "PatientName=$q")" "${t[@]}"
q="$surname*"
mapfile -t t < <(time_ms find_study -k "PatientName=$q"); report "PatientName=$q" "$(matches -k "PatientName=$q")" "${t[@]}"

echo
echo "Query exchange alone: the same queries over one open association ($runs runs each)"
"$build/bench/dxhub_find_latency" 127.0.0.1 "$port" DXHUB "$runs" "PatientID=$patient_id" \
  "AccessionNumber=$accession" "PatientName=$surname^${given:0:2}*" "PatientName=$surname*"
