#include "storage/sqlite/sqlite_result_store.hpp"


#include <fmt/format.h>

#include "storage/api/result_search_sql.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"

namespace dx::storage {

using sqlite::Connection;

namespace {

constexpr char kResourceColumns[] =
    "type, id, nhs_number, status, category, code, effective, report_id, practice, abnormal, urgent, json,"
    " version, last_updated";
// The same, qualified for queries joining fhir_resources r to other tables.
constexpr char kResourceColumnsOfR[] =
    "r.type, r.id, r.nhs_number, r.status, r.category,"
    " r.code, r.effective, r.report_id, r.practice, r.abnormal, r.urgent, r.json, r.version, r.last_updated";

// Reads kResourceColumns starting at column `first`.
StoredResource ResourceFromRow(const sqlite::Statement& row, int first = 0) {
  StoredResource stored;
  auto& r = stored.record;
  r.type = row.Text(first);
  r.id = row.Text(first + 1);
  r.nhs_number = row.Text(first + 2);
  r.status = row.Text(first + 3);
  r.category = row.Text(first + 4);
  r.code = row.Text(first + 5);
  r.effective = row.Text(first + 6);
  r.report_id = row.Text(first + 7);
  r.practice = row.Text(first + 8);
  r.abnormal = row.Int(first + 9) != 0;
  r.urgent = row.Int(first + 10) != 0;
  r.json = row.Text(first + 11);
  stored.version = static_cast<int>(row.Int(first + 12));
  stored.last_updated = row.Text(first + 13);
  return stored;
}

// Writes each resource as its next version (with its history row and, for an urgent
// report, a notification), inside the caller's transaction.
Result<void> StoreResources(Connection& c, const std::vector<ResourceRecord>& resources, std::int64_t message_pk,
                            const std::string& now) {
  for (const auto& r : resources) {
    {  // the version this one supersedes, if any, goes to the history
      DX_TRY(keep, c.Prepare("INSERT INTO fhir_history (type, id, version, status, last_updated, message_pk, json)"
                             " SELECT type, id, version, status, last_updated, message_pk, json FROM fhir_resources"
                             " WHERE type = ? AND id = ?"));
      keep->Bind(1, r.type).Bind(2, r.id);
      DX_TRY(kept, keep->Run());
    }
    DX_TRY(upsert, c.Prepare(
                       "INSERT INTO fhir_resources (type, id, version, nhs_number, status, category, code, effective,"
                       " report_id, practice, abnormal, urgent, last_updated, message_pk, json, code_value,"
                       " actions_before) VALUES (?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                       " (SELECT COALESCE(MAX(pk), 0) FROM inbox_actions)) ON CONFLICT (type, id) DO UPDATE SET"
                       " version = fhir_resources.version + 1, nhs_number = excluded.nhs_number,"
                       " status = excluded.status, category = excluded.category, code = excluded.code,"
                       " effective = excluded.effective, report_id = excluded.report_id, practice = excluded.practice,"
                       " abnormal = excluded.abnormal, urgent = excluded.urgent,"
                       " last_updated = excluded.last_updated, message_pk = excluded.message_pk,"
                       " json = excluded.json, code_value = excluded.code_value,"
                       " actions_before = excluded.actions_before RETURNING version"));
    upsert->Bind(1, r.type)
        .Bind(2, r.id)
        .Bind(3, r.nhs_number)
        .Bind(4, r.status)
        .Bind(5, r.category)
        .Bind(6, r.code)
        .Bind(7, r.effective)
        .Bind(8, r.report_id)
        .Bind(9, r.practice)
        .Bind(10, std::int64_t{r.abnormal})
        .Bind(11, std::int64_t{r.urgent})
        .Bind(12, now)
        .Bind(13, message_pk)
        .Bind(14, r.json)
        .Bind(15, r.code.substr(r.code.rfind('|') + 1));
    DX_TRY(returned, upsert->Step());
    if (!*returned) return Fail(ErrorCode::kStorage, "upsert returned no version");
    const std::int64_t version = upsert->Int(0);
    if (r.type == "DiagnosticReport" && r.urgent && !r.practice.empty()) {
      DX_TRY(raise, c.Prepare("INSERT INTO notifications (report_id, practice, nhs_number, raised_at, reason,"
                              " actions_before) VALUES (?,?,?,?,?, (SELECT COALESCE(MAX(pk), 0) FROM inbox_actions))"));
      raise->Bind(1, r.id).Bind(2, r.practice).Bind(3, r.nhs_number).Bind(4, now).Bind(
          5, version > 1 ? "corrected result with a critical value" : "result with a critical value");
      DX_TRY(raised, raise->Run());
    }
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<SqliteResultStore>> SqliteResultStore::Open(const std::string& path, bool durable) {
  DX_TRY(connection, Connection::Open(path, durable));
  if (auto migrated = sqlite::ApplyMigrations(**connection, path); !migrated) return tl::unexpected(migrated.error());
  return std::unique_ptr<SqliteResultStore>(new SqliteResultStore(std::move(*connection)));
}

SqliteResultStore::SqliteResultStore(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}
SqliteResultStore::~SqliteResultStore() = default;

Result<std::optional<std::string>> SqliteResultStore::FindAck(const std::string& sender,
                                                              const std::string& control_id) {
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare("SELECT ack FROM hl7_messages WHERE sender = ? AND control_id = ?"));
  select->Bind(1, sender).Bind(2, control_id);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(select->Text(0));
}

Result<std::vector<StoreOutcome>> SqliteResultStore::StoreMessages(const std::vector<IncomingMessage>& messages) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  const std::string now = sqlite::UtcNow();
  return sqlite::InTransaction(c, [&]() -> Result<std::vector<StoreOutcome>> {
    std::vector<StoreOutcome> outcomes;
    for (const auto& [message, ack, resources] : messages) {
      {
        DX_TRY(seen, c.Prepare("SELECT ack FROM hl7_messages WHERE sender = ? AND control_id = ?"));
        seen->Bind(1, message.sender).Bind(2, message.control_id);
        DX_TRY(found, seen->Step());
        if (*found) {
          outcomes.push_back({false, seen->Text(0)});
          continue;
        }
      }
      DX_TRY(insert, c.Prepare("INSERT INTO hl7_messages (sender, control_id, message_type, received_at, raw, ack)"
                               " VALUES (?,?,?,?,?,?)"));
      insert->Bind(1, message.sender)
          .Bind(2, message.control_id)
          .Bind(3, message.message_type)
          .Bind(4, message.received_at)
          .Bind(5, message.raw)
          .Bind(6, ack);
      DX_TRY(inserted, insert->Run());
      const std::int64_t message_pk = sqlite3_last_insert_rowid(c.handle());
      if (auto stored = StoreResources(c, resources, message_pk, now); !stored) return tl::unexpected(stored.error());
      outcomes.push_back({true, ""});
    }
    return outcomes;
  });
}

Result<std::optional<StoredResource>> SqliteResultStore::Read(const std::string& type, const std::string& id,
                                                              int version) {
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare(fmt::format("SELECT {} FROM fhir_resources WHERE type = ? AND id = ?",
                                                  kResourceColumns)));
  select->Bind(1, type).Bind(2, id);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<StoredResource>();
  StoredResource stored = ResourceFromRow(*select);
  if (version == 0 || version == stored.version) return std::optional<StoredResource>(std::move(stored));
  DX_TRY(old, connection_->Prepare("SELECT status, last_updated, json FROM fhir_history"
                                   " WHERE type = ? AND id = ? AND version = ?"));
  old->Bind(1, type).Bind(2, id).Bind(3, std::int64_t{version});
  DX_TRY(found, old->Step());
  if (!*found) return std::optional<StoredResource>();
  stored.version = version;
  stored.record.status = old->Text(0);
  stored.last_updated = old->Text(1);
  stored.record.json = old->Text(2);
  return std::optional<StoredResource>(std::move(stored));
}

Result<std::vector<StoredResource>> SqliteResultStore::History(const std::string& type, const std::string& id) {
  DX_TRY(current, Read(type, id, 0));
  std::vector<StoredResource> versions;
  if (!*current) return versions;
  versions.push_back(**current);
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare("SELECT version, status, last_updated, json FROM fhir_history"
                                      " WHERE type = ? AND id = ? ORDER BY version DESC"));
  select->Bind(1, type).Bind(2, id);
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    StoredResource version = **current;
    version.version = static_cast<int>(select->Int(0));
    version.record.status = select->Text(1);
    version.last_updated = select->Text(2);
    version.record.json = select->Text(3);
    versions.push_back(std::move(version));
  }
  return versions;
}

Result<SearchPage> SqliteResultStore::Search(const ResourceSearch& search) {
  const auto sql = MakeResultSearchSql(search);
  // One patient's results are few: SQLite, without statistics, would otherwise
  // prefer the code index and read every patient's results for that code.
  const std::string from =
      search.nhs_number.empty() ? " FROM fhir_resources" : " FROM fhir_resources INDEXED BY fhir_resources_patient";
  std::lock_guard lock(mutex_);
  SearchPage page;
  {
    DX_TRY(count, connection_->Prepare("SELECT COUNT(*)" + from + sql.where));
    for (std::size_t i = 0; i < sql.params.size(); ++i) count->Bind(static_cast<int>(i + 1), sql.params[i]);
    DX_TRY(row, count->Step());
    page.total = count->Int(0);
  }
  if (search.count <= 0 || search.offset >= page.total) return page;
  DX_TRY(select, connection_->Prepare(fmt::format("SELECT {}{}{}{} LIMIT {} OFFSET {}",
                                                  kResourceColumns, from, sql.where, sql.order, search.count,
                                                  search.offset)));
  for (std::size_t i = 0; i < sql.params.size(); ++i) select->Bind(static_cast<int>(i + 1), sql.params[i]);
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    page.resources.push_back(ResourceFromRow(*select));
  }
  return page;
}

Result<std::vector<InboxEntry>> SqliteResultStore::Inbox(const std::string& practice, bool include_handled,
                                                        int limit) {
  std::lock_guard lock(mutex_);
  // The latest action on each report decides its state.
  const std::string sql = fmt::format(
      "SELECT {}, COALESCE(a.action, 'new'), COALESCE(a.actor, ''), COALESCE(a.at, ''), COALESCE(a.comment, '')"
      " FROM fhir_resources r LEFT JOIN inbox_actions a ON a.pk ="
      " (SELECT MAX(pk) FROM inbox_actions WHERE report_id = r.id AND pk > r.actions_before)"
      " WHERE r.type = 'DiagnosticReport' AND r.practice = ?{}"
      " ORDER BY a.pk IS NOT NULL, r.urgent DESC, r.abnormal DESC, r.effective DESC, r.id LIMIT ?",
      kResourceColumnsOfR, include_handled ? "" : " AND a.pk IS NULL");
  DX_TRY(select, connection_->Prepare(sql));
  select->Bind(1, practice).Bind(2, static_cast<std::int64_t>(std::max(0, limit)));
  std::vector<InboxEntry> entries;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    InboxEntry entry;
    entry.report = ResourceFromRow(*select);
    entry.state = select->Text(14);
    entry.actor = select->Text(15);
    entry.acted_at = select->Text(16);
    entry.comment = select->Text(17);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<void> SqliteResultStore::Act(const InboxAction& action) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  return sqlite::InTransaction(c, [&]() -> Result<void> {
    DX_TRY(report, c.Prepare("SELECT 1 FROM fhir_resources WHERE type = 'DiagnosticReport' AND id = ?"));
    report->Bind(1, action.report_id);
    DX_TRY(found, report->Step());
    if (!*found) return Fail(ErrorCode::kNotFound, fmt::format("no report {}", action.report_id));
    DX_TRY(insert, c.Prepare("INSERT INTO inbox_actions (report_id, action, actor, at, comment) VALUES (?,?,?,?,?)"));
    insert->Bind(1, action.report_id).Bind(2, action.action).Bind(3, action.actor).Bind(4, action.at).Bind(
        5, action.comment);
    return insert->Run();
  });
}

Result<std::vector<Notification>> SqliteResultStore::Notifications(const std::string& practice,
                                                                   bool include_acknowledged) {
  std::lock_guard lock(mutex_);
  const std::string sql = fmt::format(
      "SELECT * FROM (SELECT n.pk, n.report_id, n.practice, n.nhs_number, n.raised_at, n.reason,"
      " EXISTS (SELECT 1 FROM inbox_actions a WHERE a.report_id = n.report_id AND a.pk > n.actions_before)"
      " AS handled FROM notifications n WHERE n.practice = ?) t{} ORDER BY pk DESC",
      include_acknowledged ? "" : " WHERE NOT handled");
  DX_TRY(select, connection_->Prepare(sql));
  select->Bind(1, practice);
  std::vector<Notification> out;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    out.push_back(Notification{select->Int(0), select->Text(1), select->Text(2), select->Text(3), select->Text(4),
                               select->Text(5), select->Int(6) != 0});
  }
  return out;
}

}  // namespace dx::storage
