#include "dicomweb/qido.hpp"

#include <gtest/gtest.h>

namespace dx::dicomweb {
namespace {

namespace tags = dicom::tags;
using Params = std::multimap<std::string, std::string>;

TEST(Qido, KeywordsAndTagsBecomeMatchingKeys) {
  auto request = ParseQido(storage::QueryLevel::kStudy,
                           Params{{"PatientName", "SMI*"}, {"00080050", "ACC1"}, {"limit", "10"}, {"offset", "5"}}, {});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->identifier.Get(tags::kPatientName), "SMI*");
  EXPECT_EQ(request->identifier.Get(tags::kAccessionNumber), "ACC1");
  EXPECT_EQ(request->identifier.Get(tags::kQueryRetrieveLevel), "STUDY");
  EXPECT_EQ(request->limit, 10u);
  EXPECT_EQ(request->offset, 5u);
  // Default return keys of the level are present, empty.
  EXPECT_TRUE(request->identifier.Has(tags::kNumberOfStudyRelatedInstances));
  EXPECT_EQ(request->identifier.Get(tags::kModalitiesInStudy), "");
}

TEST(Qido, PathUidsAndIncludefield) {
  auto request = ParseQido(storage::QueryLevel::kSeries, Params{{"includefield", "PatientAge,00100021"}},
                           {{tags::kStudyInstanceUid, "1.2.3"}});
  ASSERT_TRUE(request);
  EXPECT_EQ(request->identifier.Get(tags::kStudyInstanceUid), "1.2.3");
  EXPECT_TRUE(request->identifier.Has(dicom::Tag{0x0010, 0x1010}));
  EXPECT_TRUE(request->identifier.Has(tags::kIssuerOfPatientId));
  EXPECT_EQ(request->identifier.Get(tags::kQueryRetrieveLevel), "SERIES");
}

TEST(Qido, BadParametersNameTheProblem) {
  struct Case {
    Params params;
    std::string expect;
  };
  for (const auto& c : std::vector<Case>{{{{"NoSuchAttribute", "1"}}, "NoSuchAttribute"},
                                         {{{"limit", "-1"}}, "limit"},
                                         {{{"limit", "abc"}}, "limit"},
                                         {{{"offset", "1e3"}}, "offset"},
                                         {{{"fuzzymatching", "yes"}}, "fuzzymatching"},
                                         {{{"includefield", "Bogus"}}, "Bogus"},
                                         {{{"ReferencedStudySequence", "x"}}, "sequence"}}) {
    auto request = ParseQido(storage::QueryLevel::kStudy, c.params, {});
    ASSERT_FALSE(request) << c.expect;
    EXPECT_EQ(request.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(request.error().message.find(c.expect), std::string::npos) << request.error().message;
  }
  auto contradiction =
      ParseQido(storage::QueryLevel::kSeries, Params{{"StudyInstanceUID", "9.9"}}, {{tags::kStudyInstanceUid, "1.2"}});
  EXPECT_FALSE(contradiction);
}

TEST(Qido, FuzzyMatchingIsFlaggedNotPerformed) {
  auto request = ParseQido(storage::QueryLevel::kStudy, Params{{"fuzzymatching", "true"}}, {});
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->fuzzy_requested);
}

}  // namespace
}  // namespace dx::dicomweb
