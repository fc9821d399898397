"""Requests and their clock, end to end with real clients: a ServiceRequest placed over
FHIR, vetted, booked, its first image stored with DCMTK's storescu (matched by
accession number), reported and acknowledged, with every clock event and the waits
checked; bad requests refused with nothing changed; and a generated history of
requests whose waiting-list figures and DM01 return are checked against figures
computed here, independently, from the same generated data."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timezone

import pytest
from pydicom.uid import generate_uid

import orders_history
from dxtest import dicom_files, dicomgen, read_dataset, storescu

NHS = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
INVESTIGATION = "https://fhir.dxhub.org/CodeSystem/investigation"
ACTIVITY = "https://fhir.dxhub.org/CodeSystem/dm01-activity"
WEEK = 7 * 86400


def call(server, method: str, path: str, body=None, accept: str = "application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", data=data, method=method,
                                     headers={"Accept": accept, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def service_request(nhs: str = "9434765919", code: str = "MR-KNEE", site: str = "RXX01", priority: str = "routine",
                    **extra) -> dict:
    resource = {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order", "priority": priority,
        "contained": [
            {"resourceType": "Patient", "id": "p", "identifier": [{"system": NHS, "value": nhs}],
             "name": [{"family": "Okafor", "given": ["Ada"]}], "birthDate": "1961-07-14", "gender": "female"},
            {"resourceType": "PractitionerRole", "id": "r",
             "practitioner": {"identifier": {"value": "G7654321"}, "display": "Dr B Patel"},
             "organization": {"identifier": {"system": ODS, "value": "A81001"}}}],
        "code": {"coding": [{"system": INVESTIGATION, "code": code}]},
        "subject": {"reference": "#p"}, "requester": {"reference": "#r"},
        "performer": [{"identifier": {"system": ODS, "value": site}}],
        "reasonCode": [{"text": "locking and giving way after a twisting injury"}],
    }
    resource.update(extra)
    return resource


def place(server, resource: dict) -> dict:
    status, headers, body = call(server, "POST", "/fhir/ServiceRequest", resource, "application/fhir+json")
    assert status == 201, body
    created = json.loads(body)
    assert headers["Location"].endswith(f"/fhir/ServiceRequest/{created['id']}/_history/1")
    return created


def stage_of(resource: dict) -> str:
    return next(e["valueCode"] for e in resource["extension"] if e["url"].endswith("request-stage"))


@pytest.fixture(scope="module")
def server(module_dxhub):
    return module_dxhub()


def test_a_whole_pathway_with_every_clock_event(server, tmp_path):
    created = place(server, service_request())
    rid = created["id"]
    assert created["status"] == "active" and stage_of(created) == "requested"

    # The vetting queue of the site shows it; the radiologist accepts it with a protocol.
    status, _, body = call(server, "GET", "/orders/vetting?site=RXX01")
    assert status == 200 and rid in [item["id"] for item in json.loads(body)["requests"]]
    status, _, body = call(server, "POST", f"/orders/{rid}/vet",
                           {"decision": "accept", "protocol": "MSK knee, PD fat-sat", "by": "dr.reader"})
    assert status == 200, body
    status, _, body = call(server, "POST", f"/orders/{rid}/book",
                           {"site": "RXX01", "appointment": "2026-12-01T09:30:00Z", "by": "booking.clerk"})
    assert status == 200, body
    booked = json.loads(body)
    accession = booked["identifier"][0]["value"]
    assert booked["occurrenceDateTime"] == "2026-12-01T09:30:00Z" and 0 < len(accession) <= 16

    # The scanner's images carry the accession number: the first one marks it performed.
    dicomgen("mr", "--out", tmp_path / "mr", "--studies", "1", "--series", "1", "--slices", "2",
             "--rows", "16", "--cols", "16", "--seed", "orders-pathway")
    files = []
    for path in dicom_files(tmp_path / "mr"):
        ds = read_dataset(path)
        ds.AccessionNumber = accession
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        out = tmp_path / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(out, write_like_original=False)
        files.append(out)
    (tmp_path / "work").mkdir()
    outcome = storescu(server, files, tmp_path / "work")
    assert outcome.all_succeeded, outcome.output
    status, _, body = call(server, "GET", f"/fhir/ServiceRequest/{rid}", accept="application/fhir+json")
    assert status == 200 and stage_of(json.loads(body)) == "performed"

    for action, by in (("report", "dr.reader"), ("acknowledge", "dr.patel")):
        status, _, body = call(server, "POST", f"/orders/{rid}/{action}", {"by": by, "reference": "DiagnosticReport/r1"})
        assert status == 200, body
    final = json.loads(body)
    assert final["status"] == "completed" and stage_of(final) == "acknowledged"

    status, _, body = call(server, "GET", f"/orders/{rid}/clock")
    clock = json.loads(body)
    events = [(e["event"], e["by"]) for e in clock["events"]]
    assert events == [("requested", "G7654321"), ("vetted", "dr.reader"), ("booked", "booking.clerk"),
                      ("performed", "modality:STORESCU"), ("reported", "dr.reader"), ("acknowledged", "dr.patel")]
    times = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in clock["events"]]
    assert times == sorted(times)
    assert clock["events"][2]["detail"]["accession_number"] == accession
    assert clock["waits"]["waiting"] is False and clock["waits"]["request_to_test_days"] >= 0

    # Acknowledged, it is off the waiting list and appears in the FHIR search as completed.
    status, _, body = call(server, "GET", f"/fhir/ServiceRequest?patient.identifier={NHS}|9434765919&status=completed",
                           accept="application/fhir+json")
    assert rid in [entry["resource"]["id"] for entry in json.loads(body)["entry"]]
    audit = (server.data_dir / "audit.log").read_text()
    assert f"ServiceRequest/{rid}" in audit and "orders.vet" in audit


def test_the_vetting_queue_orders_by_priority_and_a_changed_examination(server):
    routine = place(server, service_request(site="RQ001", code="MR-LSPINE"))
    urgent = place(server, service_request(site="RQ001", code="CT-HEAD", priority="urgent"))
    cancer = place(server, service_request(
        site="RQ001", code="CT-CHEST",
        category=[{"coding": [{"system": "https://fhir.dxhub.org/CodeSystem/request-pathway", "code": "two-week-wait"}]}]))
    status, _, body = call(server, "GET", "/orders/vetting?site=RQ001")
    queue = [item["id"] for item in json.loads(body)["requests"]]
    assert queue == [cancer["id"], urgent["id"], routine["id"]]
    status, _, body = call(server, "POST", f"/orders/{routine['id']}/vet",
                           {"decision": "change", "code": "XR-LSPINE", "reason": "no red flags", "by": "radiographer"})
    assert status == 200, body
    assert json.loads(body)["code"]["coding"][0]["code"] == "XR-LSPINE"
    status, _, body = call(server, "POST", f"/orders/{urgent['id']}/vet", {"decision": "reject", "by": "dr.reader"})
    assert status == 422 and b"reason" in body
    status, _, body = call(server, "POST", f"/orders/{urgent['id']}/vet",
                           {"decision": "reject", "reason": "CT within 24 h done elsewhere", "by": "dr.reader"})
    assert status == 200 and json.loads(body)["status"] == "revoked"


@pytest.mark.parametrize("spoil, words", [
    (lambda r: r["contained"][0]["identifier"][0].update(value="9434765918"), "Modulus 11"),
    (lambda r: r["code"]["coding"][0].update(code="MR-ELBOW-PLUS"), "unknown test code"),
    (lambda r: r.update(subject={"reference": "Patient/elsewhere"}), "unknown patient"),
    (lambda r: r.pop("performer"), "performing site"),
    (lambda r: r.update(category=[{"coding": [{"system": ACTIVITY, "code": "elective"}]}]), "DM01 activity"),
])
def test_bad_requests_are_refused_with_an_operation_outcome(server, spoil, words):
    status, _, body = call(server, "GET", "/fhir/ServiceRequest?_count=0", accept="application/fhir+json")
    before = json.loads(body)["total"]
    resource = service_request()
    spoil(resource)
    status, headers, body = call(server, "POST", "/fhir/ServiceRequest", resource, "application/fhir+json")
    outcome = json.loads(body)
    assert status == 422 and outcome["resourceType"] == "OperationOutcome", body
    assert words in outcome["issue"][0]["diagnostics"]
    assert b"9434765918" not in body
    status, _, body = call(server, "GET", "/fhir/ServiceRequest?_count=0", accept="application/fhir+json")
    assert json.loads(body)["total"] == before


def test_a_planned_test_is_kept_as_such(server):
    planned = place(server, service_request(code="CT-CHEST",
                                            category=[{"coding": [{"system": ACTIVITY, "code": "planned"}]}]))
    assert {"system": ACTIVITY, "code": "planned"} in [c for cat in planned["category"] for c in cat["coding"]]
    status, _, body = call(server, "GET", f"/fhir/ServiceRequest/{planned['id']}", accept="application/fhir+json")
    assert [c["code"] for cat in json.loads(body)["category"] for c in cat["coding"]] == ["planned"]


def put(server, rid: str, resource: dict, if_match: str | None = None):
    data = json.dumps(resource).encode()
    headers = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
    if if_match:
        headers["If-Match"] = if_match
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}/fhir/ServiceRequest/{rid}", data=data,
                                     method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_a_request_is_updated_before_vetting_and_only_cancelled_after(server):
    created = place(server, service_request(code="MR-KNEE"))
    rid = created["id"]
    changed = service_request(code="MR-LSPINE", priority="urgent", id=rid,
                              note=[{"text": "now with leg weakness"}])
    status, headers, body = put(server, rid, changed, if_match='W/"1"')
    assert status == 200, body
    assert body["priority"] == "urgent" and body["code"]["coding"][0]["code"] == "MR-LSPINE"
    assert body["note"] == [{"text": "now with leg weakness"}] and headers["ETag"] == 'W/"2"'
    status, _, body = put(server, rid, changed, if_match='W/"1"')
    assert status == 412 and body["resourceType"] == "OperationOutcome"
    other = service_request(nhs="9000000009", id=rid)
    status, _, body = put(server, rid, other)
    assert status == 422 and "another patient" in body["issue"][0]["diagnostics"]
    status, _, body = put(server, "no-such-request", service_request())
    assert status == 404
    status, _, body = put(server, rid, service_request(id="someone-else"))
    assert status == 400

    status, _, _ = call(server, "POST", f"/orders/{rid}/vet", {"decision": "accept", "by": "dr.reader"})
    assert status == 200
    status, _, body = put(server, rid, service_request(code="CT-HEAD", id=rid))
    assert status == 409 and "vetted" in body["issue"][0]["diagnostics"]
    status, _, body = put(server, rid, {**changed, "status": "revoked"})
    assert status == 422 and "reason" in body["issue"][0]["diagnostics"]
    status, _, body = put(server, rid, {**changed, "status": "revoked", "statusReason": {"text": "seen privately"}})
    assert status == 200 and body["status"] == "revoked"
    status, _, body = call(server, "GET", f"/orders/{rid}/clock")
    events = json.loads(body)["events"]
    assert [e["event"] for e in events] == ["requested", "updated", "vetted", "cancelled"]
    assert events[1]["detail"]["code"] == {"from": "MR-KNEE", "to": "MR-LSPINE"}
    assert events[3]["detail"]["reason"] == "seen privately"


def test_malformed_json_and_illegal_changes(server):
    status, _, body = call(server, "POST", "/fhir/ServiceRequest", b"{not json", "application/fhir+json")
    assert status == 400 and json.loads(body)["resourceType"] == "OperationOutcome"
    created = place(server, service_request())
    rid = created["id"]
    status, _, body = call(server, "POST", f"/orders/{rid}/cancel", {"reason": "patient moved away", "by": "gp"})
    assert status == 200
    status, _, body = call(server, "POST", f"/orders/{rid}/report", {"by": "dr.reader"})
    assert status == 409 and b"cancelled" in body
    status, _, body = call(server, "GET", f"/orders/{rid}/clock")
    assert [e["event"] for e in json.loads(body)["events"]] == ["requested", "cancelled"]
    status, _, body = call(server, "POST", f"/orders/{rid}/teleport", {"by": "x"})
    assert status == 404
    status, _, body = call(server, "POST", "/orders/no-such-request/vet", {"decision": "accept", "by": "x"})
    assert status == 404
    for query in ("patient.identifier=12345", "colour=blue", "authored=yesterday", "_count=many"):
        status, _, body = call(server, "GET", f"/fhir/ServiceRequest?{query}", accept="application/fhir+json")
        assert status == 400 and json.loads(body)["resourceType"] == "OperationOutcome", query
    for query in ("month=2026-13", "month=October", ""):
        status, _, _ = call(server, "GET", f"/waits/dm01?{query}")
        assert status == 400, query


# --------------------------------------------------------------------------- a generated history
# (tests/tools/orders_history.py: 200,000 requests over 18 months, three sites, nine tests)

def expected_waiting(rows: list[dict], census: int) -> dict:
    """Who waits at `census` by (test group, site) and weeks, computed here from the rows:
    planned and unscheduled tests are activity only."""
    counts = defaultdict(Counter)
    for r in rows:
        if not r["group"] or r["requested"] > census or r["activity"] != "waiting-list":
            continue
        if (r["performed"] and r["performed"] <= census) or (r["ended"] and r["ended"] <= census):
            continue
        start = r["clock_start"] if r["clock_start"] <= census else r["requested"]
        weeks = (census - start) // WEEK
        counts[(r["group"], r["site"])][min(weeks, 13)] += 1
    return counts


@pytest.fixture(scope="module")
def history(module_dxhub):
    server = module_dxhub()
    server.stop()
    rows = orders_history.generate(200_000, "dm01-history")
    orders_history.insert(str(server.data_dir / "index.sqlite"), rows)
    server.start()
    return server, rows


def test_waiting_list_summary_matches_an_independent_count(history):
    server, rows = history
    census = int(datetime(2026, 9, 30, 23, 59, 59, tzinfo=timezone.utc).timestamp())
    status, _, body = call(server, "GET", "/waits/summary?at=2026-09-30")
    assert status == 200, body
    summary = json.loads(body)
    expected = expected_waiting(rows, census)
    total = sum(sum(c.values()) for c in expected.values())
    over_six = sum(n for c in expected.values() for weeks, n in c.items() if weeks >= 6)
    assert summary["waiting"]["total"] == total and total > 10_000
    assert summary["waiting"]["over_6_weeks"] == over_six
    got = {(item["test_group"], item["site"]): item for item in summary["waiting_by_test_and_site"]}
    assert set(got) == set(expected)
    for key, counter in expected.items():
        assert got[key]["by_weeks_waited"] == [counter.get(w, 0) for w in range(14)], key
    # Tests performed per month and the request-to-test median, from the rows.
    performed = Counter()
    for r in rows:
        if r["performed"] and r["performed"] <= census:
            performed[(datetime.fromtimestamp(r["performed"], timezone.utc).strftime("%Y-%m"), r["group"] or "other")] += 1
    for (month, group), n in performed.items():
        assert summary["performed_by_month"][month][group] == n, (month, group)
    waits = sorted((r["performed"] - r["requested"]) / 86400 for r in rows if r["performed"])
    median = waits[(len(waits) + 1) // 2 - 1]
    assert summary["turnaround"]["request_to_test"]["all"]["count"] == len(waits)
    assert summary["turnaround"]["request_to_test"]["all"]["p50_days"] == pytest.approx(median, rel=1e-5)


def test_dm01_return_matches_an_independent_count(history):
    server, rows = history
    status, headers, body = call(server, "GET", "/waits/dm01?month=2026-08")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(body.decode())))
    header, data = table[0], table[1:]
    assert header[:5] == ["Period", "Provider Org Code", "Diagnostic ID", "Diagnostic Tests", "Diagnostic Test Category"]
    start = int(datetime(2026, 8, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(2026, 9, 1, tzinfo=timezone.utc).timestamp())
    expected = expected_waiting(rows, end - 1)
    activity = {kind: Counter((r["site"], r["group"]) for r in rows
                              if r["group"] and start <= r["performed"] < end and r["activity"] == kind)
                for kind in ("waiting-list", "planned", "unscheduled")}
    assert sum(activity["planned"].values()) > 100 and sum(activity["unscheduled"].values()) > 100
    seen = set()
    for line in data:
        assert line[0] == "2026-08"
        site, group = line[1], line[2]
        seen.add((site, group))
        bands = [int(x) for x in line[5:19]]
        counter = expected.get((group, site), Counter())
        assert bands == [counter.get(w, 0) for w in range(14)], (site, group)
        assert int(line[19]) == sum(bands)
        assert int(line[20]) == sum(bands[6:])
        by_kind = [activity[kind][(site, group)] for kind in ("waiting-list", "planned", "unscheduled")]
        assert [int(x) for x in line[23:26]] == by_kind, (site, group)
        assert int(line[26]) == sum(by_kind)
    assert seen == {(site, group) for (group, site) in expected} | {key for kind in activity.values() for key in kind}
