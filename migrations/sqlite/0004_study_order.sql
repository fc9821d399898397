-- A patient's studies in date order straight from the index: a search by patient
-- (name, identifier) sorts its matches and pages through them without reading
-- the study rows it does not return.
DROP INDEX studies_patient;
CREATE INDEX studies_patient ON studies (patient_pk, study_date, study_time);
