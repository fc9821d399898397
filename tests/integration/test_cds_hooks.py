"""Decision support over HTTP, driven as a GP system would drive it: CDS Hooks 2.0
discovery, order-select and order-sign with FHIR ServiceRequest drafts and Patient /
Condition prefetch, feedback, and the REST endpoint POST /cds/recommend. Every answer
is validated against the CDS Hooks 2.0 shapes (schemas/cds-hooks-2.0.json) and every
consultation is read back from the record dxhub keeps."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import jsonschema
import pytest

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "cds-hooks-2.0.json").read_text())
SNOMED = "http://snomed.info/sct"
INVESTIGATION = "urn:dxhub:cds:investigation"
SELECT = "dxhub-imaging-order-select"
SIGN = "dxhub-imaging-order-sign"
EXTENSION = "urn:dxhub:fhir:StructureDefinition:cds-consultation"


def validate(instance, definition: str) -> None:
    schema = {**SCHEMA, "$ref": f"#/$defs/{definition}"}
    jsonschema.Draft202012Validator(schema).validate(instance)


def call(server, method: str, path: str, body=None, raw: bytes | None = None,
         content_type: str = "application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}", data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def born_years_ago(years: int, days_later: int = 0) -> str:
    today = today_utc()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return date.fromordinal(birthday.toordinal() + days_later).isoformat()


def patient(birth_date: str | None, gender: str = "female", pid: str = "pat-1") -> dict:
    resource = {"resourceType": "Patient", "id": pid, "gender": gender,
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}]}
    if birth_date is not None:
        resource["birthDate"] = birth_date
    return resource


def condition(code: str, display: str, status: str = "active", verification: str = "confirmed") -> dict:
    return {"resourceType": "Condition", "id": str(uuid.uuid4())[:8],
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": status}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                               "code": verification}]},
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display}}


def service_request(sid: str, code: str, system: str = INVESTIGATION, reasons: list[str] | None = None,
                    priority: str = "routine", text: str | None = None) -> dict:
    resource = {"resourceType": "ServiceRequest", "id": sid, "status": "draft", "intent": "order",
                "priority": priority, "subject": {"reference": "Patient/pat-1"},
                "code": {"coding": [{"system": system, "code": code}]}}
    if text:
        resource["code"]["text"] = text
    if reasons:
        resource["reasonCode"] = [{"text": reason} for reason in reasons]
    return resource


def hook_request(hook: str, orders: list[dict], patient_resource: dict | None,
                 conditions: list[dict] | None = None, selections: list[str] | None = None) -> dict:
    context = {"userId": "Practitioner/gp-7", "patientId": "pat-1",
               "draftOrders": {"resourceType": "Bundle", "type": "collection",
                               "entry": [{"resource": order} for order in orders]}}
    if hook == "order-select":
        context["selections"] = selections or [f"ServiceRequest/{orders[0]['id']}"]
    body = {"hook": hook, "hookInstance": str(uuid.uuid4()), "fhirServer": "https://gp.example.org/fhir",
            "context": context}
    prefetch = {}
    if patient_resource is not None:
        prefetch["patient"] = patient_resource
    prefetch["conditions"] = None if conditions is None else {
        "resourceType": "Bundle", "type": "searchset", "entry": [{"resource": c} for c in conditions]}
    body["prefetch"] = prefetch
    return body


def consultation_of(action: dict) -> str:
    for extension in action["resource"]["extension"]:
        if extension["url"] == EXTENSION:
            return next(e["valueString"] for e in extension["extension"] if e["url"] == "consultation")
    raise AssertionError(f"no consultation extension in {action}")


@pytest.fixture(scope="module")
def server(module_dxhub):
    return module_dxhub()


def test_discovery_lists_both_hooks_with_prefetch(server):
    status, body = call(server, "GET", "/cds-services")
    assert status == 200
    validate(body, "discovery")
    services = {s["id"]: s for s in body["services"]}
    assert services[SELECT]["hook"] == "order-select"
    assert services[SIGN]["hook"] == "order-sign"
    for service in services.values():
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert "Condition?patient={{context.patientId}}" in service["prefetch"]["conditions"]


def test_order_select_lumbar_mri_for_simple_back_pain_is_flagged_and_recorded(server):
    order = service_request("sr-lbp", "MR-LSPINE", reasons=["low back pain"])
    status, body = call(server, "POST", f"/cds-services/{SELECT}",
                        hook_request("order-select", [order], patient(born_years_ago(45))))
    assert status == 200, body
    validate(body, "response")
    [card] = body["cards"]
    assert card["indicator"] == "warning"
    assert "not appropriate" in card["summary"]
    assert card["source"]["label"].startswith("NICE NG59")
    assert card["source"]["topic"]["code"] == "NG59-LBP-NO-IMAGING"
    assert card["overrideReasons"], "a warning must offer override reasons"
    [suggestion] = card["suggestions"]
    assert [a["type"] for a in suggestion["actions"]] == ["delete"]
    assert suggestion["actions"][0]["resourceId"] == "ServiceRequest/sr-lbp"
    [action] = body["systemActions"]
    consultation = consultation_of(action)
    status, record = call(server, "GET", f"/cds/consultations/{consultation}")
    assert status == 200
    assert record["channel"] == "order-select"
    assert record["verdict"] == "not-appropriate"
    assert record["requested"] == "MR-LSPINE"
    assert record["order"] == "ServiceRequest/sr-lbp"
    assert record["patient"] == "Patient/pat-1"
    assert record["user"] == "Practitioner/gp-7"
    assert {"id": "NG59-LBP-NO-IMAGING", "version": 2} in record["rules"]
    assert record["input"]["age"] == 45
    assert card["uuid"] in record["cards"]


def test_order_sign_uses_condition_prefetch_and_suggests_the_recommended_test(server):
    # 62-year-old with coded cough and weight loss; the GP drafts a CT chest.
    conditions = [condition("49727002", "Cough"), condition("448765001", "Unintentional weight loss")]
    order = service_request("sr-ct", "CT-CHEST")
    status, body = call(server, "POST", f"/cds-services/{SIGN}",
                        hook_request("order-sign", [order], patient(born_years_ago(62)), conditions))
    assert status == 200, body
    validate(body, "response")
    [card] = body["cards"]
    assert card["indicator"] == "warning"
    assert "Chest X-ray" in card["summary"]
    [suggestion] = card["suggestions"]
    kinds = [a["type"] for a in suggestion["actions"]]
    assert kinds == ["delete", "create"]
    created = suggestion["actions"][1]["resource"]
    assert created["resourceType"] == "ServiceRequest"
    assert {"system": INVESTIGATION, "code": "XR-CHEST", "display": "Chest X-ray"} in created["code"]["coding"]
    assert created["priority"] == "urgent", "within 2 weeks maps to FHIR priority urgent"
    assert "id" not in created
    record = call(server, "GET", f"/cds/consultations/{consultation_of(body['systemActions'][0])}")[1]
    assert record["topRecommendation"] == "XR-CHEST"
    assert record["channel"] == "order-sign"


def test_appropriate_test_at_too_low_a_priority_gets_a_priority_suggestion(server):
    conditions = [condition("49727002", "Cough"), condition("448765001", "Unintentional weight loss")]
    routine = service_request("sr-cxr", "399208008", system=SNOMED, priority="routine")
    status, body = call(server, "POST", f"/cds-services/{SIGN}",
                        hook_request("order-sign", [routine], patient(born_years_ago(62)), conditions))
    assert status == 200
    validate(body, "response")
    [card] = body["cards"]
    assert card["indicator"] == "warning"
    assert "within 2 weeks" in card["summary"]
    [action] = card["suggestions"][0]["actions"]
    assert action["type"] == "update" and action["resource"]["priority"] == "urgent"

    urgent = service_request("sr-cxr2", "399208008", system=SNOMED, priority="urgent")
    status, body = call(server, "POST", f"/cds-services/{SIGN}",
                        hook_request("order-sign", [urgent], patient(born_years_ago(62)), conditions))
    [card] = body["cards"]
    assert card["indicator"] == "info"
    assert "appropriate" in card["summary"]
    assert "suggestions" not in card


def test_cauda_equina_red_flags_make_a_critical_card(server):
    order = service_request("sr-ces", "XR-LSPINE", reasons=["low back pain", "saddle anaesthesia"])
    status, body = call(server, "POST", f"/cds-services/{SIGN}",
                        hook_request("order-sign", [order], patient(born_years_ago(50), "male")))
    assert status == 200
    validate(body, "response")
    [card] = body["cards"]
    assert card["indicator"] == "critical"
    created = [a for a in card["suggestions"][0]["actions"] if a["type"] == "create"]
    assert created and created[0]["resource"]["priority"] == "stat"


def test_age_threshold_is_computed_from_birth_date_on_the_day(server):
    conditions = [condition("49727002", "Cough"), condition("448765001", "Unintentional weight loss")]
    order = service_request("sr-age", "XR-CHEST", priority="urgent")

    def verdict(birth: str) -> str:
        status, body = call(server, "POST", f"/cds-services/{SIGN}",
                            hook_request("order-sign", [order], patient(birth), conditions))
        assert status == 200, body
        return call(server, "GET", f"/cds/consultations/{consultation_of(body['systemActions'][0])}")[1]["verdict"]

    assert verdict(born_years_ago(40)) == "appropriate", "40 today: the 40+ rule applies"
    assert verdict(born_years_ago(40, days_later=1)) == "no-guidance", "40 tomorrow: still 39"


def test_order_select_checks_only_the_selected_orders_and_skips_other_resources(server):
    lbp = service_request("sr-a", "MR-LSPINE", reasons=["low back pain"])
    other = service_request("sr-b", "XR-CHEST")
    medication = {"resourceType": "MedicationRequest", "id": "med-1", "status": "draft", "intent": "order"}
    body = hook_request("order-select", [lbp, other], patient(born_years_ago(45)), selections=["ServiceRequest/sr-a"])
    body["context"]["draftOrders"]["entry"].append({"resource": medication})
    status, answer = call(server, "POST", f"/cds-services/{SELECT}", body)
    assert status == 200, answer
    validate(answer, "response")
    assert len(answer["systemActions"]) == 1
    assert answer["systemActions"][0]["resource"]["id"] == "sr-a"


def test_unknown_test_and_missing_birth_date_are_said_plainly_not_guessed(server):
    unknown = service_request("sr-x", "999999999", system=SNOMED, text="Vitamin D level")
    status, body = call(server, "POST", f"/cds-services/{SIGN}",
                        hook_request("order-sign", [unknown], patient(born_years_ago(50))))
    assert status == 200
    validate(body, "response")
    [card] = body["cards"]
    assert card["indicator"] == "info" and "not checked" in card["summary"]
    assert body["systemActions"] == []

    mri = service_request("sr-y", "MR-LSPINE", reasons=["low back pain"])
    status, body = call(server, "POST", f"/cds-services/{SIGN}", hook_request("order-sign", [mri], patient(None)))
    assert status == 200
    validate(body, "response")
    [card] = body["cards"]
    assert card["indicator"] == "warning"
    assert "could not be checked" in card["summary"] and "age" in card["summary"]


def test_refuted_and_resolved_conditions_do_not_count(server):
    conditions = [condition("49727002", "Cough", verification="refuted"),
                  condition("448765001", "Unintentional weight loss", status="resolved")]
    order = service_request("sr-ref", "XR-CHEST", priority="urgent")
    status, body = call(server, "POST", f"/cds-services/{SIGN}",
                        hook_request("order-sign", [order], patient(born_years_ago(62)), conditions))
    assert status == 200
    record = call(server, "GET", f"/cds/consultations/{consultation_of(body['systemActions'][0])}")[1]
    assert record["verdict"] == "no-guidance"
    assert {"text": "49727002", "present": False} in record["input"]["findings"]
    assert "448765001" not in json.dumps(record["input"])


def test_feedback_records_overrides_and_acceptances(server):
    order = service_request("sr-fb", "MR-LSPINE", reasons=["low back pain"])
    _, body = call(server, "POST", f"/cds-services/{SIGN}",
                   hook_request("order-sign", [order], patient(born_years_ago(45))))
    card = body["cards"][0]
    consultation = consultation_of(body["systemActions"][0])
    reason = card["overrideReasons"][0]
    status, answer = call(server, "POST", f"/cds-services/{SIGN}/feedback", {"feedback": [{
        "card": card["uuid"], "outcome": "overridden",
        "overrideReason": {"reason": reason, "userComment": "Progressive symptoms despite treatment"},
        "outcomeTimestamp": "2026-11-23T10:15:00Z"}]})
    assert status == 200, answer
    status, answer = call(server, "POST", f"/cds-services/{SIGN}/feedback", {"feedback": [{
        "card": card["uuid"], "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": "2026-11-23T10:16:00Z"}]})
    assert status == 200, answer
    record = call(server, "GET", f"/cds/consultations/{consultation}")[1]
    first, second = record["feedback"]
    assert first["outcome"] == "overridden"
    assert first["overrideReason"]["reason"]["code"] == reason["code"]
    assert first["overrideReason"]["userComment"] == "Progressive symptoms despite treatment"
    assert second["outcome"] == "accepted"
    assert second["acceptedSuggestions"] == [card["suggestions"][0]["uuid"]]


def test_feedback_bad_input_changes_nothing(server):
    order = service_request("sr-fb2", "MR-LSPINE", reasons=["low back pain"])
    _, body = call(server, "POST", f"/cds-services/{SIGN}",
                   hook_request("order-sign", [order], patient(born_years_ago(45))))
    card = body["cards"][0]["uuid"]
    consultation = consultation_of(body["systemActions"][0])
    good = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:15:00Z"}
    cases = [
        ({"feedback": [good, {**good, "card": str(uuid.uuid4())}]}, 404),
        ({"feedback": [{**good, "outcome": "ignored"}]}, 400),
        ({"feedback": [{"card": card, "outcome": "accepted"}]}, 400),
        ({"feedback": []}, 400),
        ({"notfeedback": 1}, 400),
    ]
    for payload, expected in cases:
        status, answer = call(server, "POST", f"/cds-services/{SIGN}/feedback", payload)
        assert status == expected, (payload, answer)
        validate(answer, "operationOutcome")
    assert call(server, "GET", f"/cds/consultations/{consultation}")[1]["feedback"] == []


@pytest.mark.parametrize("mutate,status,field", [
    (lambda b: b.pop("hookInstance"), 400, "hookInstance"),
    (lambda b: b.update(hook="patient-view"), 400, "hook"),
    (lambda b: b.pop("context"), 400, "context"),
    (lambda b: b["context"].pop("patientId"), 400, "context.patientId"),
    (lambda b: b["context"].update(draftOrders=[1, 2]), 400, "context.draftOrders"),
    (lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].pop("code"), 400, "context.draftOrders"),
    (lambda b: b["prefetch"].pop("patient"), 412, "prefetch.patient"),
    (lambda b: b["prefetch"].update(patient={"resourceType": "Practitioner"}), 400, "prefetch.patient"),
    (lambda b: b["prefetch"].update(conditions="cough"), 400, "prefetch.conditions"),
])
def test_malformed_hook_requests_get_operation_outcomes(server, mutate, status, field):
    body = hook_request("order-sign", [service_request("sr-bad", "XR-CHEST")], patient(born_years_ago(50)))
    mutate(body)
    got, answer = call(server, "POST", f"/cds-services/{SIGN}", body)
    assert got == status, answer
    validate(answer, "operationOutcome")
    assert answer["issue"][0]["expression"] == [field]


def test_order_select_needs_selections_that_exist(server):
    body = hook_request("order-select", [service_request("sr-s", "XR-CHEST")], patient(born_years_ago(50)),
                        selections=["ServiceRequest/nope"])
    status, answer = call(server, "POST", f"/cds-services/{SELECT}", body)
    assert status == 400 and "ServiceRequest/nope" in answer["issue"][0]["diagnostics"]


def test_non_json_body_is_refused(server):
    status, answer = call(server, "POST", f"/cds-services/{SIGN}", raw=b"{not json")
    assert status == 400
    validate(answer, "operationOutcome")


def test_rest_recommend_returns_ranked_advice_and_records_it(server):
    case = {"age": 62, "sex": "male", "findings": ["cough", "weight loss"], "history": ["ever smoked"],
            "requested": "CT-CHEST", "context": {"patient": "Patient/rest-1", "user": "Practitioner/gp-9"}}
    status, body = call(server, "POST", "/cds/recommend", case)
    assert status == 200, body
    top = body["recommendations"][0]
    assert top["investigation"]["code"] == "XR-CHEST"
    assert top["urgency"] == "within-2-weeks"
    assert top["source"]["guideline"] == "NICE NG12"
    assert body["verdict"]["verdict"] == "not-appropriate"
    record = call(server, "GET", f"/cds/consultations/{body['consultation']}")[1]
    assert record["channel"] == "rest" and record["patient"] == "Patient/rest-1"
    status, listing = call(server, "GET", "/cds/consultations?patient=Patient/rest-1")
    assert status == 200 and [c["id"] for c in listing["consultations"]] == [body["consultation"]]


@pytest.mark.parametrize("case,status,field", [
    ({"findings": ["cough"]}, 422, "age"),
    ({"age": 50, "findings": ["cough"], "requested": "HOLOGRAM-SCAN"}, 422, "requested"),
    ({"age": 50, "findings": ["cough", "no cough"]}, 422, "findings"),
    ({"age": 50, "sex": "robot"}, 400, None),
    ({"age": 50, "findings": "cough"}, 400, None),
    ({"age": 50, "symptoms": ["cough"]}, 400, None),
    ({"age": 50, "context": {"patient": 7}}, 400, "context"),
])
def test_rest_bad_input_gets_a_clear_operation_outcome(server, case, status, field):
    got, answer = call(server, "POST", "/cds/recommend", case)
    assert got == status, answer
    validate(answer, "operationOutcome")
    if field:
        assert field in answer["issue"][0].get("expression", []), answer


def test_consultation_search_rejects_bad_parameters(server):
    assert call(server, "GET", "/cds/consultations?_count=0")[0] == 400
    assert call(server, "GET", "/cds/consultations?colour=red")[0] == 400
    assert call(server, "GET", f"/cds/consultations/{uuid.uuid4()}")[0] == 404


def test_consultations_are_audited_and_identifiers_stay_out_of_the_log(server):
    _, body = call(server, "POST", "/cds/recommend", {"age": 45, "findings": ["low back pain"],
                                                      "context": {"patient": "Patient/audit-9434765919"}})
    audit = (server.data_dir / "audit.log").read_text()
    entries = [json.loads(line) for line in audit.splitlines()]
    consults = [e for e in entries if e.get("action") == "cds.consult"]
    assert any(f"consultation:{body['consultation']}" in e.get("entities", []) for e in consults)
    assert "9434765919" not in server.log_path.read_text()


def test_consultations_survive_a_restart(server):
    _, body = call(server, "POST", "/cds/recommend", {"age": 45, "findings": ["low back pain"]})
    server.restart()
    status, record = call(server, "GET", f"/cds/consultations/{body['consultation']}")
    assert status == 200 and record["verdict"] == "none-requested"
