-- Laboratory results (storage/api/result_store.hpp): the HL7 v2 messages received,
-- the FHIR resources made from them with every version, and the GP inbox.
CREATE TABLE hl7_messages (
  pk INTEGER PRIMARY KEY,
  sender TEXT NOT NULL,
  control_id TEXT NOT NULL,
  message_type TEXT NOT NULL,
  received_at TEXT NOT NULL,
  raw TEXT NOT NULL,
  ack TEXT NOT NULL,
  UNIQUE (sender, control_id)
);

-- The current version of each resource, with its search columns.
CREATE TABLE fhir_resources (
  pk INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  nhs_number TEXT NOT NULL,
  status TEXT NOT NULL,
  category TEXT NOT NULL DEFAULT '',
  code TEXT NOT NULL DEFAULT '',          -- system|code
  code_value TEXT NOT NULL DEFAULT '',    -- the code alone, for searches without a system
  effective TEXT NOT NULL DEFAULT '',
  report_id TEXT NOT NULL DEFAULT '',
  practice TEXT NOT NULL DEFAULT '',
  abnormal INTEGER NOT NULL DEFAULT 0,
  urgent INTEGER NOT NULL DEFAULT 0,
  last_updated TEXT NOT NULL,
  message_pk INTEGER REFERENCES hl7_messages (pk),
  -- The last inbox action when this version arrived: only later actions handle it,
  -- so a corrected report comes back to the inbox as new.
  actions_before INTEGER NOT NULL DEFAULT 0,
  json TEXT NOT NULL,
  UNIQUE (type, id)
);
CREATE INDEX fhir_resources_patient ON fhir_resources (type, nhs_number, effective);
CREATE INDEX fhir_resources_code ON fhir_resources (type, code_value, effective);
CREATE INDEX fhir_resources_report ON fhir_resources (report_id) WHERE report_id <> '';
CREATE INDEX fhir_resources_practice ON fhir_resources (practice, type) WHERE practice <> '';

-- The versions of each resource that a later one superseded (the current one is in
-- fhir_resources).
CREATE TABLE fhir_history (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  last_updated TEXT NOT NULL,
  message_pk INTEGER REFERENCES hl7_messages (pk),
  json TEXT NOT NULL,
  PRIMARY KEY (type, id, version)
);

-- Acknowledgements and filings of reports in the GP inbox, in order.
CREATE TABLE inbox_actions (
  pk INTEGER PRIMARY KEY,
  report_id TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('acknowledged', 'filed')),
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inbox_actions_report ON inbox_actions (report_id, pk);

CREATE TABLE notifications (
  pk INTEGER PRIMARY KEY,
  report_id TEXT NOT NULL,
  practice TEXT NOT NULL,
  nhs_number TEXT NOT NULL,
  raised_at TEXT NOT NULL,
  reason TEXT NOT NULL,
  actions_before INTEGER NOT NULL DEFAULT 0  -- as in fhir_resources
);
CREATE INDEX notifications_practice ON notifications (practice, pk);
