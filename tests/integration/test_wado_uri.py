"""WADO-URI (PS3.18 §9) for older clients: the stored object, transcoding on request,
rendered JPEG and PNG with window, size and quality, and clear errors for missing,
malformed and unsupported parameters. Objects arrive by C-STORE (storescu)."""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import pydicom
import pytest
from PIL import Image

from dxtest import dataset_bytes, dicom_files, dicomgen, read_dataset, storescu


def get(server, query: str):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/wado?{query}", timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def uids(ds) -> str:
    return f"requestType=WADO&studyUID={ds.StudyInstanceUID}&seriesUID={ds.SeriesInstanceUID}&objectUID={ds.SOPInstanceUID}"


@pytest.fixture(scope="module")
def archive(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("wado-uri")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--slices", "2", "--rows", "64", "--cols", "80",
             "--seed", "wado-uri")
    dicomgen("syntaxes", "--out", root / "syntaxes", "--seed", "wado-uri", "--only", "rle")
    files = dicom_files(root / "ct") + dicom_files(root / "syntaxes")
    server = module_dxhub()
    (root / "work").mkdir()
    assert storescu(server, files, root / "work").all_succeeded
    ct = read_dataset(dicom_files(root / "ct")[0])
    ct.source_path = dicom_files(root / "ct")[0]
    rle = read_dataset(dicom_files(root / "syntaxes")[0])
    return server, ct, rle


def test_application_dicom_returns_the_stored_object(archive):
    server, ct, _ = archive
    status, content_type, body = get(server, uids(ct) + "&contentType=application/dicom")
    assert status == 200 and content_type == "application/dicom"
    assert dataset_bytes(body) == dataset_bytes(ct.source_path.read_bytes())


def test_transfer_syntax_explicit_little_endian_transcodes(archive):
    server, _, rle = archive
    status, _, body = get(server, uids(rle) + "&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.1")
    assert status == 200
    got = pydicom.dcmread(io.BytesIO(body))
    assert str(got.file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.1"
    assert len(got.PixelData) == rle.Rows * rle.Columns * rle.BitsAllocated // 8


def test_default_is_a_rendered_jpeg_and_parameters_apply(archive):
    server, ct, _ = archive
    status, content_type, body = get(server, uids(ct))
    assert status == 200 and content_type == "image/jpeg"
    assert Image.open(io.BytesIO(body)).size == (80, 64)
    status, content_type, body = get(server, uids(ct) + "&contentType=image/png&rows=32&columns=32")
    assert status == 200 and content_type == "image/png"
    assert Image.open(io.BytesIO(body)).size == (32, 26)
    narrow = get(server, uids(ct) + "&contentType=image/png&windowCenter=40&windowWidth=80")[2]
    wide = get(server, uids(ct) + "&contentType=image/png&windowCenter=40&windowWidth=4000")[2]
    assert narrow != wide
    assert len(get(server, uids(ct) + "&imageQuality=5")[2]) < len(get(server, uids(ct) + "&imageQuality=95")[2])


@pytest.mark.parametrize("query,status,words", [
    ("studyUID=1.2&seriesUID=1.2&objectUID=1.2", 400, "requestType"),
    ("requestType=WADO&seriesUID=1.2&objectUID=1.2", 400, "studyUID"),
    ("requestType=WADO&studyUID=1.2&seriesUID=1.2&objectUID=abc", 400, "not a valid UID"),
    ("requestType=WADO&studyUID=1.2&seriesUID=1.2&objectUID=1.2", 404, "no object"),
    ("{uids}&contentType=video/mpeg", 406, "contentType"),
    ("{uids}&windowCenter=40", 400, "go together"),
    ("{uids}&imageQuality=0", 400, "imageQuality"),
    ("{uids}&frameNumber=3", 400, "frame 3 does not exist"),
    ("{uids}&region=0,0,1,1", 400, "not supported"),
    ("{uids}&colour=red", 400, "unknown WADO-URI parameter"),
    ("{uids}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.4.50", 406, "stored as"),
])
def test_bad_wado_uri_requests_get_clear_errors(archive, query, status, words):
    server, ct, _ = archive
    got, _, body = get(server, query.replace("{uids}", uids(ct)))
    assert got == status, body[:300]
    assert words in body.decode()
