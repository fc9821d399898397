#!/usr/bin/python3
"""Synthetic DICOM generator for dxhub tests, demos and benchmarks.

Writes realistic-looking but entirely fake studies: CT, MR and CR images, multi-frame
secondary captures, and one small image in each transfer syntax dxhub must store as
received. Patients are fictitious; NHS numbers come from the 999 test range and pass
the Modulus 11 check. Run with Debian's /usr/bin/python3 (needs python3-pydicom and
python3-numpy; the `syntaxes` command also needs DCMTK and gdcmconv).

  dicomgen.py ct --out DIR --studies 2 --slices 100 [--series 1] [--rows 512 --cols 512]
  dicomgen.py mr|cr|multiframe --out DIR ...
  dicomgen.py syntaxes --out DIR

Output files are Explicit VR Little Endian Part 10 files, laid out as
DIR/<patient>/<study>/<series>/<instance>.dcm. Generation is fast because each series
reuses one template dataset and pixel data is built from a few precomputed slices.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import dcmread
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
MF_GRAYSCALE_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"

# Transfer syntax name -> (UID, bits stored of the source image, converter command).
# The converter reads "{src}" and writes "{dst}"; None means pydicom writes it directly.
TRANSFER_SYNTAXES: dict[str, tuple[str, int, list[str] | None]] = {
    "implicit-le": ("1.2.840.10008.1.2", 16, ["dcmconv", "+ti", "{src}", "{dst}"]),
    "explicit-le": ("1.2.840.10008.1.2.1", 16, None),
    "explicit-be": ("1.2.840.10008.1.2.2", 16, ["dcmconv", "+tb", "{src}", "{dst}"]),
    "deflate": ("1.2.840.10008.1.2.1.99", 16, ["dcmconv", "+td", "{src}", "{dst}"]),
    "jpeg-baseline": ("1.2.840.10008.1.2.4.50", 8, ["dcmcjpeg", "+eb", "+un", "{src}", "{dst}"]),
    "jpeg-extended": ("1.2.840.10008.1.2.4.51", 12, ["dcmcjpeg", "+ee", "+un", "{src}", "{dst}"]),
    "jpeg-lossless": ("1.2.840.10008.1.2.4.57", 16, ["dcmcjpeg", "+el", "{src}", "{dst}"]),
    "jpeg-lossless-sv1": ("1.2.840.10008.1.2.4.70", 16, ["dcmcjpeg", "+e1", "{src}", "{dst}"]),
    "jpeg-ls-lossless": ("1.2.840.10008.1.2.4.80", 16, ["dcmcjpls", "+el", "{src}", "{dst}"]),
    "jpeg-ls-near-lossless": ("1.2.840.10008.1.2.4.81", 16,
                              ["dcmcjpls", "+en", "+un", "{src}", "{dst}"]),
    "jpeg2000-lossless": ("1.2.840.10008.1.2.4.90", 16, ["gdcmconv", "--j2k", "{src}", "{dst}"]),
    "jpeg2000": ("1.2.840.10008.1.2.4.91", 16,
                 ["gdcmconv", "--j2k", "--lossy", "-q", "30", "{src}", "{dst}"]),
    "rle": ("1.2.840.10008.1.2.5", 16, ["dcmcrle", "{src}", "{dst}"]),
}

FAMILY_NAMES = [
    "SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES",
    "PATEL", "ROBINSON", "WRIGHT", "THOMPSON", "EVANS", "WALKER", "WHITE", "ROBERTS",
    "GREEN", "HALL", "WOOD", "JACKSON", "CLARKE", "KHAN", "OKAFOR", "NOWAK", "MURPHY",
    "O'BRIEN", "HUGHES", "EDWARDS", "ALI", "CHEN",
]
GIVEN_NAMES = {
    "F": ["OLIVIA", "AMELIA", "ISLA", "AVA", "MARGARET", "SUSAN", "PRIYA", "FATIMA",
          "JOAN", "GRACE", "SIOBHAN", "HANNAH", "ZARA", "EILEEN"],
    "M": ["OLIVER", "GEORGE", "HARRY", "JACK", "DAVID", "JOHN", "MOHAMMED", "ARJUN",
          "PETER", "THOMAS", "KWAME", "CONOR", "WILLIAM", "ROBERT"],
}
HOSPITALS = [
    ("RXH", "ROYAL SUSSEX COUNTY HOSPITAL"),
    ("RRV", "UNIVERSITY COLLEGE HOSPITAL"),
    ("RTH", "JOHN RADCLIFFE HOSPITAL"),
    ("RWE", "LEICESTER ROYAL INFIRMARY"),
]
REFERRERS = ["PATEL^ANIL^^DR", "MORGAN^CLAIRE^^DR", "ADEYEMI^TUNDE^^DR", "FRASER^IAIN^^DR"]


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit of a 9-digit NHS number stem; None if the stem is unusable."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(number: str) -> bool:
    """True if number is 10 digits with a correct Modulus 11 check digit."""
    if len(number) != 10 or not number.isdigit():
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def make_nhs_number(rng: random.Random) -> str:
    """A valid NHS number from the 999 range reserved for test data."""
    while True:
        stem = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        check = nhs_check_digit(stem)
        if check is not None:
            return stem + str(check)


class UidFactory:
    """Deterministic 2.25 UIDs (PS3.5 §B.2) derived from a seed and a counter."""

    def __init__(self, seed: str):
        self._seed = seed
        self._counter = 0

    def next(self) -> str:
        self._counter += 1
        digest = hashlib.sha256(f"{self._seed}/{self._counter}".encode()).digest()
        return "2.25." + str(int.from_bytes(digest[:16], "big"))


@dataclass
class Patient:
    patient_id: str
    issuer: str
    name: str
    birth_date: str
    sex: str
    nhs_number: str
    other_ids: list[tuple[str, str]]


def make_patient(rng: random.Random, index: int, prefix: str) -> Patient:
    """Half the patients are identified by NHS number, the others by a local MRN."""
    sex = rng.choice("FM")
    family = rng.choice(FAMILY_NAMES)
    given = rng.choice(GIVEN_NAMES[sex])
    middle = rng.choice(GIVEN_NAMES[sex])[0]
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 90))
    nhs_number = make_nhs_number(rng)
    if index % 2 == 0:
        patient_id, issuer = nhs_number, "NHS"
        other_ids: list[tuple[str, str]] = []
    else:
        code, _ = rng.choice(HOSPITALS)
        patient_id = f"{prefix}{code}{rng.randrange(10**6, 10**7)}"
        issuer = code
        other_ids = [(nhs_number, "NHS")]
    return Patient(patient_id, issuer, f"{family}^{given}^{middle}", birth.strftime("%Y%m%d"),
                   sex, nhs_number, other_ids)


@dataclass
class Modality:
    name: str
    sop_class: str
    body_parts: list[str]
    study_descriptions: list[str]


MODALITIES = {
    "ct": Modality("CT", CT_IMAGE_STORAGE, ["CHEST", "ABDOMEN", "HEAD"],
                   ["CT CHEST ABDOMEN PELVIS WITH CONTRAST", "CT HEAD WITHOUT CONTRAST",
                    "CT PULMONARY ANGIOGRAM"]),
    "mr": Modality("MR", MR_IMAGE_STORAGE, ["BRAIN", "LSPINE", "KNEE"],
                   ["MRI BRAIN", "MRI LUMBAR SPINE", "MRI KNEE LEFT"]),
    "cr": Modality("CR", CR_IMAGE_STORAGE, ["CHEST", "HAND", "PELVIS"],
                   ["XR CHEST PA", "XR HAND LEFT", "XR PELVIS AP"]),
    "multiframe": Modality("OT", MF_GRAYSCALE_WORD_SC, ["CHEST"], ["CINE SECONDARY CAPTURE"]),
}


def phantom_slices(rng: np.random.Generator, rows: int, cols: int, count: int,
                   kind: str) -> np.ndarray:
    """`count` distinct slices of a body-like phantom, stored values (not HU), int32."""
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    yy = (yy - rows / 2) / (rows / 2)
    xx = (xx - cols / 2) / (cols / 2)
    out = np.empty((count, rows, cols), dtype=np.int32)
    for k in range(count):
        z = k / max(count - 1, 1)
        scale = 0.75 + 0.15 * np.sin(np.pi * z)
        body = (xx / (0.9 * scale)) ** 2 + (yy / (0.7 * scale)) ** 2 <= 1.0
        lung_l = ((xx + 0.35) / 0.25) ** 2 + (yy / (0.4 * scale)) ** 2 <= 1.0
        lung_r = ((xx - 0.35) / 0.25) ** 2 + (yy / (0.4 * scale)) ** 2 <= 1.0
        spine = (xx / 0.08) ** 2 + ((yy - 0.45 * scale) / 0.08) ** 2 <= 1.0
        if kind == "ct":  # stored = HU + 1024
            image = np.full((rows, cols), 24, dtype=np.int32)  # air ~ -1000 HU
            image[body] = 1064
            image[lung_l | lung_r] = 200
            image[spine] = 1800
        else:
            image = np.zeros((rows, cols), dtype=np.int32)
            image[body] = 900 + int(300 * z)
            image[lung_l | lung_r] = 150
            image[spine] = 2400
        out[k] = image
    out += rng.integers(0, 40, size=out.shape, dtype=np.int32)
    return out


def write_part10(ds: Dataset, path: Path) -> None:
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(str(path), write_like_original=False)


def new_file_meta(sop_class: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "DXHUB_DICOMGEN"
    return meta


def patient_study_template(patient: Patient, modality: Modality, rng: random.Random,
                           uids: UidFactory, study_index: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    if patient.other_ids:
        items = []
        for other_id, issuer in patient.other_ids:
            item = Dataset()
            item.PatientID = other_id
            item.IssuerOfPatientID = issuer
            item.TypeOfPatientID = "TEXT"
            items.append(item)
        ds.OtherPatientIDsSequence = Sequence(items)
    code, hospital = rng.choice(HOSPITALS)
    study_date = dt.datetime(2020, 1, 1, 8, 0) + dt.timedelta(
        days=rng.randrange(0, 5 * 365), minutes=rng.randrange(0, 10 * 60))
    ds.StudyInstanceUID = uids.next()
    ds.StudyDate = study_date.strftime("%Y%m%d")
    ds.StudyTime = study_date.strftime("%H%M%S")
    ds.AccessionNumber = f"{code}{study_date:%y}{rng.randrange(10**6, 10**7)}"
    ds.StudyID = str(study_index + 1)
    ds.StudyDescription = rng.choice(modality.study_descriptions)
    ds.ReferringPhysicianName = rng.choice(REFERRERS)
    ds.InstitutionName = hospital
    ds.Manufacturer = "DXHUB SYNTHETIC"
    ds.ManufacturerModelName = f"DICOMGEN {modality.name}"
    ds.StationName = f"{code}{modality.name}01"
    ds.Modality = modality.name
    ds.BodyPartExamined = rng.choice(modality.body_parts)
    ds.PatientAge = f"{max(0, study_date.year - int(patient.birth_date[:4])):03d}Y"
    return ds


def set_image_pixel_module(ds: Dataset, rows: int, cols: int, bits_stored: int,
                           signed: bool) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16 if bits_stored > 8 else 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0


def generate_images(kind: str, out: Path, studies: int, series_per_study: int, slices: int,
                    rows: int, cols: int, prefix: str, seed: str, frames: int) -> int:
    modality = MODALITIES[kind]
    rng = random.Random(f"{seed}/{kind}")
    np_rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16))
    uids = UidFactory(f"{seed}/{kind}")
    distinct = min(slices, 16)
    base_bits = {"ct": 12, "mr": 12, "cr": 12, "multiframe": 12}[kind]
    written = 0
    for study_index in range(studies):
        patient = make_patient(rng, study_index, prefix)
        study = patient_study_template(patient, modality, rng, uids, study_index)
        frame_of_reference = uids.next()
        for series_index in range(series_per_study):
            ds = Dataset()
            ds.update(study)
            ds.file_meta = new_file_meta(modality.sop_class)
            ds.is_little_endian = True
            ds.is_implicit_VR = False
            ds.SOPClassUID = modality.sop_class
            ds.SeriesInstanceUID = uids.next()
            ds.SeriesNumber = series_index + 1
            ds.SeriesDate = ds.StudyDate
            ds.SeriesTime = ds.StudyTime
            ds.ContentDate = ds.StudyDate
            ds.FrameOfReferenceUID = frame_of_reference
            ds.PatientPosition = "HFS"
            set_image_pixel_module(ds, rows, cols, base_bits, signed=False)
            thickness = 1.25 if kind == "ct" else 3.0
            if kind == "ct":
                ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
                ds.SeriesDescription = ["AXIAL 1.25MM", "AXIAL SOFT TISSUE", "CORONAL MPR"][
                    series_index % 3]
                ds.KVP = 120
                ds.XRayTubeCurrent = 200
                ds.ConvolutionKernel = "STANDARD"
                ds.RescaleIntercept = -1024
                ds.RescaleSlope = 1
                ds.RescaleType = "HU"
                ds.WindowCenter = 40
                ds.WindowWidth = 400
            elif kind == "mr":
                ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
                ds.SeriesDescription = ["T1 SAG", "T2 AX", "FLAIR AX", "DWI"][series_index % 4]
                ds.ScanningSequence = "SE"
                ds.SequenceVariant = "NONE"
                ds.MRAcquisitionType = "2D"
                ds.MagneticFieldStrength = 1.5
                ds.EchoTime = 12 + 80 * (series_index % 2)
                ds.RepetitionTime = 500 + 3500 * (series_index % 2)
                ds.WindowCenter = 1200
                ds.WindowWidth = 2400
            elif kind == "cr":
                ds.ImageType = ["ORIGINAL", "PRIMARY"]
                ds.SeriesDescription = ["PA", "LAT", "AP"][series_index % 3]
                ds.ViewPosition = ds.SeriesDescription
                ds.PatientOrientation = ["L", "F"]
                ds.ImagerPixelSpacing = [0.139, 0.139]
                ds.WindowCenter = 2048
                ds.WindowWidth = 4096
            else:
                ds.ImageType = ["DERIVED", "SECONDARY"]
                ds.SeriesDescription = "CINE"
                ds.ConversionType = "WSD"
                ds.NumberOfFrames = frames
                ds.FrameIncrementPointer = 0x00181063  # Frame Time
                ds.FrameTime = 40.0
            if kind in ("ct", "mr"):
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.PixelSpacing = [round(350.0 / cols, 4), round(350.0 / rows, 4)]
                ds.SliceThickness = thickness
            pixel_kind = "ct" if kind == "ct" else "other"
            base = phantom_slices(np_rng, rows, cols, distinct if kind != "multiframe"
                                  else min(frames, 16), pixel_kind)
            series_dir = out / f"{prefix}{patient.patient_id}" / \
                f"study-{ds.StudyInstanceUID[-12:]}" / f"series-{series_index + 1:02d}"
            series_dir.mkdir(parents=True, exist_ok=True)
            count = 1 if kind == "multiframe" else slices
            for instance_index in range(count):
                ds.SOPInstanceUID = uids.next()
                ds.InstanceNumber = instance_index + 1
                ds.ContentTime = ds.StudyTime
                if kind in ("ct", "mr"):
                    z = -instance_index * thickness
                    ds.ImagePositionPatient = [-175.0, -175.0, z]
                    ds.SliceLocation = z
                if kind == "multiframe":
                    stack = np.stack([base[f % len(base)] for f in range(frames)])
                    stack[:, 0, 0] = np.arange(frames) % 4096
                    pixels = stack.astype("<u2")
                else:
                    image = base[instance_index % len(base)].astype("<u2")
                    # Makes every slice's pixel data distinct.
                    image[0, :4] = [instance_index & 0xFFF, (instance_index >> 12) & 0xFFF,
                                    series_index & 0xFFF, study_index & 0xFFF]
                    pixels = image
                ds.PixelData = pixels.tobytes()
                ds["PixelData"].VR = "OW"
                write_part10(ds, series_dir / f"{instance_index + 1:05d}.dcm")
                written += 1
    return written


def small_image(uids: UidFactory, study_uid: str, series_uid: str, bits: int, number: int,
                label: str) -> Dataset:
    """A 64x64 secondary capture; 8-bit for JPEG baseline, 12/16-bit for the others."""
    ds = Dataset()
    ds.file_meta = new_file_meta(SECONDARY_CAPTURE)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = uids.next()
    ds.PatientName = "SYNTAX^TEST"
    ds.PatientID = "9990000018"
    ds.IssuerOfPatientID = "NHS"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyDate = "20240102"
    ds.StudyTime = "093000"
    ds.AccessionNumber = "SYNTAX0001"
    ds.StudyID = "1"
    ds.ReferringPhysicianName = ""
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.SeriesDescription = "TRANSFER SYNTAXES"
    ds.ImageComments = label
    rows = cols = 64
    set_image_pixel_module(ds, rows, cols, bits, signed=False)
    yy, xx = np.mgrid[0:rows, 0:cols]
    maximum = (1 << bits) - 1
    image = ((xx * 3 + yy * 5 + number * 7) % 64) * (maximum // 64)
    image[16:48, 16:48] = maximum // 2
    dtype = "<u2" if bits > 8 else "u1"
    ds.PixelData = image.astype(dtype).tobytes()
    ds["PixelData"].VR = "OW" if bits > 8 else "OB"
    return ds


def generate_syntaxes(out: Path, seed: str, only: list[str] | None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    uids = UidFactory(f"{seed}/syntaxes")
    study_uid, series_uid = uids.next(), uids.next()
    manifest = {}
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as scratch:
        for number, (name, (ts_uid, bits, command)) in enumerate(TRANSFER_SYNTAXES.items(), 1):
            if only and name not in only:
                continue
            ds = small_image(uids, study_uid, series_uid, bits, number, name)
            destination = out / f"{name}.dcm"
            if command is None:
                write_part10(ds, destination)
            else:
                source = Path(scratch) / f"{name}-source.dcm"
                write_part10(ds, source)
                argv = [part.format(src=source, dst=destination) for part in command]
                if shutil.which(argv[0]) is None:
                    raise SystemExit(f"dicomgen: {argv[0]} not found (scripts/setup-deps.sh)")
                result = subprocess.run(argv, capture_output=True, text=True, env=env)
                if result.returncode != 0:
                    raise SystemExit(f"dicomgen: {' '.join(argv)} failed:\n{result.stderr}")
            written = dcmread(str(destination), stop_before_pixels=True)
            actual = str(written.file_meta.TransferSyntaxUID)
            if actual != ts_uid:
                raise SystemExit(f"dicomgen: {destination} has transfer syntax {actual}, "
                                 f"expected {ts_uid}")
            manifest[name] = {"file": destination.name, "transfer_syntax": ts_uid,
                              "sop_instance_uid": str(written.SOPInstanceUID),
                              "sop_class_uid": str(written.SOPClassUID)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return len(manifest)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for kind in ("ct", "mr", "cr", "multiframe"):
        p = sub.add_parser(kind, help=f"{kind} studies")
        p.add_argument("--out", required=True, type=Path)
        p.add_argument("--studies", type=int, default=1)
        p.add_argument("--series", type=int, default=1, help="series per study")
        p.add_argument("--slices", type=int, default={"ct": 50, "mr": 24, "cr": 1,
                                                       "multiframe": 1}[kind],
                       help="instances per series (frames for multiframe)")
        p.add_argument("--frames", type=int, default=None,
                       help="frames per multi-frame object (default --slices or 10)")
        default_size = {"ct": 512, "mr": 256, "cr": 1024, "multiframe": 256}[kind]
        p.add_argument("--rows", type=int, default=default_size)
        p.add_argument("--cols", type=int, default=default_size)
        p.add_argument("--patient-prefix", default="")
        p.add_argument("--seed", default=None)
    p = sub.add_parser("syntaxes", help="one small image per transfer syntax")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--seed", default=None)
    p.add_argument("--only", nargs="*", choices=sorted(TRANSFER_SYNTAXES))
    args = parser.parse_args(argv)

    seed = args.seed if args.seed is not None else os.urandom(8).hex()
    started = time.monotonic()
    if args.command == "syntaxes":
        count = generate_syntaxes(args.out, seed, args.only)
    else:
        frames = args.frames or (args.slices if args.slices > 1 else 10)
        count = generate_images(args.command, args.out, args.studies, args.series, args.slices,
                                args.rows, args.cols, args.patient_prefix, seed, frames)
    print(f"dicomgen: wrote {count} files to {args.out} in "
          f"{time.monotonic() - started:.1f}s (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
