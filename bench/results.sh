#!/usr/bin/env bash
# Results exchange:
#  1. ORU^R01 messages per second over MLLP with acknowledgements (a full blood
#     count of ten OBX each, for patients in no order), one sender and 32
#     concurrent senders, with and without --durable (fsync before each AA).
#     32 x 1,500 messages are more than the journal lets wait for the store, so
#     the rate is what the store sustains; then the time until a FHIR search sees
#     the last of them (it waits for everything acknowledged to be applied). Each 32-sender run also prints
#     the CPU time the machine lost to its hypervisor meanwhile ("steal" in
#     /proc/stat) and the time it was idle: on a shared VM, steal decides most of
#     the spread between runs; and the cache flushes the data folder's disk
#     completed (/proc/diskstats), about one per fdatasync. Last, the database's
#     size per message stored;
#  2. FHIR search latency with OBSERVATIONS observations stored (seeded through the
#     ResultStore, one full blood count of ten per report, 20,000 patients), over
#     one keep-alive connection, median and p99.
# Usage: bash bench/results.sh [OBSERVATIONS] [REQUESTS]   (build the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
observations="${1:-1000000}"
requests="${2:-500}"
build=build/release
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-results-bench.XXXXXX")"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The machine's CPU time so far, in clock ticks: idle (with iowait) and steal.
cpu_ticks() { awk '/^cpu / { print $5 + $6, $9 }' /proc/stat; }
# Cache flushes completed by the disk holding the data folder (nothing when it is
# not a block device listed in /proc/diskstats).
disk_flushes() { awk -v dev="$(basename "$(df --output=source "$work" | tail -1)")" '$3 == dev { print $19 }' /proc/diskstats; }
# Prints the idle and stolen CPU seconds between two cpu_ticks readings.
machine_note() {
  awk -v hz="$(getconf CLK_TCK)" -v before="$1" -v after="$2" 'BEGIN {
    split(before, b, " "); split(after, a, " ")
    printf "  meanwhile the CPUs were idle %.1f s and lost %.1f s to the hypervisor (steal)\n",
           (a[1] - b[1]) / hz, (a[2] - b[2]) / hz }'
}

for durable in false true; do
  rm -rf "$work/mllp" "$work/ready"
  "$build/apps/dxhub/dxhub" serve --data-dir "$work/mllp" --dicom-port 0 --http-port 0 --hl7-port 0 \
    --durable "$durable" --knowledge-dir knowledge --log-level warn >"$work/ready" 2>"$work/log" &
  server_pid=$!
  for _ in $(seq 300); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
  hl7="$(grep -o 'hl7=[^ ]*' "$work/ready" | cut -d= -f2)"
  echo "== MLLP, durable=$durable"
  "$build/bench/dxhub_mllp_bench" "$hl7" 1 1000
  before="$(cpu_ticks)" flushes="$(disk_flushes)"
  "$build/bench/dxhub_mllp_bench" "$hl7" 32 1500
  machine_note "$before" "$(cpu_ticks)"
  [ -n "$flushes" ] && echo "  the disk completed $(($(disk_flushes) - flushes)) cache flushes"
  http="$(grep -o 'http=[^ ]*' "$work/ready" | cut -d= -f2)"
  curl -s -o "$work/total.json" -w "all of them searchable %{time_total} s after the last AA: " \
    "http://$http/fhir/DiagnosticReport?_count=0"
  grep -o '"total":[0-9]*' "$work/total.json"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  # After a clean stop the WAL is folded into the database file.
  du -cb "$work/mllp/index.sqlite"* | awk '/total$/ { printf "  database: %.1f KB a message\n", $1 / 49000 / 1000 }'
done

echo "== seeding $observations observations"
start=$(date +%s.%N)
nhs="$("$build/bench/dxhub_seed_results" "$work/data" "$observations")"
echo "seeded in $(echo "$(date +%s.%N) - $start" | bc) s"

"$build/apps/dxhub/dxhub" serve --data-dir "$work/data" --dicom-port 0 --http-port 0 --hl7-port 0 \
  --knowledge-dir knowledge --log-level warn >"$work/ready" 2>"$work/log" &
server_pid=$!
for _ in $(seq 300); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
http="$(grep -o 'http=[^ ]*' "$work/ready" | cut -d= -f2)"
patient="patient.identifier=https://fhir.nhs.uk/Id/nhs-number%7C$nhs"

run() {
  printf '%-58s ' "$1"
  "$build/bench/dxhub_http_bench" latency "$http" "$2" "$requests" "application/fhir+json"
}
run "Observation, one patient (about 50)" "/fhir/Observation?$patient"
run "Observation, one patient and one code" "/fhir/Observation?$patient&code=http://loinc.org%7C718-7"
run "Observation, one patient, one year" "/fhir/Observation?$patient&date=ge2025-01-01&date=lt2026-01-01"
run "DiagnosticReport, one patient" "/fhir/DiagnosticReport?$patient"
run "Observation, every patient, first page of 50, code" "/fhir/Observation?code=718-7&_count=50"
run "Observation read by id" "/fhir/Observation/seed-7-1"
