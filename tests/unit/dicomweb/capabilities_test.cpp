#include "dicomweb/capabilities.hpp"

#include <gtest/gtest.h>

namespace dx::dicomweb {
namespace {

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Capabilities, TheRootDescribesEveryService) {
  const std::string wadl = CapabilitiesWadl("http://pacs.example/dicom-web", "");
  EXPECT_TRUE(Has(wadl, "<resources base=\"http://pacs.example/dicom-web\">"));
  for (const char* id : {"SearchForStudies", "StoreInstances", "RetrieveStudy", "RetrieveSeriesMetadata",
                         "RetrieveInstanceMetadata", "RetrieveFrames", "RetrieveRenderedFrames", "RetrieveBulkdata",
                         "RetrieveStudyThumbnail", "SearchForStudySeriesInstances", "SearchForInstances"}) {
    EXPECT_TRUE(Has(wadl, std::string("id=\"") + id + "\"")) << id;
  }
  EXPECT_TRUE(Has(wadl, "<param name=\"includefield\" style=\"query\""));
  EXPECT_TRUE(Has(wadl, "transfer-syntax=*"));
  EXPECT_TRUE(Has(wadl, "multipart/related; type=&quot;application/dicom&quot;"));  // attributes are escaped
}

TEST(Capabilities, AResourceDescribesItselfAndItsChildrenOnly) {
  const std::string wadl = CapabilitiesWadl("http://pacs.example/dicom-web", "studies/1.2.3/series");
  EXPECT_TRUE(Has(wadl, "<resource path=\"studies/1.2.3/series\">"));
  EXPECT_TRUE(Has(wadl, "id=\"SearchForStudySeries\""));
  EXPECT_TRUE(Has(wadl, "id=\"RetrieveFrames\""));
  EXPECT_FALSE(Has(wadl, "id=\"SearchForStudies\""));
  EXPECT_FALSE(Has(wadl, "id=\"RetrieveStudy\""));
  const std::string templated = CapabilitiesWadl("http://pacs.example/dicom-web", "studies/{study}");
  EXPECT_TRUE(Has(templated, "<param name=\"study\" style=\"template\""));
}

TEST(Capabilities, UnknownResourcesHaveNoDescription) {
  EXPECT_TRUE(CapabilitiesWadl("http://pacs.example/dicom-web", "patients").empty());
  EXPECT_TRUE(CapabilitiesWadl("http://pacs.example/dicom-web", "studies/1/nonsense").empty());
}

}  // namespace
}  // namespace dx::dicomweb
