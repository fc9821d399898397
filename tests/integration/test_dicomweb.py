"""DICOMweb over HTTP (PS3.18): QIDO-RS search at every level and nested, and WADO-RS
metadata served from the DICOM JSON kept at ingest. Objects arrive by C-STORE
(storescu), answers are read with a plain HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from dxtest import dataset_bytes, dicom_files, dicomgen, read_dataset, storescu


def get(server, path: str):
    url = f"http://127.0.0.1:{server.http_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def value(obj: dict, tag: str):
    entry = obj.get(tag, {})
    values = entry.get("Value", [])
    return values[0] if values else None


@pytest.fixture(scope="module")
def archive(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("dicomweb")
    dicomgen("ct", "--out", root / "ct", "--studies", "2", "--series", "2", "--slices", "3",
             "--rows", "64", "--cols", "64", "--seed", "dicomweb-ct")
    dicomgen("mr", "--out", root / "mr", "--studies", "1", "--slices", "2", "--rows", "64",
             "--cols", "64", "--seed", "dicomweb-mr")
    files = dicom_files(root / "ct") + dicom_files(root / "mr")
    server = module_dxhub()
    work = root / "work"
    work.mkdir()
    outcome = storescu(server, files, work)
    assert outcome.all_succeeded, outcome.output
    datasets = [read_dataset(p) for p in files]
    return server, datasets


def test_study_search_returns_each_study_with_counts(archive):
    server, datasets = archive
    status, headers, body = get(server, "/dicom-web/studies")
    assert status == 200
    assert headers["Content-Type"].startswith("application/dicom+json")
    studies = json.loads(body)
    expected = {str(ds.StudyInstanceUID) for ds in datasets}
    assert {value(s, "0020000D") for s in studies} == expected
    for study in studies:
        uid = value(study, "0020000D")
        count = sum(1 for ds in datasets if ds.StudyInstanceUID == uid)
        assert value(study, "00201208") == count
        assert value(study, "00081190").endswith(f"/dicom-web/studies/{uid}")
        assert study["00100010"]["vr"] == "PN"


def test_study_search_matches_by_keyword_tag_wildcard_and_range(archive):
    server, datasets = archive
    first = datasets[0]
    name = str(first.PatientName)
    status, _, body = get(server, f"/dicom-web/studies?PatientName={name[:3]}*")
    assert status == 200
    uids = {value(s, "0020000D") for s in json.loads(body)}
    assert str(first.StudyInstanceUID) in uids
    assert all(str(ds.PatientName).startswith(name[:3]) for ds in datasets if str(ds.StudyInstanceUID) in uids)

    status, _, body = get(server, f"/dicom-web/studies?00080050={first.AccessionNumber}")
    assert [value(s, "0020000D") for s in json.loads(body)] == [str(first.StudyInstanceUID)]

    status, _, body = get(server, f"/dicom-web/studies?StudyDate={first.StudyDate}-{first.StudyDate}")
    assert str(first.StudyInstanceUID) in {value(s, "0020000D") for s in json.loads(body)}

    status, _, body = get(server, "/dicom-web/studies?StudyDate=19000101-19000102")
    assert status == 200 and json.loads(body) == []


def test_nested_series_and_instances(archive):
    server, datasets = archive
    study = str(datasets[0].StudyInstanceUID)
    status, _, body = get(server, f"/dicom-web/studies/{study}/series")
    series = json.loads(body)
    expected = {str(ds.SeriesInstanceUID) for ds in datasets if ds.StudyInstanceUID == study}
    assert {value(s, "0020000E") for s in series} == expected
    one = sorted(expected)[0]
    status, _, body = get(server, f"/dicom-web/studies/{study}/series/{one}/instances")
    instances = json.loads(body)
    assert {value(i, "00080018") for i in instances} == {
        str(ds.SOPInstanceUID) for ds in datasets if ds.SeriesInstanceUID == one}
    assert all(value(i, "00280010") == 64 for i in instances)


def test_limit_offset_and_includefield(archive):
    server, _ = archive
    _, _, everything = get(server, "/dicom-web/studies")
    all_uids = [value(s, "0020000D") for s in json.loads(everything)]
    _, _, page = get(server, "/dicom-web/studies?limit=1&offset=1")
    assert [value(s, "0020000D") for s in json.loads(page)] == all_uids[1:2]
    _, _, body = get(server, "/dicom-web/studies?includefield=00100021,PatientAge")
    study = json.loads(body)[0]
    assert "00100021" in study and "00101010" in study


def test_series_metadata_is_the_stored_json(archive):
    server, datasets = archive
    ds = datasets[0]
    status, headers, body = get(server, f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/metadata")
    assert status == 200
    metadata = json.loads(body)
    expected = sorted(str(d.SOPInstanceUID) for d in datasets if d.SeriesInstanceUID == ds.SeriesInstanceUID)
    assert sorted(value(m, "00080018") for m in metadata) == expected
    pixel = metadata[0]["7FE00010"]
    assert "BulkDataURI" in pixel and "InlineBinary" not in pixel
    assert value(metadata[0], "00100010")["Alphabetic"] == str(ds.PatientName)
    status, _, body = get(server, f"/dicom-web/studies/{ds.StudyInstanceUID}/metadata")
    assert len(json.loads(body)) == sum(1 for d in datasets if d.StudyInstanceUID == ds.StudyInstanceUID)


@pytest.mark.parametrize("path,code", [
    ("/dicom-web/studies?NotAnAttribute=1", 400),
    ("/dicom-web/studies?limit=-1", 400),
    ("/dicom-web/studies?StudyDate=2020-01-01-x", 400),
    ("/dicom-web/studies?fuzzymatching=maybe", 400),
    ("/dicom-web/studies/1.2.3.4/metadata", 404),
    ("/dicom-web/nothing-here", 404),
])
def test_bad_requests_get_a_clear_error(archive, path, code):
    server, _ = archive
    status, headers, body = get(server, path)
    assert status == code, body
    problem = json.loads(body)
    assert problem["status"] == code and problem["detail"]


def get_with_accept(server, path: str, accept: str):
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def multipart_parts(content_type: str, body: bytes) -> list[tuple[dict, bytes]]:
    boundary = content_type.split("boundary=")[1].split(";")[0].strip('"').encode()
    parts = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().strip().split("\r\n"))
        parts.append((headers, payload[:-2]))  # drop the CRLF before the next boundary
    return parts


@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_wado_retrieve_returns_the_stored_objects(archive, level):
    server, datasets = archive
    ds = datasets[0]
    path = f"/dicom-web/studies/{ds.StudyInstanceUID}"
    expected = [d for d in datasets if d.StudyInstanceUID == ds.StudyInstanceUID]
    if level in ("series", "instance"):
        path += f"/series/{ds.SeriesInstanceUID}"
        expected = [d for d in expected if d.SeriesInstanceUID == ds.SeriesInstanceUID]
    if level == "instance":
        path += f"/instances/{ds.SOPInstanceUID}"
        expected = [ds]
    status, headers, body = get_with_accept(
        server, path, 'multipart/related; type="application/dicom"; transfer-syntax=*')
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith("multipart/related")
    parts = multipart_parts(headers["Content-Type"], body)
    assert len(parts) == len(expected)
    by_uid = {str(d.SOPInstanceUID): d for d in expected}
    import io
    import pydicom
    for part_headers, payload in parts:
        got = pydicom.dcmread(io.BytesIO(payload))
        sent = by_uid.pop(str(got.SOPInstanceUID))
        assert "transfer-syntax=" + str(sent.file_meta.TransferSyntaxUID) in part_headers["Content-Type"]
        with open(sent.filename, "rb") as f:
            assert dataset_bytes(payload) == dataset_bytes(f.read())
    assert not by_uid


def test_wado_retrieve_negotiation(archive):
    server, datasets = archive
    path = f"/dicom-web/studies/{datasets[0].StudyInstanceUID}"
    # The generated objects are explicit VR little endian, the default syntax.
    status, _, _ = get_with_accept(server, path, 'multipart/related; type="application/dicom"')
    assert status == 200
    status, _, _ = get_with_accept(server, path, "multipart/related; type=application/dicom; transfer-syntax=1.2.840.10008.1.2.1")
    assert status == 200
    status, _, body = get_with_accept(server, path, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50')
    assert status == 406 and b"transfer syntax" in body
    status, _, _ = get_with_accept(server, path, "application/json")
    assert status == 406
    status, _, _ = get_with_accept(server, "/dicom-web/studies/1.2.3.999", "*/*")
    assert status == 404
