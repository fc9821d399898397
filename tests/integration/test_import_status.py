"""`dxhub import` of a folder tree and `dxhub status` counts, checked through C-FIND/C-GET."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request

from dxtest import (storescu, assert_same_instance, by_sop_instance, dicom_files, dicomgen, dxhub_cli,
                    findscu, getscu, read_dataset)


def counts(output: str) -> dict:
    """The JSON object a dxhub command printed (last line starting with '{' .. to the end)."""
    start = output.rfind("\n{")
    text = output[start + 1:] if start >= 0 else output[output.find("{"):]
    return json.loads(text)


def import_counts(result) -> dict:
    match = re.search(r"\{.*\}", result.stdout, re.S)
    assert match, f"no counts printed:\n{result.stdout}\n{result.stderr}"
    return json.loads(match.group(0))


def test_import_folder_then_query_and_status(dxhub, dxhub_bin, tmp_path, work):
    source = tmp_path / "incoming"
    dicomgen("mr", "--out", source / "mr", "--studies", "2", "--series", "2", "--slices", "3",
             "--rows", "32", "--cols", "32", "--seed", "import-mr")
    dicomgen("cr", "--out", source / "nested" / "deeper" / "cr", "--studies", "1",
             "--rows", "64", "--cols", "64", "--seed", "import-cr")
    files = dicom_files(source)
    assert len(files) == 13
    data_dir = tmp_path / "archive"

    result = dxhub_cli(dxhub_bin, "import", source, "--data-dir", data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    got = import_counts(result)
    assert got["stored"] == 13 and got["failed"] == 0, got

    status = dxhub_cli(dxhub_bin, "status", "--data-dir", data_dir)
    assert status.returncode == 0, status.stderr
    stats = counts(status.stdout)
    assert {k: stats[k] for k in ("patients", "studies", "series", "instances")} == {
        "patients": 3, "studies": 3, "series": 5, "instances": 13}, stats
    pixel_bytes = sum(len(read_dataset(p).PixelData) for p in files)
    assert stats["bytes"] >= pixel_bytes, stats

    # Importing the same tree again stores nothing new.
    again = import_counts(dxhub_cli(dxhub_bin, "import", source, "--data-dir", data_dir))
    assert again["stored"] == 0 and again["duplicates"] == 13 and again["failed"] == 0, again
    assert counts(dxhub_cli(dxhub_bin, "status", "--data-dir", data_dir).stdout)[
        "instances"] == 13

    server = dxhub(data_dir=data_dir)
    studies = findscu(server, "STUDY", {"StudyInstanceUID": "",
                                        "NumberOfStudyRelatedInstances": ""})
    by_study: dict[str, int] = {}
    for path in files:
        uid = str(read_dataset(path).StudyInstanceUID)
        by_study[uid] = by_study.get(uid, 0) + 1
    assert {str(r.StudyInstanceUID): int(r.NumberOfStudyRelatedInstances)
            for r in studies} == by_study

    cr = dicom_files(source / "nested")[0]
    got_files = getscu(server, "STUDY", {"StudyInstanceUID": read_dataset(cr).StudyInstanceUID},
                       work / "get", prefer="+xe").files
    received = by_sop_instance(got_files)
    assert list(received) == [str(read_dataset(cr).SOPInstanceUID)]
    assert_same_instance(cr, received[str(read_dataset(cr).SOPInstanceUID)])


def test_import_reports_failures_with_non_zero_exit(dxhub_bin, tmp_path):
    source = tmp_path / "mixed"
    dicomgen("ct", "--out", source, "--studies", "1", "--slices", "4", "--rows", "32",
             "--cols", "32", "--seed", "import-mixed")
    good = dicom_files(source)
    broken = source / "broken.dcm"
    data = good[0].read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # truncated inside Pixel Data
    no_uid = source / "no-uid.dcm"
    ds = read_dataset(good[1])
    ds.SOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    del ds.StudyInstanceUID
    ds.save_as(str(no_uid), write_like_original=False)
    data_dir = tmp_path / "archive"

    result = dxhub_cli(dxhub_bin, "import", source, "--data-dir", data_dir)
    assert result.returncode != 0, result.stdout
    got = import_counts(result)
    assert got["stored"] == 4 and got["failed"] == 2, got

    stats = counts(dxhub_cli(dxhub_bin, "status", "--data-dir", data_dir).stdout)
    assert stats["instances"] == 4 and stats["studies"] == 1, stats


def test_status_of_empty_archive(dxhub_bin, tmp_path):
    result = dxhub_cli(dxhub_bin, "status", "--data-dir", tmp_path / "empty")
    assert result.returncode == 0, result.stderr
    stats = counts(result.stdout)
    assert (stats["patients"], stats["studies"], stats["series"], stats["instances"]) == (
        0, 0, 0, 0)


def test_import_of_missing_folder_fails(dxhub_bin, tmp_path):
    result = dxhub_cli(dxhub_bin, "import", tmp_path / "does-not-exist",
                       "--data-dir", tmp_path / "archive")
    assert result.returncode != 0


def test_imported_then_served_data_survives_copy_of_data_dir(dxhub, dxhub_bin, tmp_path, work):
    """The data dir is self-contained: a copy serves the same studies."""
    source = tmp_path / "in"
    dicomgen("cr", "--out", source, "--studies", "2", "--rows", "32", "--cols", "32",
             "--seed", "import-copy")
    data_dir = tmp_path / "archive"
    assert dxhub_cli(dxhub_bin, "import", source, "--data-dir", data_dir).returncode == 0
    copy = tmp_path / "archive-copy"
    shutil.copytree(data_dir, copy)
    server = dxhub(data_dir=copy)
    assert len(findscu(server, "STUDY", {"StudyInstanceUID": ""})) == 2


def test_import_options_before_or_after_the_folder(dxhub_bin, tmp_path):
    """`dxhub import --data-dir D FOLDER` and `dxhub import FOLDER --data-dir D` both work."""
    source = tmp_path / "in"
    dicomgen("cr", "--out", source, "--studies", "1", "--rows", "16", "--cols", "16",
             "--seed", "import-order")
    for argv in (["import", "--data-dir", tmp_path / "a", source],
                 ["import", f"--data-dir={tmp_path / 'b'}", source],
                 ["import", source, "--data-dir", tmp_path / "c"]):
        result = dxhub_cli(dxhub_bin, *argv)
        assert result.returncode == 0, f"dxhub {argv}: {result.stderr}"
        assert import_counts(result)["stored"] == 1


def test_import_beside_a_running_server_is_audited_in_one_chain(dxhub, dxhub_bin, tmp_path, work):
    """dxhub import and a running server append to the same audit trail; the chain
    verifies at the next start and every imported instance is there."""
    source = tmp_path / "source"
    dicomgen("ct", "--out", source, "--studies", "1", "--slices", "3", "--rows", "16", "--cols", "16",
             "--seed", "import-audit")
    # One instance arrives over C-STORE while the server runs, the other two by import.
    files = dicom_files(source)
    server = dxhub()
    outcome = storescu(server, files[:1], work)
    assert outcome.all_succeeded, outcome.output
    result = dxhub_cli(dxhub_bin, "import", *files[1:], "--data-dir", server.data_dir)
    assert result.returncode == 0, result.stderr
    # The server writes again after the import's entries: it must chain onto them.
    with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}/dicom-web/studies", timeout=30) as answer:
        assert len(json.loads(answer.read())) == 1
    server.restart()  # start-up verifies the chain
    entries = [json.loads(line) for line in (server.data_dir / "audit.log").read_text().splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    imported = [e for e in entries if e["action"] == "dicom.import"]
    assert len(imported) == 2 and all(e["outcome"] == "success" for e in imported)
    assert any(e["action"] == "dicom.store" for e in entries)
    assert entries[-1]["action"] == "dicom.search" or any(e["action"] == "dicomweb.search" for e in entries)
