#include "dicom/file_reader.hpp"

#include <set>
#include <sstream>
#include <sys/stat.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <fmt/format.h>

#include "dicom/association_io.hpp"

namespace dx::dicom {
namespace {

// Values of binary VRs longer than this become BulkDataURIs (PS3.18 F.2.6).
constexpr Uint32 kBulkThreshold = 1024;
// Values longer than this are left in the file while parsing.
constexpr Uint32 kMaxReadLength = 4096;

bool IsBinaryVr(DcmEVR vr) {
  switch (vr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV:
    case EVR_UN: case EVR_ox: case EVR_px: case EVR_pixelSQ:
      return true;
    default:
      return false;
  }
}

void CollectBulkTags(DcmItem& item, std::set<DcmTagKey>& bulk) {
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* element = item.getElement(i);
    const DcmEVR vr = element->ident();
    if (vr == EVR_SQ) {
      auto* sequence = static_cast<DcmSequenceOfItems*>(element);
      for (unsigned long j = 0; j < sequence->card(); ++j) CollectBulkTags(*sequence->getItem(j), bulk);
    } else if (element->getTag() == DCM_PixelData ||
               (IsBinaryVr(vr) && element->getLengthField() > kBulkThreshold)) {
      bulk.insert(element->getTag());
    }
  }
}

class BulkJsonFormat : public DcmJsonFormatCompact {
 public:
  BulkJsonFormat(std::string prefix, std::set<DcmTagKey> bulk)
      : DcmJsonFormatCompact(OFFalse), prefix_(std::move(prefix)), bulk_(std::move(bulk)) {}

  OFBool asBulkDataURI(const DcmTagKey& tag, OFString& uri) override {
    if (bulk_.count(tag) == 0) return OFFalse;
    uri = fmt::format("{}{:04X}{:04X}", prefix_, tag.getGroup(), tag.getElement()).c_str();
    return OFTrue;
  }

 private:
  std::string prefix_;
  std::set<DcmTagKey> bulk_;
};

std::string ValueString(DcmElement& element) {
  OFString value;
  if (element.getOFStringArray(value).bad()) return {};
  return std::string(value.c_str(), value.length());
}

}  // namespace

Result<ParsedFile> ReadDicomFile(const std::string& path) {
  detail::InitializeToolkit();
  DcmFileFormat file;
  OFCondition status = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kMaxReadLength, ERM_fileOnly);
  if (status.bad()) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("not a readable DICOM file: {}", status.text()));
  }
  DcmDataset* dataset = file.getDataset();
  // A value whose length runs past the end of the file is not reported by a
  // deferred (not loaded) read, so check the encoded length against the file size.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Fail(ErrorCode::kStorage, "cannot stat staged file");
  const E_TransferSyntax xfer = dataset->getOriginalXfer();
  // The meta information's element length includes the preamble and "DICM".
  const Uint32 meta_length = file.getMetaInfo()->calcElementLength(EXS_LittleEndianExplicit, EET_ExplicitLength);
  // Explicit lengths give the smallest encoding, so a complete file is never shorter.
  // A deflated data set is inflated whole while parsing, so it needs no such check.
  const Uint32 data_length = dataset->getLength(xfer, EET_ExplicitLength);
  if (xfer != EXS_DeflatedLittleEndianExplicit &&
      static_cast<std::uint64_t>(meta_length) + data_length > static_cast<std::uint64_t>(info.st_size)) {
    return Fail(ErrorCode::kInvalidInput, "DICOM data set is truncated (values run past the end of the data)");
  }

  ParsedFile parsed;
  DcmXfer xfer_info(xfer);
  parsed.transfer_syntax_uid = xfer_info.getXferID();
  OFString meta_ts;
  if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, meta_ts).good() && !meta_ts.empty()) {
    parsed.transfer_syntax_uid = meta_ts.c_str();
  }
  for (unsigned long i = 0; i < dataset->card(); ++i) {
    DcmElement* element = dataset->getElement(i);
    const DcmTagKey key = element->getTag();
    if (key == DCM_PixelData) continue;
    Tag tag{key.getGroup(), key.getElement()};
    const DcmEVR vr = element->ident();
    std::string value;
    if (vr != EVR_SQ && !IsBinaryVr(vr) && element->getLengthField() <= kMaxReadLength) value = ValueString(*element);
    parsed.attributes.Set(tag, DcmVR(vr).getVRName(), std::move(value));
  }

  const std::string study = parsed.attributes.Get(tags::kStudyInstanceUid);
  const std::string series = parsed.attributes.Get(tags::kSeriesInstanceUid);
  const std::string sop = parsed.attributes.Get(tags::kSopInstanceUid);
  std::set<DcmTagKey> bulk;
  CollectBulkTags(*dataset, bulk);
  BulkJsonFormat format(fmt::format("studies/{}/series/{}/instances/{}/bulk/", study, series, sop), std::move(bulk));
  std::ostringstream json;
  json << '{';
  status = dataset->writeJson(json, format);
  json << '}';
  if (status.bad()) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("cannot encode data set as DICOM JSON: {}", status.text()));
  }
  parsed.dicom_json = json.str();
  return parsed;
}

}  // namespace dx::dicom
