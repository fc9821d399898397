#include "orders/pathway.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <optional>

namespace dx::orders {

std::string NewOrderId() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  std::string id;
  for (unsigned char byte : bytes) id += fmt::format("{:02x}", byte);
  return id;
}

Result<storage::OrderRecord> Pathway::Place(storage::OrderRecord order, const std::string& actor) {
  order.id = NewOrderId();
  order.stage = stage::kRequested;
  storage::OrderEvent event{order.id, "requested", order.requested_at, actor, ""};
  if (auto created = store_.Create({order}, {event}); !created) return tl::unexpected(created.error());
  auto stored = store_.Read(order.id);
  if (!stored) return tl::unexpected(stored.error());
  if (!*stored) return Fail(ErrorCode::kStorage, "the request just stored cannot be read back");
  return **stored;
}

Result<storage::OrderRecord> Pathway::Move(const std::string& id, Change change) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = store_.Read(id);
    if (!current) return tl::unexpected(current.error());
    if (!*current) return Fail(ErrorCode::kNotFound, fmt::format("no request {}", id));
    auto applied = Apply(**current, change);
    if (!applied) return tl::unexpected(applied.error());
    auto updated = store_.Update(applied->order, applied->event);
    if (!updated) return tl::unexpected(updated.error());
    if (*updated) {
      auto stored = store_.Read(id);
      if (!stored) return tl::unexpected(stored.error());
      return **stored;
    }
  }
  return Fail(ErrorCode::kConflict, fmt::format("request {} kept changing; try again", id));
}

Result<bool> Pathway::PerformedByAccession(const std::string& accession_number, std::int64_t at,
                                           const std::string& actor, const std::string& reference) {
  auto found = store_.FindByAccession(accession_number);
  if (!found) return tl::unexpected(found.error());
  if (!*found || ((*found)->stage != stage::kVetted && (*found)->stage != stage::kBooked)) return false;
  Change change;
  change.kind = Change::Kind::kPerform;
  change.actor = actor;
  change.at = at;
  change.reference = reference;
  auto moved = Move((*found)->id, change);
  if (!moved) {
    // Someone else moved it on first (an MPPS beside the image): not an error here.
    if (moved.error().code == ErrorCode::kConflict) return false;
    return tl::unexpected(moved.error());
  }
  return true;
}

Result<bool> Pathway::ReportedByResult(const std::string& placer, const std::string& filler,
                                       const std::string& nhs_number, std::int64_t at, const std::string& actor,
                                       const std::string& reference) {
  std::optional<storage::OrderRecord> order;
  if (!placer.empty()) {
    auto read = store_.Read(placer);
    if (!read) return tl::unexpected(read.error());
    order = std::move(*read);
  }
  if (!order && !filler.empty()) {
    auto found = store_.FindByAccession(filler);
    if (!found) return tl::unexpected(found.error());
    order = std::move(*found);
  }
  if (!order || order->nhs_number != nhs_number) return false;
  Change change;
  change.actor = actor;
  change.at = at;
  change.reference = reference;
  if (order->stage == stage::kVetted || order->stage == stage::kBooked || order->stage == stage::kInProgress) {
    change.kind = Change::Kind::kPerform;
    auto performed = Move(order->id, change);
    if (!performed) {
      if (performed.error().code == ErrorCode::kConflict) return false;  // moved on by someone else first
      return tl::unexpected(performed.error());
    }
    order = std::move(*performed);
  }
  if (order->stage != stage::kPerformed) return false;
  change.kind = Change::Kind::kReport;
  auto reported = Move(order->id, change);
  if (!reported) {
    // Reported by someone else first (a report typed here beside the result): not an error.
    if (reported.error().code == ErrorCode::kConflict) return false;
    return tl::unexpected(reported.error());
  }
  return true;
}

}  // namespace dx::orders
