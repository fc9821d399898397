-- Diagnostic requests (storage/api/order_store.hpp): one row per request with the
-- times of its clock, and every state change as an event.
CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  nhs_number TEXT NOT NULL,
  patient_name TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL DEFAULT '',
  sex TEXT NOT NULL DEFAULT '',
  requester TEXT NOT NULL DEFAULT '',
  practice TEXT NOT NULL DEFAULT '',
  performer_site TEXT NOT NULL DEFAULT '',
  code TEXT NOT NULL,
  code_display TEXT NOT NULL DEFAULT '',
  modality TEXT NOT NULL DEFAULT '',
  test_group TEXT NOT NULL DEFAULT '',
  priority TEXT NOT NULL,
  stage TEXT NOT NULL,
  accession_number TEXT NOT NULL DEFAULT '',
  booked_site TEXT NOT NULL DEFAULT '',
  booked_for BIGINT NOT NULL DEFAULT 0,
  requested_at BIGINT NOT NULL,
  clock_start BIGINT NOT NULL,
  vetted_at BIGINT NOT NULL DEFAULT 0,
  booked_at BIGINT NOT NULL DEFAULT 0,
  performed_at BIGINT NOT NULL DEFAULT 0,
  reported_at BIGINT NOT NULL DEFAULT 0,
  acknowledged_at BIGINT NOT NULL DEFAULT 0,
  ended_at BIGINT NOT NULL DEFAULT 0,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX orders_patient ON orders (nhs_number, requested_at);
CREATE INDEX orders_stage ON orders (stage, performer_site, priority, requested_at);
CREATE INDEX orders_requested ON orders (requested_at);
CREATE UNIQUE INDEX orders_accession ON orders (accession_number) WHERE accession_number <> '';

CREATE TABLE order_events (
  pk BIGSERIAL PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders (id),
  event TEXT NOT NULL,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events (order_id, pk);
