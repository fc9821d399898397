#include "audit/audit_trail.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace dx::audit {
namespace {

std::string FreshPath(const std::string& name) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::remove(path.c_str());
  return path;
}

// Two writers on one file, as a server and `dxhub import` are: each append
// catches up with the other's entries, so the chain stays whole.
TEST(AuditTrail, TwoWritersOnOneFileKeepOneChain) {
  const auto path = FreshPath("audit-two-writers.log");
  auto first = FileAuditTrail::Open(path, false);
  auto second = FileAuditTrail::Open(path, false);
  ASSERT_TRUE(first && second);
  std::vector<std::thread> writers;
  for (auto* trail : {first->get(), second->get()}) {
    writers.emplace_back([trail] {
      for (int i = 0; i < 300; ++i) trail->Record({"W", "dicom.store", "success", {"study:1"}, ""});
    });
  }
  for (auto& writer : writers) writer.join();
  auto verified = FileAuditTrail::Verify(path);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(*verified, 600u);
}

TEST(AuditTrail, ChainsEntriesAcrossReopen) {
  const auto path = FreshPath("audit-chain.log");
  {
    auto trail = FileAuditTrail::Open(path, false);
    ASSERT_TRUE(trail) << trail.error().message;
    (*trail)->Record({"CT1", "dicom.store", "success", {"study:1.2.3"}, "127.0.0.1"});
    (*trail)->Record({"WS1", "dicom.find", "success matches=1", {"key:0010,0020=123"}, "127.0.0.1"});
  }
  {
    auto trail = FileAuditTrail::Open(path, false);
    ASSERT_TRUE(trail) << trail.error().message;
    (*trail)->Record({"WS1", "dicom.retrieve", "success instances=3", {"study:1.2.3"}, "127.0.0.1"});
  }
  auto verified = FileAuditTrail::Verify(path);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(*verified, 3u);
}

TEST(AuditTrail, DetectsEditedAndRemovedLines) {
  const auto path = FreshPath("audit-tamper.log");
  {
    auto trail = FileAuditTrail::Open(path, false);
    ASSERT_TRUE(trail);
    for (int i = 0; i < 3; ++i) (*trail)->Record({"CT1", "dicom.store", "success", {"study:1.2." + std::to_string(i)}, ""});
  }
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 3u);

  auto edited = lines;
  edited[1].replace(edited[1].find("study:1.2.1"), 11, "study:9.9.9");
  std::ofstream(path) << edited[0] << "\n" << edited[1] << "\n" << edited[2] << "\n";
  auto broken = FileAuditTrail::Verify(path);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("line 2"), std::string::npos);

  std::ofstream(path) << lines[0] << "\n" << lines[2] << "\n";
  EXPECT_FALSE(FileAuditTrail::Verify(path));
  EXPECT_FALSE(FileAuditTrail::Open(path, false));  // a broken trail stops start-up
}

// Write leaves the entries to the caller's own durable record until Sync; Kept
// then tells how many of them the file still holds, so that a caller can record
// again those a crash took.
TEST(AuditTrail, KeptTellsWhichWrittenEntriesTheFileStillHolds) {
  const auto path = FreshPath("audit-kept.log");
  auto trail = FileAuditTrail::Open(path, true);
  ASSERT_TRUE(trail);
  (*trail)->Record({"CT1", "dicom.store", "success", {"study:1"}, ""});
  const std::uint64_t before = std::filesystem::file_size(path);
  const Written written = (*trail)->Write({{"LAB", "hl7.receive", "success", {"message:a"}, ""},
                                           {"LAB", "hl7.receive", "success", {"message:b"}, ""},
                                           {"LAB", "hl7.receive", "success", {"message:c"}, ""}});
  (*trail)->Sync();
  EXPECT_EQ(written.offset, before);
  ASSERT_EQ(written.hashes.size(), 3u);
  EXPECT_EQ((*trail)->Kept(written), 3u);
  auto verified = FileAuditTrail::Verify(path);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(*verified, 4u);

  // The last two lines lost, as by a crash before the fdatasync.
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::ofstream(path) << lines[0] << "\n" << lines[1] << "\n";
  EXPECT_EQ((*trail)->Kept(written), 1u);
  // Another writer's entries in their place are not taken for them.
  std::ofstream(path) << lines[0] << "\n";
  auto other = FileAuditTrail::Open(path, false);
  ASSERT_TRUE(other);
  for (int i = 0; i < 3; ++i) (*other)->Record({"CT1", "dicom.store", "success", {"study:2"}, ""});
  EXPECT_EQ((*trail)->Kept(written), 0u);
}

}  // namespace
}  // namespace dx::audit
