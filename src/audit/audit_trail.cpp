#include "audit/audit_trail.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
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

nlohmann::json ToJson(const Event& event) {
  return {{"actor", event.actor},
          {"action", event.action},
          {"outcome", event.outcome},
          {"entities", event.entities},
          {"source", event.source}};
}

std::optional<Event> EventFromJson(const nlohmann::json& json) {
  try {
    return Event{json.at("actor").get<std::string>(), json.at("action").get<std::string>(),
                 json.at("outcome").get<std::string>(), json.at("entities").get<std::vector<std::string>>(),
                 json.at("source").get<std::string>()};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// Holds an exclusive flock on `fd` for its lifetime.
class AuditFileLock {
 public:
  explicit AuditFileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~AuditFileLock() { ::flock(fd_, LOCK_UN); }
  AuditFileLock(const AuditFileLock&) = delete;
  AuditFileLock& operator=(const AuditFileLock&) = delete;

 private:
  int fd_;
};

Result<std::unique_ptr<FileAuditTrail>> FileAuditTrail::Open(const std::string& path, bool durable) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot open audit trail {}", path));
  AuditFileLock lock(fd);  // no other process appends while the chain is verified
  auto verified = Verify(path);
  if (!verified) {
    ::close(fd);
    return tl::unexpected(verified.error());
  }
  std::string last_hash = kGenesis;
  {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
    if (!last.empty()) last_hash = nlohmann::json::parse(last).at("hash").get<std::string>();
  }
  struct stat info {};
  ::fstat(fd, &info);
  return std::unique_ptr<FileAuditTrail>(new FileAuditTrail(path, durable, fd, static_cast<std::uint64_t>(info.st_size),
                                                            *verified + 1, last_hash));
}

FileAuditTrail::FileAuditTrail(std::string path, bool durable, int fd, std::uint64_t size,
                               std::uint64_t next_sequence, std::string last_hash)
    : path_(std::move(path)),
      durable_(durable),
      fd_(fd),
      known_size_(size),
      next_sequence_(next_sequence),
      last_hash_(std::move(last_hash)),
      synced_size_(size) {}

FileAuditTrail::~FileAuditTrail() { ::close(fd_); }

void FileAuditTrail::CatchUp(std::uint64_t size) {
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(known_size_));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_object() && entry.contains("hash") && entry.contains("seq")) {
      last_hash_ = entry["hash"].get<std::string>();
      next_sequence_ = entry["seq"].get<std::uint64_t>() + 1;
    }
  }
  known_size_ = size;
}

void FileAuditTrail::Record(const Event& event) { RecordAll({event}); }

void FileAuditTrail::RecordAll(const std::vector<Event>& events) {
  if (events.empty()) return;
  std::uint64_t end = 0;
  Append(events, end);
  if (durable_) SyncThrough(end);
}

Written FileAuditTrail::Write(const std::vector<Event>& events) {
  std::uint64_t end = 0;
  return events.empty() ? Written{} : Append(events, end);
}

void FileAuditTrail::Sync() {
  if (!durable_) return;
  std::uint64_t end = 0;
  {
    std::lock_guard guard(mutex_);
    end = known_size_;
  }
  SyncThrough(end);
}

// Reads the lines from the Write's offset: one is kept if it carries the hash the
// Write gave it (the chain makes that hash unique to it).
std::size_t FileAuditTrail::Kept(const Written& written) {
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(written.offset));
  std::string line;
  std::size_t kept = 0;
  while (kept < written.hashes.size() && std::getline(in, line)) {
    const auto entry = nlohmann::json::parse(line, nullptr, false);
    if (!entry.is_object() || !entry.contains("hash") || entry["hash"] != written.hashes[kept]) break;
    ++kept;
  }
  return kept;
}

Written FileAuditTrail::Append(const std::vector<Event>& events, std::uint64_t& end) {
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const std::string time = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
  std::lock_guard guard(mutex_);
  AuditFileLock lock(fd_);
  struct stat info {};
  if (::fstat(fd_, &info) == 0 && static_cast<std::uint64_t>(info.st_size) != known_size_) {
    CatchUp(static_cast<std::uint64_t>(info.st_size));
  }
  Written where{known_size_, {}};
  where.hashes.reserve(events.size());
  std::string lines;
  for (const Event& event : events) {
    nlohmann::json entry = ToJson(event);  // keys sorted: the order they are added in does not matter
    entry["seq"] = next_sequence_;
    entry["time"] = time;
    entry["prev"] = last_hash_;
    const std::string hash = EntryHash(entry);
    entry["hash"] = hash;
    lines += entry.dump() + '\n';
    where.hashes.push_back(hash);
    last_hash_ = hash;
    ++next_sequence_;
  }
  std::size_t written = 0;
  while (written < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + written, lines.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // disk full or I/O error: the next Verify reports the torn line
    written += static_cast<std::size_t>(n);
  }
  known_size_ += written;
  end = known_size_;
  return where;
}

void FileAuditTrail::SyncThrough(std::uint64_t end) {
  std::lock_guard sync(sync_mutex_);
  if (synced_size_ >= end) return;  // an fdatasync that began after this entry was written covered it
  std::uint64_t written = 0;        // everything appended so far, which this fdatasync will cover
  {
    std::lock_guard guard(mutex_);
    written = known_size_;
  }
  ::fdatasync(fd_);
  synced_size_ = written;
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
