// The decision-support service over HTTP: POST /cds/recommend (a case in, the
// outcome out), a CDS Hooks 2.0 service (discovery at GET /cds-services,
// order-select and order-sign taking FHIR ServiceRequest drafts with Patient
// and Condition prefetch, feedback), and read access to the recorded
// consultations. Every evaluation is recorded in the ConsultationStore and
// audited. Errors are FHIR OperationOutcome bodies. Handlers are thread-safe.
#pragma once

#include <chrono>
#include <functional>

#include "audit/audit_trail.hpp"
#include "cds/knowledge_base.hpp"
#include "http/router.hpp"
#include "storage/api/consultation_store.hpp"

namespace dx::cds::hooks {

using Clock = std::function<std::chrono::system_clock::time_point()>;

// CDS Hooks service ids, as listed by discovery.
inline constexpr char kOrderSelectService[] = "dxhub-imaging-order-select";
inline constexpr char kOrderSignService[] = "dxhub-imaging-order-sign";

class CdsService {
 public:
  // All three must outlive the service. `now` dates consultations and turns a
  // Patient's birthDate into an age.
  CdsService(const KnowledgeBase& knowledge, storage::ConsultationStore& consultations, audit::AuditTrail& audit,
             Clock now = std::chrono::system_clock::now);

  void RegisterRoutes(http::Router& router);

 private:
  http::Response Discovery() const;
  http::Response Recommend(const http::Request& request);
  http::Response CallHook(const http::Request& request, const std::string& hook);
  http::Response Feedback(const http::Request& request);
  http::Response ReadConsultation(const http::Request& request);
  http::Response ListConsultations(const http::Request& request);

  const KnowledgeBase& knowledge_;
  storage::ConsultationStore& consultations_;
  audit::AuditTrail& audit_;
  Clock now_;
};

}  // namespace dx::cds::hooks
