// Server configuration: every option declared once (name, default, description),
// read from defaults < TOML file < DXHUB_* environment < command line, and
// validated at start-up with messages that name the option. Immutable once built.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace CLI {
class App;
}

namespace dx {

// What ingest does when a SOP Instance UID is already stored.
enum class DuplicatePolicy {
  kIgnoreIdentical,  // same bytes: accept, keep one copy; different bytes: reject
  kKeepNewest,       // replace the stored instance with the new one
  kReject,           // always reject the second copy
};

struct DicomPeer {
  std::string host;
  int port = 104;
};

struct Config {
  std::string data_dir = "dxhub-data";
  std::string bind_address = "127.0.0.1";
  int dicom_port = 4242;
  int http_port = 8042;
  int hl7_port = 2575;                           // MLLP listener for HL7 v2 results
  std::uint64_t max_hl7_message_bytes = 4ull << 20;  // larger MLLP frames are refused
  std::string ae_title = "DXHUB";
  std::vector<std::string> allowed_calling_aes;  // empty: any calling AE
  std::map<std::string, DicomPeer> peers;        // C-MOVE destinations by AE title
  DuplicatePolicy duplicate_policy = DuplicatePolicy::kIgnoreIdentical;
  bool durable = false;                          // fsync before acknowledging
  std::uint64_t max_object_bytes = 2ull << 30;   // largest accepted object
  int max_associations = 64;
  int ingest_batch = 256;                        // most index writes per commit
  int results_apply_delay_ms = 20;               // acknowledged results gather this long before they are applied
  std::string log_level = "info";
  std::string knowledge_dir = "knowledge";       // decision-support knowledge base
  std::string index = "sqlite";                  // "sqlite" (DATA/index.sqlite) or a PostgreSQL URL / conninfo
  std::vector<std::string> cors_origins;         // browser origins allowed to call the HTTP API ("*": any)
  std::uint64_t max_request_bytes = 512ull << 20;  // larger HTTP requests get 413
};

// Declares the options on `app` (flags) so that `Finish` can apply them.
class ConfigBuilder {
 public:
  explicit ConfigBuilder(CLI::App& app);
  // Applies file (if --config given), environment and flags; validates.
  Result<Config> Finish();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

std::string ToString(DuplicatePolicy policy);
Result<DuplicatePolicy> ParseDuplicatePolicy(std::string_view text);

}  // namespace dx
