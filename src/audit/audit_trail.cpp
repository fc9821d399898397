#include "audit/audit_trail.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/hash.hpp"

namespace dx::audit {
namespace {

constexpr char kGenesis[] = "0000000000000000000000000000000000000000000000000000000000000000";

// The hash covers the entry without its own "hash" field, plus the previous hash.
std::string EntryHash(const nlohmann::json& entry_without_hash) { return Sha256Hex(entry_without_hash.dump()); }

}  // namespace

Result<std::unique_ptr<FileAuditTrail>> FileAuditTrail::Open(const std::string& path, bool durable) {
  auto verified = Verify(path);
  if (!verified) return tl::unexpected(verified.error());
  std::string last_hash = kGenesis;
  {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
    if (!last.empty()) last_hash = nlohmann::json::parse(last).at("hash").get<std::string>();
  }
  auto trail = std::unique_ptr<FileAuditTrail>(new FileAuditTrail(path, durable, *verified + 1, last_hash));
  if (!trail->out_) return Fail(ErrorCode::kStorage, fmt::format("cannot open audit trail {}", path));
  return trail;
}

FileAuditTrail::FileAuditTrail(std::string path, bool durable, std::uint64_t next_sequence, std::string last_hash)
    : path_(std::move(path)),
      durable_(durable),
      out_(path_, std::ios::app),
      next_sequence_(next_sequence),
      last_hash_(std::move(last_hash)) {}

void FileAuditTrail::Record(const Event& event) {
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::lock_guard lock(mutex_);
  nlohmann::json entry{{"seq", next_sequence_},
                       {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now)},
                       {"actor", event.actor},
                       {"action", event.action},
                       {"outcome", event.outcome},
                       {"entities", event.entities},
                       {"source", event.source},
                       {"prev", last_hash_}};
  const std::string hash = EntryHash(entry);
  entry["hash"] = hash;
  out_ << entry.dump() << '\n';
  out_.flush();
  if (durable_) {
    int fd = ::open(path_.c_str(), O_WRONLY);
    if (fd >= 0) {
      ::fdatasync(fd);
      ::close(fd);
    }
  }
  last_hash_ = hash;
  ++next_sequence_;
}

Result<std::uint64_t> FileAuditTrail::Verify(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::uint64_t{0};  // no trail yet
  std::string line, previous = kGenesis;
  std::uint64_t count = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++count;
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.contains("hash") || !entry.contains("prev")) {
      return Fail(ErrorCode::kStorage, fmt::format("audit trail {}: line {} is not an audit entry", path, count));
    }
    const std::string hash = entry["hash"];
    entry.erase("hash");
    if (entry["prev"] != previous || EntryHash(entry) != hash || entry["seq"] != count) {
      return Fail(ErrorCode::kStorage, fmt::format("audit trail {}: chain broken at line {}", path, count));
    }
    previous = hash;
  }
  return count;
}

}  // namespace dx::audit
