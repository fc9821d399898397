"""dxhub on a PostgreSQL index: `dxhub serve --index postgresql://...` ingests over C-STORE
(storescu) and answers C-FIND (findscu) and QIDO-RS from the shared database, and a second
node on the same database sees the same archive.

DXHUB_TEST_POSTGRES holds the conninfo of a server (scripts/test.sh starts a throwaway one
with scripts/postgres-test-server.sh); the module works in a database of its own, dropped at
the end. Without the variable the module fails under CI and is skipped locally.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from dxtest import dicom_files, dicomgen, findscu, read_dataset, run, storescu

CONNINFO = os.environ.get("DXHUB_TEST_POSTGRES", "")
MISSING = ("DXHUB_TEST_POSTGRES is not set: these tests need a PostgreSQL server "
           "(scripts/test.sh starts one with scripts/postgres-test-server.sh)")
PSQL = shutil.which("psql") or "/usr/bin/psql"


def psql(conninfo: str, sql: str) -> str:
    result = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                             "-c", sql], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"psql {sql!r} failed:\n{result.stderr}"
    return result.stdout.strip()


KEYWORD_VALUE = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


def with_database(conninfo: str, database: str) -> tuple[str, str]:
    """(libpq key=value conninfo, postgresql:// URL) of `database` on the server `conninfo` names."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        parts = urllib.parse.urlsplit(conninfo)
        url = urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(database)))
        return url, url
    params = {}
    for key, value in KEYWORD_VALUE.findall(conninfo):
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key] = value
    params["dbname"] = database
    keyword_value = " ".join(f"{key}='{value}'" for key, value in params.items())
    host = params.pop("host", "")
    port = params.pop("port", "")
    user = params.pop("user", "")
    password = params.pop("password", "")
    params.pop("dbname")
    auth = urllib.parse.quote(user, safe="")
    if password:
        auth += ":" + urllib.parse.quote(password, safe="")
    netloc = (auth + "@" if auth else "") + urllib.parse.quote(host, safe="") + (f":{port}" if port else "")
    query = urllib.parse.urlencode(params)
    url = f"postgresql://{netloc}/{database}" + (f"?{query}" if query else "")
    return keyword_value, url


@pytest.fixture(scope="module")
def database():
    """A fresh database for this module: (conninfo, URL)."""
    if not CONNINFO:
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    name = f"dxtest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    psql(CONNINFO, f"CREATE DATABASE {name}")
    yield with_database(CONNINFO, name)
    psql(CONNINFO, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def get(server, path: str):
    url = f"http://127.0.0.1:{server.http_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def value(obj: dict, tag: str):
    values = obj.get(tag, {}).get("Value", [])
    return values[0] if values else None


@pytest.fixture(scope="module")
def archive(database, module_dxhub, tmp_path_factory):
    """A node on the PostgreSQL index, with two CT studies and one MR study stored by C-STORE."""
    _, url = database
    root = tmp_path_factory.mktemp("postgres")
    dicomgen("ct", "--out", root / "ct", "--studies", "2", "--series", "2", "--slices", "3",
             "--rows", "16", "--cols", "16", "--seed", "postgres-ct")
    dicomgen("mr", "--out", root / "mr", "--studies", "1", "--slices", "2", "--rows", "16",
             "--cols", "16", "--seed", "postgres-mr")
    files = dicom_files(root / "ct") + dicom_files(root / "mr")
    server = module_dxhub("--index", url)
    work = root / "work"
    work.mkdir()
    outcome = storescu(server, files, work)
    assert outcome.all_succeeded and len(outcome.statuses) == len(files), outcome.output[-3000:]
    return server, [read_dataset(path) for path in files]


def test_instances_are_indexed_in_postgresql_not_sqlite(database, archive):
    conninfo, _ = database
    server, datasets = archive
    assert not (server.data_dir / "index.sqlite").exists()
    assert int(psql(conninfo, "SELECT COUNT(*) FROM instances")) == len(datasets)
    assert int(psql(conninfo, "SELECT COUNT(*) FROM studies")) == len({ds.StudyInstanceUID for ds in datasets})
    assert int(psql(conninfo, "SELECT MAX(version) FROM schema_migrations")) >= 2


def test_cfind_study_level_with_counts(archive):
    server, datasets = archive
    patient_id = str(datasets[0].PatientID)
    expected = {}
    for ds in datasets:
        if ds.PatientID == patient_id:
            expected[str(ds.StudyInstanceUID)] = expected.get(str(ds.StudyInstanceUID), 0) + 1
    responses = findscu(server, "STUDY", {"PatientID": patient_id, "StudyInstanceUID": "",
                                          "NumberOfStudyRelatedInstances": ""})
    got = {str(r.StudyInstanceUID): int(r.NumberOfStudyRelatedInstances) for r in responses}
    assert got == expected


def test_cfind_wildcard_and_series_level(archive):
    server, datasets = archive
    name = str(datasets[0].PatientName)
    prefix = name[:3]
    expected = {str(ds.StudyInstanceUID) for ds in datasets if str(ds.PatientName).startswith(prefix)}
    responses = findscu(server, "STUDY", {"PatientName": prefix + "*", "StudyInstanceUID": ""})
    assert {str(r.StudyInstanceUID) for r in responses} == expected

    study = str(datasets[0].StudyInstanceUID)
    series = {str(ds.SeriesInstanceUID) for ds in datasets if ds.StudyInstanceUID == study}
    responses = findscu(server, "SERIES", {"StudyInstanceUID": study, "SeriesInstanceUID": "",
                                           "Modality": "", "NumberOfSeriesRelatedInstances": ""})
    assert {str(r.SeriesInstanceUID) for r in responses} == series
    assert all(int(r.NumberOfSeriesRelatedInstances) == 3 for r in responses)


def test_qido_rs_searches(archive):
    server, datasets = archive
    status, body = get(server, "/dicom-web/studies")
    assert status == 200
    studies = json.loads(body)
    assert {value(s, "0020000D") for s in studies} == {str(ds.StudyInstanceUID) for ds in datasets}
    for study in studies:
        uid = value(study, "0020000D")
        assert value(study, "00201208") == sum(1 for ds in datasets if ds.StudyInstanceUID == uid)

    status, body = get(server, "/dicom-web/studies?ModalitiesInStudy=MR")
    assert status == 200
    mr = {str(ds.StudyInstanceUID) for ds in datasets if ds.Modality == "MR"}
    assert {value(s, "0020000D") for s in json.loads(body)} == mr

    study = str(datasets[0].StudyInstanceUID)
    status, body = get(server, f"/dicom-web/studies/{study}/series")
    assert status == 200
    assert {value(s, "0020000E") for s in json.loads(body)} == {
        str(ds.SeriesInstanceUID) for ds in datasets if ds.StudyInstanceUID == study}


def test_a_second_node_shares_the_index(database, archive, module_dxhub):
    _, url = database
    _, datasets = archive
    other = module_dxhub("--index", url, ae_title="DXHUB2")
    status, body = get(other, "/dicom-web/studies")
    assert status == 200
    assert {value(s, "0020000D") for s in json.loads(body)} == {
        str(ds.StudyInstanceUID) for ds in datasets}
    responses = findscu(other, "STUDY", {"StudyInstanceUID": "", "NumberOfStudyRelatedInstances": ""})
    assert sum(int(r.NumberOfStudyRelatedInstances) for r in responses) == len(datasets)


def test_requests_placed_on_one_node_move_on_another(database, archive, module_dxhub):
    """Requests and their clock live in the shared database too."""
    _, url = database
    server, _ = archive
    other = module_dxhub("--index", url, ae_title="DXHUB3")
    request = json.dumps({
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "contained": [
            {"resourceType": "Patient", "id": "p",
             "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
             "name": [{"family": "Okafor", "given": ["Ada"]}]},
            {"resourceType": "PractitionerRole", "id": "r", "practitioner": {"identifier": {"value": "G7654321"}},
             "organization": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A81001"}}}],
        "code": {"coding": [{"system": "https://fhir.dxhub.org/CodeSystem/investigation", "code": "CT-HEAD"}]},
        "subject": {"reference": "#p"}, "requester": {"reference": "#r"},
        "performer": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RXX01"}}]}).encode()
    placed = urllib.request.Request(f"http://127.0.0.1:{server.http_port}/fhir/ServiceRequest", data=request,
                                    method="POST", headers={"Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(placed, timeout=30) as response:
        assert response.status == 201
        rid = json.loads(response.read())["id"]
    vet = urllib.request.Request(f"http://127.0.0.1:{other.http_port}/orders/{rid}/vet", method="POST",
                                 data=json.dumps({"decision": "accept", "by": "dr.reader"}).encode())
    with urllib.request.urlopen(vet, timeout=30) as response:
        assert response.status == 200
    status, body = get(server, f"/orders/{rid}/clock")
    assert status == 200 and [e["event"] for e in json.loads(body)["events"]] == ["requested", "vetted"]
    assert not (server.data_dir / "index.sqlite").exists()


def test_restart_keeps_the_index(archive):
    server, datasets = archive
    server.restart()
    status, body = get(server, "/api/status")
    assert status == 200
    assert json.loads(body)["instances"] == len(datasets)


def test_unreachable_database_fails_start_with_a_clear_message(dxhub_bin, tmp_path):
    result = run([dxhub_bin, "serve", "--data-dir", tmp_path / "data", "--dicom-port", "0", "--http-port", "0", "--hl7-port", "0",
                  "--index", "postgresql://dxhub:s3cret@127.0.0.1:1/dxhub?connect_timeout=5"], timeout=60,
                 env=dict(os.environ))
    assert result.returncode != 0
    assert "cannot connect to PostgreSQL" in result.stderr, result.stderr
    assert "s3cret" not in result.stderr + result.stdout
