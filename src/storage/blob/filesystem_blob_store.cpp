#include "storage/blob/filesystem_blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "core/hash.hpp"

namespace dx::storage {
namespace fs = std::filesystem;
namespace {

Result<void> SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot open {} to sync: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Fail(ErrorCode::kStorage, fmt::format("fsync failed: {}", std::strerror(errno)));
  return {};
}

Result<std::pair<std::uint64_t, std::string>> SizeAndSha256(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return Fail(ErrorCode::kStorage, fmt::format("cannot read staged file: {}", std::strerror(errno)));
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  std::uint64_t size = 0;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Fail(ErrorCode::kStorage, "read error on staged file");
    }
    if (n == 0) break;
    sha.Update(buffer.data(), static_cast<std::size_t>(n));
    size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return std::pair{size, sha.HexDigest()};
}

}  // namespace

FilesystemBlobStore::FilesystemBlobStore(std::string root) : root_(std::move(root)), staging_(root_ + "/tmp") {}

Result<std::unique_ptr<FilesystemBlobStore>> FilesystemBlobStore::Open(const std::string& root) {
  std::error_code error;
  fs::create_directories(root + "/tmp", error);
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot create blob folder {}: {}", root, error.message()));
  for (auto& entry : fs::directory_iterator(root + "/tmp", error)) fs::remove(entry.path(), error);
  return std::unique_ptr<FilesystemBlobStore>(new FilesystemBlobStore(root));
}

std::string FilesystemBlobStore::NewStagingPath() {
  return fmt::format("{}/{}-{}.part", staging_, ::getpid(), counter_.fetch_add(1));
}

Result<std::string> FilesystemBlobStore::BlobPath(const std::string& key) const {
  if (key.empty() || key.front() == '/' || key.find("..") != std::string::npos || key.rfind("tmp/", 0) == 0) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("'{}' is not a valid blob key", key));
  }
  return root_ + "/" + key;
}

Result<BlobInfo> FilesystemBlobStore::CommitStaged(const std::string& staging_path, const std::string& key,
                                                   bool durable) {
  auto path = BlobPath(key);
  if (!path) return tl::unexpected(path.error());
  auto measured = SizeAndSha256(staging_path);
  if (!measured) return tl::unexpected(measured.error());
  if (durable) {
    if (auto synced = SyncPath(staging_path, O_RDONLY); !synced) return tl::unexpected(synced.error());
  }
  const std::string folder = fs::path(*path).parent_path().string();
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) return Fail(ErrorCode::kStorage, fmt::format("cannot create {}: {}", folder, error.message()));
  if (::rename(staging_path.c_str(), path->c_str()) != 0) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot move blob into place: {}", std::strerror(errno)));
  }
  if (durable) {
    std::lock_guard lock(dirty_mutex_);
    // New folders must reach the disk too: mark every level up to the root.
    for (fs::path p = folder; p.string().size() >= root_.size(); p = p.parent_path()) {
      dirty_folders_.insert(p.string());
      if (p.string() == root_) break;
    }
  }
  return BlobInfo{key, measured->first, measured->second};
}

Result<BlobInfo> FilesystemBlobStore::Put(const std::string& key, const std::string& bytes, bool durable) {
  const std::string staged = NewStagingPath();
  {
    std::ofstream out(staged, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Fail(ErrorCode::kStorage, "cannot write staging file");
  }
  auto info = CommitStaged(staged, key, durable);
  if (!info) {
    std::remove(staged.c_str());
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
  std::ifstream in(*path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, fmt::format("no blob '{}'", key));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<void> FilesystemBlobStore::Remove(const std::string& key) {
  auto path = BlobPath(key);
  if (!path) return tl::unexpected(path.error());
  if (::unlink(path->c_str()) != 0 && errno != ENOENT) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot remove blob: {}", std::strerror(errno)));
  }
  return {};
}

Result<void> FilesystemBlobStore::SyncPending() {
  std::set<std::string> folders;
  {
    std::lock_guard lock(dirty_mutex_);
    folders.swap(dirty_folders_);
  }
  for (const auto& folder : folders) {
    if (auto synced = SyncPath(folder, O_RDONLY | O_DIRECTORY); !synced) return synced;
  }
  return {};
}

}  // namespace dx::storage
