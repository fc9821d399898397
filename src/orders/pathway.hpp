// Moves requests along their clock: places new ones, applies changes
// (lifecycle.hpp) with optimistic concurrency against the store, marks a
// request performed when its first image arrives (matched by accession number)
// and reported when its result arrives (matched by placer or filler order number).
// Thread-safe: concurrent changes to one request are serialised by the store's
// version check and retried.
#pragma once

#include <string>

#include "orders/lifecycle.hpp"
#include "storage/api/order_store.hpp"

namespace dx::orders {

class Pathway {
 public:
  explicit Pathway(storage::OrderStore& store) : store_(store) {}

  // Stores a new request (stage requested) under a new id; returns it as stored.
  Result<storage::OrderRecord> Place(storage::OrderRecord order, const std::string& actor);
  // Applies `change` to request `id`. kNotFound when there is no such request.
  Result<storage::OrderRecord> Move(const std::string& id, Change change);
  // The request with this accession number performed at `at`, when it is vetted
  // or booked; nothing when there is none or it is further along. Returns
  // whether a request moved.
  Result<bool> PerformedByAccession(const std::string& accession_number, std::int64_t at, const std::string& actor,
                                    const std::string& reference);
  // A final or corrected result for the request whose id is `placer` or, failing
  // that, whose accession number is `filler`: marked performed at `at` when it
  // was not yet (a test without images or procedure step), then reported.
  // Nothing when there is no such request, when it is another patient's
  // (`nhs_number` differs), or when it is not waiting for a result. Returns
  // whether a request moved.
  Result<bool> ReportedByResult(const std::string& placer, const std::string& filler, const std::string& nhs_number,
                                std::int64_t at, const std::string& actor, const std::string& reference);

 private:
  storage::OrderStore& store_;
};

// A new request id: 32 lower-case hex digits (a random UUID's worth).
std::string NewOrderId();

}  // namespace dx::orders
