"""The HTTP layer every web service shares, over real sockets: keep-alive, request
size limits, gzip when the client accepts it (whole and streamed answers), CORS for
configured origins (preflight and simple requests), OPTIONS with Allow, and the
DICOMweb capabilities description (PS3.18 §8.9, a WADL document)."""

from __future__ import annotations

import gzip
import http.client
import json
import xml.etree.ElementTree as ET

import pytest

from dxtest import dicom_files, dicomgen, read_dataset, storescu

VIEWER = "http://viewer.example:3000"
WADL = "{http://wadl.dev.java.net/2009/02}"


def request(server, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
            connection: http.client.HTTPConnection | None = None):
    conn = connection or http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if connection is None:
        conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.fixture(scope="module")
def archive(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("http")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--series", "1", "--slices", "40",
             "--rows", "32", "--cols", "32", "--seed", "http-layer")
    files = dicom_files(root / "ct")
    server = module_dxhub("--cors-origin", VIEWER, "--max-request-bytes", "100000")
    work = root / "work"
    work.mkdir()
    outcome = storescu(server, files, work)
    assert outcome.all_succeeded, outcome.output
    return server, [read_dataset(p) for p in files]


def series_path(datasets) -> str:
    ds = datasets[0]
    return f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"


def test_gzip_is_used_only_when_accepted_and_gives_the_same_answer(archive):
    server, datasets = archive
    path = series_path(datasets) + "/metadata"
    status, plain_headers, plain = request(server, "GET", path)
    assert status == 200
    assert "content-encoding" not in plain_headers
    assert "Accept-Encoding" in plain_headers.get("vary", "")
    status, headers, packed = request(server, "GET", path, {"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert len(packed) < len(plain) / 4, (len(packed), len(plain))
    assert json.loads(gzip.decompress(packed)) == json.loads(plain)
    assert len(json.loads(plain)) == len(datasets)
    status, headers, refused = request(server, "GET", path, {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in headers and refused == plain


def test_gzip_leaves_dicom_objects_alone(archive):
    server, datasets = archive
    ds = datasets[0]
    path = series_path(datasets) + f"/instances/{ds.SOPInstanceUID}"
    status, headers, body = request(server, "GET", path, {"Accept-Encoding": "gzip",
                                                           "Accept": "multipart/related; type=\"application/dicom\""})
    assert status == 200
    assert "content-encoding" not in headers
    assert headers["content-type"].startswith("multipart/related")
    assert b"DICM" in body


def test_keep_alive_serves_many_requests_on_one_connection(archive):
    server, datasets = archive
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    try:
        conn.connect()
        local = conn.sock.getsockname()
        for _ in range(20):
            status, _, body = request(server, "GET", "/dicom-web/studies", connection=conn)
            assert status == 200 and json.loads(body)
            assert conn.sock is not None and conn.sock.getsockname() == local  # same TCP connection
    finally:
        conn.close()


def test_oversized_request_is_refused_with_413_and_nothing_changes(archive):
    server, datasets = archive
    body = b"x" * 200_000
    status, headers, answer = request(server, "POST", "/dicom-web/studies", {
        "Content-Type": "multipart/related; type=\"application/dicom\"; boundary=b"}, body)
    assert status == 413
    assert "limit" in json.loads(answer)["detail"]
    status, _, studies = request(server, "GET", "/dicom-web/studies")
    assert status == 200 and len(json.loads(studies)) == 1


def test_cors_preflight_and_simple_request_for_a_configured_origin(archive):
    server, datasets = archive
    path = series_path(datasets) + "/metadata"
    status, headers, body = request(server, "OPTIONS", path, {
        "Origin": VIEWER, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept, authorization"})
    assert status == 204, body
    assert headers["access-control-allow-origin"] == VIEWER
    assert "GET" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "accept, authorization"
    assert int(headers["access-control-max-age"]) > 0
    status, headers, _ = request(server, "GET", path, {"Origin": VIEWER})
    assert status == 200
    assert headers["access-control-allow-origin"] == VIEWER
    assert "Origin" in headers["vary"]
    assert "Warning" in headers["access-control-expose-headers"]


def test_cors_headers_are_withheld_from_other_origins(archive):
    server, _ = archive
    status, headers, _ = request(server, "GET", "/dicom-web/studies", {"Origin": "http://elsewhere.example"})
    assert status == 200
    assert "access-control-allow-origin" not in headers


def test_cors_is_off_unless_configured(dxhub):
    server = dxhub()
    status, headers, _ = request(server, "GET", "/dicom-web/studies", {"Origin": VIEWER})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_a_bad_cors_origin_stops_start_up(dxhub):
    server = dxhub("--cors-origin", "viewer.example/path", start=False)
    with pytest.raises(RuntimeError, match="ready line"):
        server.start(timeout=20)
    assert "cors-origin" in server.log_tail()


def test_options_lists_allowed_methods(archive):
    server, _ = archive
    status, headers, _ = request(server, "OPTIONS", "/cds-services")
    assert status == 204
    assert headers["allow"] == "GET, HEAD, OPTIONS"
    status, headers, _ = request(server, "DELETE", "/dicom-web/studies")
    assert status == 405
    assert "POST" in headers["allow"] and "GET" in headers["allow"]


def walk(resource, prefix=""):
    """(path, method id) pairs of a WADL resource tree."""
    path = f"{prefix}/{resource.get('path')}" if prefix else resource.get("path")
    for method in resource.findall(f"{WADL}method"):
        yield path, method.get("name"), method.get("id")
    for child in resource.findall(f"{WADL}resource"):
        yield from walk(child, path)


def test_capabilities_describe_the_services_that_answer(archive):
    server, datasets = archive
    status, headers, body = request(server, "OPTIONS", "/dicom-web", {"Accept": "application/vnd.sun.wadl+xml"})
    assert status == 200
    assert headers["content-type"].startswith("application/vnd.sun.wadl+xml")
    root = ET.fromstring(body)
    resources = root.find(f"{WADL}resources")
    assert resources.get("base") == f"http://127.0.0.1:{server.http_port}/dicom-web"
    methods = [m for r in resources.findall(f"{WADL}resource") for m in walk(r)]
    ids = {m[2] for m in methods}
    for expected in ("SearchForStudies", "StoreInstances", "RetrieveSeriesMetadata", "RetrieveInstanceMetadata",
                     "RetrieveFrames", "RetrieveRenderedInstance", "RetrieveStudyThumbnail"):
        assert expected in ids
    # Every GET the description names answers on the real server (templates filled in).
    ds = datasets[0]
    values = {"{study}": str(ds.StudyInstanceUID), "{series}": str(ds.SeriesInstanceUID),
              "{instance}": str(ds.SOPInstanceUID), "{frames}": "1", "{tag}": "7FE00010"}
    for path, verb, method_id in methods:
        if verb != "GET":
            continue
        for template, uid in values.items():
            path = path.replace(template, uid)
        status, _, _ = request(server, "GET", "/dicom-web/" + path, {"Accept": "*/*"})
        assert status == 200, (method_id, path, status)


def test_capabilities_of_one_resource_and_as_json(archive):
    server, datasets = archive
    ds = datasets[0]
    status, headers, body = request(server, "OPTIONS", f"/dicom-web/studies/{ds.StudyInstanceUID}")
    assert status == 200
    assert "GET" in headers["allow"] and "POST" in headers["allow"]
    root = ET.fromstring(body)
    (resource,) = root.find(f"{WADL}resources").findall(f"{WADL}resource")
    assert resource.get("path") == f"studies/{ds.StudyInstanceUID}"
    ids = {m[2] for m in walk(resource)}
    assert "RetrieveStudy" in ids and "SearchForStudies" not in ids
    status, headers, body = request(server, "OPTIONS", "/dicom-web", {"Accept": "application/json"})
    assert status == 200 and headers["content-type"].startswith("application/json")
    tree = json.loads(body)
    assert [r["path"] for r in tree["resources"][0]["resources"]] == ["studies", "series", "instances"]
    status, _, _ = request(server, "OPTIONS", "/dicom-web/patients")
    assert status == 404


def test_instance_metadata(archive):
    server, datasets = archive
    ds = datasets[3]
    status, _, body = request(server, "GET", series_path(datasets) + f"/instances/{ds.SOPInstanceUID}/metadata")
    assert status == 200
    (instance,) = json.loads(body)
    assert instance["00080018"]["Value"] == [str(ds.SOPInstanceUID)]
    assert instance["7FE00010"]["BulkDataURI"].startswith(f"http://127.0.0.1:{server.http_port}/dicom-web/")
    status, _, body = request(server, "GET", series_path(datasets) + "/instances/1.2.3.4/metadata")
    assert status == 404
