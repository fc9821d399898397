// ConsultationStore: the record that decision support was consulted for a
// request — inputs, the rule versions that matched, the outcome, and what the
// requester did with it (accepted or overrode, with the reason). Orders link to
// a consultation by its id. Implementations are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace dx::storage {

struct ConsultationFeedback {
  std::string card_id;               // the CDS Hooks card the feedback is about
  std::string outcome;               // "accepted" or "overridden"
  std::vector<std::string> accepted_suggestions;  // suggestion uuids
  std::string override_system;       // Coding of the override reason, when given
  std::string override_code;
  std::string override_display;
  std::string user_comment;
  std::string outcome_timestamp;     // as the client sent it (ISO 8601)
  std::string received_at;           // when dxhub recorded it (UTC ISO 8601)
};

struct Consultation {
  std::string id;                // UUID, returned to the caller
  std::string created_at;        // UTC ISO 8601
  std::string channel;           // "rest", "order-select", "order-sign"
  std::string hook_instance;     // CDS Hooks hookInstance, when called as a hook
  std::string user;              // requester reference, e.g. "Practitioner/123"
  std::string patient;           // patient reference as the caller gave it
  std::string order;             // the draft order reference, e.g. "ServiceRequest/abc"
  std::string requested;         // investigation code checked, empty when none
  std::string verdict;           // appropriate, may-be-appropriate, not-appropriate, no-guidance, error
  std::string top_recommendation;  // investigation code of the first recommendation, empty when none
  std::string rules_json;        // [{"id": ..., "version": ...}] of the matching rules
  std::string input_json;        // the evaluated case (knowledge/SCHEMA.md §4 shape)
  std::string outcome_json;      // the full outcome as returned
  std::vector<std::string> card_ids;  // cards returned to a CDS Hooks client
  std::vector<ConsultationFeedback> feedback;  // filled by Find, in arrival order
};

class ConsultationStore {
 public:
  virtual ~ConsultationStore() = default;

  // Stores a new consultation; kConflict when the id or a card id is taken.
  // Durable (per the store's durability setting) when it returns.
  virtual Result<void> Record(const Consultation& consultation) = 0;
  // The consultation with its feedback, or nullopt.
  virtual Result<std::optional<Consultation>> Find(const std::string& id) = 0;
  // Adds feedback on cards, all or nothing; returns the consultation id of each
  // entry. kNotFound naming the card when no consultation returned one of them.
  virtual Result<std::vector<std::string>> AddFeedback(const std::vector<ConsultationFeedback>& feedback) = 0;
  // Most recent first, at most `limit`, optionally only those for one patient reference.
  virtual Result<std::vector<Consultation>> List(const std::string& patient, int limit) = 0;
};

}  // namespace dx::storage
