#include "dicom/pixels.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimage/diregist.h>  // colour images in DicomImage
#include <dcmtk/dcmimage/dipipng.h>
#include <dcmtk/dcmjpeg/dipijpeg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

namespace dx::dicom {
namespace {

// DCMTK keeps its codecs in a process-wide registry: register the decoders once.
void RegisterPixelDecoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

struct LoadedImage {
  std::unique_ptr<DcmFileFormat> file;
  DcmDataset* dataset = nullptr;
  FrameInfo info;
};

Result<LoadedImage> LoadImage(const std::string& path) {
  RegisterPixelDecoders();
  LoadedImage loaded;
  loaded.file = std::make_unique<DcmFileFormat>();
  OFCondition status = loaded.file->loadFile(path.c_str());
  if (status.bad()) return Fail(ErrorCode::kStorage, fmt::format("cannot read stored object: {}", status.text()));
  loaded.dataset = loaded.file->getDataset();
  DcmDataset& ds = *loaded.dataset;
  Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
  if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, columns).bad() ||
      !ds.tagExists(DCM_PixelData)) {
    return Fail(ErrorCode::kInvalidInput, "the instance has no image pixel data");
  }
  ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
  ds.findAndGetUint16(DCM_BitsAllocated, bits);
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  loaded.info.frames = static_cast<int>(frames);
  loaded.info.rows = rows;
  loaded.info.columns = columns;
  loaded.info.samples_per_pixel = samples;
  loaded.info.bits_allocated = bits;
  loaded.info.transfer_syntax = DcmXfer(ds.getOriginalXfer()).getXferID();
  return loaded;
}

Result<void> CheckFrame(const FrameInfo& info, int number) {
  if (number < 1 || number > info.frames) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("frame {} does not exist: the instance has {} frame(s)", number, info.frames));
  }
  return {};
}

}  // namespace

Result<FrameInfo> ReadFrameInfo(const std::string& path) {
  auto loaded = LoadImage(path);
  if (!loaded) return tl::unexpected(loaded.error());
  return loaded->info;
}

Result<std::vector<std::string>> ReadFrames(const std::string& path, const std::vector<int>& numbers) {
  auto loaded = LoadImage(path);
  if (!loaded) return tl::unexpected(loaded.error());
  const FrameInfo& info = loaded->info;
  for (int number : numbers) {
    if (auto ok = CheckFrame(info, number); !ok) return tl::unexpected(ok.error());
  }
  DcmElement* element = nullptr;
  if (loaded->dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
    return Fail(ErrorCode::kInvalidInput, "the instance has no pixel data");
  }
  Uint32 frame_size = 0;
  if (element->getUncompressedFrameSize(loaded->dataset, frame_size).bad() || frame_size == 0) {
    return Fail(ErrorCode::kUnsupported, "cannot compute the frame size of this image");
  }
  std::vector<std::string> out;
  out.reserve(numbers.size());
  for (int number : numbers) {
    std::string frame(frame_size, '\0');
    Uint32 start_fragment = 0;
    OFString colour_model;
    OFCondition status = element->getUncompressedFrame(loaded->dataset, static_cast<Uint32>(number - 1), start_fragment,
                                                       frame.data(), frame_size, colour_model);
    if (status.bad()) {
      return Fail(ErrorCode::kUnsupported, fmt::format("cannot decode frame {} (transfer syntax {}): {}", number,
                                                       info.transfer_syntax, status.text()));
    }
    out.push_back(std::move(frame));
  }
  return out;
}

Result<std::string> RenderFrame(const std::string& path, const RenderOptions& options) {
  auto loaded = LoadImage(path);
  if (!loaded) return tl::unexpected(loaded.error());
  if (auto ok = CheckFrame(loaded->info, options.frame); !ok) return tl::unexpected(ok.error());
  DicomImage image(loaded->dataset, loaded->dataset->getOriginalXfer(), CIF_UsePartialAccessToPixelData,
                   static_cast<unsigned long>(options.frame - 1), 1);
  if (image.getStatus() != EIS_Normal) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("cannot render this image: {}", DicomImage::getString(image.getStatus())));
  }
  if (image.isMonochrome()) {
    if (options.window_center && options.window_width) {
      image.setWindow(*options.window_center, *options.window_width);
    } else if (image.getWindowCount() > 0) {
      image.setWindow(0);
    } else {
      image.setMinMaxWindow();
    }
  }
  DicomImage* target = &image;
  std::unique_ptr<DicomImage> scaled;
  if (options.viewport_columns > 0 && options.viewport_rows > 0) {
    const double sx = static_cast<double>(options.viewport_columns) / image.getWidth();
    const double sy = static_cast<double>(options.viewport_rows) / image.getHeight();
    const double scale = std::min(sx, sy);
    const auto width = std::max<unsigned long>(1, static_cast<unsigned long>(image.getWidth() * scale + 0.5));
    const auto height = std::max<unsigned long>(1, static_cast<unsigned long>(image.getHeight() * scale + 0.5));
    scaled.reset(image.createScaledImage(width, height, 1 /* bilinear */, 0));
    if (!scaled || scaled->getStatus() != EIS_Normal) return Fail(ErrorCode::kInternal, "scaling the image failed");
    target = scaled.get();
  }
  char* buffer = nullptr;
  std::size_t size = 0;
  FILE* memory = open_memstream(&buffer, &size);
  if (memory == nullptr) return Fail(ErrorCode::kInternal, "cannot open an in-memory stream");
  int written = 0;
  if (options.format == ImageFormat::kPng) {
    DiPNGPlugin png;
    png.setInterlaceType(E_pngInterlaceNone);
    written = target->writePluginFormat(&png, memory, 0);
  } else {
    DiJPEGPlugin jpeg;
    jpeg.setQuality(static_cast<unsigned int>(std::clamp(options.quality, 1, 100)));
    written = target->writePluginFormat(&jpeg, memory, 0);
  }
  std::fclose(memory);
  std::string out(buffer == nullptr ? "" : std::string(buffer, size));
  std::free(buffer);
  if (!written || out.empty()) return Fail(ErrorCode::kInternal, "encoding the rendered image failed");
  return out;
}

Result<std::string> ReadBulkData(const std::string& path, unsigned group, unsigned element_number) {
  RegisterPixelDecoders();
  DcmFileFormat file;
  OFCondition status = file.loadFile(path.c_str());
  if (status.bad()) return Fail(ErrorCode::kStorage, fmt::format("cannot read stored object: {}", status.text()));
  DcmDataset& ds = *file.getDataset();
  const DcmTagKey tag(static_cast<Uint16>(group), static_cast<Uint16>(element_number));
  if (tag == DCM_PixelData) {
    status = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (status.bad()) {
      return Fail(ErrorCode::kUnsupported, fmt::format("cannot decode the pixel data: {}", status.text()));
    }
  }
  DcmElement* element = nullptr;
  if (ds.findAndGetElement(tag, element, OFTrue /* search nested items */).bad() || element == nullptr) {
    return Fail(ErrorCode::kNotFound, fmt::format("the instance has no element ({:04X},{:04X})", group, element_number));
  }
  Uint8* bytes = nullptr;
  if (element->getUint8Array(bytes).bad() || (bytes == nullptr && element->getLength() > 0)) {
    return Fail(ErrorCode::kUnsupported, fmt::format("({:04X},{:04X}) is not a binary value", group, element_number));
  }
  return std::string(reinterpret_cast<const char*>(bytes), element->getLength());
}

bool CanTranscodeToExplicitLittleEndian(const std::string& syntax) {
  static const std::set<std::string> kDecodable = {
      "1.2.840.10008.1.2",      "1.2.840.10008.1.2.1",    "1.2.840.10008.1.2.2",    "1.2.840.10008.1.2.1.99",
      "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
      "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.5"};
  return kDecodable.count(syntax) > 0;
}

Result<std::string> TranscodeToExplicitLittleEndian(const std::string& path, const std::string& scratch_path) {
  RegisterPixelDecoders();
  DcmFileFormat file;
  OFCondition status = file.loadFile(path.c_str());
  if (status.bad()) return Fail(ErrorCode::kStorage, fmt::format("cannot read stored object: {}", status.text()));
  const std::string stored = DcmXfer(file.getDataset()->getOriginalXfer()).getXferID();
  if (!CanTranscodeToExplicitLittleEndian(stored)) {
    return Fail(ErrorCode::kUnsupported, fmt::format("objects in transfer syntax {} cannot be decoded here", stored));
  }
  status = file.getDataset()->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (status.bad() || !file.getDataset()->canWriteXfer(EXS_LittleEndianExplicit)) {
    return Fail(ErrorCode::kUnsupported, fmt::format("cannot decode this object from {}: {}", stored, status.text()));
  }
  const std::string& temporary = scratch_path;
  status = file.saveFile(temporary.c_str(), EXS_LittleEndianExplicit);
  if (status.bad()) {
    std::remove(temporary.c_str());
    return Fail(ErrorCode::kStorage, fmt::format("cannot write the transcoded object: {}", status.text()));
  }
  std::ifstream in(temporary, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::remove(temporary.c_str());
  return bytes.str();
}

}  // namespace dx::dicom
