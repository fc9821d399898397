#include "core/uid.hpp"

#include <set>

#include <gtest/gtest.h>

namespace dx {
namespace {

TEST(Uid, Validates) {
  EXPECT_TRUE(IsValidUid("1.2.840.10008.1.1"));
  EXPECT_TRUE(IsValidUid("2.25.0"));
  EXPECT_FALSE(IsValidUid(""));
  EXPECT_FALSE(IsValidUid("1..2"));
  EXPECT_FALSE(IsValidUid("1.2."));
  EXPECT_FALSE(IsValidUid("1.02.3"));
  EXPECT_FALSE(IsValidUid("1.2.a"));
  EXPECT_FALSE(IsValidUid(std::string(65, '1')));
}

TEST(Uid, GeneratesValidDistinctUids) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string uid = GenerateUid();
    EXPECT_TRUE(IsValidUid(uid)) << uid;
    EXPECT_EQ(uid.rfind("2.25.", 0), 0u);
    seen.insert(uid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace dx
