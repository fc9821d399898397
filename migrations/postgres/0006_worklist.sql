-- The modality worklist and performed procedure steps (storage/api/order_store.hpp):
-- the kind of DM01 activity a request is, booked requests by appointment, and
-- every Modality Performed Procedure Step a modality reports.
ALTER TABLE orders ADD COLUMN activity TEXT NOT NULL DEFAULT 'waiting-list';
CREATE INDEX orders_scheduled ON orders (stage, booked_for);

CREATE TABLE procedure_steps (
  uid TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  order_id TEXT NOT NULL DEFAULT '',
  station_ae TEXT NOT NULL DEFAULT '',
  started_at BIGINT NOT NULL DEFAULT 0,
  ended_at BIGINT NOT NULL DEFAULT 0,
  attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX procedure_steps_order ON procedure_steps (order_id);
