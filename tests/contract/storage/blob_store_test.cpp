#include <filesystem>
#include <fstream>
#include <thread>

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
  auto info = store_->CommitStaged(staged, "ab/cd/one.dcm", true);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size_bytes, 11u);
  EXPECT_EQ(info->sha256, Sha256Hex("hello dicom"));
  EXPECT_FALSE(std::filesystem::exists(staged));
  EXPECT_EQ(*store_->Read("ab/cd/one.dcm"), "hello dicom");
  EXPECT_TRUE(store_->SyncPending());
  EXPECT_EQ(*store_->PathOf("ab/cd/one.dcm"), root_ + "/ab/cd/one.dcm");
  EXPECT_TRUE(store_->Remove("ab/cd/one.dcm"));
  EXPECT_FALSE(store_->Read("ab/cd/one.dcm"));
}

TEST_F(FilesystemBlobStoreTest, RejectsKeysOutsideTheStore) {
  for (std::string key : {"../escape", "/etc/passwd", "", "a/../../b", "tmp/x"}) {
    auto put = store_->Put(key, "x", false);
    ASSERT_FALSE(put) << key;
    EXPECT_EQ(put.error().code, ErrorCode::kInvalidInput);
  }
}

TEST_F(FilesystemBlobStoreTest, ReopenRemovesStaleStagingFiles) {
  const std::string stale = Stage("half written");
  store_.reset();
  auto reopened = FilesystemBlobStore::Open(root_);
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(std::filesystem::exists(stale));
}

TEST_F(FilesystemBlobStoreTest, ConcurrentCommits) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string bytes = "t" + std::to_string(t) + "i" + std::to_string(i);
        auto info = store_->CommitStaged(Stage(bytes), "c/" + bytes, t % 2 == 0);
        if (!info || info->sha256 != Sha256Hex(bytes)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(store_->SyncPending());
  EXPECT_EQ(*store_->Read("c/t3i49"), "t3i49");
}

}  // namespace
}  // namespace dx::storage
