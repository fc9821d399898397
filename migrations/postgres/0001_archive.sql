-- The archive index: patient / study / series / instance (PS3.4 C.6 query keys),
-- with denormalised counts and modalities kept current by the adapter, and each
-- instance's DICOM JSON (PS3.18 F.2) stored at ingest. Text compares byte by byte
-- (COLLATE "C"), as SQLite's BINARY does, whatever the database's locale: matching
-- is case-sensitive, ranges and ordering are the same on both dialects, and a
-- wildcard's literal prefix can use the btree indexes.
CREATE TABLE patients (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id TEXT COLLATE "C" NOT NULL,
  issuer_of_patient_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  patient_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  patient_birth_date TEXT COLLATE "C" NOT NULL DEFAULT '',
  patient_sex TEXT COLLATE "C" NOT NULL DEFAULT '',
  nhs_number TEXT COLLATE "C" NOT NULL DEFAULT '',
  UNIQUE (patient_id, issuer_of_patient_id)
);
CREATE INDEX patients_name ON patients (patient_name);
CREATE INDEX patients_nhs_number ON patients (nhs_number) WHERE nhs_number <> '';
CREATE INDEX patients_birth_date ON patients (patient_birth_date);

CREATE TABLE studies (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_pk BIGINT NOT NULL REFERENCES patients (pk),
  study_instance_uid TEXT COLLATE "C" NOT NULL UNIQUE,
  study_date TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_time TEXT COLLATE "C" NOT NULL DEFAULT '',
  accession_number TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_id TEXT COLLATE "C" NOT NULL DEFAULT '',
  study_description TEXT COLLATE "C" NOT NULL DEFAULT '',
  referring_physician_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  modalities_in_study TEXT COLLATE "C" NOT NULL DEFAULT '',
  number_of_series BIGINT NOT NULL DEFAULT 0,
  number_of_instances BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX studies_patient ON studies (patient_pk);
CREATE INDEX studies_date ON studies (study_date, study_time);
CREATE INDEX studies_accession ON studies (accession_number);

CREATE TABLE series (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  study_pk BIGINT NOT NULL REFERENCES studies (pk),
  series_instance_uid TEXT COLLATE "C" NOT NULL UNIQUE,
  modality TEXT COLLATE "C" NOT NULL DEFAULT '',
  series_number TEXT COLLATE "C" NOT NULL DEFAULT '',
  series_description TEXT COLLATE "C" NOT NULL DEFAULT '',
  body_part_examined TEXT COLLATE "C" NOT NULL DEFAULT '',
  number_of_instances BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX series_study ON series (study_pk, modality);

CREATE TABLE instances (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  series_pk BIGINT NOT NULL REFERENCES series (pk),
  sop_instance_uid TEXT COLLATE "C" NOT NULL UNIQUE,
  sop_class_uid TEXT COLLATE "C" NOT NULL,
  instance_number TEXT COLLATE "C" NOT NULL DEFAULT '',
  transfer_syntax_uid TEXT COLLATE "C" NOT NULL,
  number_of_frames BIGINT NOT NULL DEFAULT 1,
  rows BIGINT NOT NULL DEFAULT 0,
  columns BIGINT NOT NULL DEFAULT 0,
  blob_key TEXT COLLATE "C" NOT NULL,
  size_bytes BIGINT NOT NULL,
  sha256 TEXT COLLATE "C" NOT NULL,
  dicom_json TEXT NOT NULL,
  received_at TEXT COLLATE "C" NOT NULL DEFAULT '',
  calling_ae TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX instances_series ON instances (series_pk);
