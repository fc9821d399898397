"""C-FIND, Patient Root and Study Root, at every level (PS3.4 §C.4.1, matching §C.2.2.2).

Four studies of three patients, with hand-set names, dates and IDs, are stored once;
each test checks the exact set of matches, so a query that returns too much fails as
surely as one that returns too little.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from dicomgen import make_nhs_number
from dxtest import dicom_files, dicomgen, findscu, read_dataset, storescu

NHS_NUMBER = make_nhs_number(random.Random("test_find"))


@dataclass(frozen=True)
class StudySpec:
    key: str
    kind: str
    series: int
    slices: int
    patient_id: str
    issuer: str
    patient_name: str
    birth_date: str
    sex: str
    study_date: str
    description: str
    accession: str


SPECS = [
    StudySpec("A", "ct", 2, 3, NHS_NUMBER, "NHS", "SMITH^JOHN", "19560304", "M", "20200115",
              "CT CHEST WITH CONTRAST", "ACC0001"),
    StudySpec("B", "mr", 1, 2, NHS_NUMBER, "NHS", "SMITH^JOHN", "19560304", "M", "20210610",
              "MRI BRAIN", "ACC0002"),
    StudySpec("C", "cr", 1, 1, "RXH1234567", "RXH", "SMYTHE^JANE", "19811122", "F", "20220301",
              "XR CHEST PA", "ACC0003"),
    StudySpec("D", "ct", 1, 4, "RTH7654321", "RTH", "JONES^ANN", "19470709", "F", "20230720",
              "CT HEAD", "ACC0004"),
]


@dataclass
class Catalogue:
    study_uid: dict[str, str]          # spec key -> StudyInstanceUID
    series_uids: dict[str, list[str]]  # spec key -> SeriesInstanceUIDs (by SeriesNumber)
    instances: dict[str, list[str]]    # SeriesInstanceUID -> SOPInstanceUIDs (by InstanceNumber)


@pytest.fixture(scope="module")
def catalogue(module_dxhub, tmp_path_factory):
    root = tmp_path_factory.mktemp("find")
    files = []
    study_uid, series_uids, instances = {}, {}, {}
    for spec in SPECS:
        folder = root / spec.key
        dicomgen(spec.kind, "--out", folder, "--studies", "1", "--series", spec.series,
                 "--slices", spec.slices, "--rows", "16", "--cols", "16",
                 "--seed", f"find-{spec.key}")
        by_series: dict[str, list[tuple[int, str]]] = {}
        series_numbers: dict[str, int] = {}
        for path in dicom_files(folder):
            ds = read_dataset(path)
            ds.PatientID = spec.patient_id
            ds.IssuerOfPatientID = spec.issuer
            ds.PatientName = spec.patient_name
            ds.PatientBirthDate = spec.birth_date
            ds.PatientSex = spec.sex
            ds.StudyDate = spec.study_date
            ds.StudyDescription = spec.description
            ds.AccessionNumber = spec.accession
            if "OtherPatientIDsSequence" in ds:
                del ds.OtherPatientIDsSequence
            ds.save_as(str(path), write_like_original=False)
            files.append(path)
            study_uid[spec.key] = str(ds.StudyInstanceUID)
            by_series.setdefault(str(ds.SeriesInstanceUID), []).append(
                (int(ds.InstanceNumber), str(ds.SOPInstanceUID)))
            series_numbers[str(ds.SeriesInstanceUID)] = int(ds.SeriesNumber)
        series_uids[spec.key] = sorted(by_series, key=series_numbers.get)
        for uid, items in by_series.items():
            instances[uid] = [sop for _, sop in sorted(items)]
    server = module_dxhub()
    outcome = storescu(server, files, root)
    assert outcome.all_succeeded and len(outcome.statuses) == 13, outcome.output[-3000:]
    return server, Catalogue(study_uid, series_uids, instances)


def studies(catalogue, keys: dict, model: str = "study") -> set[str]:
    server, cat = catalogue
    responses = findscu(server, "STUDY", {"StudyInstanceUID": None, **keys}, model=model)
    by_uid = {uid: key for key, uid in cat.study_uid.items()}
    found = [by_uid.get(str(r.StudyInstanceUID), f"unknown:{r.StudyInstanceUID}")
             for r in responses]
    assert len(found) == len(set(found)), f"duplicate responses: {found}"
    return set(found)


# --------------------------------------------------------------------------- STUDY level


@pytest.mark.parametrize("keys,expected", [
    ({"PatientName": "SMITH^JOHN"}, {"A", "B"}),
    ({"PatientName": "SM*"}, {"A", "B", "C"}),
    ({"PatientName": "SM?TH^JOHN"}, {"A", "B"}),
    ({"PatientName": "*JAN*"}, {"C"}),
    ({"PatientName": "NOBODY^AT ALL"}, set()),
    ({"PatientID": NHS_NUMBER}, {"A", "B"}),
    ({"PatientID": "R*"}, {"C", "D"}),
    ({"AccessionNumber": "ACC0003"}, {"C"}),
    ({"StudyDescription": "CT*"}, {"A", "D"}),
    ({"StudyDate": "20210610"}, {"B"}),
    ({"StudyDate": "20200101-20211231"}, {"A", "B"}),
    ({"StudyDate": "20220101-"}, {"C", "D"}),
    ({"StudyDate": "-20200630"}, {"A"}),
    ({"StudyDate": "20200116-20210609"}, set()),
    ({"PatientName": "SMITH*", "StudyDate": "20210101-"}, {"B"}),
], ids=lambda value: str(value) if isinstance(value, dict) else None)
def test_study_root_study_level_matching(catalogue, keys, expected):
    assert studies(catalogue, keys) == expected


def test_study_uid_list_matching(catalogue):
    _, cat = catalogue
    uid_list = f"{cat.study_uid['A']}\\{cat.study_uid['C']}"
    assert studies(catalogue, {"StudyInstanceUID": uid_list}) == {"A", "C"}


def test_study_level_universal_matching_returns_values(catalogue):
    server, cat = catalogue
    responses = findscu(server, "STUDY", {
        "StudyInstanceUID": cat.study_uid["C"], "PatientName": "", "PatientID": "",
        "PatientBirthDate": "", "PatientSex": "", "StudyDate": "", "AccessionNumber": "",
        "StudyDescription": ""})
    assert len(responses) == 1
    response = responses[0]
    assert str(response.PatientName) == "SMYTHE^JANE"
    assert response.PatientID == "RXH1234567"
    assert response.PatientBirthDate == "19811122"
    assert response.PatientSex == "F"
    assert response.StudyDate == "20220301"
    assert response.AccessionNumber == "ACC0003"
    assert response.StudyDescription == "XR CHEST PA"


def test_study_level_related_counts(catalogue):
    server, cat = catalogue
    expected = {"A": (2, 6), "B": (1, 2), "C": (1, 1), "D": (1, 4)}
    responses = findscu(server, "STUDY", {"StudyInstanceUID": "",
                                          "NumberOfStudyRelatedSeries": "",
                                          "NumberOfStudyRelatedInstances": ""})
    by_uid = {uid: key for key, uid in cat.study_uid.items()}
    got = {by_uid[str(r.StudyInstanceUID)]: (int(r.NumberOfStudyRelatedSeries),
                                             int(r.NumberOfStudyRelatedInstances))
           for r in responses}
    assert got == expected


# --------------------------------------------------------------------------- SERIES level


def test_series_level(catalogue):
    server, cat = catalogue
    responses = findscu(server, "SERIES", {
        "StudyInstanceUID": cat.study_uid["A"], "SeriesInstanceUID": "", "Modality": "",
        "SeriesNumber": "", "NumberOfSeriesRelatedInstances": ""})
    got = {str(r.SeriesInstanceUID): (r.Modality, int(r.SeriesNumber),
                                      int(r.NumberOfSeriesRelatedInstances)) for r in responses}
    assert got == {cat.series_uids["A"][0]: ("CT", 1, 3), cat.series_uids["A"][1]: ("CT", 2, 3)}


def test_series_level_matching_on_modality_and_number(catalogue):
    server, cat = catalogue
    for study, modality, expected in (("B", "MR", 1), ("B", "CT", 0), ("A", "C?", 2)):
        responses = findscu(server, "SERIES", {"StudyInstanceUID": cat.study_uid[study],
                                               "SeriesInstanceUID": "", "Modality": modality})
        assert len(responses) == expected, (study, modality)
    responses = findscu(server, "SERIES", {"StudyInstanceUID": cat.study_uid["A"],
                                           "SeriesInstanceUID": "", "SeriesNumber": "2"})
    assert [str(r.SeriesInstanceUID) for r in responses] == [cat.series_uids["A"][1]]


# --------------------------------------------------------------------------- IMAGE level


def test_image_level(catalogue):
    server, cat = catalogue
    series = cat.series_uids["A"][0]
    base = {"StudyInstanceUID": cat.study_uid["A"], "SeriesInstanceUID": series}
    responses = findscu(server, "IMAGE", {**base, "SOPInstanceUID": "", "InstanceNumber": "",
                                          "SOPClassUID": ""})
    assert sorted(str(r.SOPInstanceUID) for r in responses) == sorted(cat.instances[series])
    assert {str(r.SOPClassUID) for r in responses} == {"1.2.840.10008.5.1.4.1.1.2"}
    assert sorted(int(r.InstanceNumber) for r in responses) == [1, 2, 3]

    responses = findscu(server, "IMAGE", {**base, "SOPInstanceUID": "", "InstanceNumber": "2"})
    assert [str(r.SOPInstanceUID) for r in responses] == [cat.instances[series][1]]

    wanted = [cat.instances[series][0], cat.instances[series][2]]
    responses = findscu(server, "IMAGE", {**base, "SOPInstanceUID": "\\".join(wanted)})
    assert sorted(str(r.SOPInstanceUID) for r in responses) == sorted(wanted)


# --------------------------------------------------------------------------- Patient Root


def patients(catalogue, keys: dict) -> dict[str, object]:
    server, _ = catalogue
    responses = findscu(server, "PATIENT", {"PatientID": "", **keys}, model="patient")
    ids = [r.PatientID for r in responses]
    assert len(ids) == len(set(ids)), f"duplicate patients: {ids}"
    return {r.PatientID: r for r in responses}


@pytest.mark.parametrize("keys,expected", [
    ({"PatientID": NHS_NUMBER}, {NHS_NUMBER}),
    ({"PatientID": "RXH*"}, {"RXH1234567"}),
    ({"PatientName": "*O*"}, {NHS_NUMBER, "RTH7654321"}),
    ({"PatientName": "JONES^A??"}, {"RTH7654321"}),
    ({"PatientName": "NOBODY"}, set()),
    ({}, {NHS_NUMBER, "RXH1234567", "RTH7654321"}),
], ids=lambda value: str(value) if isinstance(value, dict) else None)
def test_patient_root_patient_level_matching(catalogue, keys, expected):
    assert set(patients(catalogue, keys)) == expected


def test_patient_level_values_and_counts(catalogue):
    found = patients(catalogue, {"PatientID": NHS_NUMBER, "PatientName": "",
                                 "PatientBirthDate": "", "PatientSex": "",
                                 "NumberOfPatientRelatedStudies": "",
                                 "NumberOfPatientRelatedSeries": "",
                                 "NumberOfPatientRelatedInstances": ""})
    patient = found[NHS_NUMBER]
    assert str(patient.PatientName) == "SMITH^JOHN"
    assert patient.PatientBirthDate == "19560304"
    assert patient.PatientSex == "M"
    assert int(patient.NumberOfPatientRelatedStudies) == 2
    assert int(patient.NumberOfPatientRelatedSeries) == 3
    assert int(patient.NumberOfPatientRelatedInstances) == 8


def test_patient_root_study_series_image_levels(catalogue):
    server, cat = catalogue
    assert studies(catalogue, {"PatientID": NHS_NUMBER}, model="patient") == {"A", "B"}
    assert studies(catalogue, {"PatientID": NHS_NUMBER, "StudyDate": "20210101-20211231"},
                   model="patient") == {"B"}

    responses = findscu(server, "SERIES", {"PatientID": NHS_NUMBER,
                                           "StudyInstanceUID": cat.study_uid["A"],
                                           "SeriesInstanceUID": ""}, model="patient")
    assert sorted(str(r.SeriesInstanceUID) for r in responses) == sorted(cat.series_uids["A"])

    series = cat.series_uids["D"][0]
    responses = findscu(server, "IMAGE", {"PatientID": "RTH7654321",
                                          "StudyInstanceUID": cat.study_uid["D"],
                                          "SeriesInstanceUID": series, "SOPInstanceUID": ""},
                        model="patient")
    assert sorted(str(r.SOPInstanceUID) for r in responses) == sorted(cat.instances[series])


def test_patient_root_study_level_does_not_leak_other_patients(catalogue):
    assert studies(catalogue, {"PatientID": "RXH1234567"}, model="patient") == {"C"}
