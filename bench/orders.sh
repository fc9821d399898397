#!/usr/bin/env bash
# Requests and waiting lists:
#  1. FHIR ServiceRequests placed per second (POST /fhir/ServiceRequest, validated,
#     stored with their first clock event), 8 concurrent connections, with and
#     without --durable;
#  2. the full waiting-list summary (/waits/summary) and the DM01 return
#     (/waits/dm01) over REQUESTS generated requests (tests/tools/orders_history.py),
#     median and p99 over RUNS calls.
# Usage: bash bench/orders.sh [REQUESTS] [RUNS]   (build the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-1000000}"
runs="${2:-20}"
build=build/release
bench="$build/bench/dxhub_http_bench"
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-orders-bench.XXXXXX")"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start_server() {  # DATA DURABLE
  "$build/apps/dxhub/dxhub" serve --data-dir "$1" --dicom-port 0 --http-port 0 --hl7-port 0 --durable "$2" \
    --knowledge-dir knowledge --log-level warn >"$work/ready" 2>"$work/log" &
  server_pid=$!
  for _ in $(seq 300); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
  http="$(grep -o 'http=[^ ]*' "$work/ready" | cut -d= -f2)"
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; rm -f "$work/ready"; }

cat >"$work/request.json" <<'JSON'
{"resourceType": "ServiceRequest", "status": "active", "intent": "order", "priority": "routine",
 "contained": [
   {"resourceType": "Patient", "id": "p", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
    "name": [{"family": "Okafor", "given": ["Ada"]}], "birthDate": "1961-07-14", "gender": "female"},
   {"resourceType": "PractitionerRole", "id": "r", "practitioner": {"identifier": {"value": "G7654321"}},
    "organization": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A81001"}}}],
 "code": {"coding": [{"system": "https://fhir.dxhub.org/CodeSystem/investigation", "code": "MR-KNEE"}]},
 "subject": {"reference": "#p"}, "requester": {"reference": "#r"},
 "performer": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RXX01"}}],
 "reasonCode": [{"text": "locking and giving way after a twisting injury"}]}
JSON

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for durable in false true; do
  start_server "$work/create-$durable" "$durable"
  echo "== ServiceRequests placed, durable=$durable"
  "$bench" post "$http" /fhir/ServiceRequest "$work/request.json" 5000 8
  stop_server
done

echo "== waiting lists over $requests requests"
start_server "$work/history" false   # creates and migrates the index
stop_server
/usr/bin/python3 tests/tools/orders_history.py "$work/history/index.sqlite" "$requests" bench-history
start_server "$work/history" false
printf '%-40s ' "waiting-list summary (/waits/summary)"
"$bench" latency "$http" "/waits/summary?at=2026-09-30" "$runs"
printf '%-40s ' "DM01 return, one month (/waits/dm01)"
"$bench" latency "$http" "/waits/dm01?month=2026-08" "$runs"
stop_server
