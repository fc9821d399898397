#include "storage/postgres/postgres_result_store.hpp"

#include <fmt/format.h>

#include "storage/api/result_search_sql.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"

namespace dx::storage {

using postgres::Connection;
using postgres::Pool;
using postgres::Rows;

namespace {

constexpr char kPgResourceColumns[] =
    "type, id, nhs_number, status, category, code, effective, report_id, practice, abnormal, urgent, json,"
    " version, last_updated";
// The same, qualified for queries joining fhir_resources r to other tables.
constexpr char kPgResourceColumnsOfR[] =
    "r.type, r.id, r.nhs_number, r.status, r.category,"
    " r.code, r.effective, r.report_id, r.practice, r.abnormal, r.urgent, r.json, r.version, r.last_updated";

StoredResource PgResourceFromRow(const Rows& rows, int row) {
  StoredResource stored;
  auto& r = stored.record;
  r.type = rows.Text(row, 0);
  r.id = rows.Text(row, 1);
  r.nhs_number = rows.Text(row, 2);
  r.status = rows.Text(row, 3);
  r.category = rows.Text(row, 4);
  r.code = rows.Text(row, 5);
  r.effective = rows.Text(row, 6);
  r.report_id = rows.Text(row, 7);
  r.practice = rows.Text(row, 8);
  r.abnormal = rows.Int(row, 9) != 0;
  r.urgent = rows.Int(row, 10) != 0;
  r.json = rows.Text(row, 11);
  stored.version = static_cast<int>(rows.Int(row, 12));
  stored.last_updated = rows.Text(row, 13);
  return stored;
}

// Writes each resource as its next version (with its history row and, for an urgent
// report, a notification), inside the caller's transaction. Most resources are new:
// they cost one INSERT; only a known id pays for copying its current version to the
// history and updating it.
Result<void> PgStoreResources(Connection& c, const std::vector<ResourceRecord>& resources,
                              const std::string& message_pk) {
  // The last inbox action when this version arrives: only later actions handle it.
  constexpr char kActionsBefore[] = "(SELECT COALESCE(MAX(pk), 0) FROM inbox_actions)";
  for (const auto& r : resources) {
    // $1 … $14, the same for the INSERT and the UPDATE.
    const std::vector<std::string> values{
        r.nhs_number, r.status, r.category, r.code, r.effective, r.report_id, r.practice,
        r.abnormal ? "1" : "0", r.urgent ? "1" : "0", message_pk, r.json,
        r.code.substr(r.code.rfind('|') + 1), r.type, r.id};
    DX_TRY(inserted, c.Prepared(fmt::format("INSERT INTO fhir_resources (nhs_number, status, category, code, effective,"
                                            " report_id, practice, abnormal, urgent, message_pk, json, code_value, type,"
                                            " id, version, last_updated, actions_before) VALUES ($1, $2, $3, $4, $5, $6,"
                                            " $7, $8, $9, $10, $11, $12, $13, $14, 1, {}, {})"
                                            " ON CONFLICT (type, id) DO NOTHING RETURNING version",
                                            postgres::kUtcNowSql, kActionsBefore),
                                values));
    std::string version = inserted->empty() ? "" : inserted->Text(0, 0);
    if (version.empty()) {  // a known id: this is its next version
      DX_TRY(kept, c.Prepared("INSERT INTO fhir_history (type, id, version, status, last_updated, message_pk, json)"
                              " SELECT type, id, version, status, last_updated, message_pk, json FROM fhir_resources"
                              " WHERE type = $1 AND id = $2",
                              {r.type, r.id}));
      DX_TRY(updated, c.Prepared(fmt::format("UPDATE fhir_resources SET version = version + 1, nhs_number = $1,"
                                             " status = $2, category = $3, code = $4, effective = $5, report_id = $6,"
                                             " practice = $7, abnormal = $8, urgent = $9, message_pk = $10, json = $11,"
                                             " code_value = $12, last_updated = {}, actions_before = {}"
                                             " WHERE type = $13 AND id = $14 RETURNING version",
                                             postgres::kUtcNowSql, kActionsBefore),
                                 values));
      if (updated->empty()) return Fail(ErrorCode::kStorage, "update returned no version");
      version = updated->Text(0, 0);
    }
    if (r.type == "DiagnosticReport" && r.urgent && !r.practice.empty()) {
      DX_TRY(raised, c.Prepared(fmt::format("INSERT INTO notifications (report_id, practice, nhs_number, raised_at,"
                                            " reason, actions_before) VALUES ($1, $2, $3, {}, $4, {})",
                                            postgres::kUtcNowSql, kActionsBefore),
                                {r.id, r.practice, r.nhs_number,
                                 version != "1" ? "corrected result with a critical value"
                                                : "result with a critical value"}));
    }
  }
  return {};
}

}  // namespace

struct PostgresResultStore::Impl {
  std::unique_ptr<Pool> pool;
};

Result<std::unique_ptr<PostgresResultStore>> PostgresResultStore::Open(const std::string& conninfo, bool durable,
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
  return std::unique_ptr<PostgresResultStore>(new PostgresResultStore(std::move(impl)));
}

PostgresResultStore::PostgresResultStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresResultStore::~PostgresResultStore() = default;

Result<ResourceIds> PostgresResultStore::ResourceIdScheme() {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("SELECT value FROM results_settings WHERE name = 'resource_ids'", {}));
  return !rows->empty() && rows->Text(0, 0) == "ordered" ? ResourceIds::kOrdered : ResourceIds::kHashed;
}

Result<std::optional<std::string>> PostgresResultStore::FindAck(const std::string& sender,
                                                                const std::string& control_id) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("SELECT ack FROM hl7_messages WHERE sender = $1 AND control_id = $2",
                                  {sender, control_id}));
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->Text(0, 0));
}

Result<std::vector<StoreOutcome>> PostgresResultStore::StoreMessages(const std::vector<IncomingMessage>& messages) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  // A concurrent transaction storing the same message or a version of the same
  // resource makes this one fail on a unique key: it then runs again and sees it.
  return postgres::InTransaction(
      c,
      [&]() -> Result<std::vector<StoreOutcome>> {
        std::vector<StoreOutcome> outcomes;
        for (const auto& [message, ack, resources] : messages) {
          DX_TRY(inserted, c.Prepared("INSERT INTO hl7_messages (sender, control_id, message_type, received_at, raw,"
                                      " ack) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sender, control_id)"
                                      " DO NOTHING RETURNING pk",
                                      {message.sender, message.control_id, message.message_type, message.received_at,
                                       message.raw, ack}));
          if (inserted->empty()) {
            DX_TRY(earlier, c.Prepared("SELECT ack FROM hl7_messages WHERE sender = $1 AND control_id = $2",
                                       {message.sender, message.control_id}));
            outcomes.push_back({false, earlier->empty() ? "" : earlier->Text(0, 0)});
            continue;
          }
          if (auto stored = PgStoreResources(c, resources, inserted->Text(0, 0)); !stored) {
            return tl::unexpected(stored.error());
          }
          outcomes.push_back({true, ""});
        }
        return outcomes;
      },
      /*retry_unique_violation=*/true);
}

Result<std::optional<StoredResource>> PostgresResultStore::Read(const std::string& type, const std::string& id,
                                                                int version) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  DX_TRY(rows, c.Prepared(fmt::format("SELECT {} FROM fhir_resources WHERE type = $1 AND id = $2", kPgResourceColumns),
                          {type, id}));
  if (rows->empty()) return std::optional<StoredResource>();
  StoredResource stored = PgResourceFromRow(*rows, 0);
  if (version == 0 || version == stored.version) return std::optional<StoredResource>(std::move(stored));
  DX_TRY(old, c.Prepared("SELECT status, last_updated, json FROM fhir_history WHERE type = $1 AND id = $2"
                         " AND version = $3",
                         {type, id, std::to_string(version)}));
  if (old->empty()) return std::optional<StoredResource>();
  stored.version = version;
  stored.record.status = old->Text(0, 0);
  stored.last_updated = old->Text(0, 1);
  stored.record.json = old->Text(0, 2);
  return std::optional<StoredResource>(std::move(stored));
}

Result<std::vector<StoredResource>> PostgresResultStore::History(const std::string& type, const std::string& id) {
  DX_TRY(current, Read(type, id, 0));
  std::vector<StoredResource> versions;
  if (!*current) return versions;
  versions.push_back(**current);
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("SELECT version, status, last_updated, json FROM fhir_history"
                                  " WHERE type = $1 AND id = $2 ORDER BY version DESC",
                                  {type, id}));
  for (int row = 0; row < rows->size(); ++row) {
    StoredResource version = **current;
    version.version = static_cast<int>(rows->Int(row, 0));
    version.record.status = rows->Text(row, 1);
    version.last_updated = rows->Text(row, 2);
    version.record.json = rows->Text(row, 3);
    versions.push_back(std::move(version));
  }
  return versions;
}

Result<SearchPage> PostgresResultStore::Search(const ResourceSearch& search) {
  const auto sql = MakeResultSearchSql(search);
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  SearchPage page;
  DX_TRY(count, c.Prepared(postgres::NumberedPlaceholders("SELECT COUNT(*) FROM fhir_resources" + sql.where), sql.params));
  page.total = count->Int(0, 0);
  if (search.count <= 0 || search.offset >= page.total) return page;
  DX_TRY(rows, c.Prepared(postgres::NumberedPlaceholders(fmt::format("SELECT {} FROM fhir_resources{}{} LIMIT {} OFFSET {}",
                                               kPgResourceColumns, sql.where, sql.order, search.count,
                                               search.offset)),
                          sql.params));
  for (int row = 0; row < rows->size(); ++row) page.resources.push_back(PgResourceFromRow(*rows, row));
  return page;
}

Result<std::vector<InboxEntry>> PostgresResultStore::Inbox(const std::string& practice, bool include_handled,
                                                          int limit) {
  DX_TRY(lease, impl_->pool->Acquire());
  const std::string sql = fmt::format(
      "SELECT {}, COALESCE(a.action, 'new'), COALESCE(a.actor, ''), COALESCE(a.at, ''), COALESCE(a.comment, '')"
      " FROM fhir_resources r LEFT JOIN inbox_actions a ON a.pk ="
      " (SELECT MAX(pk) FROM inbox_actions WHERE report_id = r.id AND pk > r.actions_before)"
      " WHERE r.type = 'DiagnosticReport' AND r.practice = $1{}"
      " ORDER BY a.pk IS NOT NULL, r.urgent DESC, r.abnormal DESC, r.effective DESC, r.id LIMIT $2",
      kPgResourceColumnsOfR, include_handled ? "" : " AND a.pk IS NULL");
  DX_TRY(rows, (*lease)->Prepared(sql, {practice, std::to_string(std::max(0, limit))}));
  std::vector<InboxEntry> entries;
  for (int row = 0; row < rows->size(); ++row) {
    InboxEntry entry;
    entry.report = PgResourceFromRow(*rows, row);
    entry.state = rows->Text(row, 14);
    entry.actor = rows->Text(row, 15);
    entry.acted_at = rows->Text(row, 16);
    entry.comment = rows->Text(row, 17);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<void> PostgresResultStore::Act(const InboxAction& action) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("INSERT INTO inbox_actions (report_id, action, actor, at, comment)"
                                  " SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM fhir_resources"
                                  " WHERE type = 'DiagnosticReport' AND id = $1) RETURNING pk",
                                  {action.report_id, action.action, action.actor, action.at, action.comment}));
  if (rows->empty()) return Fail(ErrorCode::kNotFound, fmt::format("no report {}", action.report_id));
  return {};
}

Result<std::vector<Notification>> PostgresResultStore::Notifications(const std::string& practice,
                                                                     bool include_acknowledged) {
  DX_TRY(lease, impl_->pool->Acquire());
  const std::string sql = fmt::format(
      "SELECT * FROM (SELECT n.pk, n.report_id, n.practice, n.nhs_number, n.raised_at, n.reason,"
      " EXISTS (SELECT 1 FROM inbox_actions a WHERE a.report_id = n.report_id AND a.pk > n.actions_before)"
      " AS handled FROM notifications n WHERE n.practice = $1) t{} ORDER BY pk DESC",
      include_acknowledged ? "" : " WHERE NOT handled");
  DX_TRY(rows, (*lease)->Prepared(sql, {practice}));
  std::vector<Notification> out;
  for (int row = 0; row < rows->size(); ++row) {
    out.push_back(Notification{rows->Int(row, 0), rows->Text(row, 1), rows->Text(row, 2), rows->Text(row, 3),
                               rows->Text(row, 4), rows->Text(row, 5), rows->Text(row, 6) == "t"});
  }
  return out;
}

}  // namespace dx::storage
