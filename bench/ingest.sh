#!/usr/bin/env bash
# Whole-system C-STORE ingest: 2,000 CT slices (512×512, 16-bit, one series) sent by
# DCMTK storescu to dxhub and to Orthanc (Debian package, default SQLite index), over
# one association and over four, in the same run, alternating dxhub and Orthanc so
# that drift of this machine's speed hits both alike. Next to them: the disk's own
# sequential write speed (dd), the limit for any archive. TCP_NODELAY=1 is set for
# every DCMTK tool and for Orthanc, and dxhub sets it on its own sockets. Two floors
# for one association: DCMTK's storescp discarding what it receives (client and
# network alone) and storescp writing plain files (no index, no checks).
# Usage: bash bench/ingest.sh [ROUNDS]   (release preset built; Orthanc installed)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
slices=2000
dxhub=build/release/apps/dxhub/dxhub
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-ingest-bench.XXXXXX")"
data="${BENCH_DATA:-${TMPDIR:-/tmp}/dxhub-bench-ct2000}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export TCP_NODELAY=1

bash scripts/setup-deps.sh >/dev/null
if ! command -v Orthanc >/dev/null; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc >/dev/null
  # The package starts a system service on 4242/8042; the benchmark runs its own.
  "${sudo[@]}" systemctl disable --now orthanc >/dev/null 2>&1 || true
fi

if [ "$(find "$data" -name '*.dcm' 2>/dev/null | wc -l)" -ne "$slices" ]; then
  rm -rf "$data"
  /usr/bin/python3 tests/tools/dicomgen.py ct --out "$data" --studies 1 --slices "$slices" --rows 512 --cols 512 \
    --seed ingest-bench >/dev/null
fi
mapfile -t files < <(find "$data" -name '*.dcm' | sort)
bytes=$(du -cb "${files[@]}" | tail -1 | cut -f1)
# Four disjoint quarters for four associations.
for q in 0 1 2 3; do
  printf '%s\n' "${files[@]}" | awk -v q=$q 'NR % 4 == q' >"$work/quarter$q"
done

now() { date +%s.%N; }
send() {  # port aet associations
  local port=$1 aet=$2 n=$3
  if [ "$n" = 1 ]; then
    storescu -aec "$aet" 127.0.0.1 "$port" "${files[@]}" >/dev/null 2>&1
  else
    local senders=()
    for q in 0 1 2 3; do
      mapfile -t part <"$work/quarter$q"
      storescu -aec "$aet" 127.0.0.1 "$port" "${part[@]}" >/dev/null 2>&1 &
      senders+=($!)
    done
    for pid in "${senders[@]}"; do wait "$pid"; done
  fi
}

run_dxhub() {  # associations durable → seconds
  local n=$1 durable=$2 dir="$work/dxhub"
  rm -rf "$dir"
  "$dxhub" serve --data-dir "$dir" --dicom-port 0 --http-port 0 --hl7-port 0 --durable "$durable" >"$work/dx.ready" 2>"$work/dx.log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do grep -q ready "$work/dx.ready" 2>/dev/null && break; sleep 0.1; done
  local port; port="$(grep -o 'dicom=[^ ]*' "$work/dx.ready" | cut -d: -f2)"
  local start; start=$(now)
  send "$port" DXHUB "$n"
  local end; end=$(now)
  local stored; stored=$("$dxhub" status --data-dir "$dir" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["instances"])')
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  [ "$stored" = "$slices" ] || { echo "dxhub stored $stored of $slices" >&2; exit 1; }
  echo "$end - $start" | bc -l
}

run_orthanc() {  # associations → seconds
  local n=$1 dir="$work/orthanc"
  rm -rf "$dir"; mkdir -p "$dir"
  local dport=$((20000 + RANDOM % 20000)) hport=$((40000 + RANDOM % 20000))
  cat >"$work/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$dir", "IndexDirectory": "$dir", "DicomAet": "ORTHANC",
  "DicomPort": $dport, "HttpPort": $hport, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "Plugins": [], "DicomCheckCalledAet": false }
JSON
  Orthanc "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do echoscu -aec ORTHANC 127.0.0.1 "$dport" >/dev/null 2>&1 && break; sleep 0.1; done
  local start; start=$(now)
  send "$dport" ORTHANC "$n"
  local end; end=$(now)
  local stored; stored=$(curl -s "http://127.0.0.1:$hport/statistics" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])')
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  [ "$stored" = "$slices" ] || { echo "Orthanc stored $stored of $slices" >&2; exit 1; }
  echo "$end - $start" | bc -l
}

run_storescp() {  # mode (ignore | files) → seconds; DCMTK's own receiver, no index: the floor
  local mode=$1 dir="$work/storescp" port=$((20000 + RANDOM % 20000))
  rm -rf "$dir"; mkdir -p "$dir"
  if [ "$mode" = ignore ]; then storescp --ignore "$port" & else storescp -od "$dir" "$port" & fi
  local pid=$!
  for _ in $(seq 100); do echoscu -aec STORESCP 127.0.0.1 "$port" >/dev/null 2>&1 && break; sleep 0.1; done
  local start; start=$(now)
  send "$port" STORESCP 1
  local end; end=$(now)
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  echo "$end - $start" | bc -l
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

disk() {  # 1 GiB sequential write into the same file system, with and without fdatasync
  local flag=$1
  dd if=/dev/zero of="$work/dd" bs=1M count=1024 $flag 2>&1 | awk '/copied/ {print $(NF-1), $NF}'
  rm -f "$work/dd"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB," \
     "$(df -T "$work" | awk 'NR==2 {print $2}') file system"
echo "data: $slices files, $((bytes / 1048576)) MiB; rounds: $rounds"
echo "disk sequential write, 1 GiB: $(disk 'conv=fdatasync') with fdatasync; $(disk '') into the page cache"

declare -A results
for round in $(seq "$rounds"); do
  for n in 1 4; do
    results["dxhub-$n"]+="$(run_dxhub $n false) "
    results["orthanc-$n"]+="$(run_orthanc $n) "
    results["dxhub-durable-$n"]+="$(run_dxhub $n true) "
  done
  results["storescp-ignore-1"]+="$(run_storescp ignore) "
  results["storescp-files-1"]+="$(run_storescp files) "
done

printf '\n%-22s %10s %12s %10s   %s\n' configuration median_s instances/s MB/s "runs (s)"
for key in storescp-ignore-1 storescp-files-1 dxhub-1 orthanc-1 dxhub-durable-1 dxhub-4 orthanc-4 dxhub-durable-4; do
  m=$(echo "${results[$key]}" | tr ' ' '\n' | grep . | median)
  printf '%-22s %10.2f %12.0f %10.1f   %s\n' "$key" "$m" "$(echo "$slices / $m" | bc -l)" \
    "$(echo "$bytes / 1000000 / $m" | bc -l)" "${results[$key]}"
done
for n in 1 4; do
  d=$(echo "${results[dxhub-$n]}" | tr ' ' '\n' | grep . | median)
  o=$(echo "${results[orthanc-$n]}" | tr ' ' '\n' | grep . | median)
  printf 'dxhub / Orthanc instances/s, %d association(s): %.2f×\n' "$n" "$(echo "$o / $d" | bc -l)"
done
