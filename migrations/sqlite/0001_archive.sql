-- The archive index: patient / study / series / instance (PS3.4 C.6 query keys),
-- with denormalised counts and modalities kept current by the adapter, and each
-- instance's DICOM JSON (PS3.18 F.2) stored at ingest.
CREATE TABLE patients (
  pk INTEGER PRIMARY KEY,
  patient_id TEXT NOT NULL,
  issuer_of_patient_id TEXT NOT NULL DEFAULT '',
  patient_name TEXT NOT NULL DEFAULT '',
  patient_birth_date TEXT NOT NULL DEFAULT '',
  patient_sex TEXT NOT NULL DEFAULT '',
  nhs_number TEXT NOT NULL DEFAULT '',
  UNIQUE (patient_id, issuer_of_patient_id)
);
CREATE INDEX patients_name ON patients (patient_name);
CREATE INDEX patients_nhs_number ON patients (nhs_number) WHERE nhs_number <> '';
CREATE INDEX patients_birth_date ON patients (patient_birth_date);

CREATE TABLE studies (
  pk INTEGER PRIMARY KEY,
  patient_pk INTEGER NOT NULL REFERENCES patients (pk),
  study_instance_uid TEXT NOT NULL UNIQUE,
  study_date TEXT NOT NULL DEFAULT '',
  study_time TEXT NOT NULL DEFAULT '',
  accession_number TEXT NOT NULL DEFAULT '',
  study_id TEXT NOT NULL DEFAULT '',
  study_description TEXT NOT NULL DEFAULT '',
  referring_physician_name TEXT NOT NULL DEFAULT '',
  modalities_in_study TEXT NOT NULL DEFAULT '',
  number_of_series INTEGER NOT NULL DEFAULT 0,
  number_of_instances INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX studies_patient ON studies (patient_pk);
CREATE INDEX studies_date ON studies (study_date, study_time);
CREATE INDEX studies_accession ON studies (accession_number);

CREATE TABLE series (
  pk INTEGER PRIMARY KEY,
  study_pk INTEGER NOT NULL REFERENCES studies (pk),
  series_instance_uid TEXT NOT NULL UNIQUE,
  modality TEXT NOT NULL DEFAULT '',
  series_number TEXT NOT NULL DEFAULT '',
  series_description TEXT NOT NULL DEFAULT '',
  body_part_examined TEXT NOT NULL DEFAULT '',
  number_of_instances INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX series_study ON series (study_pk, modality);

CREATE TABLE instances (
  pk INTEGER PRIMARY KEY,
  series_pk INTEGER NOT NULL REFERENCES series (pk),
  sop_instance_uid TEXT NOT NULL UNIQUE,
  sop_class_uid TEXT NOT NULL,
  instance_number TEXT NOT NULL DEFAULT '',
  transfer_syntax_uid TEXT NOT NULL,
  number_of_frames INTEGER NOT NULL DEFAULT 1,
  rows INTEGER NOT NULL DEFAULT 0,
  columns INTEGER NOT NULL DEFAULT 0,
  blob_key TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  dicom_json TEXT NOT NULL,
  received_at TEXT NOT NULL DEFAULT '',
  calling_ae TEXT NOT NULL DEFAULT ''
);
CREATE INDEX instances_series ON instances (series_pk);
