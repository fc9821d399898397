"""OHIF v3 opening a study, replayed request by request against dxhub: the study
list search with OHIF's includefields, the series search, every series' metadata
fetched in parallel, the first frame of each series with transfer-syntax=*, and the
series thumbnails. Each answer is checked against the stored objects."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from dxtest import dicom_files, dicomgen, read_dataset, storescu

FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
OHIF_STUDY_FIELDS = "includefield=00081030%2C00080060&limit=101&offset=0&fuzzymatching=false"


def get(server, path: str, accept: str = "application/dicom+json"):
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def first(obj: dict, tag: str):
    values = obj.get(tag, {}).get("Value", [])
    return values[0] if values else None


def multipart_parts(content_type: str, body: bytes) -> list[tuple[dict, bytes]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    assert match, content_type
    delimiter = b"--" + match.group(1).encode()
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        parts.append((headers, payload[:-2] if payload.endswith(b"\r\n") else payload))
    return parts


@pytest.fixture(scope="module")
def study(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("ohif")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--series", "3", "--slices", "4",
             "--rows", "64", "--cols", "64", "--seed", "ohif-sequence")
    files = dicom_files(root / "ct")
    server = module_dxhub()
    (root / "work").mkdir()
    outcome = storescu(server, files, root / "work")
    assert outcome.all_succeeded, outcome.output
    datasets = [read_dataset(path) for path in files]
    return server, datasets


def test_ohif_opens_a_study(study):
    server, datasets = study
    study_uid = str(datasets[0].StudyInstanceUID)
    by_series: dict[str, list] = {}
    for ds in datasets:
        by_series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)

    # 1. Study list, as OHIF's worklist asks, filtered by patient name.
    name = str(datasets[0].PatientName)
    status, headers, body = get(server, f"/dicom-web/studies?PatientName={name.split('^')[0]}*&{OHIF_STUDY_FIELDS}")
    assert status == 200 and headers["Content-Type"].startswith("application/dicom+json")
    [row] = [s for s in json.loads(body) if first(s, "0020000D") == study_uid]
    assert first(row, "00080061") == "CT"                       # ModalitiesInStudy
    assert first(row, "00201206") == len(by_series)              # NumberOfStudyRelatedSeries
    assert first(row, "00201208") == len(datasets)               # NumberOfStudyRelatedInstances
    assert "00081030" in row                                      # StudyDescription, asked by includefield

    # 2. The viewer's series search.
    status, _, body = get(server, f"/dicom-web/studies/{study_uid}/series")
    assert status == 200
    series = json.loads(body)
    assert {first(s, "0020000E") for s in series} == set(by_series)
    for s in series:
        assert first(s, "00201209") == len(by_series[first(s, "0020000E")])

    # 3. Every series' metadata, in parallel, as OHIF does.
    def metadata(series_uid: str):
        return series_uid, get(server, f"/dicom-web/studies/{study_uid}/series/{series_uid}/metadata")

    with ThreadPoolExecutor(max_workers=len(by_series)) as pool:
        answers = dict(pool.map(metadata, by_series))
    for series_uid, (status, headers, body) in answers.items():
        assert status == 200, body[:300]
        instances = json.loads(body)
        assert {first(i, "00080018") for i in instances} == {str(ds.SOPInstanceUID) for ds in by_series[series_uid]}
        for instance in instances:
            assert first(instance, "00280010") == 64 and first(instance, "00280011") == 64
            assert "BulkDataURI" in instance["7FE00010"] or "InlineBinary" in instance["7FE00010"]

    # 4. The first frame of each series, transfer-syntax=*, and 5. its thumbnail.
    for series_uid, members in by_series.items():
        ds = sorted(members, key=lambda d: int(d.InstanceNumber))[0]
        base = f"/dicom-web/studies/{study_uid}/series/{series_uid}/instances/{ds.SOPInstanceUID}"
        status, headers, body = get(server, f"{base}/frames/1", FRAME_ACCEPT)
        assert status == 200, body[:300]
        [(part_headers, payload)] = multipart_parts(headers["Content-Type"], body)
        assert payload == ds.PixelData[: 64 * 64 * ds.BitsAllocated // 8], "frame 1 must be the stored pixels"
        status, headers, body = get(server, f"/dicom-web/studies/{study_uid}/series/{series_uid}/thumbnail", "image/jpeg")
        assert status == 200, body[:300]
        assert headers["Content-Type"].startswith("image/jpeg") and body[:2] == b"\xff\xd8"
