#include "storage/sqlite/sqlite_consultation_store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"

namespace dx::storage {

using sqlite::Connection;

namespace {

constexpr char kConsultationColumns[] =
    "pk, id, created_at, channel, hook_instance, user_ref, patient_ref, order_ref, requested, verdict,"
    " top_recommendation, rules_json, input_json, outcome_json";

Consultation ConsultationFromRow(const sqlite::Statement& row) {
  Consultation c;
  c.id = row.Text(1);
  c.created_at = row.Text(2);
  c.channel = row.Text(3);
  c.hook_instance = row.Text(4);
  c.user = row.Text(5);
  c.patient = row.Text(6);
  c.order = row.Text(7);
  c.requested = row.Text(8);
  c.verdict = row.Text(9);
  c.top_recommendation = row.Text(10);
  c.rules_json = row.Text(11);
  c.input_json = row.Text(12);
  c.outcome_json = row.Text(13);
  return c;
}

}  // namespace

Result<std::unique_ptr<SqliteConsultationStore>> SqliteConsultationStore::Open(const std::string& path,
                                                                               bool durable) {
  DX_TRY(connection, Connection::Open(path, durable));
  if (auto migrated = sqlite::ApplyMigrations(**connection, path); !migrated) {
    return tl::unexpected(migrated.error());
  }
  return std::unique_ptr<SqliteConsultationStore>(new SqliteConsultationStore(std::move(*connection)));
}

SqliteConsultationStore::SqliteConsultationStore(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}
SqliteConsultationStore::~SqliteConsultationStore() = default;

Result<void> SqliteConsultationStore::Record(const Consultation& consultation) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  return sqlite::InTransaction(c, [&]() -> Result<void> {
    {
      DX_TRY(exists, c.Prepare("SELECT 1 FROM consultations WHERE id = ?"));
      exists->Bind(1, consultation.id);
      DX_TRY(found, exists->Step());
      if (*found) return Fail(ErrorCode::kConflict, fmt::format("consultation {} already exists", consultation.id));
    }
    DX_TRY(insert, c.Prepare("INSERT INTO consultations (id, created_at, channel, hook_instance, user_ref,"
                             " patient_ref, order_ref, requested, verdict, top_recommendation, rules_json,"
                             " input_json, outcome_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    insert->Bind(1, consultation.id)
        .Bind(2, consultation.created_at)
        .Bind(3, consultation.channel)
        .Bind(4, consultation.hook_instance)
        .Bind(5, consultation.user)
        .Bind(6, consultation.patient)
        .Bind(7, consultation.order)
        .Bind(8, consultation.requested)
        .Bind(9, consultation.verdict)
        .Bind(10, consultation.top_recommendation)
        .Bind(11, consultation.rules_json)
        .Bind(12, consultation.input_json)
        .Bind(13, consultation.outcome_json);
    DX_TRY(inserted, insert->Run());
    const std::int64_t pk = sqlite3_last_insert_rowid(c.handle());
    for (const auto& card : consultation.card_ids) {
      DX_TRY(taken, c.Prepare("SELECT 1 FROM consultation_cards WHERE card_id = ?"));
      taken->Bind(1, card);
      DX_TRY(found, taken->Step());
      if (*found) return Fail(ErrorCode::kConflict, fmt::format("card {} already belongs to a consultation", card));
      DX_TRY(link, c.Prepare("INSERT INTO consultation_cards (card_id, consultation_pk) VALUES (?, ?)"));
      link->Bind(1, card).Bind(2, pk);
      DX_TRY(linked, link->Run());
    }
    return {};
  });
}

Result<std::vector<ConsultationFeedback>> SqliteConsultationStore::FeedbackOf(std::int64_t consultation_pk) {
  DX_TRY(select, connection_->Prepare(
                     "SELECT card_id, outcome, accepted_suggestions, override_system, override_code,"
                     " override_display, user_comment, outcome_timestamp, received_at FROM consultation_feedback"
                     " WHERE consultation_pk = ? ORDER BY pk"));
  select->Bind(1, consultation_pk);
  std::vector<ConsultationFeedback> out;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    ConsultationFeedback f;
    f.card_id = select->Text(0);
    f.outcome = select->Text(1);
    const auto accepted = nlohmann::json::parse(select->Text(2), nullptr, false);
    if (accepted.is_array()) {
      for (const auto& id : accepted) {
        if (id.is_string()) f.accepted_suggestions.push_back(id.get<std::string>());
      }
    }
    f.override_system = select->Text(3);
    f.override_code = select->Text(4);
    f.override_display = select->Text(5);
    f.user_comment = select->Text(6);
    f.outcome_timestamp = select->Text(7);
    f.received_at = select->Text(8);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<std::string>> SqliteConsultationStore::CardsOf(std::int64_t consultation_pk) {
  DX_TRY(select, connection_->Prepare("SELECT card_id FROM consultation_cards WHERE consultation_pk = ? ORDER BY rowid"));
  select->Bind(1, consultation_pk);
  std::vector<std::string> out;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    out.push_back(select->Text(0));
  }
  return out;
}

Result<std::optional<Consultation>> SqliteConsultationStore::Find(const std::string& id) {
  std::lock_guard lock(mutex_);
  std::int64_t pk = 0;
  Consultation found;
  {
    DX_TRY(select, connection_->Prepare(fmt::format("SELECT {} FROM consultations WHERE id = ?", kConsultationColumns)));
    select->Bind(1, id);
    DX_TRY(row, select->Step());
    if (!*row) return std::optional<Consultation>();
    pk = select->Int(0);
    found = ConsultationFromRow(*select);
  }
  DX_TRY(cards, CardsOf(pk));
  found.card_ids = std::move(*cards);
  DX_TRY(feedback, FeedbackOf(pk));
  found.feedback = std::move(*feedback);
  return std::optional<Consultation>(std::move(found));
}

Result<std::vector<std::string>> SqliteConsultationStore::AddFeedback(
    const std::vector<ConsultationFeedback>& entries) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  return sqlite::InTransaction(c, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    for (const auto& feedback : entries) {
      std::int64_t pk = 0;
      {
        DX_TRY(select, c.Prepare("SELECT c.pk, c.id FROM consultation_cards k JOIN consultations c"
                                 " ON c.pk = k.consultation_pk WHERE k.card_id = ?"));
        select->Bind(1, feedback.card_id);
        DX_TRY(row, select->Step());
        if (!*row) return Fail(ErrorCode::kNotFound, fmt::format("no consultation returned card {}", feedback.card_id));
        pk = select->Int(0);
        ids.push_back(select->Text(1));
      }
      DX_TRY(insert, c.Prepare("INSERT INTO consultation_feedback (consultation_pk, card_id, outcome,"
                               " accepted_suggestions, override_system, override_code, override_display,"
                               " user_comment, outcome_timestamp, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)"));
      insert->Bind(1, pk)
          .Bind(2, feedback.card_id)
          .Bind(3, feedback.outcome)
          .Bind(4, nlohmann::json(feedback.accepted_suggestions).dump())
          .Bind(5, feedback.override_system)
          .Bind(6, feedback.override_code)
          .Bind(7, feedback.override_display)
          .Bind(8, feedback.user_comment)
          .Bind(9, feedback.outcome_timestamp)
          .Bind(10, feedback.received_at);
      DX_TRY(inserted, insert->Run());
    }
    return ids;
  });
}

Result<std::vector<Consultation>> SqliteConsultationStore::List(const std::string& patient, int limit) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::int64_t, Consultation>> rows;
  {
    const std::string sql =
        patient.empty()
            ? fmt::format("SELECT {} FROM consultations ORDER BY pk DESC LIMIT ?", kConsultationColumns)
            : fmt::format("SELECT {} FROM consultations WHERE patient_ref = ? ORDER BY pk DESC LIMIT ?",
                          kConsultationColumns);
    DX_TRY(select, connection_->Prepare(sql));
    int next = 1;
    if (!patient.empty()) select->Bind(next++, patient);
    select->Bind(next, static_cast<std::int64_t>(std::max(0, limit)));
    while (true) {
      DX_TRY(more, select->Step());
      if (!*more) break;
      rows.emplace_back(select->Int(0), ConsultationFromRow(*select));
    }
  }
  std::vector<Consultation> out;
  for (auto& [pk, consultation] : rows) {
    DX_TRY(cards, CardsOf(pk));
    consultation.card_ids = std::move(*cards);
    DX_TRY(feedback, FeedbackOf(pk));
    consultation.feedback = std::move(*feedback);
    out.push_back(std::move(consultation));
  }
  return out;
}

}  // namespace dx::storage
