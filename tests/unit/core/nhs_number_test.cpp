#include "core/nhs_number.hpp"

#include <gtest/gtest.h>

namespace dx {
namespace {

TEST(NhsNumber, AcceptsValidNumbers) {
  EXPECT_TRUE(IsValidNhsNumber("9434765919"));
  EXPECT_TRUE(IsValidNhsNumber("943 476 5919"));
  EXPECT_TRUE(IsValidNhsNumber("943-476-5919"));
  EXPECT_EQ(NormalizeNhsNumber("943 476 5919").value(), "9434765919");
}

TEST(NhsNumber, RejectsWrongCheckDigit) {
  EXPECT_FALSE(IsValidNhsNumber("9434765918"));
  EXPECT_FALSE(IsValidNhsNumber("9434765910"));
}

TEST(NhsNumber, RejectsCheckDigitTen) {
  // 1000000060 has weighted sum 10*1 + 0 ... + 6*2 = 22 → 11 - 0 = 11 → 0; build a
  // number whose remainder is 1 (check 10 is invalid): weights 10..2 on 000000001 → sum 2 → 11-2=9.
  // 0000000100: sum 3*1 = 3 → 8. Search a prefix with remainder 1 by construction:
  // digits 100000001 → 10 + 2 = 12 → 12 % 11 = 1 → check would be 10.
  for (char last = '0'; last <= '9'; ++last) {
    EXPECT_FALSE(IsValidNhsNumber(std::string("100000001") + last));
  }
}

TEST(NhsNumber, RejectsWrongLengthAndCharacters) {
  EXPECT_FALSE(IsValidNhsNumber(""));
  EXPECT_FALSE(IsValidNhsNumber("943476591"));
  EXPECT_FALSE(IsValidNhsNumber("94347659190"));
  EXPECT_FALSE(IsValidNhsNumber("94347659I9"));
}

}  // namespace
}  // namespace dx
