"""Seeds N booked requests for the worklist benchmark, identically in two places: as
rows of a dxhub index (booked, with site, station, modality and appointment) and as
.wl worklist files for DCMTK's wlmscpfs, so both answer the same queries.
Usage: worklist_seed.py INDEX_SQLITE WL_DIR N START_UNIX   (seeded, deterministic)"""

import random
import sqlite3
import sys
import time
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

STATIONS = [("CT1", "CT"), ("CT2", "CT"), ("CT3", "CT"), ("MR1", "MR"), ("MR2", "MR"),
            ("US1", "US"), ("US2", "US"), ("US3", "US"), ("DX1", "DX"), ("DX2", "DX")]
CODES = {"CT": ("CT-HEAD", "CT head"), "MR": ("MR-KNEE", "MR knee"), "US": ("US-ABDO", "US abdomen"),
         "DX": ("XR-CHEST", "Chest X-ray")}
FAMILIES = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "PATEL", "OKAFOR"]


def generate(n: int, start: int):
    rng = random.Random(20261123)
    for i in range(n):
        station, modality = rng.choice(STATIONS)
        at = start + rng.randrange(20) * 86400 + 8 * 3600 + rng.randrange(40) * 900
        yield {"id": f"{i:032x}", "accession": f"WL{i:08d}", "station": station, "modality": modality,
               "site": "RXX01" if station[-1] in "13" else "RYY02", "at": at,
               "name": f"{rng.choice(FAMILIES)}^{chr(65 + i % 26)}{i}", "nhs": f"{9000000000 + i}",
               "code": CODES[modality]}


def write_wl(row: dict, path: Path) -> None:
    moment = time.localtime(row["at"])
    step = Dataset()
    step.ScheduledStationAETitle = row["station"]
    step.ScheduledProcedureStepStartDate = time.strftime("%Y%m%d", moment)
    step.ScheduledProcedureStepStartTime = time.strftime("%H%M%S", moment)
    step.Modality = row["modality"]
    step.ScheduledProcedureStepDescription = row["code"][1]
    step.ScheduledProcedureStepID = row["accession"]
    step.ScheduledProcedureStepLocation = row["site"]
    step.ScheduledPerformingPhysicianName = ""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.AccessionNumber = row["accession"]
    ds.PatientName = row["name"]
    ds.PatientID = row["nhs"]
    ds.PatientBirthDate = "19610714"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = "2.25." + str(int(row["id"], 16))
    ds.RequestedProcedureID = row["accession"]
    ds.RequestedProcedureDescription = row["code"][1]
    ds.ScheduledProcedureStepSequence = Sequence([step])
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.31"  # Modality Worklist Information Model
    ds.file_meta.MediaStorageSOPInstanceUID = ds.StudyInstanceUID
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def main(index_sqlite: str, wl_dir: str, n: int, start: int) -> None:
    rows = list(generate(n, start))
    with sqlite3.connect(index_sqlite) as db:
        db.executemany(
            "INSERT INTO orders (id, version, last_updated, nhs_number, patient_name, birth_date, sex, code,"
            " code_display, modality, priority, stage, accession_number, performer_site, booked_site, booked_for,"
            " requested_at, clock_start, vetted_at, booked_at, details)"
            " VALUES (?, 1, '2026-11-01T00:00:00Z', ?, ?, '19610714', 'F', ?, ?, ?, 'routine', 'booked', ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?)",
            [(r["id"], r["nhs"], r["name"], r["code"][0], r["code"][1], r["modality"], r["accession"], r["site"],
              r["site"], r["at"], start - 86400 * 30, start - 86400 * 30, start - 86400 * 20, start - 86400 * 10,
              f'{{"station":"{r["station"]}"}}') for r in rows])
    folder = Path(wl_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lockfile").touch()
    for row in rows:
        write_wl(row, folder / f"{row['accession']}.wl")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
