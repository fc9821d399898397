"""WADO-RS pixel resources over HTTP (PS3.18 §10.4.1): frames as uncompressed bytes
from every stored transfer syntax dxhub can decode, rendered frames in JPEG and PNG
with window, viewport and quality, thumbnails at every level, and clear errors for
bad frame numbers, bad parameters, unknown UIDs and unacceptable media types.
Objects arrive by C-STORE (storescu); images are decoded with Pillow and pixels
compared with pydicom."""

from __future__ import annotations

import io
import re
import subprocess
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from dxtest import dicom_files, dicomgen, read_dataset, storescu

OCTET = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
LOSSLESS = ["implicit-le", "explicit-le", "explicit-be", "deflate", "jpeg-lossless", "jpeg-lossless-sv1",
            "jpeg-ls-lossless", "rle"]
LOSSY = ["jpeg-baseline", "jpeg-extended", "jpeg-ls-near-lossless"]


def get(server, path: str, accept: str | None = None):
    headers = {"Accept": accept} if accept else {}
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def parts(content_type: str, body: bytes) -> list[bytes]:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type).group(1).encode()
    out = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        payload = chunk.split(b"\r\n\r\n", 1)[1]
        out.append(payload[:-2] if payload.endswith(b"\r\n") else payload)
    return out


def base(ds) -> str:
    return f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"


@pytest.fixture(scope="module")
def archive(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("pixels")
    dicomgen("syntaxes", "--out", root / "syntaxes", "--seed", "pixels")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--slices", "3", "--rows", "128", "--cols", "96",
             "--seed", "pixels-ct")
    dicomgen("multiframe", "--out", root / "mf", "--slices", "4", "--seed", "pixels-mf")
    files = dicom_files(root / "syntaxes") + dicom_files(root / "ct") + dicom_files(root / "mf")
    server = module_dxhub()
    (root / "work").mkdir()
    outcome = storescu(server, files, root / "work")
    assert outcome.all_succeeded, outcome.output
    by_syntax = {}
    for path in dicom_files(root / "syntaxes"):
        ds = read_dataset(path)
        ds.source_path = path
        by_syntax[str(ds.file_meta.TransferSyntaxUID)] = ds
    ct = []
    for path in dicom_files(root / "ct"):
        ds = read_dataset(path)
        ds.source_path = path
        ct.append(ds)
    mf = read_dataset(dicom_files(root / "mf")[0])
    return server, by_syntax, ct, mf


def syntax_uid(name: str) -> str:
    return {"implicit-le": "1.2.840.10008.1.2", "explicit-le": "1.2.840.10008.1.2.1",
            "explicit-be": "1.2.840.10008.1.2.2", "deflate": "1.2.840.10008.1.2.1.99",
            "jpeg-baseline": "1.2.840.10008.1.2.4.50", "jpeg-extended": "1.2.840.10008.1.2.4.51",
            "jpeg-lossless": "1.2.840.10008.1.2.4.57", "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
            "jpeg-ls-lossless": "1.2.840.10008.1.2.4.80", "jpeg-ls-near-lossless": "1.2.840.10008.1.2.4.81",
            "jpeg2000-lossless": "1.2.840.10008.1.2.4.90", "rle": "1.2.840.10008.1.2.5"}[name]


def reference_pixels(path, tmp_path) -> bytes:
    """The file's pixels as explicit VR little endian, decoded by the DCMTK command-line
    tools (dcmdjpeg, dcmdjpls, dcmdrle, dcmconv), read back with pydicom."""
    syntax = str(read_dataset(path).file_meta.TransferSyntaxUID)
    tool = {"1.2.840.10008.1.2.4.57": "dcmdjpeg", "1.2.840.10008.1.2.4.70": "dcmdjpeg",
            "1.2.840.10008.1.2.4.80": "dcmdjpls", "1.2.840.10008.1.2.5": "dcmdrle"}.get(syntax)
    out = tmp_path / "reference.dcm"
    argv = [tool, str(path), str(out)] if tool else ["dcmconv", "+te", str(path), str(out)]
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return bytes(read_dataset(out).PixelData)


@pytest.mark.parametrize("name", LOSSLESS)
def test_frame_of_a_lossless_syntax_is_the_original_pixels(archive, name, tmp_path):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, headers, body = get(server, base(ds) + "/frames/1", OCTET)
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith('multipart/related; type="application/octet-stream"')
    [frame] = parts(headers["Content-Type"], body)
    assert frame == reference_pixels(ds.source_path, tmp_path)


@pytest.mark.parametrize("name", LOSSY)
def test_frame_of_a_lossy_syntax_is_decoded_to_full_size(archive, name):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, headers, body = get(server, base(ds) + "/frames/1", OCTET)
    assert status == 200, body[:300]
    [frame] = parts(headers["Content-Type"], body)
    assert len(frame) == ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8


def test_frame_lists_come_back_in_the_order_asked(archive):
    server, _, _, mf = archive
    status, headers, body = get(server, base(mf) + "/frames/3,1", OCTET)
    assert status == 200, body[:300]
    third, first = parts(headers["Content-Type"], body)
    frames = mf.pixel_array
    assert third == frames[2].tobytes() and first == frames[0].tobytes()


def test_rendered_jpeg_and_png_with_viewport_window_and_quality(archive):
    server, _, ct, _ = archive
    ds = ct[0]
    status, headers, body = get(server, base(ds) + "/rendered", "image/jpeg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(body))
    assert image.size == (96, 128)
    assert len(set(image.getdata())) > 10, "the rendered image must not be blank"

    status, headers, body = get(server, base(ds) + "/rendered?viewport=48,48", "image/png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    small = Image.open(io.BytesIO(body))
    assert small.size == (36, 48), "fits inside the viewport keeping the aspect ratio"

    narrow = np.asarray(Image.open(io.BytesIO(get(server, base(ds) + "/rendered?window=40,80", "image/png")[2])))
    wide = np.asarray(Image.open(io.BytesIO(get(server, base(ds) + "/rendered?window=40,4000", "image/png")[2])))
    assert narrow.std() != pytest.approx(wide.std(), rel=0.05), "the window must change the rendering"

    high = get(server, base(ds) + "/rendered?quality=95")[2]
    low = get(server, base(ds) + "/rendered?quality=5")[2]
    assert len(low) < len(high)


def test_rendered_frame_of_a_multiframe_object(archive):
    server, _, _, mf = archive
    status, headers, body = get(server, base(mf) + "/frames/2/rendered")
    assert status == 200 and body[:2] == b"\xff\xd8"


@pytest.mark.parametrize("level", ["study", "series", "instance", "frame"])
def test_thumbnails_at_every_level(archive, level):
    server, _, ct, _ = archive
    ds = ct[0]
    path = {"study": f"/dicom-web/studies/{ds.StudyInstanceUID}",
            "series": f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}",
            "instance": base(ds), "frame": base(ds) + "/frames/1"}[level]
    status, headers, body = get(server, path + "/thumbnail", "image/jpeg")
    assert status == 200, body[:300]
    image = Image.open(io.BytesIO(body))
    assert max(image.size) == 128


@pytest.mark.parametrize("suffix,accept,status,words", [
    ("/frames/9", OCTET, 400, "frame 9 does not exist"),
    ("/frames/0", OCTET, 400, "positive whole numbers"),
    ("/frames/1,x", OCTET, 400, "positive whole numbers"),
    ("/frames/1", "image/jpeg", 406, "uncompressed"),
    ("/rendered?window=40", None, 400, "window"),
    ("/rendered?window=40,-5", None, 400, "window"),
    ("/rendered?viewport=0,10", None, 400, "viewport"),
    ("/rendered?quality=101", None, 400, "quality"),
    ("/rendered?colour=red", None, 400, "unknown rendering parameter"),
    ("/rendered", "application/pdf", 406, "image/jpeg"),
])
def test_bad_pixel_requests_get_clear_errors(archive, suffix, accept, status, words):
    server, _, ct, _ = archive
    got, _, body = get(server, base(ct[0]) + suffix, accept)
    assert got == status, body[:300]
    assert words in body.decode()


def test_unknown_uids_are_404(archive):
    server, _, ct, _ = archive
    ds = ct[0]
    assert get(server, f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/1.2.3/frames/1",
               OCTET)[0] == 404
    assert get(server, f"/dicom-web/studies/1.2.3/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}/rendered")[0] == 404
    assert get(server, "/dicom-web/studies/1.2.3/thumbnail")[0] == 404


def test_jpeg_2000_frames_are_refused_plainly(archive):
    server, by_syntax, _, _ = archive
    ds = by_syntax.get("1.2.840.10008.1.2.4.90")
    if ds is None:
        pytest.skip("gdcmconv did not produce a JPEG 2000 object")
    status, _, body = get(server, base(ds) + "/frames/1", OCTET)
    assert status == 406 and b"1.2.840.10008.1.2.4.90" in body


@pytest.mark.parametrize("name", ["jpeg-lossless", "jpeg-ls-lossless", "rle", "explicit-be", "deflate", "jpeg-baseline"])
def test_retrieve_transcodes_to_explicit_little_endian_when_asked(archive, name, tmp_path):
    import pydicom
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1'
    status, headers, body = get(server, base(ds), accept)
    assert status == 200, body[:300]
    [payload] = parts(headers["Content-Type"], body)
    assert b"transfer-syntax=1.2.840.10008.1.2.1" in body.split(b"\r\n\r\n", 1)[0]
    got = pydicom.dcmread(io.BytesIO(payload))
    assert str(got.file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.1"
    assert got.SOPInstanceUID == ds.SOPInstanceUID
    if name in LOSSLESS:
        assert bytes(got.PixelData) == reference_pixels(ds.source_path, tmp_path)
    else:
        assert len(got.PixelData) == ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
    # The stored syntax is still served as it is when that is what the client takes.
    status, headers, body = get(server, base(ds), 'multipart/related; type="application/dicom"; transfer-syntax=*')
    assert status == 200 and f"transfer-syntax={syntax_uid(name)}".encode() in body[:400]


def test_retrieve_refuses_a_syntax_it_cannot_produce(archive):
    server, by_syntax, _, _ = archive
    ds = by_syntax.get("1.2.840.10008.1.2.4.90")
    if ds is None:
        pytest.skip("gdcmconv did not produce a JPEG 2000 object")
    status, _, body = get(server, base(ds), 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1')
    assert status == 406 and b"1.2.840.10008.1.2.4.90" in body


def test_bulk_data_uris_from_metadata_resolve(archive, tmp_path):
    """A client takes the BulkDataURI from series metadata and fetches it as is."""
    import json
    server, by_syntax, ct, _ = archive
    for ds in (ct[0], by_syntax[syntax_uid("rle")]):
        status, _, body = get(server, f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/metadata")
        assert status == 200
        [entry] = [i for i in json.loads(body) if i["00080018"]["Value"][0] == ds.SOPInstanceUID]
        uri = entry["7FE00010"]["BulkDataURI"]
        assert uri.startswith(f"http://127.0.0.1:{server.http_port}/dicom-web/studies/"), uri
        with urllib.request.urlopen(uri, timeout=60) as response:
            content_type, payload = response.headers["Content-Type"], response.read()
        [value] = parts(content_type, payload)
        assert value == reference_pixels(ds.source_path, tmp_path)
    status, _, body = get(server, base(ct[0]) + "/bulk/7FE0001X")
    assert status == 400 and b"GGGGEEEE" in body
    status, _, body = get(server, base(ct[0]) + "/bulk/00091234")
    assert status == 404
