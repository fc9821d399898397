#include "storage/postgres/postgres_consultation_store.hpp"

#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"

namespace dx::storage {

using postgres::Connection;
using postgres::Pool;
using postgres::Rows;

namespace {

constexpr char kPgConsultationColumns[] =
    "pk, id, created_at, channel, hook_instance, user_ref, patient_ref, order_ref, requested, verdict,"
    " top_recommendation, rules_json, input_json, outcome_json";

Consultation PgConsultationFromRow(const Rows& rows, int row) {
  Consultation c;
  c.id = rows.Text(row, 1);
  c.created_at = rows.Text(row, 2);
  c.channel = rows.Text(row, 3);
  c.hook_instance = rows.Text(row, 4);
  c.user = rows.Text(row, 5);
  c.patient = rows.Text(row, 6);
  c.order = rows.Text(row, 7);
  c.requested = rows.Text(row, 8);
  c.verdict = rows.Text(row, 9);
  c.top_recommendation = rows.Text(row, 10);
  c.rules_json = rows.Text(row, 11);
  c.input_json = rows.Text(row, 12);
  c.outcome_json = rows.Text(row, 13);
  return c;
}

// Fills the cards and feedback of consultations read from `rows` (two queries
// for all of them), returning the consultations in the rows' order.
Result<std::vector<Consultation>> PgWithCardsAndFeedback(Connection& c, const Rows& rows) {
  std::vector<Consultation> out;
  std::map<std::int64_t, std::size_t> by_pk;
  std::string keys = "{";
  for (int row = 0; row < rows.size(); ++row) {
    by_pk[rows.Int(row, 0)] = out.size();
    keys += (row ? "," : "") + rows.Text(row, 0);
    out.push_back(PgConsultationFromRow(rows, row));
  }
  keys += "}";
  if (out.empty()) return out;
  {
    DX_TRY(cards, c.Prepared("SELECT consultation_pk, card_id FROM consultation_cards"
                             " WHERE consultation_pk = ANY($1::bigint[]) ORDER BY consultation_pk, position",
                             {keys}));
    for (int row = 0; row < cards->size(); ++row) {
      out[by_pk.at(cards->Int(row, 0))].card_ids.push_back(cards->Text(row, 1));
    }
  }
  DX_TRY(feedback, c.Prepared("SELECT consultation_pk, card_id, outcome, accepted_suggestions, override_system,"
                              " override_code, override_display, user_comment, outcome_timestamp, received_at"
                              " FROM consultation_feedback WHERE consultation_pk = ANY($1::bigint[]) ORDER BY pk",
                              {keys}));
  for (int row = 0; row < feedback->size(); ++row) {
    ConsultationFeedback f;
    f.card_id = feedback->Text(row, 1);
    f.outcome = feedback->Text(row, 2);
    const auto accepted = nlohmann::json::parse(feedback->Text(row, 3), nullptr, false);
    if (accepted.is_array()) {
      for (const auto& id : accepted) {
        if (id.is_string()) f.accepted_suggestions.push_back(id.get<std::string>());
      }
    }
    f.override_system = feedback->Text(row, 4);
    f.override_code = feedback->Text(row, 5);
    f.override_display = feedback->Text(row, 6);
    f.user_comment = feedback->Text(row, 7);
    f.outcome_timestamp = feedback->Text(row, 8);
    f.received_at = feedback->Text(row, 9);
    out[by_pk.at(feedback->Int(row, 0))].feedback.push_back(std::move(f));
  }
  return out;
}

}  // namespace

struct PostgresConsultationStore::Impl {
  std::unique_ptr<Pool> pool;
};

Result<std::unique_ptr<PostgresConsultationStore>> PostgresConsultationStore::Open(const std::string& conninfo,
                                                                                   bool durable,
                                                                                   const PostgresOptions& options) {
  auto impl = std::make_unique<Impl>();
  DX_TRY(pool, Pool::Open(conninfo, options.schema, durable, options.connections));
  impl->pool = std::move(*pool);
  {
    DX_TRY(lease, impl->pool->Acquire());
    if (auto migrated = postgres::ApplyMigrations(**lease, options.schema); !migrated) {
      return tl::unexpected(migrated.error());
    }
  }
  return std::unique_ptr<PostgresConsultationStore>(new PostgresConsultationStore(std::move(impl)));
}

PostgresConsultationStore::PostgresConsultationStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresConsultationStore::~PostgresConsultationStore() = default;

Result<void> PostgresConsultationStore::Record(const Consultation& consultation) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  return postgres::InTransaction(c, [&]() -> Result<void> {
    // ON CONFLICT DO NOTHING: a concurrent Record of the same id or card waits
    // for the other transaction and then finds the key taken.
    DX_TRY(inserted,
           c.Prepared("INSERT INTO consultations (id, created_at, channel, hook_instance, user_ref, patient_ref,"
                      " order_ref, requested, verdict, top_recommendation, rules_json, input_json, outcome_json)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                      " ON CONFLICT (id) DO NOTHING RETURNING pk",
                      {consultation.id, consultation.created_at, consultation.channel, consultation.hook_instance,
                       consultation.user, consultation.patient, consultation.order, consultation.requested,
                       consultation.verdict, consultation.top_recommendation, consultation.rules_json,
                       consultation.input_json, consultation.outcome_json}));
    if (inserted->empty()) {
      return Fail(ErrorCode::kConflict, fmt::format("consultation {} already exists", consultation.id));
    }
    const std::string pk = inserted->Text(0, 0);
    for (std::size_t i = 0; i < consultation.card_ids.size(); ++i) {
      const std::string& card = consultation.card_ids[i];
      DX_TRY(linked, c.Prepared("INSERT INTO consultation_cards (card_id, consultation_pk, position)"
                                " VALUES ($1, $2, $3) ON CONFLICT (card_id) DO NOTHING RETURNING card_id",
                                {card, pk, std::to_string(i)}));
      if (linked->empty()) {
        return Fail(ErrorCode::kConflict, fmt::format("card {} already belongs to a consultation", card));
      }
    }
    return {};
  });
}

Result<std::optional<Consultation>> PostgresConsultationStore::Find(const std::string& id) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  DX_TRY(rows, c.Prepared(fmt::format("SELECT {} FROM consultations WHERE id = $1", kPgConsultationColumns), {id}));
  if (rows->empty()) return std::optional<Consultation>();
  DX_TRY(found, PgWithCardsAndFeedback(c, *rows));
  return std::optional<Consultation>(std::move(found->front()));
}

Result<std::vector<std::string>> PostgresConsultationStore::AddFeedback(
    const std::vector<ConsultationFeedback>& entries) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  return postgres::InTransaction(c, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    for (const auto& feedback : entries) {
      DX_TRY(owner, c.Prepared("SELECT c.pk, c.id FROM consultation_cards k JOIN consultations c"
                               " ON c.pk = k.consultation_pk WHERE k.card_id = $1",
                               {feedback.card_id}));
      if (owner->empty()) {
        return Fail(ErrorCode::kNotFound, fmt::format("no consultation returned card {}", feedback.card_id));
      }
      ids.push_back(owner->Text(0, 1));
      DX_TRY(inserted,
             c.Prepared("INSERT INTO consultation_feedback (consultation_pk, card_id, outcome, accepted_suggestions,"
                        " override_system, override_code, override_display, user_comment, outcome_timestamp,"
                        " received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        {owner->Text(0, 0), feedback.card_id, feedback.outcome,
                         nlohmann::json(feedback.accepted_suggestions).dump(), feedback.override_system,
                         feedback.override_code, feedback.override_display, feedback.user_comment,
                         feedback.outcome_timestamp, feedback.received_at}));
    }
    return ids;
  });
}

Result<std::vector<Consultation>> PostgresConsultationStore::List(const std::string& patient, int limit) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  const std::string count = std::to_string(std::max(0, limit));
  auto rows = patient.empty()
                  ? c.Prepared(fmt::format("SELECT {} FROM consultations ORDER BY pk DESC LIMIT $1",
                                           kPgConsultationColumns),
                               {count})
                  : c.Prepared(fmt::format("SELECT {} FROM consultations WHERE patient_ref = $1"
                                           " ORDER BY pk DESC LIMIT $2",
                                           kPgConsultationColumns),
                               {patient, count});
  if (!rows) return tl::unexpected(rows.error());
  return PgWithCardsAndFeedback(c, *rows);
}

}  // namespace dx::storage
