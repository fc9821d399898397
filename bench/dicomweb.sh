#!/usr/bin/env bash
# DICOMweb: dxhub and Orthanc with its DICOMweb plugin (Debian packages), the same
# data, the same timing client (bench/http_bench.cpp), in one run:
#   1. QIDO-RS study search with STUDIES one-instance studies indexed (median, p99)
#   2. series metadata of a 300-slice 512×512 CT
#   3. whole-series WADO-RS (multipart, stored syntax) in MB/s, against a plain
#      loopback TCP stream of the same size as the floor
#   4. rendered 512×512 frame (image/jpeg)
#   5. a viewer's first frame of a 1,000-slice CT: series metadata then frame 1,
#      on a new connection
# Usage: bash bench/dicomweb.sh [STUDIES] [RUNS]   (build the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
studies="${1:-100000}"
runs="${2:-200}"
build=build/release
bench="$build/bench/dxhub_http_bench"
dxhub="$build/apps/dxhub/dxhub"
work="$(mktemp -d "${TMPDIR:-/tmp}/dxhub-dicomweb-bench.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export TCP_NODELAY=1

if ! command -v Orthanc >/dev/null || [ ! -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ]; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc orthanc-dicomweb >/dev/null
  # Its service would hold dxhub's default ports.
  "${sudo[@]}" systemctl disable --now orthanc >/dev/null 2>&1 || service orthanc stop >/dev/null 2>&1 || true
fi

gen=(/usr/bin/python3 tests/tools/dicomgen.py)
echo "generating $studies small studies, a 300-slice and a 1,000-slice CT ..." >&2
half=$((studies / 2))
"${gen[@]}" ct --out "$work/qido/a" --studies "$half" --slices 1 --rows 8 --cols 8 --seed qido-a --patient-prefix QA >/dev/null &
"${gen[@]}" ct --out "$work/qido/b" --studies "$((studies - half))" --slices 1 --rows 8 --cols 8 --seed qido-b --patient-prefix QB >/dev/null &
wait
"${gen[@]}" ct --out "$work/ct300" --studies 1 --slices 300 --rows 512 --cols 512 --seed ct300 --patient-prefix C3 >/dev/null
"${gen[@]}" ct --out "$work/ct1000" --studies 1 --slices 1000 --rows 512 --cols 512 --seed ct1000 --patient-prefix C1 >/dev/null

# dxhub: imported, then served.
"$dxhub" import "$work/qido" "$work/ct300" "$work/ct1000" --data-dir "$work/dx" >/dev/null
"$dxhub" serve --data-dir "$work/dx" --dicom-port 0 --http-port 0 --hl7-port 0 --log-level warn >"$work/dx.ready" 2>"$work/dx.log" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/dx.ready" 2>/dev/null && break; sleep 0.1; done
dx="$(grep -o 'http=[^ ]*' "$work/dx.ready" | cut -d= -f2)"

# Orthanc: stored over DIMSE (four associations).
dport=$((20000 + RANDOM % 10000)); hport=$((30000 + RANDOM % 10000))
mkdir -p "$work/orthanc"
cat >"$work/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$work/orthanc", "IndexDirectory": "$work/orthanc",
  "DicomAet": "ORTHANC", "DicomPort": $dport, "HttpPort": $hport, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "DicomCheckCalledAet": false,
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" } }
JSON
Orthanc "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do echoscu -aec ORTHANC 127.0.0.1 "$dport" >/dev/null 2>&1 && break; sleep 0.1; done
echo "storing into Orthanc ..." >&2
stores=()
for part in "$work/qido/a" "$work/qido/b" "$work/ct300" "$work/ct1000"; do
  storescu -aec ORTHANC +sd +r 127.0.0.1 "$dport" "$part" >/dev/null 2>&1 &
  stores+=($!)
done
wait "${stores[@]}"
or="127.0.0.1:$hport"
total=$((studies + 1300))
stored=$(curl -s "http://$or/statistics" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])')
[ "$stored" = "$total" ] || { echo "Orthanc stored $stored of $total instances" >&2; exit 1; }

q() { sqlite3 "$work/dx/index.sqlite" "$1"; }
pid_value="$(q "SELECT patient_id FROM patients WHERE pk = $((studies / 4))")"
name="$(q "SELECT patient_name FROM patients WHERE pk = $((studies / 3))")"
accession="$(q "SELECT accession_number FROM studies WHERE pk = $((studies / 5))")"
date="$(q "SELECT study_date FROM studies WHERE pk = $((studies / 6))")"
read -r s300 se300 < <(q "SELECT s.study_instance_uid, se.series_instance_uid FROM series se JOIN studies s ON s.pk = se.study_pk WHERE se.number_of_instances = 300" | tr '|' ' ')
read -r s1000 se1000 < <(q "SELECT s.study_instance_uid, se.series_instance_uid FROM series se JOIN studies s ON s.pk = se.study_pk WHERE se.number_of_instances = 1000" | tr '|' ' ')
i300="$(q "SELECT i.sop_instance_uid FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.series_instance_uid = '$se300' ORDER BY CAST(i.instance_number AS INTEGER) LIMIT 1 OFFSET 150")"
i1000="$(q "SELECT i.sop_instance_uid FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.series_instance_uid = '$se1000' ORDER BY CAST(i.instance_number AS INTEGER) LIMIT 1")"
series_bytes="$(q "SELECT SUM(i.size_bytes) FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.series_instance_uid = '$se300'")"

compare() {  # label, then the http_bench arguments after HOST:PORT
  local label=$1 mode=$2; shift 2
  printf '%-44s dxhub   ' "$label"; "$bench" "$mode" "$dx" "$@" || true
  printf '%-44s Orthanc ' ""; "$bench" "$mode" "$or" "$@" || true
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $studies studies"
ohif_fields="includefield=00081030%2C00080060&limit=101&offset=0&fuzzymatching=false"
compare "QIDO studies PatientID=" latency "/dicom-web/studies?PatientID=$pid_value" "$runs"
compare "QIDO studies AccessionNumber=" latency "/dicom-web/studies?AccessionNumber=$accession" "$runs"
compare "QIDO studies PatientName=<surname>* (OHIF)" latency "/dicom-web/studies?PatientName=${name%%^*}*&$ohif_fields" "$runs"
compare "QIDO studies StudyDate=<day> (OHIF)" latency "/dicom-web/studies?StudyDate=$date&$ohif_fields" "$runs"
compare "series metadata, 300-slice CT" latency "/dicom-web/studies/$s300/series/$se300/metadata" 50
printf '%-44s floor   ' "WADO-RS series, 300 × 512×512 CT"; "$bench" loopback "$series_bytes" 5
compare "" stream "/dicom-web/studies/$s300/series/$se300" 5 'multipart/related; type="application/dicom"; transfer-syntax=*'
compare "rendered 512×512 frame (JPEG)" latency "/dicom-web/studies/$s300/series/$se300/instances/$i300/rendered" 100 "image/jpeg"
compare "first frame of a 1,000-slice CT" sequence 20 \
  "/dicom-web/studies/$s1000/series/$se1000/metadata" \
  "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*|/dicom-web/studies/$s1000/series/$se1000/instances/$i1000/frames/1"
