"""STOW-RS (PS3.18 §10.5) over HTTP: multipart/related uploads stored through the same
ingest pipeline as C-STORE, read back byte for byte with WADO-RS and found with
C-FIND; a per-instance answer (stored, duplicate, failed with its reason); and clear
statuses for malformed multipart, wrong media types, oversized bodies and a study
UID that does not match the URL. Nothing already stored is touched by a bad upload."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid

import pytest

from dxtest import dataset_bytes, dicom_files, dicomgen, findscu, read_dataset

DICOM_TYPE = 'multipart/related; type="application/dicom"; boundary={b}'


def multipart(parts: list[tuple[str, bytes]], boundary: str) -> bytes:
    body = b""
    for content_type, payload in parts:
        body += f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode() + payload + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def post(server, path: str, body: bytes, content_type: str):
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}/dicom-web{path}", data=body, method="POST",
                                     headers={"Content-Type": content_type, "Accept": "application/dicom+json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get(server, path: str, accept: str):
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}/dicom-web{path}", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.headers["Content-Type"], response.read()


def referenced(answer: dict) -> list[str]:
    return [item["00081155"]["Value"][0] for item in answer.get("00081199", {}).get("Value", [])]


def failures(answer: dict) -> list[int]:
    return [item["00081197"]["Value"][0] for item in answer.get("00081198", {}).get("Value", [])]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("stow")
    dicomgen("ct", "--out", root / "a", "--studies", "1", "--slices", "4", "--rows", "64", "--cols", "64", "--seed", "stow-a")
    dicomgen("ct", "--out", root / "b", "--studies", "1", "--slices", "2", "--rows", "64", "--cols", "64", "--seed", "stow-b")
    return dicom_files(root / "a"), dicom_files(root / "b")


def test_stow_stores_every_part_and_they_read_back_identical(module_dxhub, data, tmp_path):
    server = module_dxhub()
    files, _ = data
    boundary = uuid.uuid4().hex
    status, body = post(server, "/studies", multipart([("application/dicom", f.read_bytes()) for f in files], boundary),
                        DICOM_TYPE.format(b=boundary))
    assert status == 200, body
    answer = json.loads(body)
    sent = {str(read_dataset(f).SOPInstanceUID): f for f in files}
    assert sorted(referenced(answer)) == sorted(sent)
    assert "00081198" not in answer
    study = str(read_dataset(files[0]).StudyInstanceUID)
    assert answer["00081190"]["Value"][0].endswith(f"/dicom-web/studies/{study}")
    for item in answer["00081199"]["Value"]:
        assert item["00081150"]["Value"][0] == "1.2.840.10008.5.1.4.1.1.2"
        url = item["00081190"]["Value"][0]
        content_type, payload = get(server, url.split("/dicom-web", 1)[1], 'multipart/related; type="application/dicom"; transfer-syntax=*')
        boundary_back = content_type.split("boundary=")[1].strip('"')
        part = payload.split(f"--{boundary_back}".encode())[1].split(b"\r\n\r\n", 1)[1][:-2]
        assert dataset_bytes(part) == dataset_bytes(sent[item["00081155"]["Value"][0]].read_bytes())
    # The same objects are visible to DIMSE clients.
    [found] = findscu(server, "STUDY", {"StudyInstanceUID": study, "NumberOfStudyRelatedInstances": None})
    assert int(found.NumberOfStudyRelatedInstances) == len(files)


def test_duplicate_identical_upload_is_stored_once_with_a_warning(module_dxhub, data):
    server = module_dxhub()
    files, _ = data
    boundary = uuid.uuid4().hex
    body = multipart([("application/dicom", files[0].read_bytes())], boundary)
    assert post(server, "/studies", body, DICOM_TYPE.format(b=boundary))[0] == 200
    status, answer = post(server, "/studies", body, DICOM_TYPE.format(b=boundary))
    assert status == 200
    [item] = json.loads(answer)["00081199"]["Value"]
    assert item["00081196"]["Value"] == [0xB007]


def test_mixed_good_and_bad_parts_give_202_and_keep_the_good(module_dxhub, data):
    server = module_dxhub()
    files, _ = data
    boundary = uuid.uuid4().hex
    parts = [("application/dicom", files[1].read_bytes()), ("application/dicom", b"this is not DICOM at all" * 20),
             ("text/plain", b"hello"), ("application/dicom", files[2].read_bytes())]
    status, body = post(server, "/studies", multipart(parts, boundary), DICOM_TYPE.format(b=boundary))
    assert status == 202, body
    answer = json.loads(body)
    assert sorted(referenced(answer)) == sorted(str(read_dataset(f).SOPInstanceUID) for f in (files[1], files[2]))
    assert failures(answer) == [0xC000, 0xC000]


def test_study_in_url_must_match(module_dxhub, data):
    server = module_dxhub()
    files_a, files_b = data
    study_a = str(read_dataset(files_a[0]).StudyInstanceUID)
    boundary = uuid.uuid4().hex
    parts = [("application/dicom", files_a[3].read_bytes()), ("application/dicom", files_b[0].read_bytes())]
    status, body = post(server, f"/studies/{study_a}", multipart(parts, boundary), DICOM_TYPE.format(b=boundary))
    assert status == 202
    answer = json.loads(body)
    assert referenced(answer) == [str(read_dataset(files_a[3]).SOPInstanceUID)]
    assert failures(answer) == [0xA900]
    status, body = post(server, f"/studies/{study_a}", multipart(parts[1:], boundary), DICOM_TYPE.format(b=boundary))
    assert status == 409 and failures(json.loads(body)) == [0xA900]


@pytest.mark.parametrize("body,content_type,status,words", [
    (b"--x\r\nContent-Type: application/dicom\r\n\r\nabc", 'multipart/related; type="application/dicom"; boundary=x', 400, "closing boundary"),
    (b"no delimiters here", 'multipart/related; type="application/dicom"; boundary=x', 400, "no boundary"),
    (b"--x--\r\n", 'multipart/related; type="application/dicom"', 400, "boundary"),
    (b"{}", "application/json", 415, "multipart/related"),
    (b"--x\r\n\r\n{}\r\n--x--\r\n", 'multipart/related; type="application/dicom+json"; boundary=x', 415, "application/dicom+json"),
])
def test_malformed_uploads_get_clear_statuses(module_dxhub, body, content_type, status, words):
    server = module_dxhub()
    got, answer = post(server, "/studies", body, content_type)
    assert got == status, answer
    assert words in answer.decode()


def test_oversized_upload_is_refused_and_nothing_is_lost(module_dxhub, data):
    server = module_dxhub("--max-request-bytes", str(8 << 20))
    files, _ = data
    boundary = uuid.uuid4().hex
    assert post(server, "/studies", multipart([("application/dicom", files[0].read_bytes())], boundary),
                DICOM_TYPE.format(b=boundary))[0] == 200
    # A real client announces the size first; the server answers before reading it.
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=30) as connection:
        connection.sendall((f"POST /dicom-web/studies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"Content-Type: {DICOM_TYPE.format(b=boundary)}\r\nContent-Length: {65 << 20}\r\n\r\n").encode()
                           + b"--" + boundary.encode() + b"\r\n")
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    assert b" 413 " in status_line, status_line
    study = str(read_dataset(files[0]).StudyInstanceUID)
    content_type, payload = get(server, f"/studies/{study}", 'multipart/related; type="application/dicom"; transfer-syntax=*')
    assert dataset_bytes(payload.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]) == dataset_bytes(files[0].read_bytes())
