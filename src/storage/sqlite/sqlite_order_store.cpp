#include "storage/sqlite/sqlite_order_store.hpp"


#include <fmt/format.h>

#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"

namespace dx::storage {

using sqlite::Connection;
using sqlite::Statement;

namespace {

constexpr char kOrderColumns[] =
    "id, version, last_updated, nhs_number, patient_name, birth_date, sex, requester, practice, performer_site, code,"
    " code_display, modality, test_group, priority, stage, accession_number, booked_site, booked_for, requested_at,"
    " clock_start, vetted_at, booked_at, performed_at, reported_at, acknowledged_at, ended_at, details, activity";

OrderRecord OrderFromRow(const Statement& row) {
  OrderRecord o;
  int c = 0;
  o.id = row.Text(c++);
  o.version = static_cast<int>(row.Int(c++));
  o.last_updated = row.Text(c++);
  o.nhs_number = row.Text(c++);
  o.patient_name = row.Text(c++);
  o.birth_date = row.Text(c++);
  o.sex = row.Text(c++);
  o.requester = row.Text(c++);
  o.practice = row.Text(c++);
  o.performer_site = row.Text(c++);
  o.code = row.Text(c++);
  o.code_display = row.Text(c++);
  o.modality = row.Text(c++);
  o.test_group = row.Text(c++);
  o.priority = row.Text(c++);
  o.stage = row.Text(c++);
  o.accession_number = row.Text(c++);
  o.booked_site = row.Text(c++);
  o.booked_for = row.Int(c++);
  o.requested_at = row.Int(c++);
  o.clock_start = row.Int(c++);
  o.vetted_at = row.Int(c++);
  o.booked_at = row.Int(c++);
  o.performed_at = row.Int(c++);
  o.reported_at = row.Int(c++);
  o.acknowledged_at = row.Int(c++);
  o.ended_at = row.Int(c++);
  o.details = row.Text(c++);
  o.activity = row.Text(c++);
  return o;
}

// Binds every column of kOrderColumns but id, version and last_updated, from parameter `first`.
void BindOrderValues(Statement& s, const OrderRecord& o, int first) {
  const std::string* texts[] = {&o.nhs_number,   &o.patient_name, &o.birth_date,     &o.sex,
                                &o.requester,    &o.practice,     &o.performer_site, &o.code,
                                &o.code_display, &o.modality,     &o.test_group,     &o.priority,
                                &o.stage,        &o.accession_number, &o.booked_site};
  int p = first;
  for (const std::string* text : texts) s.Bind(p++, *text);
  for (std::int64_t number : {o.booked_for, o.requested_at, o.clock_start, o.vetted_at, o.booked_at, o.performed_at,
                              o.reported_at, o.acknowledged_at, o.ended_at}) {
    s.Bind(p++, number);
  }
  s.Bind(p++, o.details);
  s.Bind(p, o.activity);
}

Result<void> InsertEvent(Connection& c, const OrderEvent& event) {
  DX_TRY(insert, c.Prepare("INSERT INTO order_events (order_id, event, at, actor, detail) VALUES (?,?,?,?,?)"));
  insert->Bind(1, event.order_id).Bind(2, event.event).Bind(3, event.at).Bind(4, event.actor).Bind(5, event.detail);
  return insert->Run();
}

// Fails with kConflict when `accession` (not empty) belongs to a request other than `id`.
Result<void> CheckAccession(Connection& c, const std::string& accession, const std::string& id) {
  if (accession.empty()) return {};
  DX_TRY(owner, c.Prepare("SELECT id FROM orders WHERE accession_number = ? AND id <> ?"));
  owner->Bind(1, accession).Bind(2, id);
  DX_TRY(found, owner->Step());
  if (*found) return Fail(ErrorCode::kConflict, "the accession number belongs to another request");
  return {};
}

}  // namespace

Result<std::unique_ptr<SqliteOrderStore>> SqliteOrderStore::Open(const std::string& path, bool durable) {
  DX_TRY(connection, Connection::Open(path, durable));
  if (auto migrated = sqlite::ApplyMigrations(**connection, path); !migrated) return tl::unexpected(migrated.error());
  return std::unique_ptr<SqliteOrderStore>(new SqliteOrderStore(std::move(*connection)));
}

SqliteOrderStore::SqliteOrderStore(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}
SqliteOrderStore::~SqliteOrderStore() = default;

Result<void> SqliteOrderStore::Create(const std::vector<OrderRecord>& orders, const std::vector<OrderEvent>& events) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  const std::string now = sqlite::UtcNow();
  return sqlite::InTransaction(c, [&]() -> Result<void> {
    for (const auto& o : orders) {
      {
        DX_TRY(exists, c.Prepare("SELECT 1 FROM orders WHERE id = ?"));
        exists->Bind(1, o.id);
        DX_TRY(found, exists->Step());
        if (*found) return Fail(ErrorCode::kConflict, fmt::format("request {} exists already", o.id));
      }
      if (auto unique = CheckAccession(c, o.accession_number, o.id); !unique) return unique;
      DX_TRY(insert, c.Prepare(fmt::format("INSERT INTO orders ({}) VALUES (?,1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                                           "?,?,?,?,?,?,?,?,?)",
                                           kOrderColumns)));
      insert->Bind(1, o.id).Bind(2, now);
      BindOrderValues(*insert, o, 3);
      if (auto inserted = insert->Run(); !inserted) return inserted;
    }
    for (const auto& event : events) {
      if (auto recorded = InsertEvent(c, event); !recorded) return recorded;
    }
    return {};
  });
}

Result<std::optional<OrderRecord>> SqliteOrderStore::Read(const std::string& id) {
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare(fmt::format("SELECT {} FROM orders WHERE id = ?", kOrderColumns)));
  select->Bind(1, id);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<OrderRecord>();
  return std::optional<OrderRecord>(OrderFromRow(*select));
}

Result<std::optional<OrderRecord>> SqliteOrderStore::FindByAccession(const std::string& accession_number) {
  std::lock_guard lock(mutex_);
  if (accession_number.empty()) return std::optional<OrderRecord>();
  DX_TRY(select, connection_->Prepare(fmt::format("SELECT {} FROM orders WHERE accession_number = ?", kOrderColumns)));
  select->Bind(1, accession_number);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<OrderRecord>();
  return std::optional<OrderRecord>(OrderFromRow(*select));
}

Result<bool> SqliteOrderStore::Update(const OrderRecord& o, const OrderEvent& event) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  const std::string now = sqlite::UtcNow();
  return sqlite::InTransaction(c, [&]() -> Result<bool> {
    if (auto unique = CheckAccession(c, o.accession_number, o.id); !unique) return tl::unexpected(unique.error());
    DX_TRY(update, c.Prepare(
                       "UPDATE orders SET version = version + 1, last_updated = ?, nhs_number = ?, patient_name = ?,"
                       " birth_date = ?, sex = ?, requester = ?, practice = ?, performer_site = ?, code = ?,"
                       " code_display = ?, modality = ?, test_group = ?, priority = ?, stage = ?, accession_number = ?,"
                       " booked_site = ?, booked_for = ?, requested_at = ?, clock_start = ?, vetted_at = ?,"
                       " booked_at = ?, performed_at = ?, reported_at = ?, acknowledged_at = ?, ended_at = ?,"
                       " details = ?, activity = ? WHERE id = ? AND version = ?"));
    update->Bind(1, now);
    BindOrderValues(*update, o, 2);
    update->Bind(28, o.id).Bind(29, std::int64_t{o.version});
    if (auto ran = update->Run(); !ran) return tl::unexpected(ran.error());
    if (sqlite3_changes(c.handle()) == 0) return false;
    if (auto recorded = InsertEvent(c, event); !recorded) return tl::unexpected(recorded.error());
    return true;
  });
}

Result<std::vector<OrderEvent>> SqliteOrderStore::Events(const std::string& id) {
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare("SELECT order_id, event, at, actor, detail FROM order_events"
                                      " WHERE order_id = ? ORDER BY pk"));
  select->Bind(1, id);
  std::vector<OrderEvent> events;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    events.push_back({select->Text(0), select->Text(1), select->Int(2), select->Text(3), select->Text(4)});
  }
  return events;
}

Result<OrderPage> SqliteOrderStore::Search(const OrderSearch& search) {
  std::string where;
  std::vector<std::string> text;
  std::vector<std::int64_t> numbers;
  auto add = [&](const std::string& clause) { where += (where.empty() ? " WHERE " : " AND ") + clause; };
  // Text parameters are bound first, numbers after, each in the order added.
  if (!search.nhs_number.empty()) {
    add("nhs_number = ?");
    text.push_back(search.nhs_number);
  }
  if (!search.stages.empty()) {
    std::string in;
    for (const auto& stage : search.stages) {
      in += in.empty() ? "?" : ",?";
      text.push_back(stage);
    }
    add("stage IN (" + in + ")");
  }
  if (!search.requester.empty()) {
    add("requester = ?");
    text.push_back(search.requester);
  }
  if (!search.performer_site.empty()) {
    add("performer_site = ?");
    text.push_back(search.performer_site);
  }
  if (!search.priority.empty()) {
    add("priority = ?");
    text.push_back(search.priority);
  }
  if (search.requested_from) {
    add("requested_at >= ?");
    numbers.push_back(search.requested_from);
  }
  if (search.requested_to) {
    add("requested_at < ?");
    numbers.push_back(search.requested_to);
  }
  auto bind = [&](Statement& s) {
    int p = 1;
    for (const auto& value : text) s.Bind(p++, value);
    for (auto value : numbers) s.Bind(p++, value);
    return p;
  };
  std::lock_guard lock(mutex_);
  OrderPage page;
  {
    DX_TRY(count, connection_->Prepare("SELECT COUNT(*) FROM orders" + where));
    bind(*count);
    DX_TRY(row, count->Step());
    page.total = *row ? static_cast<int>(count->Int(0)) : 0;
  }
  DX_TRY(select, connection_->Prepare(fmt::format("SELECT {} FROM orders{} ORDER BY requested_at {}, id LIMIT ? OFFSET ?",
                                                  kOrderColumns, where, search.oldest_first ? "ASC" : "DESC")));
  int p = bind(*select);
  select->Bind(p, std::int64_t{search.count}).Bind(p + 1, std::int64_t{search.offset});
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    page.orders.push_back(OrderFromRow(*select));
  }
  return page;
}

Result<std::vector<OrderRecord>> SqliteOrderStore::Booked(const ScheduledSearch& search) {
  std::string where = "stage IN ('booked', 'in-progress')";
  std::vector<std::string> text;
  std::vector<std::int64_t> numbers;
  // Text parameters are bound first, numbers after, each in the order added.
  for (const auto& [column, value] : {std::pair{"booked_site", &search.site}, std::pair{"modality", &search.modality},
                                      std::pair{"accession_number", &search.accession_number},
                                      std::pair{"nhs_number", &search.nhs_number}}) {
    if (value->empty()) continue;
    where += fmt::format(" AND {} = ?", column);
    text.push_back(*value);
  }
  // Lets the planner use the unique index on accession numbers, which leaves out the empty ones.
  if (!search.accession_number.empty()) where += " AND accession_number <> ''";
  if (search.from) {
    where += " AND booked_for >= ?";
    numbers.push_back(search.from);
  }
  if (search.to) {
    where += " AND booked_for < ?";
    numbers.push_back(search.to);
  }
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare(
                     fmt::format("SELECT {} FROM orders WHERE {} ORDER BY booked_for, id", kOrderColumns, where)));
  int p = 1;
  for (const auto& value : text) select->Bind(p++, value);
  for (auto value : numbers) select->Bind(p++, value);
  std::vector<OrderRecord> orders;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    orders.push_back(OrderFromRow(*select));
  }
  return orders;
}

Result<void> SqliteOrderStore::ScanClocks(const std::function<void(const OrderClock&)>& visit) {
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare("SELECT test_group, performer_site, priority, stage, requested_at, clock_start,"
                                      " performed_at, reported_at, acknowledged_at, ended_at, activity FROM orders"));
  OrderClock clock;
  while (true) {
    DX_TRY(more, select->Step());
    if (!*more) break;
    clock.test_group = select->Text(0);
    clock.performer_site = select->Text(1);
    clock.priority = select->Text(2);
    clock.stage = select->Text(3);
    clock.requested_at = select->Int(4);
    clock.clock_start = select->Int(5);
    clock.performed_at = select->Int(6);
    clock.reported_at = select->Int(7);
    clock.acknowledged_at = select->Int(8);
    clock.ended_at = select->Int(9);
    clock.activity = select->Text(10);
    visit(clock);
  }
  return {};
}

namespace {

constexpr char kStepColumns[] = "uid, version, status, order_id, station_ae, started_at, ended_at, attributes";

ProcedureStep StepFromRow(const Statement& row) {
  return {row.Text(0), static_cast<int>(row.Int(1)), row.Text(2), row.Text(3), row.Text(4), row.Int(5), row.Int(6),
          row.Text(7)};
}

}  // namespace

Result<void> SqliteOrderStore::CreateStep(const ProcedureStep& step) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  return sqlite::InTransaction(c, [&]() -> Result<void> {
    {
      DX_TRY(exists, c.Prepare("SELECT 1 FROM procedure_steps WHERE uid = ?"));
      exists->Bind(1, step.uid);
      DX_TRY(found, exists->Step());
      if (*found) return Fail(ErrorCode::kConflict, fmt::format("procedure step {} exists already", step.uid));
    }
    DX_TRY(insert, c.Prepare(fmt::format("INSERT INTO procedure_steps ({}) VALUES (?,1,?,?,?,?,?,?)", kStepColumns)));
    insert->Bind(1, step.uid).Bind(2, step.status).Bind(3, step.order_id).Bind(4, step.station_ae);
    insert->Bind(5, step.started_at).Bind(6, step.ended_at).Bind(7, step.attributes);
    return insert->Run();
  });
}

Result<std::optional<ProcedureStep>> SqliteOrderStore::ReadStep(const std::string& uid) {
  std::lock_guard lock(mutex_);
  DX_TRY(select, connection_->Prepare(fmt::format("SELECT {} FROM procedure_steps WHERE uid = ?", kStepColumns)));
  select->Bind(1, uid);
  DX_TRY(row, select->Step());
  if (!*row) return std::optional<ProcedureStep>();
  return std::optional<ProcedureStep>(StepFromRow(*select));
}

Result<bool> SqliteOrderStore::UpdateStep(const ProcedureStep& step) {
  std::lock_guard lock(mutex_);
  Connection& c = *connection_;
  return sqlite::InTransaction(c, [&]() -> Result<bool> {
    DX_TRY(update, c.Prepare("UPDATE procedure_steps SET version = version + 1, status = ?, order_id = ?,"
                             " station_ae = ?, started_at = ?, ended_at = ?, attributes = ? WHERE uid = ? AND version = ?"));
    update->Bind(1, step.status).Bind(2, step.order_id).Bind(3, step.station_ae).Bind(4, step.started_at);
    update->Bind(5, step.ended_at).Bind(6, step.attributes).Bind(7, step.uid).Bind(8, std::int64_t{step.version});
    if (auto ran = update->Run(); !ran) return tl::unexpected(ran.error());
    return sqlite3_changes(c.handle()) > 0;
  });
}

}  // namespace dx::storage
