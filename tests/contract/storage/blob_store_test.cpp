// The BlobStore contract (storage/api/blob_store.hpp) on FilesystemBlobStore:
// atomic commit, checksums, key validation, crash leftovers, concurrency.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/hash.hpp"
#include "storage/blob/filesystem_blob_store.hpp"

namespace dx::storage {
namespace {

class FilesystemBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/blobs-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    auto store = FilesystemBlobStore::Open(root_);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  std::string Stage(const std::string& bytes) {
    std::string path = store_->NewStagingPath();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string root_;
  std::unique_ptr<FilesystemBlobStore> store_;
};

TEST_F(FilesystemBlobStoreTest, CommitMovesAndChecksums) {
  const std::string staged = Stage("hello dicom");
  EXPECT_TRUE(std::filesystem::equivalent(std::filesystem::path(staged).parent_path(), root_ + "/tmp"));
  auto info = store_->CommitStaged(staged, "ab/cd/one.dcm", true);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->key, "ab/cd/one.dcm");
  EXPECT_EQ(info->size_bytes, 11u);
  EXPECT_EQ(info->sha256, Sha256Hex("hello dicom"));
  EXPECT_FALSE(std::filesystem::exists(staged));
  EXPECT_EQ(*store_->Read("ab/cd/one.dcm"), "hello dicom");
  EXPECT_TRUE(store_->SyncPending());
  auto path = store_->PathOf("ab/cd/one.dcm");
  ASSERT_TRUE(path);
  EXPECT_TRUE(std::filesystem::equivalent(*path, root_ + "/ab/cd/one.dcm"));
  EXPECT_TRUE(store_->Remove("ab/cd/one.dcm"));
  auto gone = store_->Read("ab/cd/one.dcm");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Remove("ab/cd/one.dcm"));  // removing what is not there is not an error
}

TEST_F(FilesystemBlobStoreTest, ChecksumOfAFileLargerThanTheReadBuffer) {
  std::string bytes(3 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto info = store_->CommitStaged(Stage(bytes), "big/file.dcm", false);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size_bytes, bytes.size());
  EXPECT_EQ(info->sha256, Sha256Hex(bytes));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  EXPECT_EQ(*store_->Read("big/file.dcm"), bytes);
}

TEST_F(FilesystemBlobStoreTest, PutReplacesAtomically) {
  auto first = store_->Put("k/v", "first", true);
  ASSERT_TRUE(first) << first.error().message;
  auto second = store_->Put("k/v", "second version", false);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->sha256, Sha256Hex("second version"));
  EXPECT_EQ(*store_->Read("k/v"), "second version");
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));  // nothing left behind in staging
}

TEST_F(FilesystemBlobStoreTest, RejectsKeysOutsideTheStore) {
  const std::vector<std::string> invalid = {"../escape", "/etc/passwd", "", "a/../../b", "tmp/x", "a//b",
                                            "./a", "a/.", "a/..", "a/", std::string("a\0b", 3)};
  for (const std::string& key : invalid) {
    auto put = store_->Put(key, "x", false);
    ASSERT_FALSE(put) << key;
    EXPECT_EQ(put.error().code, ErrorCode::kInvalidInput) << key;
    EXPECT_FALSE(store_->CommitStaged(Stage("x"), key, false)) << key;
    EXPECT_FALSE(store_->PathOf(key)) << key;
    EXPECT_FALSE(store_->Remove(key)) << key;
  }
  EXPECT_FALSE(std::filesystem::exists(root_ + "/../escape"));
  for (std::string key : {"a..b/c.dcm", "1.2.840/3.4/5.6.dcm", "tmpfile", "x/tmp/y"}) {
    EXPECT_TRUE(store_->Put(key, "ok", false)) << key;
  }
}

TEST_F(FilesystemBlobStoreTest, CommitOfAMissingStagingFileFails) {
  auto info = store_->CommitStaged(store_->NewStagingPath(), "never/there", false);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::kStorage);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/never/there"));
}

TEST_F(FilesystemBlobStoreTest, ReopenRemovesStaleStagingFiles) {
  const std::string stale = Stage("half written");
  std::filesystem::create_directories(root_ + "/tmp/leftover-folder");
  std::ofstream(root_ + "/tmp/leftover-folder/x") << "x";
  ASSERT_TRUE(store_->Put("kept/blob", "committed", true));
  store_.reset();
  auto reopened = FilesystemBlobStore::Open(root_);
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));
  EXPECT_EQ(*(*reopened)->Read("kept/blob"), "committed");  // committed blobs survive
}

TEST_F(FilesystemBlobStoreTest, StagingPathsAreUniqueAcrossThreads) {
  std::vector<std::vector<std::string>> paths(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) paths[t].push_back(store_->NewStagingPath());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& list : paths) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), 4000u);
  auto other = FilesystemBlobStore::Open(root_ + "-other");
  ASSERT_TRUE(other);
  const std::string name = std::filesystem::path((*other)->NewStagingPath()).filename().string();
  const std::string mine = std::filesystem::path(store_->NewStagingPath()).filename().string();
  EXPECT_NE(name.substr(0, name.rfind('-')), mine.substr(0, mine.rfind('-')));  // random part differs per store
}

TEST_F(FilesystemBlobStoreTest, ConcurrentCommitsAndSyncs) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string bytes = "t" + std::to_string(t) + "i" + std::to_string(i);
        auto info = store_->CommitStaged(Stage(bytes), "c/" + std::to_string(i % 7) + "/" + bytes, t % 2 == 0);
        if (!info || info->sha256 != Sha256Hex(bytes)) ++failures;
        if (i % 10 == 0 && !store_->SyncPending()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(store_->SyncPending());
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 100; ++i) {
      std::string bytes = "t" + std::to_string(t) + "i" + std::to_string(i);
      auto read = store_->Read("c/" + std::to_string(i % 7) + "/" + bytes);
      ASSERT_TRUE(read) << bytes;
      EXPECT_EQ(*read, bytes);
    }
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));
}

}  // namespace
}  // namespace dx::storage
