#include "storage/postgres/postgres_order_store.hpp"

#include <fmt/format.h>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"

namespace dx::storage {

using postgres::Connection;
using postgres::Pool;
using postgres::Rows;

namespace {

constexpr char kPgOrderColumns[] =
    "id, version, last_updated, nhs_number, patient_name, birth_date, sex, requester, practice, performer_site, code,"
    " code_display, modality, test_group, priority, stage, accession_number, booked_site, booked_for, requested_at,"
    " clock_start, vetted_at, booked_at, performed_at, reported_at, acknowledged_at, ended_at, details, activity";

OrderRecord PgOrderFromRow(const Rows& rows, int row) {
  OrderRecord o;
  int c = 0;
  o.id = rows.Text(row, c++);
  o.version = static_cast<int>(rows.Int(row, c++));
  o.last_updated = rows.Text(row, c++);
  for (std::string* text : {&o.nhs_number, &o.patient_name, &o.birth_date, &o.sex, &o.requester, &o.practice,
                            &o.performer_site, &o.code, &o.code_display, &o.modality, &o.test_group, &o.priority,
                            &o.stage, &o.accession_number, &o.booked_site}) {
    *text = rows.Text(row, c++);
  }
  for (std::int64_t* number : {&o.booked_for, &o.requested_at, &o.clock_start, &o.vetted_at, &o.booked_at,
                               &o.performed_at, &o.reported_at, &o.acknowledged_at, &o.ended_at}) {
    *number = rows.Int(row, c++);
  }
  o.details = rows.Text(row, c++);
  o.activity = rows.Text(row, c);
  return o;
}

// Every column of kPgOrderColumns but id, version and last_updated, as text parameters.
std::vector<std::string> PgOrderValues(const OrderRecord& o) {
  std::vector<std::string> values{o.nhs_number, o.patient_name,   o.birth_date, o.sex,      o.requester,
                                   o.practice,   o.performer_site, o.code,       o.code_display, o.modality,
                                   o.test_group, o.priority,       o.stage,      o.accession_number, o.booked_site};
  for (std::int64_t number : {o.booked_for, o.requested_at, o.clock_start, o.vetted_at, o.booked_at, o.performed_at,
                              o.reported_at, o.acknowledged_at, o.ended_at}) {
    values.push_back(std::to_string(number));
  }
  values.push_back(o.details);
  values.push_back(o.activity);
  return values;
}

Result<void> PgInsertEvent(Connection& c, const OrderEvent& event) {
  DX_TRY(inserted, c.Prepared("INSERT INTO order_events (order_id, event, at, actor, detail) VALUES ($1,$2,$3,$4,$5)",
                              {event.order_id, event.event, std::to_string(event.at), event.actor, event.detail}));
  return {};
}

Result<void> PgCheckAccession(Connection& c, const std::string& accession, const std::string& id) {
  if (accession.empty()) return {};
  DX_TRY(owner, c.Prepared("SELECT id FROM orders WHERE accession_number = $1 AND id <> $2", {accession, id}));
  if (!owner->empty()) return Fail(ErrorCode::kConflict, "the accession number belongs to another request");
  return {};
}

}  // namespace

struct PostgresOrderStore::Impl {
  std::unique_ptr<Pool> pool;
};

Result<std::unique_ptr<PostgresOrderStore>> PostgresOrderStore::Open(const std::string& conninfo, bool durable,
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
  return std::unique_ptr<PostgresOrderStore>(new PostgresOrderStore(std::move(impl)));
}

PostgresOrderStore::PostgresOrderStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresOrderStore::~PostgresOrderStore() = default;

Result<void> PostgresOrderStore::Create(const std::vector<OrderRecord>& orders, const std::vector<OrderEvent>& events) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  return postgres::InTransaction(c, [&]() -> Result<void> {
    for (const auto& o : orders) {
      DX_TRY(exists, c.Prepared("SELECT 1 FROM orders WHERE id = $1", {o.id}));
      if (!exists->empty()) return Fail(ErrorCode::kConflict, fmt::format("request {} exists already", o.id));
      if (auto unique = PgCheckAccession(c, o.accession_number, o.id); !unique) return unique;
      std::vector<std::string> params{o.id};
      auto values = PgOrderValues(o);
      params.insert(params.end(), values.begin(), values.end());
      DX_TRY(inserted, c.Prepared(postgres::NumberedPlaceholders(fmt::format("INSERT INTO orders ({}) VALUES (?,1,{},?,?,?,?,?,?,?,?,?,?,?,?,"
                                                         "?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                                         kPgOrderColumns, postgres::kUtcNowSql)),
                                  params));
    }
    for (const auto& event : events) {
      if (auto recorded = PgInsertEvent(c, event); !recorded) return recorded;
    }
    return {};
  });
}

Result<std::optional<OrderRecord>> PostgresOrderStore::Read(const std::string& id) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared(fmt::format("SELECT {} FROM orders WHERE id = $1", kPgOrderColumns), {id}));
  if (rows->empty()) return std::optional<OrderRecord>();
  return std::optional<OrderRecord>(PgOrderFromRow(*rows, 0));
}

Result<std::optional<OrderRecord>> PostgresOrderStore::FindByAccession(const std::string& accession_number) {
  if (accession_number.empty()) return std::optional<OrderRecord>();
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared(fmt::format("SELECT {} FROM orders WHERE accession_number = $1", kPgOrderColumns),
                                  {accession_number}));
  if (rows->empty()) return std::optional<OrderRecord>();
  return std::optional<OrderRecord>(PgOrderFromRow(*rows, 0));
}

Result<bool> PostgresOrderStore::Update(const OrderRecord& o, const OrderEvent& event) {
  DX_TRY(lease, impl_->pool->Acquire());
  Connection& c = **lease;
  return postgres::InTransaction(c, [&]() -> Result<bool> {
    if (auto unique = PgCheckAccession(c, o.accession_number, o.id); !unique) return tl::unexpected(unique.error());
    std::vector<std::string> params = PgOrderValues(o);
    params.push_back(o.id);
    params.push_back(std::to_string(o.version));
    DX_TRY(updated, c.Prepared(postgres::NumberedPlaceholders(fmt::format(
                                   "UPDATE orders SET version = version + 1, last_updated = {}, nhs_number = ?,"
                                   " patient_name = ?, birth_date = ?, sex = ?, requester = ?, practice = ?,"
                                   " performer_site = ?, code = ?, code_display = ?, modality = ?, test_group = ?,"
                                   " priority = ?, stage = ?, accession_number = ?, booked_site = ?, booked_for = ?,"
                                   " requested_at = ?, clock_start = ?, vetted_at = ?, booked_at = ?, performed_at = ?,"
                                   " reported_at = ?, acknowledged_at = ?, ended_at = ?, details = ?, activity = ?"
                                   " WHERE id = ? AND version = ? RETURNING version",
                                   postgres::kUtcNowSql)),
                               params));
    if (updated->empty()) return false;
    if (auto recorded = PgInsertEvent(c, event); !recorded) return tl::unexpected(recorded.error());
    return true;
  });
}

Result<std::vector<OrderEvent>> PostgresOrderStore::Events(const std::string& id) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("SELECT order_id, event, at, actor, detail FROM order_events WHERE order_id = $1"
                                  " ORDER BY pk",
                                  {id}));
  std::vector<OrderEvent> events;
  for (int i = 0; i < rows->size(); ++i) {
    events.push_back({rows->Text(i, 0), rows->Text(i, 1), rows->Int(i, 2), rows->Text(i, 3), rows->Text(i, 4)});
  }
  return events;
}

Result<OrderPage> PostgresOrderStore::Search(const OrderSearch& search) {
  std::string where;
  std::vector<std::string> params;
  auto add = [&](const std::string& clause, std::vector<std::string> values) {
    where += (where.empty() ? " WHERE " : " AND ") + clause;
    params.insert(params.end(), values.begin(), values.end());
  };
  if (!search.nhs_number.empty()) add("nhs_number = ?", {search.nhs_number});
  if (!search.stages.empty()) {
    std::string in;
    for (std::size_t i = 0; i < search.stages.size(); ++i) in += i ? ",?" : "?";
    add("stage IN (" + in + ")", search.stages);
  }
  if (!search.requester.empty()) add("requester = ?", {search.requester});
  if (!search.performer_site.empty()) add("performer_site = ?", {search.performer_site});
  if (!search.priority.empty()) add("priority = ?", {search.priority});
  if (search.requested_from) add("requested_at >= ?", {std::to_string(search.requested_from)});
  if (search.requested_to) add("requested_at < ?", {std::to_string(search.requested_to)});
  DX_TRY(lease, impl_->pool->Acquire());
  OrderPage page;
  DX_TRY(count, (*lease)->Query(postgres::NumberedPlaceholders("SELECT COUNT(*) FROM orders" + where), params));
  page.total = static_cast<int>(count->Int(0, 0));
  auto paged = params;
  paged.push_back(std::to_string(search.count));
  paged.push_back(std::to_string(search.offset));
  DX_TRY(rows, (*lease)->Query(postgres::NumberedPlaceholders(fmt::format("SELECT {} FROM orders{} ORDER BY requested_at {}, id LIMIT ? OFFSET ?",
                                                      kPgOrderColumns, where, search.oldest_first ? "ASC" : "DESC")),
                               paged));
  for (int i = 0; i < rows->size(); ++i) page.orders.push_back(PgOrderFromRow(*rows, i));
  return page;
}

Result<std::vector<OrderRecord>> PostgresOrderStore::Booked(const ScheduledSearch& search) {
  std::string where = "stage IN ('booked', 'in-progress')";
  std::vector<std::string> params;
  for (const auto& [column, value] : {std::pair{"booked_site", &search.site}, std::pair{"modality", &search.modality},
                                      std::pair{"accession_number", &search.accession_number},
                                      std::pair{"nhs_number", &search.nhs_number}}) {
    if (value->empty()) continue;
    params.push_back(*value);
    where += fmt::format(" AND {} = ${}", column, params.size());
  }
  // Lets the planner use the unique index on accession numbers, which leaves out the empty ones.
  if (!search.accession_number.empty()) where += " AND accession_number <> ''";
  if (search.from) {
    params.push_back(std::to_string(search.from));
    where += fmt::format(" AND booked_for >= ${}::bigint", params.size());
  }
  if (search.to) {
    params.push_back(std::to_string(search.to));
    where += fmt::format(" AND booked_for < ${}::bigint", params.size());
  }
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared(
                   fmt::format("SELECT {} FROM orders WHERE {} ORDER BY booked_for, id", kPgOrderColumns, where),
                   params));
  std::vector<OrderRecord> orders;
  for (int i = 0; i < rows->size(); ++i) orders.push_back(PgOrderFromRow(*rows, i));
  return orders;
}

Result<void> PostgresOrderStore::ScanClocks(const std::function<void(const OrderClock&)>& visit) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared("SELECT test_group, performer_site, priority, stage, requested_at, clock_start,"
                                  " performed_at, reported_at, acknowledged_at, ended_at, activity FROM orders",
                                  {}));
  OrderClock clock;
  for (int i = 0; i < rows->size(); ++i) {
    clock.test_group = rows->Text(i, 0);
    clock.performer_site = rows->Text(i, 1);
    clock.priority = rows->Text(i, 2);
    clock.stage = rows->Text(i, 3);
    clock.requested_at = rows->Int(i, 4);
    clock.clock_start = rows->Int(i, 5);
    clock.performed_at = rows->Int(i, 6);
    clock.reported_at = rows->Int(i, 7);
    clock.acknowledged_at = rows->Int(i, 8);
    clock.ended_at = rows->Int(i, 9);
    clock.activity = rows->Text(i, 10);
    visit(clock);
  }
  return {};
}

namespace {

constexpr char kPgStepColumns[] = "uid, version, status, order_id, station_ae, started_at, ended_at, attributes";

}  // namespace

Result<void> PostgresOrderStore::CreateStep(const ProcedureStep& step) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(inserted, (*lease)->Prepared(fmt::format("INSERT INTO procedure_steps ({}) VALUES ($1,1,$2,$3,$4,$5,$6,$7)"
                                                  " ON CONFLICT (uid) DO NOTHING RETURNING uid",
                                                  kPgStepColumns),
                                      {step.uid, step.status, step.order_id, step.station_ae,
                                       std::to_string(step.started_at), std::to_string(step.ended_at),
                                       step.attributes}));
  if (inserted->empty()) return Fail(ErrorCode::kConflict, fmt::format("procedure step {} exists already", step.uid));
  return {};
}

Result<std::optional<ProcedureStep>> PostgresOrderStore::ReadStep(const std::string& uid) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(rows, (*lease)->Prepared(fmt::format("SELECT {} FROM procedure_steps WHERE uid = $1", kPgStepColumns), {uid}));
  if (rows->empty()) return std::optional<ProcedureStep>();
  return std::optional<ProcedureStep>(ProcedureStep{rows->Text(0, 0), static_cast<int>(rows->Int(0, 1)),
                                                    rows->Text(0, 2), rows->Text(0, 3), rows->Text(0, 4),
                                                    rows->Int(0, 5), rows->Int(0, 6), rows->Text(0, 7)});
}

Result<bool> PostgresOrderStore::UpdateStep(const ProcedureStep& step) {
  DX_TRY(lease, impl_->pool->Acquire());
  DX_TRY(updated, (*lease)->Prepared("UPDATE procedure_steps SET version = version + 1, status = $1, order_id = $2,"
                                     " station_ae = $3, started_at = $4, ended_at = $5, attributes = $6"
                                     " WHERE uid = $7 AND version = $8 RETURNING version",
                                     {step.status, step.order_id, step.station_ae, std::to_string(step.started_at),
                                      std::to_string(step.ended_at), step.attributes, step.uid,
                                      std::to_string(step.version)}));
  return !updated->empty();
}

}  // namespace dx::storage
