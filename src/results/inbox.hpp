// The GP results inbox over HTTP (JSON), under /results:
//   GET  /results/inbox?practice=ODS[&include=handled][&_count=N]
//        reports for a practice: new ones first (urgent, then abnormal, then
//        newest), each with its state and who handled it and when;
//   POST /results/inbox/{report}/acknowledge and …/file  {"by": ..., "comment": ...}
//        records who acknowledged or filed the report, and when;
//   GET  /results/notifications?practice=ODS[&include=acknowledged]
//        urgent abnormal results raised for the practice.
// The acting user comes from the authentication middleware (Request attribute
// "user") when there is one, otherwise from "by". Every access is audited.
#pragma once

#include <chrono>
#include <functional>

#include "audit/audit_trail.hpp"
#include "http/router.hpp"
#include "storage/api/result_store.hpp"

namespace dx::results {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// The store and audit trail must outlive the router.
void RegisterInboxRoutes(http::Router& router, storage::ResultStore& store, audit::AuditTrail& audit,
                         Clock now = std::chrono::system_clock::now);

}  // namespace dx::results
