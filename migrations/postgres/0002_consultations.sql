-- Decision-support consultations (storage/api/consultation_store.hpp): each time
-- the rules were consulted, and the requester's feedback on the cards returned.
CREATE TABLE consultations (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  channel TEXT NOT NULL,
  hook_instance TEXT NOT NULL DEFAULT '',
  user_ref TEXT NOT NULL DEFAULT '',
  patient_ref TEXT COLLATE "C" NOT NULL DEFAULT '',
  order_ref TEXT NOT NULL DEFAULT '',
  requested TEXT NOT NULL DEFAULT '',
  verdict TEXT NOT NULL,
  top_recommendation TEXT NOT NULL DEFAULT '',
  rules_json TEXT NOT NULL,
  input_json TEXT NOT NULL,
  outcome_json TEXT NOT NULL
);
CREATE INDEX consultations_patient ON consultations (patient_ref, pk);

-- position: the card's place in the answer (SQLite keeps it as the rowid order).
CREATE TABLE consultation_cards (
  card_id TEXT COLLATE "C" PRIMARY KEY,
  consultation_pk BIGINT NOT NULL REFERENCES consultations (pk),
  position INTEGER NOT NULL
);
CREATE INDEX consultation_cards_consultation ON consultation_cards (consultation_pk, position);

CREATE TABLE consultation_feedback (
  pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  consultation_pk BIGINT NOT NULL REFERENCES consultations (pk),
  card_id TEXT COLLATE "C" NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
  accepted_suggestions TEXT NOT NULL DEFAULT '[]',
  override_system TEXT NOT NULL DEFAULT '',
  override_code TEXT NOT NULL DEFAULT '',
  override_display TEXT NOT NULL DEFAULT '',
  user_comment TEXT NOT NULL DEFAULT '',
  outcome_timestamp TEXT NOT NULL DEFAULT '',
  received_at TEXT NOT NULL
);
CREATE INDEX consultation_feedback_consultation ON consultation_feedback (consultation_pk, pk);
