#include "results/journal.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "core/logging.hpp"

namespace dx::results {

namespace {

// An entry on disk: magic, payload length and CRC-32 of the payload (each a
// little-endian u32), then the payload: sequence (u64), and received_at, ack and
// raw, each as a u32 length and its bytes. The magic tells the kind.
constexpr std::uint32_t kMagic = 0x314A5844;       // "DXJ1": a message
constexpr std::uint32_t kAuditMagic = 0x31415844;  // "DXA1": audit entries
constexpr std::size_t kHeader = 12;

void PutU32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void PutU64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
std::uint64_t GetLe(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
void PutText(std::string& out, const std::string& text) {
  PutU32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

std::uint32_t Crc(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

void Encode(const JournalEntry& entry, std::string& out) {
  std::string payload;
  payload.reserve(8 + 12 + entry.received_at.size() + entry.ack.size() + entry.raw.size());
  PutU64(payload, entry.sequence);
  PutText(payload, entry.received_at);
  PutText(payload, entry.ack);
  PutText(payload, entry.raw);
  PutU32(out, entry.kind == JournalEntry::Kind::kAudit ? kAuditMagic : kMagic);
  PutU32(out, static_cast<std::uint32_t>(payload.size()));
  PutU32(out, Crc(payload));
  out += payload;
}

// The entries of one segment, up to the first that is torn or damaged; `complete`
// says whether the whole file was read (zeros after the last entry are the part
// of a durable segment not yet written to).
std::vector<JournalEntry> Decode(std::string_view data, bool& complete) {
  std::vector<JournalEntry> entries;
  std::size_t at = 0;
  complete = false;
  while (true) {
    if (std::all_of(data.begin() + static_cast<std::ptrdiff_t>(at), data.end(), [](char c) { return c == 0; })) {
      complete = true;
      return entries;
    }
    if (data.size() - at < kHeader) return entries;
    const std::uint64_t magic = GetLe(data.data() + at, 4);
    if (magic != kMagic && magic != kAuditMagic) return entries;
    const std::size_t length = GetLe(data.data() + at + 4, 4);
    if (data.size() - at - kHeader < length) return entries;
    const std::string_view payload = data.substr(at + kHeader, length);
    if (Crc(payload) != GetLe(data.data() + at + 8, 4) || payload.size() < 8) return entries;
    JournalEntry entry;
    entry.kind = magic == kAuditMagic ? JournalEntry::Kind::kAudit : JournalEntry::Kind::kMessage;
    entry.sequence = GetLe(payload.data(), 8);
    std::size_t p = 8;
    for (std::string* field : {&entry.received_at, &entry.ack, &entry.raw}) {
      if (payload.size() - p < 4) return entries;
      const std::size_t n = GetLe(payload.data() + p, 4);
      p += 4;
      if (payload.size() - p < n) return entries;
      field->assign(payload.substr(p, n));
      p += n;
    }
    entries.push_back(std::move(entry));
    at += kHeader + length;
  }
}

std::string SegmentName(std::uint64_t number) { return fmt::format("{:016}.log", number); }

// Creates `path` as `bytes` zeros on disk and returns it open for writing.
// Entries written over it later change neither the file's size nor its blocks,
// so their fdatasync need not wait for the file system's own journal, which
// under load also waits for other files' writes (the result store's).
Result<int> CreateZeroFilled(const std::string& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot create the journal segment {}", path));
  // Reserving the space first fails at once on a full disk, instead of filling it.
  const int reserved = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (reserved != 0 && reserved != EOPNOTSUPP && reserved != EINVAL) {  // not for want of support
    ::close(fd);
    ::unlink(path.c_str());
    return Fail(ErrorCode::kStorage,
                fmt::format("cannot prepare the journal segment {}: {}", path, std::strerror(reserved)));
  }
  const std::string zeros(std::size_t{1} << 20, '\0');
  std::uint64_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::write(fd, zeros.data(), std::min<std::uint64_t>(zeros.size(), bytes - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  if (done < bytes || ::fdatasync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return Fail(ErrorCode::kStorage,
                fmt::format("cannot prepare the journal segment {}: {}", path, std::strerror(error)));
  }
  return fd;
}

Result<void> SyncFolder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot open the journal folder {}", folder));
  const int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return Fail(ErrorCode::kStorage, fmt::format("cannot sync the journal folder {}", folder));
  return {};
}

// Renames a prepared segment into place; closes it on failure.
Result<int> Install(int fd, const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return fd;
  ::close(fd);
  ::unlink(from.c_str());
  return Fail(ErrorCode::kStorage, fmt::format("cannot rename the journal segment {}", from));
}

}  // namespace

Journal::Journal(std::string folder, bool durable, std::uint64_t segment_bytes)
    : folder_(std::move(folder)), durable_(durable), segment_bytes_(segment_bytes == 0 ? 1 : segment_bytes) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
  if (prepared_fd_ >= 0) {  // never used
    ::close(prepared_fd_);
    ::unlink((std::filesystem::path(folder_) / SegmentName(prepared_)).c_str());
  }
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& folder, bool durable, std::uint64_t segment_bytes) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot create the journal folder {}: {}", folder, error.message()));
  std::unique_ptr<Journal> journal(new Journal(folder, durable, segment_bytes));
  std::map<std::uint64_t, std::filesystem::path> found;
  for (const auto& file : std::filesystem::directory_iterator(folder, error)) {
    const std::string name = file.path().filename().string();
    if (name.size() == 20 && name.ends_with(".log")) found[std::strtoull(name.c_str(), nullptr, 10)] = file.path();
    std::error_code ignored;  // a segment being prepared when the process stopped
    if (name.ends_with(".log.tmp") || name.ends_with(".log.next")) std::filesystem::remove(file.path(), ignored);
  }
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot list the journal folder {}: {}", folder, error.message()));
  std::uint64_t last_sequence = 0, last_segment = 0;
  for (const auto& [number, path] : found) {
    std::ifstream in(path, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return Fail(ErrorCode::kStorage, fmt::format("cannot read {}", path.string()));
    bool complete = false;
    auto entries = Decode(data, complete);
    if (!complete) {
      // Only a batch that was being written when the process stopped: never acknowledged.
      Logger("results")->warn("event=journal-torn-tail segment={} kept_entries={}", path.filename().string(),
                              entries.size());
    }
    last_segment = number;
    if (entries.empty()) {  // holds nothing: emptied at shutdown, or prepared and never used
      std::filesystem::remove(path, error);
      if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot remove {}: {}", path.string(), error.message()));
      continue;
    }
    for (auto& entry : entries) {
      last_sequence = std::max(last_sequence, entry.sequence);
      journal->recovered_.push_back(std::move(entry));
    }
    journal->closed_[number] = last_sequence;
  }
  journal->next_sequence_ = last_sequence + 1;
  if (auto opened = journal->OpenSegment(last_segment + 1); !opened) return tl::unexpected(opened.error());
  return journal;
}

Result<void> Journal::OpenSegment(std::uint64_t number) {
  const std::string path = (std::filesystem::path(folder_) / SegmentName(number)).string();
  int fd = -1;
  if (prepared_fd_ >= 0 && prepared_ == number) {
    fd = std::exchange(prepared_fd_, -1);
  } else if (durable_) {
    auto created = CreateZeroFilled(path + ".tmp", segment_bytes_);
    if (!created) return tl::unexpected(created.error());
    auto installed = Install(*created, path + ".tmp", path);
    if (!installed) return tl::unexpected(installed.error());
    fd = *installed;
  } else {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot create the journal segment {}", path));
  }
  if (durable_) {
    if (auto synced = SyncFolder(folder_); !synced) {
      ::close(fd);
      return synced;
    }
  }
  if (fd_ >= 0) {
    ::close(fd_);
    closed_[segment_] = next_sequence_ - 1;
  }
  fd_ = fd;
  segment_ = number;
  written_ = 0;
  return {};
}

Result<void> Journal::Prepare() {
  std::uint64_t number = 0;
  {
    std::lock_guard lock(mutex_);
    if (!durable_ || fd_ < 0 || prepared_ > segment_ || unpreparable_ > segment_) return {};
    number = segment_ + 1;
  }
  const std::string path = (std::filesystem::path(folder_) / SegmentName(number)).string();
  // Written without the lock, so Write goes on meanwhile.
  auto fd = CreateZeroFilled(path + ".next", segment_bytes_);
  std::lock_guard lock(mutex_);
  if (!fd) {
    unpreparable_ = number;  // not tried again: Write tries when it needs the segment
    return tl::unexpected(fd.error());
  }
  if (segment_ >= number) {  // Write opened that segment itself meanwhile
    ::close(*fd);
    ::unlink((path + ".next").c_str());
    return {};
  }
  auto installed = Install(*fd, path + ".next", path);
  if (!installed) return tl::unexpected(installed.error());
  if (prepared_fd_ >= 0) ::close(prepared_fd_);
  prepared_fd_ = *installed;
  prepared_ = number;
  return {};
}

Result<void> Journal::Write(std::vector<JournalEntry>& entries) {
  if (entries.empty()) return {};
  std::lock_guard lock(mutex_);
  if (written_ >= segment_bytes_) {
    if (auto opened = OpenSegment(segment_ + 1); !opened) return opened;
  }
  std::string out;
  std::size_t size = 0;
  for (const auto& entry : entries) size += kHeader + 32 + entry.received_at.size() + entry.ack.size() + entry.raw.size();
  out.reserve(size);
  const std::uint64_t first = next_sequence_;
  for (auto& entry : entries) {
    entry.sequence = next_sequence_++;
    Encode(entry, out);
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pwrite(fd_, out.data() + done, out.size() - done, static_cast<off_t>(written_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A partial batch is dropped as torn when the journal is next opened; the
      // next batch must not follow it in this segment.
      next_sequence_ = first;
      written_ = segment_bytes_;
      return Fail(ErrorCode::kStorage, fmt::format("cannot write to the journal: {}", std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  written_ += out.size();
  return {};
}

Result<void> Journal::Sync() {
  std::lock_guard lock(mutex_);
  if (!durable_ || fd_ < 0) return {};
  if (::fdatasync(fd_) != 0) {
    written_ = segment_bytes_;  // what follows goes to a new segment
    return Fail(ErrorCode::kStorage, "cannot sync the journal to disk");
  }
  return {};
}

std::size_t Journal::segments() {
  std::lock_guard lock(mutex_);
  return closed_.size() + 1;
}

bool Journal::Releasable(std::uint64_t sequence) {
  std::lock_guard lock(mutex_);
  return !closed_.empty() && closed_.begin()->second <= sequence;
}

Result<void> Journal::Release(std::uint64_t sequence, bool current) {
  std::lock_guard lock(mutex_);
  for (auto it = closed_.begin(); it != closed_.end() && it->second <= sequence;) {
    const auto path = std::filesystem::path(folder_) / SegmentName(it->first);
    std::error_code error;
    std::filesystem::remove(path, error);
    if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot remove {}: {}", path.string(), error.message()));
    it = closed_.erase(it);
  }
  if (current && closed_.empty() && sequence + 1 >= next_sequence_ && written_ > 0) {
    if (::ftruncate(fd_, 0) != 0) return Fail(ErrorCode::kStorage, "cannot empty the journal segment");
    written_ = 0;
  }
  return {};
}

}  // namespace dx::results
