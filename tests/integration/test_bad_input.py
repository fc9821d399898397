"""Bad input is refused with a failure status, nothing of it is stored, and nothing already
stored is lost or changed; the server keeps serving.

Malformed datasets go through tests/tools/rawscu.py (storescu parses files before sending
them, so it cannot send these); everything else uses DCMTK clients.
"""

from __future__ import annotations

import os
import random

import pytest
from pydicom.uid import generate_uid

from dxtest import (assert_same_instance, dicom_files, dicomgen, echoscu, findscu, getscu,
                    read_dataset, storescu)
from rawscu import AssociationRejected, RawAssociation, split_part10


def is_failure(status: int | None) -> bool:
    """PS3.7 §C.4: Success is 0x0000, Warnings 0x0001 and 0xBxxx; the rest are failures."""
    return status is not None and status != 0x0000 and status != 0x0001 \
        and (status & 0xF000) != 0xB000


@pytest.fixture
def corpus(tmp_path):
    dicomgen("ct", "--out", tmp_path / "ct", "--studies", "1", "--slices", "3", "--rows", "64",
             "--cols", "64", "--seed", f"bad-{os.urandom(4).hex()}")
    return dicom_files(tmp_path / "ct")


@pytest.fixture
def baseline(dxhub, corpus, work):
    """A server holding one good study."""
    server = dxhub()
    outcome = storescu(server, corpus, work)
    assert outcome.all_succeeded, outcome.output
    return server


def assert_good_data_intact(server, corpus, work):
    assert server.alive(), "dxhub died"
    assert echoscu(server).returncode == 0
    first = read_dataset(corpus[0])
    result = getscu(server, "STUDY", {"StudyInstanceUID": first.StudyInstanceUID},
                    work / f"check-{os.urandom(3).hex()}", prefer="+xe")
    received = {str(read_dataset(p).SOPInstanceUID): p for p in result.files}
    assert len(received) == len(corpus), result.output[-2000:]
    for path in corpus:
        assert_same_instance(path, received[str(read_dataset(path).SOPInstanceUID)])


def raw_store(server, sop_class, sop_instance, transfer_syntax, dataset: bytes):
    association = RawAssociation("127.0.0.1", server.dicom_port, sop_class, transfer_syntax)
    try:
        return association.store(sop_class, sop_instance, dataset)
    finally:
        association.release()


def another_instance(path, tmp_path, **changes):
    """A copy of path as a new instance (new SOP Instance UID), with attribute changes;
    an attribute set to None is removed."""
    ds = read_dataset(path)
    uid = generate_uid()
    ds.SOPInstanceUID = uid
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    for name, value in changes.items():
        if value is None:
            delattr(ds, name)
        else:
            setattr(ds, name, value)
    out = tmp_path / f"variant-{uid}.dcm"
    ds.save_as(str(out), write_like_original=False)
    return out, ds


def assert_not_stored(server, sop_instance: str, study_uid: str, studies_expected: int = 1):
    responses = findscu(server, "IMAGE", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": "",
                                          "SOPInstanceUID": sop_instance})
    assert responses == [], f"refused object {sop_instance} is visible"
    all_studies = findscu(server, "STUDY", {"StudyInstanceUID": ""})
    assert len(all_studies) == studies_expected, \
        f"expected {studies_expected} studies, found {len(all_studies)}"


def test_truncated_dataset_is_refused(baseline, corpus, tmp_path, work):
    path, ds = another_instance(corpus[0], tmp_path)
    transfer_syntax, sop_class, sop_instance, dataset = split_part10(path.read_bytes())
    truncated = dataset[: (len(dataset) // 2) & ~1]  # cut inside Pixel Data; PDVs stay even
    result = raw_store(baseline, sop_class, sop_instance, transfer_syntax, truncated)
    assert result.status is not None, f"association aborted instead of a status: {result.detail}"
    assert 0xC000 <= result.status <= 0xCFFF, f"status {result.status:#06x} {result.detail}"
    assert_not_stored(baseline, sop_instance, str(ds.StudyInstanceUID))
    assert_good_data_intact(baseline, corpus, work)


def test_garbage_dataset_is_refused(baseline, corpus, work):
    first = read_dataset(corpus[0])
    garbage = random.Random(7).randbytes(4096)
    sop_instance = generate_uid()
    result = raw_store(baseline, str(first.SOPClassUID), sop_instance, "1.2.840.10008.1.2.1",
                       garbage)
    assert result.status is not None, f"association aborted instead of a status: {result.detail}"
    assert 0xC000 <= result.status <= 0xCFFF, f"status {result.status:#06x} {result.detail}"
    assert_not_stored(baseline, sop_instance, str(first.StudyInstanceUID))
    assert_good_data_intact(baseline, corpus, work)


@pytest.mark.parametrize("missing", ["SOPInstanceUID", "StudyInstanceUID",
                                     "SeriesInstanceUID"])
def test_dataset_missing_a_key_uid_is_refused(baseline, corpus, tmp_path, work, missing):
    path, ds = another_instance(corpus[0], tmp_path, **{missing: None})
    transfer_syntax, sop_class, _, dataset = split_part10(path.read_bytes())
    sop_instance = str(ds.file_meta.MediaStorageSOPInstanceUID)
    result = raw_store(baseline, sop_class, sop_instance, transfer_syntax, dataset)
    assert result.status is not None, f"association aborted instead of a status: {result.detail}"
    assert 0xC000 <= result.status <= 0xCFFF, f"status {result.status:#06x} {result.detail}"
    study_uid = str(read_dataset(corpus[0]).StudyInstanceUID)
    assert_not_stored(baseline, sop_instance, study_uid)
    responses = findscu(baseline, "IMAGE", {"StudyInstanceUID": study_uid,
                                            "SeriesInstanceUID": "", "SOPInstanceUID": ""})
    assert len(responses) == len(corpus)
    assert_good_data_intact(baseline, corpus, work)


def test_good_store_after_bad_one_on_same_association(baseline, corpus, tmp_path, work):
    """A refused object must not poison the association it came on."""
    bad_path, _ = another_instance(corpus[0], tmp_path, SOPInstanceUID=None)
    good_path, good = another_instance(corpus[0], tmp_path)
    ts, sop_class, bad_uid, bad_dataset = split_part10(bad_path.read_bytes())
    _, _, good_uid, good_dataset = split_part10(good_path.read_bytes())
    association = RawAssociation("127.0.0.1", baseline.dicom_port, sop_class, ts)
    try:
        first = association.store(sop_class, bad_uid, bad_dataset, message_id=1)
        second = association.store(sop_class, good_uid, good_dataset, message_id=2)
    finally:
        association.release()
    assert is_failure(first.status), first
    assert second.status == 0x0000, second
    result = getscu(baseline, "IMAGE", {"StudyInstanceUID": good.StudyInstanceUID,
                                        "SeriesInstanceUID": good.SeriesInstanceUID,
                                        "SOPInstanceUID": good_uid}, work / "get", prefer="+xe")
    assert len(result.files) == 1, result.output
    assert_same_instance(good_path, result.files[0])


def test_unknown_calling_ae_is_rejected(dxhub, corpus, work):
    server = dxhub("--allow-ae", "MODALITY1", "--allow-ae", "VIEWER")
    allowed = storescu(server, corpus[:1], work, calling="MODALITY1")
    assert allowed.all_succeeded, allowed.output

    echo = echoscu(server, calling="INTRUDER")
    assert echo.returncode != 0
    assert "Association Rejected" in echo.stdout + echo.stderr

    refused = storescu(server, corpus[1:], work, calling="INTRUDER")
    assert refused.returncode != 0
    assert "Association Rejected" in refused.output
    assert not any(s.startswith("Success") for s in refused.statuses.values())

    with pytest.raises(AssociationRejected):
        RawAssociation("127.0.0.1", server.dicom_port, "1.2.840.10008.1.1",
                       "1.2.840.10008.1.2", calling_ae="INTRUDER").release()

    assert server.alive()
    study_uid = str(read_dataset(corpus[0]).StudyInstanceUID)
    # Queries from an allowed AE see only what the allowed AE stored.
    responses = findscu(server, "IMAGE", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": "",
                                          "SOPInstanceUID": ""}, calling="VIEWER")
    assert [str(r.SOPInstanceUID) for r in responses] == [str(read_dataset(corpus[0])
                                                              .SOPInstanceUID)]


def test_object_over_size_limit_is_refused(dxhub, corpus, tmp_path, work):
    small = tmp_path / "small"
    dicomgen("cr", "--out", small, "--rows", "16", "--cols", "16", "--seed", "small-cr")
    (small_file,) = dicom_files(small)
    assert small_file.stat().st_size < 5000 < corpus[0].stat().st_size
    server = dxhub("--max-object-bytes", "5000")

    stored = storescu(server, [small_file], work)
    assert stored.all_succeeded, stored.output
    refused = storescu(server, corpus[:1], work)
    status = refused.statuses.get(str(corpus[0]), "")
    assert status and not status.startswith("Success"), refused.output

    assert server.alive()
    assert echoscu(server).returncode == 0
    first = read_dataset(corpus[0])
    assert_not_stored(server, str(first.SOPInstanceUID), str(first.StudyInstanceUID))
    small_ds = read_dataset(small_file)
    result = getscu(server, "IMAGE", {"StudyInstanceUID": small_ds.StudyInstanceUID,
                                      "SeriesInstanceUID": small_ds.SeriesInstanceUID,
                                      "SOPInstanceUID": small_ds.SOPInstanceUID},
                    work / "get", prefer="+xe")
    assert len(result.files) == 1, result.output
    assert_same_instance(small_file, result.files[0])
