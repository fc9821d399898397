"""Duplicate SOP Instance UIDs under each --duplicates policy.

ignore-identical: the same bytes again are accepted and stored once; different content
under a known UID is refused and the first version kept. keep-newest: the new version
replaces the old. reject: a second object with a known UID is refused.
"""

from __future__ import annotations

import pytest

from dxtest import assert_same_instance, dicom_files, dicomgen, findscu, getscu, read_dataset, storescu


@pytest.fixture
def original(tmp_path):
    dicomgen("ct", "--out", tmp_path / "ct", "--studies", "1", "--slices", "2", "--rows", "32",
             "--cols", "32", "--seed", f"dup-{tmp_path.name}")
    return dicom_files(tmp_path / "ct")[0]


@pytest.fixture
def modified(original, tmp_path):
    ds = read_dataset(original)
    ds.SeriesDescription = "CORRECTED AFTER QA"
    pixels = bytearray(ds.PixelData)
    pixels[100] ^= 0xFF
    ds.PixelData = bytes(pixels)
    path = tmp_path / "modified.dcm"
    ds.save_as(str(path), write_like_original=False)
    return path


def instance_count(server, path) -> int:
    ds = read_dataset(path)
    responses = findscu(server, "IMAGE", {"StudyInstanceUID": ds.StudyInstanceUID,
                                          "SeriesInstanceUID": "", "SOPInstanceUID": ""})
    studies = findscu(server, "STUDY", {"StudyInstanceUID": ds.StudyInstanceUID,
                                        "NumberOfStudyRelatedInstances": ""})
    assert len(studies) == 1
    assert int(studies[0].NumberOfStudyRelatedInstances) == len(responses)
    return len(responses)


def fetch(server, path, work):
    ds = read_dataset(path)
    result = getscu(server, "IMAGE", {"StudyInstanceUID": ds.StudyInstanceUID,
                                      "SeriesInstanceUID": ds.SeriesInstanceUID,
                                      "SOPInstanceUID": ds.SOPInstanceUID},
                    work / f"get{len(list(work.iterdir()))}", prefer="+xe")
    assert len(result.files) == 1, result.output
    return result.files[0]


def test_ignore_identical_stores_same_object_once(dxhub, original, work):
    server = dxhub("--duplicates", "ignore-identical")
    first = storescu(server, [original], work)
    again = storescu(server, [original], work)
    assert first.all_succeeded, first.output
    assert again.all_succeeded, f"identical resend must succeed:\n{again.output}"
    assert instance_count(server, original) == 1
    assert_same_instance(original, fetch(server, original, work))


def test_ignore_identical_refuses_changed_object(dxhub, original, modified, work):
    server = dxhub("--duplicates", "ignore-identical")
    assert storescu(server, [original], work).all_succeeded
    changed = storescu(server, [modified], work)
    status = changed.statuses.get(str(modified), "")
    assert status and not status.startswith("Success"), changed.output
    assert instance_count(server, original) == 1
    assert_same_instance(original, fetch(server, original, work))


def test_keep_newest_replaces_object(dxhub, original, modified, work):
    server = dxhub("--duplicates", "keep-newest")
    assert storescu(server, [original], work).all_succeeded
    changed = storescu(server, [modified], work)
    assert changed.all_succeeded, changed.output
    assert instance_count(server, original) == 1
    received = fetch(server, original, work)
    assert_same_instance(modified, received)
    assert read_dataset(received).SeriesDescription == "CORRECTED AFTER QA"


def test_reject_refuses_changed_object(dxhub, original, modified, work):
    server = dxhub("--duplicates", "reject")
    assert storescu(server, [original], work).all_succeeded
    changed = storescu(server, [modified], work)
    status = changed.statuses.get(str(modified), "")
    assert status and not status.startswith("Success"), changed.output
    assert instance_count(server, original) == 1
    assert_same_instance(original, fetch(server, original, work))


def test_policy_survives_restart(dxhub, original, modified, work):
    """The stored version, not the policy's memory, decides after a restart."""
    server = dxhub("--duplicates", "ignore-identical")
    assert storescu(server, [original], work).all_succeeded
    server.restart()
    assert storescu(server, [original], work).all_succeeded
    changed = storescu(server, [modified], work)
    assert not changed.succeeded(modified), changed.output
    assert instance_count(server, original) == 1
    assert_same_instance(original, fetch(server, original, work))
