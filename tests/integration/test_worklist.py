"""The modality worklist and performed procedure steps, end to end with real clients: a
request placed over FHIR, vetted and booked, found by DCMTK's `findscu -W` as a worklist
item, started and completed by Modality Performed Procedure Steps (sent with `dxhub mpps`,
a client on dxhub's own DIMSE code: DCMTK has none), its images stored with storescu, and
reported and acknowledged, with every clock event checked; matching by station, date,
modality, name and accession; and bad queries and bad steps refused with nothing changed."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from dxtest import dicom_files, dicomgen, network_args, read_dataset, run, storescu
from test_orders import call, place, service_request, stage_of

WEEK = 7 * 86400


@pytest.fixture(scope="module")
def server(module_dxhub):
    return module_dxhub()


def worklist(server, keys: list[str], calling: str = "CT01", debug: bool = False) -> tuple[list, str]:
    """findscu -W with findscu's own -k keys; the response identifiers and the log (with
    `debug`, the status detail too)."""
    with tempfile.TemporaryDirectory() as out:
        argv = ["findscu", "-d" if debug else "-v", "-W", *network_args(server, calling), "-X", "-od", out]
        for key in keys:
            argv += ["-k", key]
        result = run(argv, timeout=60)
        log = result.stdout + result.stderr
        return [dcmread(str(p), force=True) for p in sorted(Path(out).glob("rsp*.dcm"))], log


def mpps(server, dxhub_bin: str, action: str, keys: list[str], uid: str = "", calling: str = "CT01"):
    """`dxhub mpps`: the exit code, the answer's status and its printed text."""
    argv = [dxhub_bin, "mpps", action, "--peer", f"{server.ae_title}@127.0.0.1:{server.dicom_port}",
            "--calling-ae", calling]
    if uid:
        argv += ["--uid", uid]
    for key in keys:
        argv += ["-k", key]
    result = run(argv, timeout=60)
    match = re.search(r"status=0x([0-9A-F]{4})", result.stdout)
    return result.returncode, int(match.group(1), 16) if match else None, result.stdout + result.stderr


def local(at: datetime) -> tuple[str, str]:
    """A moment as the DICOM date and time of this machine's zone, as the scanner sees it."""
    moment = at.astimezone()
    return moment.strftime("%Y%m%d"), moment.strftime("%H%M%S")


def book(server, rid: str, when: datetime, station: str = "CT01", site: str = "RXX01") -> str:
    status, _, body = call(server, "POST", f"/orders/{rid}/vet", {"decision": "accept", "by": "dr.reader"})
    assert status == 200, body
    status, _, body = call(server, "POST", f"/orders/{rid}/book",
                           {"site": site, "station": station, "by": "booking.clerk",
                            "appointment": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert status == 200, body
    return json.loads(body)["identifier"][0]["value"]


def stage(server, rid: str) -> str:
    status, _, body = call(server, "GET", f"/fhir/ServiceRequest/{rid}", accept="application/fhir+json")
    assert status == 200
    return stage_of(json.loads(body))


SPS = "ScheduledProcedureStepSequence[0]"
RETURN_KEYS = ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyInstanceUID",
               "RequestedProcedureID", "RequestedProcedureDescription", "RequestedProcedurePriority",
               "RequestedProcedureCodeSequence", "PlacerOrderNumberImagingServiceRequest", "ReferringPhysicianName",
               f"{SPS}.ScheduledStationAETitle", f"{SPS}.ScheduledProcedureStepStartDate",
               f"{SPS}.ScheduledProcedureStepStartTime", f"{SPS}.Modality", f"{SPS}.ScheduledProcedureStepID",
               f"{SPS}.ScheduledProcedureStepDescription", f"{SPS}.ScheduledProcedureStepLocation",
               f"{SPS}.ScheduledProcedureStepStatus"]


def test_a_booked_request_through_worklist_and_procedure_steps(server, dxhub_bin, tmp_path):
    nhs = "9434765919"
    rid = place(server, service_request(nhs=nhs, code="CT-HEAD", priority="urgent"))["id"]
    appointment = datetime.now(timezone.utc).replace(microsecond=0, second=0) + timedelta(days=2)
    accession = book(server, rid, appointment)
    date, time = local(appointment)

    # The scanner asks for today's and tomorrow's CT work at its own station.
    items, log = worklist(server, RETURN_KEYS + [f"{SPS}.ScheduledStationAETitle=CT01", f"{SPS}.Modality=CT",
                                                 f"{SPS}.ScheduledProcedureStepStartDate={date}"])
    mine = [item for item in items if item.AccessionNumber == accession]
    assert len(mine) == 1, log
    item = mine[0]
    assert item.PatientID == nhs and str(item.PatientName) == "OKAFOR^ADA"
    assert item.PatientBirthDate == "19610714" and item.PatientSex == "F"
    assert item.PlacerOrderNumberImagingServiceRequest == rid and item.RequestedProcedurePriority == "HIGH"
    assert item.RequestedProcedureCodeSequence[0].CodeValue == "CT-HEAD"
    assert item.StudyInstanceUID.startswith("2.25.") and item.RequestedProcedureID == accession
    step = item.ScheduledProcedureStepSequence[0]
    assert (step.ScheduledStationAETitle, step.Modality, step.ScheduledProcedureStepLocation) == ("CT01", "CT", "RXX01")
    assert (step.ScheduledProcedureStepStartDate, step.ScheduledProcedureStepStartTime) == (date, time)
    assert step.ScheduledProcedureStepStatus == "SCHEDULED" and step.ScheduledProcedureStepID == accession
    study_uid = item.StudyInstanceUID

    # The modality starts the procedure: the request is in progress, the worklist says STARTED.
    start = appointment + timedelta(minutes=5)
    start_date, start_time = local(start)
    uid = generate_uid()
    scheduled = [f"ScheduledStepAttributesSequence[0].AccessionNumber={accession}",
                 f"ScheduledStepAttributesSequence[0].StudyInstanceUID={study_uid}",
                 f"ScheduledStepAttributesSequence[0].ScheduledProcedureStepID={accession}"]
    code, status, out = mpps(server, dxhub_bin, "create", scheduled + [
        "PerformedProcedureStepStatus=IN PROGRESS", f"PerformedProcedureStepStartDate={start_date}",
        f"PerformedProcedureStepStartTime={start_time}", "PerformedProcedureStepID=PPS1", "Modality=CT",
        "PerformedStationAETitle=CT01", f"PatientID={nhs}"], uid=uid)
    assert (code, status) == (0, 0), out
    assert stage(server, rid) == "in-progress"
    items, _ = worklist(server, [f"AccessionNumber={accession}", f"{SPS}.ScheduledProcedureStepStatus"])
    assert [i.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStatus for i in items] == ["STARTED"]

    # Its images arrive with the worklist's study UID and accession number; the step governs.
    dicomgen("ct", "--out", tmp_path / "ct", "--studies", "1", "--series", "1", "--slices", "2",
             "--rows", "16", "--cols", "16", "--seed", "worklist-pathway")
    files = []
    for path in dicom_files(tmp_path / "ct"):
        ds = read_dataset(path)
        ds.AccessionNumber, ds.StudyInstanceUID = accession, study_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        files.append(tmp_path / f"{ds.SOPInstanceUID}.dcm")
        ds.save_as(files[-1], write_like_original=False)
    (tmp_path / "work").mkdir()
    outcome = storescu(server, files, tmp_path / "work", calling="CT01")
    assert outcome.all_succeeded, outcome.output
    assert stage(server, rid) == "in-progress"

    # Completed: performed, off the worklist; a completed step can no longer change.
    end_date, end_time = local(start + timedelta(minutes=12))
    completed = ["PerformedProcedureStepStatus=COMPLETED", f"PerformedProcedureStepEndDate={end_date}",
                 f"PerformedProcedureStepEndTime={end_time}"]
    code, status, out = mpps(server, dxhub_bin, "set", completed, uid=uid)
    assert (code, status) == (0, 0), out
    assert stage(server, rid) == "performed"
    items, _ = worklist(server, [f"AccessionNumber={accession}"])
    assert items == []
    code, status, out = mpps(server, dxhub_bin, "set", ["PerformedProcedureStepStatus=DISCONTINUED"], uid=uid)
    assert (code, status) == (3, 0x0110) and "COMPLETED" in out, out
    assert stage(server, rid) == "performed"

    for action, by in (("report", "dr.reader"), ("acknowledge", "dr.patel")):
        status, _, body = call(server, "POST", f"/orders/{rid}/{action}", {"by": by})
        assert status == 200, body
    status, _, body = call(server, "GET", f"/orders/{rid}/clock")
    clock = json.loads(body)
    assert [(e["event"], e["by"]) for e in clock["events"]] == [
        ("requested", "G7654321"), ("vetted", "dr.reader"), ("booked", "booking.clerk"), ("in-progress", "CT01"),
        ("performed", "CT01"), ("reported", "dr.reader"), ("acknowledged", "dr.patel")]
    assert clock["events"][2]["detail"]["station"] == "CT01"
    assert clock["events"][3]["detail"]["reference"] == f"MPPS {uid}"
    started = datetime.fromisoformat(clock["events"][3]["at"].replace("Z", "+00:00"))
    assert started == start
    # The test took place when the procedure started: request-to-test is measured to it.
    requested = datetime.fromisoformat(clock["events"][0]["at"].replace("Z", "+00:00"))
    assert clock["waits"]["request_to_test_days"] == pytest.approx((start - requested).total_seconds() / 86400, abs=0.01)
    audit = (server.data_dir / "audit.log").read_text()
    assert "dicom.worklist-find" in audit and "dicom.mpps-create" in audit and f"ServiceRequest/{rid}" in audit


def test_a_discontinued_step_puts_the_request_back_on_the_worklist(server, dxhub_bin):
    rid = place(server, service_request(code="MR-KNEE"))["id"]
    appointment = datetime.now(timezone.utc).replace(microsecond=0, second=0) + timedelta(days=3)
    accession = book(server, rid, appointment, station="MR01")
    date, time = local(appointment)
    uid = generate_uid()
    code, status, out = mpps(server, dxhub_bin, "create", [
        f"ScheduledStepAttributesSequence[0].AccessionNumber={accession}", "PerformedProcedureStepStatus=IN PROGRESS",
        f"PerformedProcedureStepStartDate={date}", f"PerformedProcedureStepStartTime={time}"], uid=uid, calling="MR01")
    assert (code, status) == (0, 0), out
    assert stage(server, rid) == "in-progress"
    code, status, out = mpps(server, dxhub_bin, "set", [
        "PerformedProcedureStepStatus=DISCONTINUED", f"PerformedProcedureStepEndDate={date}",
        f"PerformedProcedureStepEndTime={time}",
        "PerformedProcedureStepDiscontinuationReasonCodeSequence[0].CodeMeaning=Patient claustrophobic"],
        uid=uid, calling="MR01")
    assert (code, status) == (0, 0), out
    assert stage(server, rid) == "booked"
    items, _ = worklist(server, [f"AccessionNumber={accession}", f"{SPS}.ScheduledProcedureStepStatus"], "MR01")
    assert [i.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStatus for i in items] == ["SCHEDULED"]
    status, _, body = call(server, "GET", f"/orders/{rid}/clock")
    events = json.loads(body)["events"]
    assert [e["event"] for e in events][-2:] == ["in-progress", "discontinued"]
    assert events[-1]["detail"]["reason"] == "Patient claustrophobic"
    assert json.loads(body)["waits"]["waiting"] is True


def test_worklist_matching(server):
    base = datetime.now(timezone.utc).replace(microsecond=0, second=0, minute=0) + timedelta(days=30)
    booked = {}
    for name, code, station, days in (("ct-a", "CT-HEAD", "CTM1", 0), ("ct-b", "CT-CHEST", "CTM1", 1),
                                      ("ct-c", "CT-HEAD", "CTM2", 0), ("mr-a", "MR-KNEE", "MRM1", 0)):
        rid = place(server, service_request(code=code, site="RMATCH"))["id"]
        booked[name] = book(server, rid, base + timedelta(days=days), station=station, site="RMATCH")
    day0, _ = local(base)
    day1, _ = local(base + timedelta(days=1))

    def accessions(*keys: str) -> set[str]:
        items, log = worklist(server, ["AccessionNumber", f"{SPS}.ScheduledProcedureStepLocation=RMATCH", *keys])
        assert "Success" in log, log
        return {item.AccessionNumber for item in items}

    assert accessions() == set(booked.values())
    assert accessions(f"{SPS}.Modality=CT") == {booked["ct-a"], booked["ct-b"], booked["ct-c"]}
    assert accessions(f"{SPS}.ScheduledStationAETitle=CTM1") == {booked["ct-a"], booked["ct-b"]}
    assert accessions(f"{SPS}.ScheduledProcedureStepStartDate={day1}") == {booked["ct-b"]}
    assert accessions(f"{SPS}.ScheduledProcedureStepStartDate={day0}-{day1}", f"{SPS}.Modality=CT",
                      f"{SPS}.ScheduledStationAETitle=CTM1") == {booked["ct-a"], booked["ct-b"]}
    assert accessions(f"{SPS}.ScheduledProcedureStepStartDate=-{day0}", f"{SPS}.Modality=MR") == {booked["mr-a"]}
    assert accessions(f"AccessionNumber={booked['ct-c']}") == {booked["ct-c"]}
    assert accessions("PatientName=okafor*") == set(booked.values())
    assert accessions("PatientName=Smith*") == set()
    assert accessions("PatientID=9434765919", f"{SPS}.Modality=US") == set()


@pytest.mark.parametrize("keys, words", [
    ([f"{SPS}.ScheduledProcedureStepStartDate=tomorrow"], "not a valid date"),
    ([f"{SPS}.ScheduledProcedureStepStartDate=20261301-20261232-2"], "not a valid date"),
    ([f"{SPS}.ScheduledProcedureStepStartTime=25h"], "not a valid time"),
    ([f"{SPS}.Modality=CT", "ScheduledProcedureStepSequence[1].Modality=MR"], "one item"),
])
def test_a_worklist_query_with_bad_keys_fails_and_changes_nothing(server, keys, words):
    status, _, body = call(server, "GET", "/fhir/ServiceRequest?_count=0", accept="application/fhir+json")
    before = json.loads(body)["total"]
    items, log = worklist(server, ["AccessionNumber", *keys], debug=True)
    assert items == [] and "0xa900" in log.lower() and words in log, log
    status, _, body = call(server, "GET", "/fhir/ServiceRequest?_count=0", accept="application/fhir+json")
    assert json.loads(body)["total"] == before


def test_bad_procedure_steps_are_refused_with_their_status(server, dxhub_bin):
    rid = place(server, service_request(code="CT-HEAD"))["id"]
    accession = book(server, rid, datetime.now(timezone.utc) + timedelta(days=4))
    today, now = local(datetime.now(timezone.utc))
    scheduled = f"ScheduledStepAttributesSequence[0].AccessionNumber={accession}"
    start = [f"PerformedProcedureStepStartDate={today}", f"PerformedProcedureStepStartTime={now}"]

    code, status, out = mpps(server, dxhub_bin, "create", [scheduled, *start])
    assert (code, status) == (3, 0x0120) and "Performed Procedure Step Status" in out, out
    code, status, out = mpps(server, dxhub_bin, "create", [scheduled, "PerformedProcedureStepStatus=COMPLETED", *start])
    assert (code, status) == (3, 0x0106), out
    code, status, out = mpps(server, dxhub_bin, "create", [
        scheduled, "PerformedProcedureStepStatus=IN PROGRESS", "PerformedProcedureStepStartDate=someday",
        "PerformedProcedureStepStartTime=1200"])
    assert (code, status) == (3, 0x0106), out
    code, status, out = mpps(server, dxhub_bin, "set", ["PerformedProcedureStepStatus=COMPLETED"], uid=generate_uid())
    assert (code, status) == (3, 0x0112), out
    assert stage(server, rid) == "booked"

    uid = generate_uid()
    code, status, out = mpps(server, dxhub_bin, "create", [scheduled, "PerformedProcedureStepStatus=IN PROGRESS", *start],
                             uid=uid)
    assert (code, status) == (0, 0), out
    code, status, out = mpps(server, dxhub_bin, "create", [scheduled, "PerformedProcedureStepStatus=IN PROGRESS", *start],
                             uid=uid)
    assert (code, status) == (3, 0x0111), out
    code, status, out = mpps(server, dxhub_bin, "set", ["PerformedProcedureStepStatus=COMPLETED"], uid=uid)
    assert (code, status) == (3, 0x0121) and "End Date" in out, out
    code, status, out = mpps(server, dxhub_bin, "set", ["PerformedProcedureStepStatus=FINISHED"], uid=uid)
    assert (code, status) == (3, 0x0106), out
    assert stage(server, rid) == "in-progress"
    status, _, body = call(server, "GET", f"/orders/{rid}/clock")
    assert [e["event"] for e in json.loads(body)["events"]] == ["requested", "vetted", "booked", "in-progress"]
