"""WADO-RS pixel resources over HTTP (PS3.18 §10.4, §8.7.3): frames decoded to
little endian or as stored (JPEG, JPEG-LS, RLE, JPEG 2000 bitstreams) by Accept
negotiation, bulk data behind the metadata's BulkDataURIs, rendered studies, series,
instances and frames in JPEG and PNG with window, viewport and quality, thumbnails at
every level, retrieval transcoded to explicit VR little endian, and clear errors for
bad frame numbers, bad parameters, unknown UIDs and unacceptable media types.
Objects arrive by C-STORE (storescu); compressed copies are made with DCMTK's dcmcjpeg
and dcmcrle; pixels are compared with pydicom and the DCMTK decoders, images decoded
with Pillow."""

from __future__ import annotations

import io
import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import generate_pixel_data_frame

from dxtest import dicom_files, dicomgen, read_dataset, run, storescu

OCTET = 'multipart/related; type="application/octet-stream"'
ANY_SYNTAX = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
EXPLICIT_LE = "1.2.840.10008.1.2.1"
LOSSLESS = ["implicit-le", "explicit-le", "explicit-be", "deflate", "jpeg-lossless", "jpeg-lossless-sv1",
            "jpeg-ls-lossless", "rle"]
LOSSY = ["jpeg-baseline", "jpeg-extended", "jpeg-ls-near-lossless"]
ENCAPSULATED = ["jpeg-baseline", "jpeg-extended", "jpeg-lossless", "jpeg-lossless-sv1", "jpeg-ls-lossless",
                "jpeg-ls-near-lossless", "rle", "jpeg2000-lossless", "jpeg2000"]
MEDIA_TYPE = {"jpeg-baseline": "image/jpeg", "jpeg-extended": "image/jpeg", "jpeg-lossless": "image/jpeg",
              "jpeg-lossless-sv1": "image/jpeg", "jpeg-ls-lossless": "image/jls", "jpeg-ls-near-lossless": "image/jls",
              "rle": "image/dicom-rle", "jpeg2000-lossless": "image/jp2", "jpeg2000": "image/jp2"}


def get(server, path: str, accept: str | None = None):
    headers = {"Accept": accept} if accept else {}
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def parts(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """(headers, payload) of each part of a multipart/related body."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type).group(1).encode()
    out = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, payload = chunk.split(b"\r\n\r\n", 1)
        headers = {}
        for line in head.decode().strip().split("\r\n"):
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        out.append((headers, payload[:-2] if payload.endswith(b"\r\n") else payload))
    return out


def payloads(content_type: str, body: bytes) -> list[bytes]:
    return [payload for _, payload in parts(content_type, body)]


def base(ds) -> str:
    return f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"


def syntax_uid(name: str) -> str:
    return {"implicit-le": "1.2.840.10008.1.2", "explicit-le": "1.2.840.10008.1.2.1",
            "explicit-be": "1.2.840.10008.1.2.2", "deflate": "1.2.840.10008.1.2.1.99",
            "jpeg-baseline": "1.2.840.10008.1.2.4.50", "jpeg-extended": "1.2.840.10008.1.2.4.51",
            "jpeg-lossless": "1.2.840.10008.1.2.4.57", "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
            "jpeg-ls-lossless": "1.2.840.10008.1.2.4.80", "jpeg-ls-near-lossless": "1.2.840.10008.1.2.4.81",
            "jpeg2000-lossless": "1.2.840.10008.1.2.4.90", "jpeg2000": "1.2.840.10008.1.2.4.91",
            "rle": "1.2.840.10008.1.2.5"}[name]


def convert(argv: list[str]) -> None:
    result = run(argv, timeout=120)
    assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"


def stored_frames(ds) -> list[bytes]:
    """The compressed bitstream of each frame, as pydicom reads the encapsulated Pixel Data."""
    return list(generate_pixel_data_frame(ds.PixelData, int(getattr(ds, "NumberOfFrames", 1))))


@pytest.fixture(scope="module")
def archive(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("pixels")
    dicomgen("syntaxes", "--out", root / "syntaxes", "--seed", "pixels")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--slices", "3", "--rows", "128", "--cols", "96",
             "--seed", "pixels-ct")
    dicomgen("multiframe", "--out", root / "mf", "--slices", "4", "--rows", "64", "--cols", "48",
             "--seed", "pixels-mf")
    mf_path = dicom_files(root / "mf")[0]
    # Multi-frame compressed copies (new SOP Instance UIDs, same series): with a Basic
    # Offset Table and one fragment per frame; without one and with 1 KiB fragments; RLE.
    copies = root / "copies"
    copies.mkdir()
    convert(["dcmcjpeg", "+e1", "+ua", mf_path, copies / "mf-jpeg-bot.dcm"])
    convert(["dcmcjpeg", "+e1", "+ua", "-ot", "+fs", "1", mf_path, copies / "mf-jpeg-fragments.dcm"])
    convert(["dcmcrle", "+ua", mf_path, copies / "mf-rle.dcm"])
    # An instance with binary values beside Pixel Data (private OB and OW), little and big endian.
    template = read_dataset(dicom_files(root / "ct")[0])
    template.add_new(0x00090010, "LO", "DXHUB TEST")
    template.add_new(0x00091001, "OB", bytes(range(256)) * 8)
    template.add_new(0x00091002, "OW", np.arange(1500, dtype="<u2").tobytes())
    template.SOPInstanceUID = template.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    template.InstanceNumber = 10
    template.save_as(copies / "bulk-le.dcm", write_like_original=False)
    template.SOPInstanceUID = template.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    template.InstanceNumber = 11
    template.save_as(copies / "bulk-le-source.dcm", write_like_original=False)
    convert(["dcmconv", "+tb", copies / "bulk-le-source.dcm", copies / "bulk-be.dcm"])
    (copies / "bulk-le-source.dcm").unlink()

    syntaxes, ct, mf = dicom_files(root / "syntaxes"), dicom_files(root / "ct"), dicom_files(root / "mf")
    server = module_dxhub()
    (root / "work").mkdir()
    outcome = storescu(server, syntaxes + ct + mf + dicom_files(copies), root / "work")
    assert outcome.all_succeeded, outcome.output
    by_syntax = {}
    for path in syntaxes:
        ds = read_dataset(path)
        ds.source_path = path
        by_syntax[str(ds.file_meta.TransferSyntaxUID)] = ds
    named = {path.stem: read_dataset(path) for path in dicom_files(copies)}
    named["mf"] = read_dataset(mf_path)
    return server, by_syntax, [read_dataset(p) for p in ct], named


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


def audit_actions(server) -> list[dict]:
    return [json.loads(line) for line in (server.data_dir / "audit.log").read_text().splitlines()]


# --------------------------------------------------------------------------- frames


@pytest.mark.parametrize("accept", [OCTET, None, f"{OCTET}; transfer-syntax={EXPLICIT_LE}", "*/*"])
@pytest.mark.parametrize("name", LOSSLESS)
def test_uncompressed_frame_is_the_original_pixels(archive, name, accept, tmp_path):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, headers, body = get(server, base(ds) + "/frames/1", accept)
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith('multipart/related; type="application/octet-stream"')
    [(part_headers, frame)] = parts(headers["Content-Type"], body)
    assert part_headers["content-type"] == f"application/octet-stream; transfer-syntax={EXPLICIT_LE}"
    assert part_headers["content-location"].endswith(base(ds) + "/frames/1")
    assert frame == reference_pixels(ds.source_path, tmp_path)


@pytest.mark.parametrize("name", LOSSY)
def test_lossy_frame_is_decoded_to_full_size(archive, name):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, headers, body = get(server, base(ds) + "/frames/1", OCTET)
    assert status == 200, body[:300]
    [frame] = payloads(headers["Content-Type"], body)
    assert len(frame) == ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
    assert len(set(frame)) > 4, "a decoded frame is not blank"


@pytest.mark.parametrize("name", ENCAPSULATED)
def test_any_syntax_gets_the_stored_bitstream(archive, name):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, headers, body = get(server, base(ds) + "/frames/1", ANY_SYNTAX)
    assert status == 200, body[:300]
    [(part_headers, frame)] = parts(headers["Content-Type"], body)
    assert part_headers["content-type"] == f"application/octet-stream; transfer-syntax={syntax_uid(name)}"
    assert frame == stored_frames(ds)[0]


@pytest.mark.parametrize("name", ENCAPSULATED)
def test_the_stored_media_type_gets_the_stored_bitstream(archive, name):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    media = MEDIA_TYPE[name]
    status, headers, body = get(server, base(ds) + "/frames/1", f'multipart/related; type="{media}"')
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith(f'multipart/related; type="{media}"')
    [(part_headers, frame)] = parts(headers["Content-Type"], body)
    assert part_headers["content-type"] == f"{media}; transfer-syntax={syntax_uid(name)}"
    assert frame == stored_frames(ds)[0]
    if name == "jpeg-baseline":
        image = Image.open(io.BytesIO(frame))
        assert image.size == (ds.Columns, ds.Rows)


def test_native_objects_answer_any_syntax_uncompressed(archive, tmp_path):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid("explicit-be")]
    status, headers, body = get(server, base(ds) + "/frames/1", ANY_SYNTAX)
    assert status == 200, body[:300]
    [(part_headers, frame)] = parts(headers["Content-Type"], body)
    assert part_headers["content-type"].endswith(f"transfer-syntax={EXPLICIT_LE}")
    assert frame == reference_pixels(ds.source_path, tmp_path)


def test_frame_lists_come_back_in_the_order_asked(archive):
    server, _, _, named = archive
    mf = named["mf"]
    status, headers, body = get(server, base(mf) + "/frames/3,1", OCTET)
    assert status == 200, body[:300]
    (third_headers, third), (_, first) = parts(headers["Content-Type"], body)
    frames = mf.pixel_array
    assert third == frames[2].tobytes() and first == frames[0].tobytes()
    assert third_headers["content-location"].endswith("/frames/3")


@pytest.mark.parametrize("copy", ["mf-jpeg-bot", "mf-jpeg-fragments", "mf-rle"])
def test_frames_of_compressed_multiframe_objects(archive, copy):
    """Random access to frames: through the Basic Offset Table, or without one over several
    fragments per frame, or one RLE fragment per frame; stored and decoded."""
    server, _, _, named = archive
    ds, original = named[copy], named["mf"].pixel_array
    status, headers, body = get(server, base(ds) + "/frames/4,2", ANY_SYNTAX)
    assert status == 200, body[:300]
    fourth, second = payloads(headers["Content-Type"], body)
    # The JPEG encoder gives the same bitstream whatever the fragmentation.
    expected = stored_frames(named["mf-jpeg-bot"] if copy.startswith("mf-jpeg") else ds)
    assert fourth == expected[3] and second == expected[1]
    status, headers, body = get(server, base(ds) + "/frames/4,2", OCTET)
    assert status == 200, body[:300]
    fourth, second = payloads(headers["Content-Type"], body)
    assert fourth == original[3].tobytes() and second == original[1].tobytes()


def test_several_fragments_per_frame_really_are_stored(archive):
    """The fragmented copy has an empty Basic Offset Table and more fragments than frames."""
    _, _, _, named = archive
    data = named["mf-jpeg-fragments"].PixelData
    items, at = [], 0
    while at + 8 <= len(data) and data[at:at + 4] == b"\xfe\xff\x00\xe0":
        length = int.from_bytes(data[at + 4:at + 8], "little")
        items.append(length)
        at += 8 + length
    assert items[0] == 0, "no Basic Offset Table"
    assert len(items) - 1 > int(named["mf-jpeg-fragments"].NumberOfFrames)


@pytest.mark.parametrize("name", ["jpeg2000-lossless", "jpeg2000"])
def test_jpeg_2000_frames_are_refused_uncompressed_and_served_as_stored(archive, name):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, _, body = get(server, base(ds) + "/frames/1", OCTET)
    assert status == 406 and syntax_uid(name).encode() in body and b"cannot decode" in body
    status, headers, body = get(server, base(ds) + "/frames/1")
    assert status == 200 and headers["Content-Type"].startswith('multipart/related; type="image/jp2"')


# --------------------------------------------------------------------------- bulk data


def bulk_uris(server, ds) -> dict[str, str]:
    status, _, body = get(server, f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/metadata")
    assert status == 200, body[:300]
    [instance] = [i for i in json.loads(body) if i["00080018"]["Value"][0] == ds.SOPInstanceUID]
    return {tag: value["BulkDataURI"] for tag, value in instance.items() if "BulkDataURI" in value}


def fetch_uri(server, uri: str, accept: str | None = None):
    url = urllib.parse.urlsplit(uri)
    assert url.path.startswith("/dicom-web/"), uri
    return get(server, url.path, accept)


@pytest.mark.parametrize("copy", ["bulk-le", "bulk-be"])
def test_bulk_data_uris_from_the_metadata_resolve(archive, copy):
    server, _, _, named = archive
    ds = named[copy]
    uris = bulk_uris(server, ds)
    assert set(uris) == {"00091001", "00091002", "7FE00010"}
    expected = {"00091001": bytes(range(256)) * 8, "00091002": np.arange(1500, dtype="<u2").tobytes(),
                "7FE00010": ds.pixel_array.astype("<u2").tobytes()}
    for tag, uri in uris.items():
        status, headers, body = fetch_uri(server, uri)
        assert status == 200, body[:300]
        assert headers["Content-Type"].startswith('multipart/related; type="application/octet-stream"')
        [(part_headers, value)] = parts(headers["Content-Type"], body)
        assert value == expected[tag], f"{copy} {tag}"
        assert part_headers["content-location"].endswith(f"/bulk/{tag}")


def test_compressed_pixel_data_bulk_is_decoded_or_stored_per_frame(archive):
    server, _, _, named = archive
    ds = named["mf-rle"]
    uri = bulk_uris(server, ds)["7FE00010"]
    status, headers, body = fetch_uri(server, uri, OCTET)
    assert status == 200, body[:300]
    [whole] = payloads(headers["Content-Type"], body)
    assert whole == named["mf"].pixel_array.tobytes()
    status, headers, body = fetch_uri(server, uri, ANY_SYNTAX)
    assert status == 200, body[:300]
    assert payloads(headers["Content-Type"], body) == stored_frames(ds)


@pytest.mark.parametrize("tag,status,words", [
    ("7FE0001", 400, "8 hexadecimal digits"),
    ("ZZZZ0010", 400, "8 hexadecimal digits"),
    ("00091003", 404, "no binary element"),
    ("00100010", 404, "no binary element"),
])
def test_bad_bulk_data_requests(archive, tag, status, words):
    server, _, _, named = archive
    got, _, body = get(server, base(named["bulk-le"]) + f"/bulk/{tag}")
    assert got == status, body[:300]
    assert words in json.loads(body)["detail"]


def test_bulk_data_of_an_unknown_instance_is_404(archive):
    server, _, ct, _ = archive
    ds = ct[0]
    path = f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/1.2.3/bulk/7FE00010"
    assert get(server, path)[0] == 404


# --------------------------------------------------------------------------- rendered


def png(server, path: str) -> np.ndarray:
    status, headers, body = get(server, path, "image/png")
    assert status == 200 and headers["Content-Type"] == "image/png", body[:300]
    return np.asarray(Image.open(io.BytesIO(body)))


def test_rendered_jpeg_and_png_with_viewport_window_and_quality(archive):
    server, _, ct, _ = archive
    ds = ct[0]
    status, headers, body = get(server, base(ds) + "/rendered", "image/jpeg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(body))
    assert image.size == (96, 128)
    assert len(set(image.getdata())) > 10, "the rendered image must not be blank"

    small = png(server, base(ds) + "/rendered?viewport=48,48")
    assert small.shape == (48, 36), "fits inside the viewport keeping the aspect ratio"
    assert png(server, base(ds) + "/rendered?viewport=,64").shape == (64, 48), "an empty vw leaves the width free"

    narrow = png(server, base(ds) + "/rendered?window=40,80")
    wide = png(server, base(ds) + "/rendered?window=40,4000")
    assert narrow.std() != pytest.approx(wide.std(), rel=0.05), "the window must change the rendering"
    sigmoid = png(server, base(ds) + "/rendered?window=40,80,sigmoid")
    assert not np.array_equal(sigmoid, narrow), "the sigmoid function must change the rendering"
    exact = png(server, base(ds) + "/rendered?window=40,80,linear-exact")
    assert exact.shape == narrow.shape

    high = get(server, base(ds) + "/rendered?quality=95")[2]
    low = get(server, base(ds) + "/rendered?quality=5")[2]
    assert len(low) < len(high)


def test_rendered_region_crops_and_flips(archive):
    server, _, ct, _ = archive
    ds = ct[0]
    whole = png(server, base(ds) + "/rendered")
    crop = png(server, base(ds) + "/rendered?viewport=48,64,10,20,48,64")
    assert np.array_equal(crop, whole[20:84, 10:58]), "a region the viewport's size is cut out unscaled"
    flipped = png(server, base(ds) + "/rendered?viewport=96,128,96,0,-96,128")
    assert np.array_equal(flipped, whole[:, ::-1]), "a negative sw flips horizontally"
    assert png(server, base(ds) + "/rendered?viewport=24,32,0,0,48,64").shape == (32, 24)
    status, _, body = get(server, base(ds) + "/rendered?viewport=10,10,90,0,20,20")
    assert status == 400 and b"not inside" in body


def test_rendered_frame_of_a_multiframe_object(archive):
    server, _, _, named = archive
    for copy in ("mf", "mf-jpeg-fragments"):
        status, headers, body = get(server, base(named[copy]) + "/frames/2/rendered")
        assert status == 200 and body[:2] == b"\xff\xd8", body[:300]
    first = png(server, base(named["mf"]) + "/frames/1/rendered")
    second = png(server, base(named["mf"]) + "/frames/2/rendered")
    assert not np.array_equal(first, second), "each frame renders its own pixels"
    assert np.array_equal(second, png(server, base(named["mf-rle"]) + "/frames/2/rendered"))


@pytest.mark.parametrize("level", ["study", "series"])
def test_rendered_study_and_series_have_one_image_per_instance(archive, level):
    server, _, ct, named = archive
    ds = ct[0]
    path = f"/dicom-web/studies/{ds.StudyInstanceUID}"
    if level == "series":
        path += f"/series/{ds.SeriesInstanceUID}"
    status, headers, body = get(server, path + "/rendered?viewport=32,32", 'multipart/related; type="image/png"')
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith('multipart/related; type="image/png"')
    images = parts(headers["Content-Type"], body)
    in_series = ct + [named["bulk-le"], named["bulk-be"]]
    assert len(images) == len(in_series)
    for part_headers, payload in images:
        assert part_headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(payload)).size == (24, 32)
    assert [h["content-location"].split("/instances/")[1] for h, _ in images] == [
        f"{d.SOPInstanceUID}/rendered" for d in sorted(in_series, key=lambda d: int(d.InstanceNumber))]


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


def test_a_series_thumbnail_shows_the_middle_instance(archive):
    server, _, ct, named = archive
    ds = ct[0]
    in_series = sorted(ct + [named["bulk-le"], named["bulk-be"]], key=lambda d: int(d.InstanceNumber))
    middle = in_series[len(in_series) // 2]
    series = f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
    thumbnail = png(server, series + "/thumbnail")
    assert np.array_equal(thumbnail, png(server, base(middle) + "/thumbnail"))
    assert not np.array_equal(thumbnail, png(server, base(in_series[0]) + "/thumbnail"))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("suffix,accept,status,words", [
    ("/frames/9", OCTET, 400, "frame 9 does not exist"),
    ("/frames/0", OCTET, 400, "positive whole numbers"),
    ("/frames/1,x", OCTET, 400, "positive whole numbers"),
    ("/frames/1.5", OCTET, 400, "positive whole numbers"),
    ("/frames/1", "image/jpeg", 406, "application/octet-stream"),
    ("/frames/1", 'multipart/related; type="image/jpeg"', 406, "uncompressed"),
    ("/frames/1", f"{OCTET}; transfer-syntax=1.2.840.10008.1.2.4.50", 406, "application/octet-stream"),
    ("/frames/1", f"{OCTET}; q=0", 406, "application/octet-stream"),
    ("/frames/2/rendered", None, 400, "frame 2 does not exist"),
    ("/frames/1,2/rendered", None, 400, "one frame at a time"),
    ("/rendered?window=40", None, 400, "window"),
    ("/rendered?window=40,-5", None, 400, "window"),
    ("/rendered?window=40,80,cubic", None, 400, "function"),
    ("/rendered?viewport=0,10", None, 400, "viewport"),
    ("/rendered?viewport=10", None, 400, "viewport"),
    ("/rendered?viewport=10,10,0,0,0,5", None, 400, "viewport"),
    ("/rendered?quality=101", None, 400, "quality"),
    ("/rendered?quality=high", None, 400, "quality"),
    ("/rendered", "application/pdf", 406, "image/jpeg"),
    ("/thumbnail", "text/html", 406, "image/jpeg"),
])
def test_bad_pixel_requests_get_clear_errors(archive, suffix, accept, status, words):
    server, _, ct, _ = archive
    got, headers, body = get(server, base(ct[0]) + suffix, accept)
    assert got == status, body[:300]
    assert headers["Content-Type"] == "application/problem+json"
    assert words in json.loads(body)["detail"]


def test_unknown_rendering_parameters_are_ignored(archive):
    """PS3.18 §8.3: an origin server ignores query parameters it does not support."""
    server, _, ct, _ = archive
    status, _, body = get(server, base(ct[0]) + "/rendered?annotation=patient&colour=red")
    assert status == 200 and body[:2] == b"\xff\xd8"


def test_unknown_uids_are_404(archive):
    server, _, ct, _ = archive
    ds = ct[0]
    study, series = ds.StudyInstanceUID, ds.SeriesInstanceUID
    for path in [f"/dicom-web/studies/{study}/series/{series}/instances/1.2.3/frames/1",
                 f"/dicom-web/studies/1.2.3/series/{series}/instances/{ds.SOPInstanceUID}/rendered",
                 f"/dicom-web/studies/{study}/series/1.2.3/instances/{ds.SOPInstanceUID}/thumbnail",
                 "/dicom-web/studies/1.2.3/thumbnail", "/dicom-web/studies/1.2.3/rendered",
                 f"/dicom-web/studies/{study}/series/1.2.3/rendered"]:
        status, _, body = get(server, path, OCTET if "/frames/1" in path else None)
        assert status == 404, (path, body[:300])


def test_pixel_access_is_audited(archive):
    server, _, ct, named = archive
    ds = ct[2]
    get(server, base(ds) + "/frames/1", OCTET)
    get(server, base(ds) + "/rendered")
    get(server, base(named["bulk-le"]) + "/bulk/00091001")
    get(server, f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/1.2.3/frames/1")
    entries = audit_actions(server)
    for action, instance in [("dicomweb.frames", ds.SOPInstanceUID), ("dicomweb.rendered", ds.SOPInstanceUID),
                             ("dicomweb.bulkdata", named["bulk-le"].SOPInstanceUID)]:
        assert any(e.get("action") == action and f"instance:{instance}" in e.get("entities", [])
                   and str(e.get("outcome", "")).startswith("success") for e in entries), action
    assert any(e.get("action") == "dicomweb.frames" and "instance:1.2.3" in e.get("entities", [])
               and "no instance" in e.get("outcome", "") for e in entries)


# --------------------------------------------------------------------------- transcoding


@pytest.mark.parametrize("name", ["jpeg-lossless", "jpeg-ls-lossless", "rle", "explicit-be", "implicit-le",
                                  "deflate", "jpeg-baseline"])
def test_retrieve_transcodes_to_explicit_little_endian_when_asked(archive, name, tmp_path):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    accept = f'multipart/related; type="application/dicom"; transfer-syntax={EXPLICIT_LE}'
    status, headers, body = get(server, base(ds), accept)
    assert status == 200, body[:300]
    [(part_headers, payload)] = parts(headers["Content-Type"], body)
    assert part_headers["content-type"] == f"application/dicom; transfer-syntax={EXPLICIT_LE}"
    got = pydicom.dcmread(io.BytesIO(payload))
    assert str(got.file_meta.TransferSyntaxUID) == EXPLICIT_LE
    assert got.SOPInstanceUID == ds.SOPInstanceUID and got.PatientID == ds.PatientID
    if name in LOSSLESS:
        assert bytes(got.PixelData) == reference_pixels(ds.source_path, tmp_path)
    else:
        assert len(got.PixelData) == ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
    # With transfer-syntax=* compressed objects go as stored; implicit VR and big endian
    # never do (PS3.18 §8.7.3: web services do not use those syntaxes).
    status, headers, body = get(server, base(ds), 'multipart/related; type="application/dicom"; transfer-syntax=*')
    [(part_headers, payload)] = parts(headers["Content-Type"], body)
    expected = EXPLICIT_LE if name in ("explicit-be", "implicit-le") else syntax_uid(name)
    assert status == 200 and part_headers["content-type"] == f"application/dicom; transfer-syntax={expected}"
    if expected == syntax_uid(name):
        assert pydicom.dcmread(io.BytesIO(payload)).PixelData == ds.PixelData, "as stored means unchanged"


def test_retrieve_transcodes_a_compressed_multiframe_object(archive):
    server, _, _, named = archive
    ds = named["mf-jpeg-fragments"]
    status, headers, body = get(server, base(ds), f'multipart/related; type="application/dicom"; '
                                                  f'transfer-syntax={EXPLICIT_LE}')
    assert status == 200, body[:300]
    [payload] = payloads(headers["Content-Type"], body)
    got = pydicom.dcmread(io.BytesIO(payload))
    assert str(got.file_meta.TransferSyntaxUID) == EXPLICIT_LE
    assert np.array_equal(got.pixel_array, named["mf"].pixel_array)


@pytest.mark.parametrize("name", ["jpeg2000-lossless", "jpeg2000"])
def test_retrieve_refuses_a_syntax_it_cannot_produce(archive, name):
    server, by_syntax, _, _ = archive
    ds = by_syntax[syntax_uid(name)]
    status, _, body = get(server, base(ds), f'multipart/related; type="application/dicom"; transfer-syntax={EXPLICIT_LE}')
    assert status == 406 and syntax_uid(name).encode() in body
