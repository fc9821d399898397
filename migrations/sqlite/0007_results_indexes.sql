-- Fewer index entries per stored result (storage/api/result_store.hpp): each
-- ORU^R01 message stores a dozen resources, and each resource costs an entry in
-- every index of fhir_resources. No search asks for the observations of one
-- report, so that index goes. The patient index leads with the NHS number, so a
-- message's report and observations share an index page.
DROP INDEX fhir_resources_report;
DROP INDEX fhir_resources_patient;
CREATE INDEX fhir_resources_patient ON fhir_resources (nhs_number, type, effective);
