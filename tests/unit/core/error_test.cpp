#include "core/error.hpp"

#include <gtest/gtest.h>

namespace dx {
namespace {

TEST(ErrorTable, MapsEachCodeToEveryProtocol) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidInput), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kTooLarge), 413);
  EXPECT_EQ(DimseStoreStatus(ErrorCode::kInvalidInput), 0xC000);
  EXPECT_EQ(DimseStoreStatus(ErrorCode::kRefused), 0x0124);
  EXPECT_EQ(Hl7AckCode(ErrorCode::kUnsupported), "AR");
  EXPECT_EQ(Hl7AckCode(ErrorCode::kInvalidInput), "AE");
}

TEST(ErrorTable, ResultCarriesError) {
  Result<int> failed = Fail(ErrorCode::kConflict, "duplicate");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kConflict);
  EXPECT_EQ(failed.error().message, "duplicate");
}

}  // namespace
}  // namespace dx
