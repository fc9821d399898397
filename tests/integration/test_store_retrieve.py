"""C-ECHO, C-STORE in every transfer syntax, and retrieval by C-GET and C-MOVE.

Objects must come back exactly as they were sent: same transfer syntax, same
attributes, same (possibly compressed) pixel data bytes (PS3.4 §B.4.1: an SCP of level 2
keeps all attributes).
"""

from __future__ import annotations

import json

import pytest

from dxtest import (PREFER_OPTION, StoreSCP, assert_same_instance, by_sop_instance, dicom_files,
                    dicomgen, echoscu, findscu, free_port, getscu, movescu, read_dataset,
                    storescu)

RECEIVER_AE = "RECEIVER"


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    dicomgen("syntaxes", "--out", root / "syntaxes", "--seed", "store-retrieve")
    dicomgen("multiframe", "--out", root / "multiframe", "--slices", "12", "--rows", "128",
             "--cols", "128", "--seed", "store-retrieve-mf")
    dicomgen("ct", "--out", root / "ct", "--studies", "1", "--series", "2", "--slices", "4",
             "--rows", "64", "--cols", "64", "--seed", "store-retrieve-ct")
    manifest = json.loads((root / "syntaxes" / "manifest.json").read_text())
    return root, manifest


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    work = tmp_path_factory.mktemp("receiver")
    scp = StoreSCP(free_port(), RECEIVER_AE, work / "in", work)
    yield scp
    scp.stop()


@pytest.fixture(scope="module")
def server(module_dxhub, receiver):
    return module_dxhub("--peer", f"{RECEIVER_AE}=127.0.0.1:{receiver.port}")


@pytest.fixture(scope="module")
def stored(server, samples, tmp_path_factory):
    """Everything in samples stored once; maps file name -> storescu outcome."""
    root, _ = samples
    files = dicom_files(root / "syntaxes") + dicom_files(root / "multiframe") + \
        dicom_files(root / "ct")
    outcome = storescu(server, files, tmp_path_factory.mktemp("storecfg"))
    return files, outcome


def test_echo(server):
    result = echoscu(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Received Echo Response (Success)" in result.stdout + result.stderr


def test_every_object_stored(stored):
    files, outcome = stored
    failed = {path: status for path, status in outcome.statuses.items()
              if not status.startswith("Success")}
    assert not failed, f"storescu reported failures: {failed}\n{outcome.output[-3000:]}"
    assert len(outcome.statuses) == len(files)


SYNTAX_NAMES = ["implicit-le", "explicit-le", "explicit-be", "deflate", "jpeg-baseline",
                "jpeg-extended", "jpeg-lossless", "jpeg-lossless-sv1", "jpeg-ls-lossless",
                "jpeg-ls-near-lossless", "jpeg2000-lossless", "jpeg2000", "rle"]


def _instance_keys(path):
    ds = read_dataset(path)
    return {"StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": ds.SeriesInstanceUID,
            "SOPInstanceUID": ds.SOPInstanceUID}


@pytest.mark.parametrize("name", SYNTAX_NAMES)
def test_c_get_returns_object_unchanged(name, server, samples, stored, work):
    root, manifest = samples
    sent = root / "syntaxes" / manifest[name]["file"]
    transfer_syntax = manifest[name]["transfer_syntax"]
    prefer = PREFER_OPTION[transfer_syntax]
    if prefer is None:
        pytest.skip(f"getscu cannot accept {transfer_syntax}; covered by C-MOVE")
    result = getscu(server, "IMAGE", _instance_keys(sent), work / "get", prefer=prefer)
    assert len(result.files) == 1, f"expected 1 object, got {result.files}\n{result.output}"
    assert_same_instance(sent, result.files[0])


@pytest.mark.parametrize("name", SYNTAX_NAMES)
def test_c_move_returns_object_unchanged(name, server, samples, stored, receiver):
    root, manifest = samples
    sent = root / "syntaxes" / manifest[name]["file"]
    receiver.start(preferred=manifest[name]["transfer_syntax"])
    result = movescu(server, "IMAGE", _instance_keys(sent), RECEIVER_AE)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    received = receiver.files()
    assert len(received) == 1, f"receiver got {received}\n{output}"
    assert_same_instance(sent, received[0])


def test_multiframe_round_trip(server, samples, stored, receiver, work):
    root, _ = samples
    (sent,) = dicom_files(root / "multiframe")
    assert int(read_dataset(sent).NumberOfFrames) == 12
    got = getscu(server, "IMAGE", _instance_keys(sent), work / "get", prefer="+xe")
    assert len(got.files) == 1, got.output
    assert_same_instance(sent, got.files[0])
    assert int(read_dataset(got.files[0]).NumberOfFrames) == 12

    receiver.start(preferred="1.2.840.10008.1.2.1")
    result = movescu(server, "IMAGE", _instance_keys(sent), RECEIVER_AE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(receiver.files()) == 1
    assert_same_instance(sent, receiver.files()[0])


def test_study_level_get_and_move_return_whole_study(server, samples, stored, receiver, work):
    root, _ = samples
    sent = by_sop_instance(dicom_files(root / "ct"))
    study_uid = read_dataset(next(iter(sent.values()))).StudyInstanceUID
    assert len(sent) == 8

    got = getscu(server, "STUDY", {"StudyInstanceUID": study_uid}, work / "get", prefer="+xe")
    received = by_sop_instance(got.files)
    assert set(received) == set(sent), got.output[-2000:]
    for uid, path in sent.items():
        assert_same_instance(path, received[uid])

    receiver.start(preferred="1.2.840.10008.1.2.1")
    result = movescu(server, "STUDY", {"StudyInstanceUID": study_uid}, RECEIVER_AE)
    assert result.returncode == 0, result.stdout + result.stderr
    moved = by_sop_instance(receiver.files())
    assert set(moved) == set(sent)
    for uid, path in sent.items():
        assert_same_instance(path, moved[uid])


def test_series_level_move(server, samples, stored, receiver):
    root, _ = samples
    files = dicom_files(root / "ct")
    series_uid = read_dataset(files[0]).SeriesInstanceUID
    expected = {str(read_dataset(p).SOPInstanceUID) for p in files
                if read_dataset(p).SeriesInstanceUID == series_uid}
    assert len(expected) == 4
    receiver.start(preferred="1.2.840.10008.1.2.1")
    result = movescu(server, "SERIES", {"StudyInstanceUID": read_dataset(files[0]).StudyInstanceUID,
                                        "SeriesInstanceUID": series_uid}, RECEIVER_AE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(by_sop_instance(receiver.files())) == expected


def test_move_to_unknown_destination_is_refused(server, samples, stored, receiver):
    root, _ = samples
    sent = dicom_files(root / "ct")[0]
    receiver.start()
    result = movescu(server, "IMAGE", _instance_keys(sent), "NOSUCHAE")
    output = result.stdout + result.stderr
    final = [line for line in output.splitlines() if "Move Response" in line]
    assert final, output
    assert "Success" not in final[-1], output
    assert receiver.files() == []


def test_stored_objects_are_findable(server, samples, stored):
    root, manifest = samples
    sent = root / "syntaxes" / manifest["explicit-le"]["file"]
    keys = _instance_keys(sent)
    responses = findscu(server, "IMAGE", {**keys, "SOPClassUID": None})
    assert [str(r.SOPInstanceUID) for r in responses] == [keys["SOPInstanceUID"]]
    assert str(responses[0].SOPClassUID) == manifest["explicit-le"]["sop_class_uid"]
