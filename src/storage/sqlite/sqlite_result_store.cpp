#include "storage/sqlite/sqlite_result_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include <fmt/format.h>

#include "storage/api/result_search_sql.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/packed_json.hpp"

namespace dx::storage {

using sqlite::Connection;
using sqlite::JsonPacker;

namespace {

constexpr char kResourceColumns[] =
    "type, id, nhs_number, status, category, code, effective, report_id, practice, abnormal, urgent, json,"
    " version, last_updated";
// The same, qualified for queries joining fhir_resources r to other tables.
constexpr char kResourceColumnsOfR[] =
    "r.type, r.id, r.nhs_number, r.status, r.category,"
    " r.code, r.effective, r.report_id, r.practice, r.abnormal, r.urgent, r.json, r.version, r.last_updated";

// The resource JSON in `column`: packed (a BLOB), or plain JSON as stored before
// packing (TEXT).
Result<std::string> JsonFromRow(const sqlite::Statement& row, int column) {
  if (row.IsBlob(column)) return sqlite::UnpackJson(row.Blob(column));
  return row.Text(column);
}

// Reads kResourceColumns starting at column `first`.
Result<StoredResource> ResourceFromRow(const sqlite::Statement& row, int first = 0) {
  DX_TRY(json, JsonFromRow(row, first + 11));
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
  r.json = std::move(*json);
  stored.version = static_cast<int>(row.Int(first + 12));
  stored.last_updated = row.Text(first + 13);
  return stored;
}

// Binds, from parameter `first`, the resource columns in the order both the insert
// and the update name them: nhs_number … actions_before (14 values).
void BindResourceValues(sqlite::Statement& s, int first, const ResourceRecord& r, const std::string& packed_json,
                        const std::string& now, std::int64_t message_pk, const std::string& code_value,
                        std::int64_t actions_before) {
  s.Bind(first, r.nhs_number)
      .Bind(first + 1, r.status)
      .Bind(first + 2, r.category)
      .Bind(first + 3, r.code)
      .Bind(first + 4, r.effective)
      .Bind(first + 5, r.report_id)
      .Bind(first + 6, r.practice)
      .Bind(first + 7, std::int64_t{r.abnormal})
      .Bind(first + 8, std::int64_t{r.urgent})
      .Bind(first + 9, now)
      .Bind(first + 10, message_pk)
      .BindBlob(first + 11, packed_json)
      .Bind(first + 12, code_value)
      .Bind(first + 13, actions_before);
}

// Writes each resource as its next version (with its history row and, for an urgent
// report, a notification), inside the caller's transaction. Most resources are new:
// they cost one INSERT; only a known id pays for copying its current version to the
// history and updating it. `actions_before` is the last inbox action (constant within
// the write transaction). The JSON is stored packed by `packer`.
Result<void> StoreResources(Connection& c, JsonPacker& packer, const std::vector<ResourceRecord>& resources,
                            std::int64_t message_pk, const std::string& now, std::int64_t actions_before) {
  for (const auto& r : resources) {
    const std::string code_value = r.code.substr(r.code.rfind('|') + 1);
    DX_TRY(packed_json, packer.Pack(r.json));
    std::int64_t version = 1;
    {
      DX_TRY(insert, c.Prepare("INSERT INTO fhir_resources (type, id, version, nhs_number, status, category, code,"
                               " effective, report_id, practice, abnormal, urgent, last_updated, message_pk, json,"
                               " code_value, actions_before) VALUES (?,?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                               " ON CONFLICT (type, id) DO NOTHING"));
      insert->Bind(1, r.type).Bind(2, r.id);
      BindResourceValues(*insert, 3, r, *packed_json, now, message_pk, code_value, actions_before);
      DX_TRY(inserted, insert->Run());
    }
    if (sqlite3_changes(c.handle()) == 0) {  // a known id: this is its next version
      DX_TRY(keep, c.Prepare("INSERT INTO fhir_history (type, id, version, status, last_updated, message_pk, json)"
                             " SELECT type, id, version, status, last_updated, message_pk, json FROM fhir_resources"
                             " WHERE type = ? AND id = ?"));
      keep->Bind(1, r.type).Bind(2, r.id);
      DX_TRY(kept, keep->Run());
      DX_TRY(update, c.Prepare("UPDATE fhir_resources SET version = version + 1, nhs_number = ?, status = ?,"
                               " category = ?, code = ?, effective = ?, report_id = ?, practice = ?, abnormal = ?,"
                               " urgent = ?, last_updated = ?, message_pk = ?, json = ?, code_value = ?,"
                               " actions_before = ? WHERE type = ? AND id = ? RETURNING version"));
      BindResourceValues(*update, 1, r, *packed_json, now, message_pk, code_value, actions_before);
      update->Bind(15, r.type).Bind(16, r.id);
      DX_TRY(returned, update->Step());
      if (!*returned) return Fail(ErrorCode::kStorage, "update returned no version");
      version = update->Int(0);
    }
    if (r.type == "DiagnosticReport" && r.urgent && !r.practice.empty()) {
      DX_TRY(raise, c.Prepare("INSERT INTO notifications (report_id, practice, nhs_number, raised_at, reason,"
                              " actions_before) VALUES (?,?,?,?,?,?)"));
      raise->Bind(1, r.id).Bind(2, r.practice).Bind(3, r.nhs_number).Bind(4, now).Bind(
          5, version > 1 ? "corrected result with a critical value" : "result with a critical value").Bind(
          6, actions_before);
      DX_TRY(raised, raise->Run());
    }
  }
  return {};
}

}  // namespace

// Copies the WAL into the database file on a thread and connection of its own,
// so that a commit only appends to the WAL and never waits for the database
// file's writes and fsync. A round is a PASSIVE checkpoint (it blocks neither the
// writer nor readers), run each time commits have added kCheckpointBytes to the
// WAL: 32 MB, not SQLite's 1,000 pages, because a round copies each page once
// however often commits rewrote it since the last, and nearly every commit
// rewrites some index pages (13% fewer bytes written in a 48,000-message run;
// docs/performance.md). SQLite starts the WAL over from its beginning only when a
// write transaction begins with all of it copied, which continuous commits never allow;
// so a writer that finds the WAL over its limit waits for one round with no
// commit in between (Bound), and the WAL never grows much past that. The
// default limit (kWalBytesLimit) is several of the group commit's transactions
// (one of 2,048 full blood counts dirties about 36 MB of pages): with less, the
// writer waits for a round after nearly every transaction, and writing and
// checkpointing take turns instead of running side by side. Both are in bytes,
// turned into pages of the database's own size.
class SqliteResultStore::Checkpointer {
 public:
  static constexpr std::int64_t kCheckpointBytes = 32 << 20;

  Checkpointer(std::unique_ptr<Connection> connection, int page_size, std::int64_t wal_bytes_limit)
      : connection_(std::move(connection)),
        checkpoint_pages_(static_cast<int>(kCheckpointBytes / page_size)),
        wal_pages_limit_(static_cast<int>(wal_bytes_limit / page_size)),
        thread_([this] { Run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wanted_.notify_one();
    done_.notify_all();
    thread_.join();
  }

  // The writer's WAL hook (sqlite3_wal_hook), called after each commit.
  static int AfterCommit(void* checkpointer, sqlite3*, const char*, int wal_pages) {
    auto& self = *static_cast<Checkpointer*>(checkpointer);
    std::lock_guard lock(self.mutex_);
    if (wal_pages < self.wal_pages_) self.requested_at_ = 0;  // the WAL started over
    self.wal_pages_ = wal_pages;
    if (wal_pages - self.requested_at_ >= self.checkpoint_pages_) {
      self.requested_at_ = wal_pages;
      self.due_ = true;
      self.wanted_.notify_one();
    }
    return SQLITE_OK;
  }

  // Called by the writer before a write transaction, with no other write in
  // progress: when the WAL is over its limit, returns after a whole round.
  void Bound() {
    std::unique_lock lock(mutex_);
    if (wal_pages_ < wal_pages_limit_) return;
    const std::uint64_t round = started_ + 1;  // the next round to start copies all the WAL
    due_ = true;
    wanted_.notify_one();
    done_.wait(lock, [&] { return finished_ >= round || stopping_; });
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wanted_.wait(lock, [&] { return due_ || stopping_; });
      if (stopping_) return;
      due_ = false;
      ++started_;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
      ++finished_;
      done_.notify_all();
    }
  }

  std::unique_ptr<Connection> connection_;
  const int checkpoint_pages_;
  const int wal_pages_limit_;
  std::mutex mutex_;
  std::condition_variable wanted_;  // a round is due, or stopping
  std::condition_variable done_;    // a round finished, or stopping
  int wal_pages_ = 0;               // in the WAL after the last commit
  int requested_at_ = 0;            // its size when a round was last asked for
  bool due_ = false;
  bool stopping_ = false;
  std::uint64_t started_ = 0, finished_ = 0;  // rounds
  std::thread thread_;              // last: starts once the members above exist
};

// Durability for the writer, which commits with synchronous=NORMAL (the WAL is
// written but not synced): Sync fdatasyncs the WAL file, and one fdatasync covers
// every commit made before it started. A commit whose frames SQLite has since
// reused the WAL over is durable too: SQLite starts the WAL over only once a
// checkpoint has copied all of it into the database file and synced that file.
class SqliteResultStore::WalSync {
 public:
  // `wal_path` must exist, and stay, while the writer's connection is open.
  static Result<std::unique_ptr<WalSync>> Open(const std::string& wal_path) {
    const int fd = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot open the WAL {}", wal_path));
    return std::unique_ptr<WalSync>(new WalSync(fd));
  }
  ~WalSync() { ::close(fd_); }

  // After each commit on the writer's connection.
  void Committed() { ++committed_; }

  Result<void> Sync() {
    const std::uint64_t needed = committed_;
    std::lock_guard lock(mutex_);
    if (synced_ >= needed) return {};  // an fdatasync that started after that commit covered it
    const std::uint64_t covered = committed_;
    if (::fdatasync(fd_) != 0) return Fail(ErrorCode::kStorage, "cannot sync the WAL to disk");
    synced_ = covered;
    return {};
  }

 private:
  explicit WalSync(int fd) : fd_(fd) {}

  const int fd_;
  std::atomic<std::uint64_t> committed_{0};
  std::mutex mutex_;          // held by the thread running fdatasync
  std::uint64_t synced_ = 0;  // commits known to be on disk
};

Result<std::unique_ptr<SqliteResultStore>> SqliteResultStore::Open(const std::string& path, bool durable,
                                                                   std::int64_t wal_bytes_limit) {
  DX_TRY(connection, Connection::Open(path, durable));
  if (auto migrated = sqlite::ApplyMigrations(**connection, path); !migrated) return tl::unexpected(migrated.error());
  std::unique_ptr<WalSync> wal_sync;
  if (durable) {  // the migrations wrote, so the WAL exists
    DX_TRY(opened, WalSync::Open(path + "-wal"));
    wal_sync = std::move(*opened);
    if (auto normal = (*connection)->Execute("PRAGMA synchronous=NORMAL"); !normal) {
      return tl::unexpected(normal.error());
    }
  }
  DX_TRY(reader, Connection::Open(path, durable));
  DX_TRY(checkpoint_connection, Connection::Open(path, durable));
  DX_TRY(page_size, (*connection)->PageSize());
  auto checkpointer = std::make_unique<Checkpointer>(std::move(*checkpoint_connection), *page_size, wal_bytes_limit);
  // Replaces SQLite's automatic checkpoint on this connection.
  sqlite3_wal_hook((*connection)->handle(), &Checkpointer::AfterCommit, checkpointer.get());
  return std::unique_ptr<SqliteResultStore>(
      new SqliteResultStore(std::move(*connection), std::move(*reader), std::move(checkpointer), std::move(wal_sync)));
}

SqliteResultStore::SqliteResultStore(std::unique_ptr<Connection> connection, std::unique_ptr<Connection> reader,
                                     std::unique_ptr<Checkpointer> checkpointer, std::unique_ptr<WalSync> wal_sync)
    : connection_(std::move(connection)),
      packer_(std::make_unique<JsonPacker>()),
      reader_(std::move(reader)),
      checkpointer_(std::move(checkpointer)),
      wal_sync_(std::move(wal_sync)) {}
SqliteResultStore::~SqliteResultStore() { sqlite3_wal_hook(connection_->handle(), nullptr, nullptr); }

Result<void> SqliteResultStore::Sync() { return wal_sync_ ? wal_sync_->Sync() : Result<void>{}; }

Result<ResourceIds> SqliteResultStore::ResourceIdScheme() {
  std::lock_guard lock(read_mutex_);
  DX_TRY(select, reader_->Prepare("SELECT value FROM results_settings WHERE name = 'resource_ids'"));
  DX_TRY(row, select->Step());
  return *row && select->Text(0) == "ordered" ? ResourceIds::kOrdered : ResourceIds::kHashed;
}

Result<std::optional<std::string>> SqliteResultStore::FindAck(const std::string& sender,
                                                              const std::string& control_id) {
  std::lock_guard lock(read_mutex_);
  DX_TRY(select, reader_->Prepare("SELECT ack FROM hl7_messages WHERE sender = ? AND control_id = ?"));
  select->Bind(1, sender).Bind(2, control_id);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(select->Text(0));
}

Result<std::vector<StoreOutcome>> SqliteResultStore::StoreMessages(const std::vector<IncomingMessage>& messages) {
  DX_TRY(outcomes, CommitMessages(messages));
  if (auto synced = Sync(); !synced) return tl::unexpected(synced.error());
  return outcomes;
}

Result<std::vector<StoreOutcome>> SqliteResultStore::CommitMessages(const std::vector<IncomingMessage>& messages) {
  std::lock_guard lock(mutex_);
  checkpointer_->Bound();
  Connection& c = *connection_;
  const std::string now = sqlite::UtcNow();
  auto committed = sqlite::InTransaction(c, [&]() -> Result<std::vector<StoreOutcome>> {
    std::int64_t actions_before = 0;
    {
      DX_TRY(last_action, c.Prepare("SELECT COALESCE(MAX(pk), 0) FROM inbox_actions"));
      DX_TRY(row, last_action->Step());
      actions_before = last_action->Int(0);
    }
    std::vector<StoreOutcome> outcomes;
    outcomes.reserve(messages.size());
    for (const auto& [message, ack, resources] : messages) {
      {
        DX_TRY(insert, c.Prepare("INSERT INTO hl7_messages (sender, control_id, message_type, received_at, raw, ack)"
                                 " VALUES (?,?,?,?,?,?) ON CONFLICT (sender, control_id) DO NOTHING"));
        insert->Bind(1, message.sender)
            .Bind(2, message.control_id)
            .Bind(3, message.message_type)
            .Bind(4, message.received_at)
            .Bind(5, message.raw)
            .Bind(6, ack);
        DX_TRY(inserted, insert->Run());
      }
      if (sqlite3_changes(c.handle()) == 0) {  // stored before (or earlier in this batch)
        DX_TRY(seen, c.Prepare("SELECT ack FROM hl7_messages WHERE sender = ? AND control_id = ?"));
        seen->Bind(1, message.sender).Bind(2, message.control_id);
        DX_TRY(found, seen->Step());
        outcomes.push_back({false, *found ? seen->Text(0) : ""});
        continue;
      }
      const std::int64_t message_pk = sqlite3_last_insert_rowid(c.handle());
      if (auto stored = StoreResources(c, *packer_, resources, message_pk, now, actions_before); !stored) {
        return tl::unexpected(stored.error());
      }
      outcomes.push_back({true, ""});
    }
    return outcomes;
  });
  if (committed && wal_sync_) wal_sync_->Committed();
  return committed;
}

Result<std::optional<StoredResource>> SqliteResultStore::Read(const std::string& type, const std::string& id,
                                                              int version) {
  std::lock_guard lock(read_mutex_);
  DX_TRY(select, reader_->Prepare(fmt::format("SELECT {} FROM fhir_resources WHERE type = ? AND id = ?",
                                                  kResourceColumns)));
  select->Bind(1, type).Bind(2, id);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<StoredResource>();
  DX_TRY(current, ResourceFromRow(*select));
  StoredResource stored = std::move(*current);
  if (version == 0 || version == stored.version) return std::optional<StoredResource>(std::move(stored));
  DX_TRY(old, reader_->Prepare("SELECT status, last_updated, json FROM fhir_history"
                                   " WHERE type = ? AND id = ? AND version = ?"));
  old->Bind(1, type).Bind(2, id).Bind(3, std::int64_t{version});
  DX_TRY(found, old->Step());
  if (!*found) return std::optional<StoredResource>();
  stored.version = version;
  stored.record.status = old->Text(0);
  stored.last_updated = old->Text(1);
  DX_TRY(json, JsonFromRow(*old, 2));
  stored.record.json = std::move(*json);
  return std::optional<StoredResource>(std::move(stored));
}

Result<std::vector<StoredResource>> SqliteResultStore::History(const std::string& type, const std::string& id) {
  DX_TRY(current, Read(type, id, 0));
  std::vector<StoredResource> versions;
  if (!*current) return versions;
  versions.push_back(**current);
  std::lock_guard lock(read_mutex_);
  DX_TRY(select, reader_->Prepare("SELECT version, status, last_updated, json FROM fhir_history"
                                      " WHERE type = ? AND id = ? ORDER BY version DESC"));
  select->Bind(1, type).Bind(2, id);
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    StoredResource version = **current;
    version.version = static_cast<int>(select->Int(0));
    version.record.status = select->Text(1);
    version.last_updated = select->Text(2);
    DX_TRY(json, JsonFromRow(*select, 3));
    version.record.json = std::move(*json);
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
  std::lock_guard lock(read_mutex_);
  SearchPage page;
  {
    DX_TRY(count, reader_->Prepare("SELECT COUNT(*)" + from + sql.where));
    for (std::size_t i = 0; i < sql.params.size(); ++i) count->Bind(static_cast<int>(i + 1), sql.params[i]);
    DX_TRY(row, count->Step());
    page.total = count->Int(0);
  }
  if (search.count <= 0 || search.offset >= page.total) return page;
  DX_TRY(select, reader_->Prepare(fmt::format("SELECT {}{}{}{} LIMIT {} OFFSET {}",
                                                  kResourceColumns, from, sql.where, sql.order, search.count,
                                                  search.offset)));
  for (std::size_t i = 0; i < sql.params.size(); ++i) select->Bind(static_cast<int>(i + 1), sql.params[i]);
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    DX_TRY(resource, ResourceFromRow(*select));
    page.resources.push_back(std::move(*resource));
  }
  return page;
}

Result<std::vector<InboxEntry>> SqliteResultStore::Inbox(const std::string& practice, bool include_handled,
                                                        int limit) {
  std::lock_guard lock(read_mutex_);
  // The latest action on each report decides its state.
  const std::string sql = fmt::format(
      "SELECT {}, COALESCE(a.action, 'new'), COALESCE(a.actor, ''), COALESCE(a.at, ''), COALESCE(a.comment, '')"
      " FROM fhir_resources r LEFT JOIN inbox_actions a ON a.pk ="
      " (SELECT MAX(pk) FROM inbox_actions WHERE report_id = r.id AND pk > r.actions_before)"
      " WHERE r.type = 'DiagnosticReport' AND r.practice = ?{}"
      " ORDER BY a.pk IS NOT NULL, r.urgent DESC, r.abnormal DESC, r.effective DESC, r.id LIMIT ?",
      kResourceColumnsOfR, include_handled ? "" : " AND a.pk IS NULL");
  DX_TRY(select, reader_->Prepare(sql));
  select->Bind(1, practice).Bind(2, static_cast<std::int64_t>(std::max(0, limit)));
  std::vector<InboxEntry> entries;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    InboxEntry entry;
    DX_TRY(report, ResourceFromRow(*select));
    entry.report = std::move(*report);
    entry.state = select->Text(14);
    entry.actor = select->Text(15);
    entry.acted_at = select->Text(16);
    entry.comment = select->Text(17);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<void> SqliteResultStore::Act(const InboxAction& action) {
  {
    std::lock_guard lock(mutex_);
    Connection& c = *connection_;
    auto acted = sqlite::InTransaction(c, [&]() -> Result<void> {
      DX_TRY(report, c.Prepare("SELECT 1 FROM fhir_resources WHERE type = 'DiagnosticReport' AND id = ?"));
      report->Bind(1, action.report_id);
      DX_TRY(found, report->Step());
      if (!*found) return Fail(ErrorCode::kNotFound, fmt::format("no report {}", action.report_id));
      DX_TRY(insert, c.Prepare("INSERT INTO inbox_actions (report_id, action, actor, at, comment) VALUES (?,?,?,?,?)"));
      insert->Bind(1, action.report_id).Bind(2, action.action).Bind(3, action.actor).Bind(4, action.at).Bind(
          5, action.comment);
      return insert->Run();
    });
    if (!acted) return acted;
    if (wal_sync_) wal_sync_->Committed();
  }
  return Sync();
}

Result<std::vector<Notification>> SqliteResultStore::Notifications(const std::string& practice,
                                                                   bool include_acknowledged) {
  std::lock_guard lock(read_mutex_);
  const std::string sql = fmt::format(
      "SELECT * FROM (SELECT n.pk, n.report_id, n.practice, n.nhs_number, n.raised_at, n.reason,"
      " EXISTS (SELECT 1 FROM inbox_actions a WHERE a.report_id = n.report_id AND a.pk > n.actions_before)"
      " AS handled FROM notifications n WHERE n.practice = ?) t{} ORDER BY pk DESC",
      include_acknowledged ? "" : " WHERE NOT handled");
  DX_TRY(select, reader_->Prepare(sql));
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
