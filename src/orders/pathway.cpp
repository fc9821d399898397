#include "orders/pathway.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

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

}  // namespace dx::orders
