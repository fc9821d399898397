// Waiting-list figures over HTTP, as plain JSON for the dashboard and CSV for the
// DM01-style return:
//   GET /waits/summary?at=<dateTime>   waiting list by test and site, weeks waited,
//                                      share over six weeks, activity per month, turnaround
//   GET /waits/dm01?month=YYYY-MM      the monthly return (text/csv)
// Handlers are thread-safe.
#pragma once

#include <functional>

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "orders/catalogue.hpp"
#include "storage/api/order_store.hpp"

namespace dx::waits {

void RegisterWaitsRoutes(http::Router& router, storage::OrderStore& store, const orders::TestCatalogue& catalogue,
                         audit::AuditTrail& audit, std::function<std::int64_t()> clock);

}  // namespace dx::waits
