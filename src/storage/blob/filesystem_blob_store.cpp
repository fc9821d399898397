#include "storage/blob/filesystem_blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "core/hash.hpp"

namespace dx::storage {
namespace fs = std::filesystem;
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<void> SyncFolder(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot open folder {} to sync: {}", path, std::strerror(errno)));
  }
  if (::fsync(fd.get()) != 0) {
    return Fail(ErrorCode::kStorage, fmt::format("fsync of folder {} failed: {}", path, std::strerror(errno)));
  }
  return {};
}

// Reads the whole file once (1 MiB at a time) for its size and SHA-256, and
// with `durable` fsyncs it through the same descriptor.
Result<std::pair<std::uint64_t, std::string>> MeasureAndSync(const std::string& path, bool durable) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot read staged file {}: {}", path, std::strerror(errno)));
  }
  Sha256 sha;
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uint64_t size = 0;
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorCode::kStorage, fmt::format("read error on staged file: {}", std::strerror(errno)));
    if (n == 0) break;
    sha.Update(buffer.data(), static_cast<std::size_t>(n));
    size += static_cast<std::uint64_t>(n);
  }
  if (durable && ::fsync(fd.get()) != 0) {
    return Fail(ErrorCode::kStorage, fmt::format("fsync of staged file failed: {}", std::strerror(errno)));
  }
  return std::pair{size, sha.HexDigest()};
}

Result<void> WriteAll(const std::string& path, const std::string& bytes) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot create staging file: {}", std::strerror(errno)));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot write staging file: {}", std::strerror(errno)));
    written += static_cast<std::size_t>(n);
  }
  return {};
}

std::uint64_t RandomNonce() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

FilesystemBlobStore::FilesystemBlobStore(std::string root)
    : root_(std::move(root)), staging_(root_ + "/tmp"), staging_nonce_(RandomNonce()) {}

Result<std::unique_ptr<FilesystemBlobStore>> FilesystemBlobStore::Open(const std::string& root) {
  std::error_code error;
  fs::create_directories(root + "/tmp", error);
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot create blob folder {}: {}", root, error.message()));
  // Anything in tmp/ was being written when the last process stopped: never committed.
  for (const auto& entry : fs::directory_iterator(root + "/tmp", error)) {
    std::error_code ignored;
    fs::remove_all(entry.path(), ignored);
  }
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot list {}/tmp: {}", root, error.message()));
  // Normalise the root so dirty-folder bookkeeping compares like with like.
  std::string normal = fs::path(root).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return std::unique_ptr<FilesystemBlobStore>(new FilesystemBlobStore(normal));
}

std::string FilesystemBlobStore::NewStagingPath() {
  return fmt::format("{}/{}-{:016x}-{}.part", staging_, ::getpid(), staging_nonce_, counter_.fetch_add(1));
}

Result<std::string> FilesystemBlobStore::BlobPath(const std::string& key) const {
  auto invalid = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a valid blob key: {}", key, why));
  };
  if (key.empty()) return invalid("it is empty");
  if (key.front() == '/') return invalid("it is an absolute path");
  if (key.find('\0') != std::string::npos) return invalid("it contains a NUL byte");
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    const std::string_view part(key.data() + start, end - start);
    if (part.empty()) return invalid("it has an empty path component");
    if (part == "." || part == "..") return invalid("it has a '.' or '..' component");
    if (start == 0 && part == "tmp") return invalid("tmp/ is the staging area");
    start = end + 1;
  }
  return root_ + "/" + key;
}

Result<BlobInfo> FilesystemBlobStore::CommitStaged(const std::string& staging_path, const std::string& key,
                                                   bool durable) {
  if (auto path = BlobPath(key); !path) return tl::unexpected(path.error());
  auto measured = MeasureStaged(staging_path, durable);
  if (!measured) return tl::unexpected(measured.error());
  return CommitMeasured(staging_path, key, durable, *measured);
}

Result<BlobInfo> FilesystemBlobStore::MeasureStaged(const std::string& staging_path, bool durable) {
  auto measured = MeasureAndSync(staging_path, durable);
  if (!measured) return tl::unexpected(measured.error());
  return BlobInfo{"", measured->first, measured->second};
}

Result<BlobInfo> FilesystemBlobStore::CommitMeasured(const std::string& staging_path, const std::string& key,
                                                     bool durable, const BlobInfo& measured) {
  auto path = BlobPath(key);
  if (!path) return tl::unexpected(path.error());
  const fs::path folder = fs::path(*path).parent_path();
  std::error_code error;
  const bool created = fs::create_directories(folder, error);
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot create {}: {}", folder.string(), error.message()));
  if (::rename(staging_path.c_str(), path->c_str()) != 0) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot move blob '{}' into place: {}", key, std::strerror(errno)));
  }
  if (durable) {
    std::lock_guard lock(dirty_mutex_);
    dirty_folders_.insert(folder.string());
    // A folder made just now is itself a new entry of its parent, up to the root.
    if (created) {
      for (fs::path p = folder.parent_path(); p.string().size() >= root_.size(); p = p.parent_path()) {
        dirty_folders_.insert(p.string());
        if (p.string() == root_ || !p.has_parent_path()) break;
      }
    }
  }
  return BlobInfo{key, measured.size_bytes, measured.sha256};
}

Result<BlobInfo> FilesystemBlobStore::Put(const std::string& key, const std::string& bytes, bool durable) {
  if (auto path = BlobPath(key); !path) return tl::unexpected(path.error());
  const std::string staged = NewStagingPath();
  auto info = [&]() -> Result<BlobInfo> {
    if (auto written = WriteAll(staged, bytes); !written) return tl::unexpected(written.error());
    return CommitStaged(staged, key, durable);
  }();
  if (!info) {
    ::unlink(staged.c_str());
    return info;
  }
  if (durable) {
    if (auto synced = SyncPending(); !synced) return tl::unexpected(synced.error());
  }
  return info;
}

Result<std::string> FilesystemBlobStore::PathOf(const std::string& key) { return BlobPath(key); }

Result<std::string> FilesystemBlobStore::Read(const std::string& key) {
  auto path = BlobPath(key);
  if (!path) return tl::unexpected(path.error());
  FileDescriptor fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Fail(ErrorCode::kNotFound, fmt::format("no blob '{}'", key));
    return Fail(ErrorCode::kStorage, fmt::format("cannot open blob '{}': {}", key, std::strerror(errno)));
  }
  std::string bytes;
  std::vector<char> buffer(std::size_t{1} << 20);
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot read blob '{}': {}", key, std::strerror(errno)));
    if (n == 0) break;
    bytes.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return bytes;
}

Result<void> FilesystemBlobStore::Remove(const std::string& key) {
  auto path = BlobPath(key);
  if (!path) return tl::unexpected(path.error());
  if (::unlink(path->c_str()) != 0 && errno != ENOENT) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot remove blob '{}': {}", key, std::strerror(errno)));
  }
  return {};
}

Result<void> FilesystemBlobStore::SyncPending() {
  // Serialised: a caller arriving while another syncs waits for it, then syncs
  // what has been dirtied since — so its own commits are covered either way.
  std::lock_guard sync_lock(sync_mutex_);
  std::set<std::string> folders;
  {
    std::lock_guard lock(dirty_mutex_);
    folders.swap(dirty_folders_);
  }
  for (auto it = folders.begin(); it != folders.end(); ++it) {
    if (auto synced = SyncFolder(*it); !synced) {
      // Keep what is still unsynced so the next call retries it.
      std::lock_guard lock(dirty_mutex_);
      dirty_folders_.insert(it, folders.end());
      return synced;
    }
  }
  return {};
}

}  // namespace dx::storage
