-- How the results mapping makes report ids (storage/api/result_store.hpp,
-- ResourceIds): in the order of the laboratories' order numbers for a store that
-- holds no results yet, and as a hash, as before, for one that does, so that a
-- correction still finds the result it corrects.
CREATE TABLE results_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO results_settings (name, value)
  SELECT 'resource_ids', CASE WHEN EXISTS (SELECT 1 FROM fhir_resources) THEN 'hashed' ELSE 'ordered' END;
