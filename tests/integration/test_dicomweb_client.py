"""dxhub's DICOMweb services driven by a real DICOMweb client: the `dicomweb-client`
npm package (the library OHIF and Slim use), run by node through
tests/dicomweb-client/driver.mjs. Every service is called the way that client calls
it, and every answer is checked against the objects that were stored."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from dxtest import REPO, dicom_files, dicomgen, read_dataset

CLIENT = REPO / "tests" / "dicomweb-client"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_2000 = "1.2.840.10008.1.2.4.91"


class Client:
    """One node process per batch of calls, each call a DICOMwebClient method."""

    def __init__(self, server, tmp: Path):
        self.base = f"http://127.0.0.1:{server.http_port}/dicom-web"
        self.origin = f"http://127.0.0.1:{server.http_port}"
        self.tmp = tmp
        self.saved = 0

    def batch(self, calls: list[tuple[str, dict]]) -> list[dict]:
        node = shutil.which("node")
        assert node, "node is not installed (scripts/setup-deps.sh installs it)"
        assert (CLIENT / "node_modules" / "dicomweb-client").is_dir(), \
            "tests/dicomweb-client has no node_modules: run `npm ci --prefix tests/dicomweb-client`"
        payload = json.dumps([{"method": method, "options": options} for method, options in calls])
        result = subprocess.run([node, str(CLIENT / "driver.mjs"), self.base], input=payload,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def call(self, method: str, **options) -> dict:
        return self.batch([(method, options)])[0]

    def value(self, method: str, **options):
        answer = self.call(method, **options)
        assert answer["ok"], f"{method} failed: {answer}"
        return answer["value"]

    def parts(self, method: str, **options) -> list[bytes]:
        """Calls a retrieval method and returns the binary parts it decoded."""
        self.saved += 1
        folder = self.tmp / f"parts-{self.saved}"
        self.value(method, saveTo=str(folder), **options)
        return [(folder / f"part-{i}").read_bytes() for i in range(1, len(list(folder.iterdir())) + 1)]


def first(obj: dict, tag: str):
    values = obj.get(tag, {}).get("Value", [])
    return values[0] if values else None


def uids(objects: list[dict], tag: str) -> set[str]:
    return {first(obj, tag) for obj in objects}


@pytest.fixture(scope="module")
def archive(module_dxhub, tmp_path_factory):
    """A CT study (two series of three slices), a five-frame object and one small image
    per transfer syntax, all uploaded with the client's storeInstances (STOW-RS)."""
    root = tmp_path_factory.mktemp("dicomweb-client")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--series", "2", "--slices", "3",
             "--rows", "64", "--cols", "48", "--seed", "dicomweb-client-ct")
    dicomgen("multiframe", "--out", root / "mf", "--slices", "5", "--rows", "32", "--cols", "40",
             "--seed", "dicomweb-client-mf")
    dicomgen("syntaxes", "--out", root / "syntaxes", "--seed", "dicomweb-client-syntaxes")
    server = module_dxhub()
    client = Client(server, root)
    files = dicom_files(root / "ct") + dicom_files(root / "mf") + dicom_files(root / "syntaxes")
    stored = client.value("storeInstances", datasetFiles=[str(path) for path in files])
    datasets = {}
    for path in files:
        ds = read_dataset(path)
        ds.source_path = path
        datasets[ds.SOPInstanceUID] = ds
    ct = [datasets[read_dataset(path).SOPInstanceUID] for path in dicom_files(root / "ct")]
    multiframe = datasets[read_dataset(dicom_files(root / "mf")[0]).SOPInstanceUID]
    by_syntax = {str(ds.file_meta.TransferSyntaxUID): ds for ds in datasets.values()
                 if ds.source_path.is_relative_to(root / "syntaxes")}
    return {"server": server, "client": client, "stored": stored, "datasets": datasets,
            "ct": ct,
            "mf": multiframe, "by_syntax": by_syntax, "root": root}


# --------------------------------------------------------------------------- STOW-RS

def test_store_instances_answers_every_instance(archive):
    stored = archive["stored"]
    referenced = stored["00081199"]["Value"]
    assert {first(item, "00081155") for item in referenced} == set(archive["datasets"])
    assert "00081198" not in stored
    for item in referenced:
        url = first(item, "00081190")
        assert url.startswith(archive["client"].base + "/studies/") and url.endswith(first(item, "00081155"))


def test_store_instances_reports_a_part_that_is_not_dicom(archive, tmp_path):
    junk = tmp_path / "not-dicom.dcm"
    junk.write_bytes(b"this is not a DICOM object" * 20)
    good = archive["ct"][0].source_path
    answer = archive["client"].call("storeInstances", datasetFiles=[str(good), str(junk)])
    # Part stored (the first again), part failed: 202 Accepted, which the client resolves.
    assert answer["ok"], answer
    failed = answer["value"]["00081198"]["Value"]
    assert len(failed) == 1 and first(failed[0], "00081197") is not None
    assert first(answer["value"]["00081199"]["Value"][0], "00081155") == archive["ct"][0].SOPInstanceUID


def test_store_instances_into_the_wrong_study_is_refused(archive):
    good = archive["ct"][0].source_path
    answer = archive["client"].call("storeInstances", datasetFiles=[str(good)], studyInstanceUID="1.2.3.4")
    assert not answer["ok"] and answer["status"] == 409, answer
    failed = json.loads(answer["body"])["00081198"]["Value"]
    assert first(failed[0], "00081155") == archive["ct"][0].SOPInstanceUID


# --------------------------------------------------------------------------- QIDO-RS

def test_search_for_studies_with_computed_attributes(archive):
    ct = archive["ct"][0]
    studies = archive["client"].value("searchForStudies", queryParams={"PatientID": ct.PatientID})
    study = next(s for s in studies if first(s, "0020000D") == ct.StudyInstanceUID)
    assert first(study, "00100010")["Alphabetic"] == str(ct.PatientName)
    assert first(study, "00080050") == ct.AccessionNumber
    assert first(study, "00201206") == 2 and first(study, "00201208") == 6
    assert study["00080061"]["Value"] == ["CT"]


def test_search_for_studies_with_wildcards_ranges_and_paging(archive):
    client, ct = archive["client"], archive["ct"][0]
    surname = str(ct.PatientName).split("^")[0]
    found = client.value("searchForStudies", queryParams={"PatientName": surname[:3] + "*",
                                                          "StudyDate": f"{ct.StudyDate}-"})
    assert ct.StudyInstanceUID in uids(found, "0020000D")
    everything = client.value("searchForStudies", queryParams={"limit": 100})
    total = len(everything)
    assert total >= 2
    pages = [client.value("searchForStudies", queryParams={"limit": 1, "offset": offset}) for offset in range(total)]
    assert all(len(page) == 1 for page in pages)
    assert uids([page[0] for page in pages], "0020000D") == uids(everything, "0020000D")
    assert client.value("searchForStudies", queryParams={"StudyDate": "19000101-19000102"}) == []


def test_search_with_includefield_all_and_fuzzy_names(archive):
    client, ct = archive["client"], archive["ct"][0]
    studies = client.value("searchForStudies", queryParams={"StudyInstanceUID": ct.StudyInstanceUID,
                                                            "includefield": "all"})
    assert len(studies) == 1
    assert first(studies[0], "00081030") == ct.StudyDescription
    surname = str(ct.PatientName).split("^")[0]
    fuzzy = client.value("searchForStudies", queryParams={"PatientName": surname.lower(), "fuzzymatching": "true"})
    assert ct.StudyInstanceUID in uids(fuzzy, "0020000D")


def test_search_for_series_and_instances_at_every_level(archive):
    client, ct = archive["client"], archive["ct"]
    study = ct[0].StudyInstanceUID
    series = client.value("searchForSeries", studyInstanceUID=study)
    assert uids(series, "0020000E") == {ds.SeriesInstanceUID for ds in ct}
    assert all(first(s, "00201209") == 3 for s in series)
    everywhere = client.value("searchForSeries", queryParams={"Modality": "CT", "StudyInstanceUID": study})
    assert uids(everywhere, "0020000E") == uids(series, "0020000E")
    in_study = client.value("searchForInstances", studyInstanceUID=study)
    assert uids(in_study, "00080018") == {ds.SOPInstanceUID for ds in ct}
    one = ct[0].SeriesInstanceUID
    in_series = client.value("searchForInstances", studyInstanceUID=study, seriesInstanceUID=one)
    assert uids(in_series, "00080018") == {ds.SOPInstanceUID for ds in ct if ds.SeriesInstanceUID == one}
    anywhere = client.value("searchForInstances", queryParams={"SOPInstanceUID": ct[1].SOPInstanceUID})
    assert uids(anywhere, "00080018") == {ct[1].SOPInstanceUID}


def test_bad_query_parameters_are_400_with_a_reason(archive):
    client = archive["client"]
    for params, words in [({"limit": "many"}, "limit"), ({"NoSuchAttribute": "1"}, "NoSuchAttribute"),
                          ({"StudyDate": "yesterday"}, "yesterday"), ({"fuzzymatching": "perhaps"}, "fuzzymatching")]:
        answer = client.call("searchForStudies", queryParams=params)
        assert not answer["ok"] and answer["status"] == 400, (params, answer)
        assert words in answer["body"], (params, answer)


# --------------------------------------------------------------------------- WADO-RS metadata

def test_study_series_and_instance_metadata(archive):
    client, ct = archive["client"], archive["ct"]
    study = ct[0].StudyInstanceUID
    metadata = client.value("retrieveStudyMetadata", studyInstanceUID=study)
    assert uids(metadata, "00080018") == {ds.SOPInstanceUID for ds in ct}
    by_uid = {first(m, "00080018"): m for m in metadata}
    for ds in ct:
        m = by_uid[ds.SOPInstanceUID]
        assert first(m, "00280010") == ds.Rows and first(m, "00280011") == ds.Columns
        assert first(m, "00200013") == int(ds.InstanceNumber)
        assert m["00200032"]["Value"] == pytest.approx([float(v) for v in ds.ImagePositionPatient])
        assert "BulkDataURI" in m["7FE00010"]
    one = ct[0]
    series = client.value("retrieveSeriesMetadata", studyInstanceUID=study, seriesInstanceUID=one.SeriesInstanceUID)
    assert uids(series, "00080018") == {ds.SOPInstanceUID for ds in ct if ds.SeriesInstanceUID == one.SeriesInstanceUID}
    instance = client.value("retrieveInstanceMetadata", studyInstanceUID=study,
                            seriesInstanceUID=one.SeriesInstanceUID, sopInstanceUID=one.SOPInstanceUID)
    assert len(instance) == 1 and first(instance[0], "00080018") == one.SOPInstanceUID


def test_bulk_data_uris_resolve_to_the_pixels(archive):
    client, ds = archive["client"], archive["ct"][2]
    metadata = client.value("retrieveInstanceMetadata", studyInstanceUID=ds.StudyInstanceUID,
                            seriesInstanceUID=ds.SeriesInstanceUID, sopInstanceUID=ds.SOPInstanceUID)
    uri = metadata[0]["7FE00010"]["BulkDataURI"]
    assert uri.startswith("http")
    parts = client.parts("retrieveBulkData", BulkDataURI=uri)
    assert parts == [bytes(ds.PixelData)]


# --------------------------------------------------------------------------- WADO-RS objects

def test_retrieve_study_series_and_instance(archive):
    client, ct = archive["client"], archive["ct"]
    one = ct[0]
    study = [pydicom.dcmread(io.BytesIO(p)) for p in client.parts("retrieveStudy", studyInstanceUID=one.StudyInstanceUID)]
    assert {ds.SOPInstanceUID for ds in study} == {ds.SOPInstanceUID for ds in ct}
    series = [pydicom.dcmread(io.BytesIO(p)) for p in client.parts(
        "retrieveSeries", studyInstanceUID=one.StudyInstanceUID, seriesInstanceUID=one.SeriesInstanceUID)]
    assert {ds.SOPInstanceUID for ds in series} == {ds.SOPInstanceUID for ds in ct
                                                     if ds.SeriesInstanceUID == one.SeriesInstanceUID}
    [instance] = client.parts("retrieveInstance", studyInstanceUID=one.StudyInstanceUID,
                              seriesInstanceUID=one.SeriesInstanceUID, sopInstanceUID=one.SOPInstanceUID)
    got = pydicom.dcmread(io.BytesIO(instance))
    assert got.SOPInstanceUID == one.SOPInstanceUID and bytes(got.PixelData) == bytes(one.PixelData)


def test_retrieve_instance_transcoded_to_explicit_little_endian(archive):
    client, ds = archive["client"], archive["by_syntax"]["1.2.840.10008.1.2.5"]  # RLE lossless
    [part] = client.parts("retrieveDicomAs", studyInstanceUID=ds.StudyInstanceUID,
                          seriesInstanceUID=ds.SeriesInstanceUID, sopInstanceUID=ds.SOPInstanceUID,
                          mediaTypes=[{"mediaType": "application/dicom", "transferSyntaxUID": EXPLICIT_LE}])
    got = pydicom.dcmread(io.BytesIO(part))
    assert str(got.file_meta.TransferSyntaxUID) == EXPLICIT_LE
    assert np.array_equal(got.pixel_array, ds.pixel_array)


def test_an_unsatisfiable_accept_is_406(archive):
    client, ds = archive["client"], archive["by_syntax"][JPEG_2000]
    answer = client.call("retrieveDicomAs", studyInstanceUID=ds.StudyInstanceUID,
                         seriesInstanceUID=ds.SeriesInstanceUID, sopInstanceUID=ds.SOPInstanceUID,
                         mediaTypes=[{"mediaType": "application/dicom", "transferSyntaxUID": EXPLICIT_LE}])
    assert not answer["ok"] and answer["status"] == 406 and JPEG_2000 in answer["body"], answer


def test_unknown_uids_are_404(archive):
    client, ds = archive["client"], archive["ct"][0]
    for method, options in [("retrieveStudy", {"studyInstanceUID": "1.2.3.999"}),
                            ("retrieveStudyMetadata", {"studyInstanceUID": "1.2.3.999"}),
                            ("retrieveInstanceFrames", {"studyInstanceUID": ds.StudyInstanceUID,
                                                        "seriesInstanceUID": ds.SeriesInstanceUID,
                                                        "sopInstanceUID": "1.2.3.999", "frameNumbers": [1]})]:
        answer = client.call(method, **options)
        assert not answer["ok"] and answer["status"] == 404, (method, answer)


# --------------------------------------------------------------------------- frames

def test_frames_single_and_lists_in_the_order_asked(archive):
    client, mf = archive["client"], archive["mf"]
    frame_bytes = mf.Rows * mf.Columns * mf.BitsAllocated // 8
    pixels = bytes(mf.PixelData)
    frames = [pixels[i * frame_bytes:(i + 1) * frame_bytes] for i in range(int(mf.NumberOfFrames))]
    where = {"studyInstanceUID": mf.StudyInstanceUID, "seriesInstanceUID": mf.SeriesInstanceUID,
             "sopInstanceUID": mf.SOPInstanceUID}
    assert client.parts("retrieveInstanceFrames", frameNumbers=[2], **where) == [frames[1]]
    assert client.parts("retrieveInstanceFrames", frameNumbers=[5, 1, 3], **where) == [frames[4], frames[0], frames[2]]
    any_syntax = client.parts("retrieveInstanceFrames", frameNumbers=[4], **where,
                              mediaTypes=[{"mediaType": "application/octet-stream", "transferSyntaxUID": "*"}])
    assert any_syntax == [frames[3]]
    answer = client.call("retrieveInstanceFrames", frameNumbers=[6], **where)
    assert not answer["ok"] and answer["status"] in (400, 404), answer


def test_compressed_frames_as_stored_or_decoded(archive):
    client, ds = archive["client"], archive["by_syntax"][JPEG_BASELINE]
    where = {"studyInstanceUID": ds.StudyInstanceUID, "seriesInstanceUID": ds.SeriesInstanceUID,
             "sopInstanceUID": ds.SOPInstanceUID, "frameNumbers": [1]}
    stored = list(pydicom.encaps.generate_pixel_data_frame(ds.PixelData, 1))[0]
    [jpeg] = client.parts("retrieveInstanceFrames", **where,
                          mediaTypes=[{"mediaType": "image/jpeg", "transferSyntaxUID": JPEG_BASELINE}])
    assert jpeg.rstrip(b"\0") == stored.rstrip(b"\0")
    [decoded] = client.parts("retrieveInstanceFrames", **where)  # application/octet-stream, explicit LE
    samples = int(getattr(ds, "SamplesPerPixel", 1))
    assert len(decoded) == ds.Rows * ds.Columns * samples * ds.BitsAllocated // 8


# --------------------------------------------------------------------------- rendered and thumbnails

def image(payload: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(payload))
    picture.load()
    return picture


def test_rendered_instance_and_frames(archive):
    client, ds, mf = archive["client"], archive["ct"][0], archive["mf"]
    where = {"studyInstanceUID": ds.StudyInstanceUID, "seriesInstanceUID": ds.SeriesInstanceUID,
             "sopInstanceUID": ds.SOPInstanceUID}
    [png] = client.parts("retrieveInstanceRendered", **where, mediaTypes=[{"mediaType": "image/png"}])
    picture = image(png)
    assert picture.format == "PNG" and picture.size == (ds.Columns, ds.Rows)
    assert len(set(picture.convert("L").getdata())) > 8
    [small] = client.parts("retrieveInstanceRendered", **where, mediaTypes=[{"mediaType": "image/jpeg"}],
                           queryParams={"viewport": "24,32", "quality": "80", "window": "40,400,linear"})
    assert image(small).format == "JPEG" and image(small).size == (24, 32)
    frames_where = {"studyInstanceUID": mf.StudyInstanceUID, "seriesInstanceUID": mf.SeriesInstanceUID,
                    "sopInstanceUID": mf.SOPInstanceUID}
    [frame] = client.parts("retrieveInstanceFramesRendered", **frames_where, frameNumbers=[3],
                           mediaTypes=[{"mediaType": "image/png"}])
    assert image(frame).size == (mf.Columns, mf.Rows)
    expected = mf.pixel_array[2]
    assert np.argmax(np.asarray(image(frame).convert("L"), dtype=float)) == np.argmax(expected) or \
        np.corrcoef(np.asarray(image(frame).convert("L"), dtype=float).ravel(), expected.ravel())[0, 1] > 0.9


def test_thumbnails_of_an_instance_and_a_frame(archive):
    client, ds, mf = archive["client"], archive["ct"][1], archive["mf"]
    [thumb] = client.parts("retrieveInstanceThumbnail", studyInstanceUID=ds.StudyInstanceUID,
                           seriesInstanceUID=ds.SeriesInstanceUID, sopInstanceUID=ds.SOPInstanceUID,
                           mediaTypes=[{"mediaType": "image/jpeg"}])
    assert image(thumb).format == "JPEG" and max(image(thumb).size) <= 256
    [frame] = client.parts("retrieveInstanceFramesThumbnail", studyInstanceUID=mf.StudyInstanceUID,
                           seriesInstanceUID=mf.SeriesInstanceUID, sopInstanceUID=mf.SOPInstanceUID,
                           frameNumbers=[1], mediaTypes=[{"mediaType": "image/png"}])
    assert image(frame).format == "PNG"


# --------------------------------------------------------------------------- WADO-URI

def test_wado_uri_url_built_by_the_client(archive):
    client, ds = archive["client"], archive["ct"][2]
    where = {"studyInstanceUID": ds.StudyInstanceUID, "seriesInstanceUID": ds.SeriesInstanceUID,
             "sopInstanceUID": ds.SOPInstanceUID}
    wado = {"url": client.origin, "wadoURLPrefix": "wado"}
    [dicom] = client.parts("retrieveWadoUri", client=wado, **where)
    assert pydicom.dcmread(io.BytesIO(dicom)).SOPInstanceUID == ds.SOPInstanceUID
    [jpeg] = client.parts("retrieveWadoUri", client=wado, **where, contentType="image/jpeg")
    assert image(jpeg).format == "JPEG" and image(jpeg).size == (ds.Columns, ds.Rows)


def test_short_parts_come_back_inline(archive):
    """The driver's own check: inline copies of short parts match the saved ones."""
    client, ds = archive["client"], archive["by_syntax"][JPEG_BASELINE]
    answer = client.value("retrieveInstanceThumbnail", studyInstanceUID=ds.StudyInstanceUID,
                          seriesInstanceUID=ds.SeriesInstanceUID, sopInstanceUID=ds.SOPInstanceUID,
                          mediaTypes=[{"mediaType": "image/png"}])
    [part] = answer
    assert part["bytes"] == len(base64.b64decode(part["base64"]))
