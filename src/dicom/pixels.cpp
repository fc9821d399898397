#include "dicom/pixels.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <turbojpeg.h>

#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcofsetl.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimage/diregist.h>  // colour images in DicomImage
#include <dcmtk/dcmimage/dipipng.h>

#include "dicom/association_io.hpp"

namespace dx::dicom {
namespace {

constexpr char kPixelExplicitLittleEndian[] = "1.2.840.10008.1.2.1";
// Pieces handed to a ByteSink while writing a transcoded object.
constexpr std::size_t kPixelSinkChunk = std::size_t{1} << 18;

struct PixelFile {
  std::unique_ptr<DcmFileFormat> file;
  DcmDataset* dataset = nullptr;
  E_TransferSyntax xfer = EXS_Unknown;
  std::string syntax;
};

// Loads the data set; values over 4 KiB (pixel data, fragments) stay in the file
// until read, so opening a large object costs only its header.
Result<PixelFile> PixelOpen(const std::string& path) {
  detail::InitializeToolkit();  // codecs (JPEG, JPEG-LS, RLE) are registered there, once
  PixelFile opened;
  opened.file = std::make_unique<DcmFileFormat>();
  OFCondition status = opened.file->loadFile(path.c_str());
  if (status.bad()) return Fail(ErrorCode::kStorage, fmt::format("cannot read stored object: {}", status.text()));
  opened.dataset = opened.file->getDataset();
  opened.xfer = opened.dataset->getOriginalXfer();
  opened.syntax = DcmXfer(opened.xfer).getXferID();
  return opened;
}

Result<FrameInfo> PixelGeometry(DcmDataset& ds, const std::string& syntax) {
  Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
  if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, columns).bad() ||
      !ds.tagExists(DCM_PixelData)) {
    return Fail(ErrorCode::kInvalidInput, "the instance has no image pixel data");
  }
  ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
  ds.findAndGetUint16(DCM_BitsAllocated, bits);
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  FrameInfo info;
  info.frames = static_cast<int>(frames);
  info.rows = rows;
  info.columns = columns;
  info.samples_per_pixel = samples;
  info.bits_allocated = bits;
  info.transfer_syntax = syntax;
  return info;
}

Result<void> PixelCheckFrame(const FrameInfo& info, int number) {
  if (number < 1 || number > info.frames) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("frame {} does not exist: the instance has {} frame(s)", number, info.frames));
  }
  return {};
}

std::uint64_t PixelLittleEndian(const unsigned char* bytes, int size) {
  std::uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Maps byte offsets (relative to the first fragment's item tag, PS3.5 A.4) to the
// index of the item starting there; kUnsupported when an offset falls inside an item.
Result<std::vector<unsigned long>> PixelItemsAtOffsets(const std::vector<std::uint64_t>& item_offsets,
                                                       const std::vector<std::uint64_t>& offsets) {
  std::vector<unsigned long> items;
  items.reserve(offsets.size());
  for (std::uint64_t offset : offsets) {
    auto at = std::lower_bound(item_offsets.begin(), item_offsets.end(), offset);
    if (at == item_offsets.end() || *at != offset) {
      return Fail(ErrorCode::kUnsupported, "the pixel data's offset table does not match its fragments");
    }
    items.push_back(static_cast<unsigned long>(at - item_offsets.begin()) + 1);  // item 0 is the offset table
  }
  return items;
}

// For each frame, the range [first, end) of pixel-sequence items (item 0 being the
// Basic Offset Table) that hold its bitstream. Uses, in turn: one frame owns every
// fragment; the Extended Offset Table; the Basic Offset Table; one fragment per frame;
// otherwise the fragments that open with a JPEG SOI or JPEG 2000 SOC marker.
Result<std::vector<std::pair<unsigned long, unsigned long>>> PixelFrameFragments(DcmDataset& ds,
                                                                                 DcmPixelSequence& sequence,
                                                                                 int frames, DcmFileCache& cache) {
  const unsigned long items = sequence.card();
  if (items < 2) return Fail(ErrorCode::kInvalidInput, "the encapsulated pixel data has no fragments");
  const unsigned long fragments = items - 1;
  std::vector<std::pair<unsigned long, unsigned long>> ranges;
  if (frames == 1) {
    ranges.emplace_back(1, items);
    return ranges;
  }
  std::vector<std::uint64_t> item_offsets(fragments);
  std::uint64_t position = 0;
  for (unsigned long i = 1; i < items; ++i) {
    DcmPixelItem* item = nullptr;
    if (sequence.getItem(item, i).bad() || item == nullptr) return Fail(ErrorCode::kStorage, "unreadable fragment");
    item_offsets[i - 1] = position;
    position += 8 + item->getLength();
  }
  auto ranges_from_starts = [&](const std::vector<unsigned long>& starts) {
    for (std::size_t f = 0; f < starts.size(); ++f) {
      ranges.emplace_back(starts[f], f + 1 < starts.size() ? starts[f + 1] : items);
    }
  };
  std::vector<std::uint64_t> offsets;
  DcmElement* extended = nullptr;
  if (ds.findAndGetElement(DCM_ExtendedOffsetTable, extended).good() && extended != nullptr &&
      extended->getLength() == 8u * static_cast<Uint32>(frames)) {
    std::vector<unsigned char> table(extended->getLength());
    if (extended->getPartialValue(table.data(), 0, extended->getLength(), &cache, EBO_LittleEndian).good()) {
      for (int f = 0; f < frames; ++f) offsets.push_back(PixelLittleEndian(&table[8 * f], 8));
    }
  }
  DcmPixelItem* basic = nullptr;
  if (offsets.empty() && sequence.getItem(basic, 0).good() && basic != nullptr &&
      basic->getLength() == 4u * static_cast<Uint32>(frames)) {
    std::vector<unsigned char> table(basic->getLength());
    if (basic->getPartialValue(table.data(), 0, basic->getLength(), &cache).good()) {
      for (int f = 0; f < frames; ++f) offsets.push_back(PixelLittleEndian(&table[4 * f], 4));
    }
  }
  if (!offsets.empty()) {
    auto starts = PixelItemsAtOffsets(item_offsets, offsets);
    if (!starts) return tl::unexpected(starts.error());
    ranges_from_starts(*starts);
    return ranges;
  }
  if (fragments == static_cast<unsigned long>(frames)) {
    for (unsigned long i = 1; i < items; ++i) ranges.emplace_back(i, i + 1);
    return ranges;
  }
  std::vector<unsigned long> starts;
  for (unsigned long i = 1; i < items; ++i) {
    DcmPixelItem* item = nullptr;
    unsigned char head[2] = {0, 0};
    if (sequence.getItem(item, i).good() && item->getLength() >= 2 &&
        item->getPartialValue(head, 0, 2, &cache).good() && head[0] == 0xFF && (head[1] == 0xD8 || head[1] == 0x4F)) {
      starts.push_back(i);
    }
  }
  if (starts.size() != static_cast<std::size_t>(frames) || starts.front() != 1) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("cannot tell which of the {} fragments belong to which of the {} frames "
                            "(no offset table)",
                            fragments, frames));
  }
  ranges_from_starts(starts);
  return ranges;
}

Result<DcmPixelData*> PixelDataElement(DcmDataset& ds) {
  DcmElement* element = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, element).bad() || element == nullptr || element->ident() != EVR_PixelData) {
    return Fail(ErrorCode::kInvalidInput, "the instance has no pixel data");
  }
  return static_cast<DcmPixelData*>(element);
}

// Gives a multi-frame encapsulated object without a usable Basic Offset Table one, in
// memory, so that DicomImage can find a single frame (it cannot otherwise when frames
// span several fragments). Leaves the object as it was when the frames cannot be told apart.
void PixelFillOffsetTable(PixelFile& opened, const FrameInfo& info) {
  if (info.frames < 2 || !DcmXfer(opened.xfer).isEncapsulated()) return;
  DcmElement* element = nullptr;
  DcmPixelSequence* sequence = nullptr;
  DcmPixelItem* basic = nullptr;
  if (opened.dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr ||
      element->ident() != EVR_PixelData ||
      static_cast<DcmPixelData*>(element)->getEncapsulatedRepresentation(opened.xfer, nullptr, sequence).bad() ||
      sequence == nullptr || sequence->getItem(basic, 0).bad() || basic == nullptr || basic->getLength() != 0 ||
      sequence->card() <= static_cast<unsigned long>(info.frames) + 1) {
    return;  // an offset table already, or one fragment per frame: DCMTK copes
  }
  DcmFileCache cache;
  auto ranges = PixelFrameFragments(*opened.dataset, *sequence, info.frames, cache);
  if (!ranges) return;
  DcmOffsetList sizes;
  for (const auto& [first, end] : *ranges) {
    Uint32 size = 0;
    for (unsigned long i = first; i < end; ++i) {
      DcmPixelItem* item = nullptr;
      if (sequence->getItem(item, i).bad() || item == nullptr) return;
      size += 8 + item->getLength();
    }
    sizes.push_back(size);
  }
  basic->createOffsetTable(sizes);
}

// The stored bitstreams of encapsulated frames, fragments joined, read straight from the file.
Result<std::vector<std::string>> PixelStoredFrames(PixelFile& opened, const FrameInfo& info,
                                                   const std::vector<int>& numbers) {
  auto pixel = PixelDataElement(*opened.dataset);
  if (!pixel) return tl::unexpected(pixel.error());
  DcmPixelSequence* sequence = nullptr;
  if ((*pixel)->getEncapsulatedRepresentation(opened.xfer, nullptr, sequence).bad() || sequence == nullptr) {
    return Fail(ErrorCode::kInvalidInput, "the pixel data is not encapsulated");
  }
  DcmFileCache cache;
  auto ranges = PixelFrameFragments(*opened.dataset, *sequence, info.frames, cache);
  if (!ranges) return tl::unexpected(ranges.error());
  std::vector<std::string> out;
  out.reserve(numbers.size());
  for (int number : numbers) {
    const auto [first, end] = (*ranges)[static_cast<std::size_t>(number - 1)];
    std::vector<DcmPixelItem*> fragments;
    std::size_t size = 0;
    for (unsigned long i = first; i < end; ++i) {
      DcmPixelItem* item = nullptr;
      if (sequence->getItem(item, i).bad() || item == nullptr) return Fail(ErrorCode::kStorage, "unreadable fragment");
      fragments.push_back(item);
      size += item->getLength();
    }
    std::string frame(size, '\0');
    std::size_t at = 0;
    for (DcmPixelItem* item : fragments) {
      const Uint32 length = item->getLength();
      if (length > 0 && item->getPartialValue(frame.data() + at, 0, length, &cache).bad()) {
        return Fail(ErrorCode::kStorage, fmt::format("cannot read the fragments of frame {}", number));
      }
      at += length;
    }
    out.push_back(std::move(frame));
  }
  return out;
}

// Frames decoded to native little-endian bytes, one at a time.
Result<std::vector<std::string>> PixelDecodedFrames(PixelFile& opened, const FrameInfo& info,
                                                    const std::vector<int>& numbers) {
  auto pixel = PixelDataElement(*opened.dataset);
  if (!pixel) return tl::unexpected(pixel.error());
  DcmPixelData& element = **pixel;
  Uint32 frame_size = 0;
  if (element.getUncompressedFrameSize(opened.dataset, frame_size).bad() || frame_size == 0) {
    return Fail(ErrorCode::kUnsupported, "cannot compute the frame size of this image");
  }
  const bool encapsulated = DcmXfer(opened.xfer).isEncapsulated();
  if (encapsulated && !CanTranscodeToExplicitLittleEndian(opened.syntax)) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("frames stored in transfer syntax {} cannot be decoded here", opened.syntax));
  }
  // With random access to a multi-fragment object the codec needs to be told where
  // each frame starts; the offset tables (or markers) say.
  std::vector<std::pair<unsigned long, unsigned long>> ranges;
  DcmFileCache cache;
  if (encapsulated && info.frames > 1) {
    DcmPixelSequence* sequence = nullptr;
    if (element.getEncapsulatedRepresentation(opened.xfer, nullptr, sequence).good() && sequence != nullptr) {
      if (auto found = PixelFrameFragments(*opened.dataset, *sequence, info.frames, cache)) ranges = std::move(*found);
    }
  }
  std::vector<std::string> out;
  out.reserve(numbers.size());
  for (int number : numbers) {
    // DCMTK wants room for the pad byte of an odd-length frame.
    std::string frame(frame_size + (frame_size & 1), '\0');
    Uint32 start_fragment = ranges.empty() ? 0 : static_cast<Uint32>(ranges[static_cast<std::size_t>(number - 1)].first);
    OFString colour_model;
    OFCondition status = element.getUncompressedFrame(opened.dataset, static_cast<Uint32>(number - 1), start_fragment,
                                                      frame.data(), static_cast<Uint32>(frame.size()), colour_model,
                                                      &cache);
    if (status.bad()) {
      return Fail(ErrorCode::kUnsupported, fmt::format("cannot decode frame {} (transfer syntax {}): {}", number,
                                                       opened.syntax, status.text()));
    }
    frame.resize(frame_size);
    out.push_back(std::move(frame));
  }
  return out;
}

bool PixelIsBinaryVr(DcmEVR vr) {
  switch (vr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV:
    case EVR_UN: case EVR_UNKNOWN: case EVR_UNKNOWN2B: case EVR_ox: case EVR_px: case EVR_pixelSQ:
    case EVR_PixelData:
      return true;
    default:
      return false;
  }
}

// A DCMTK output consumer that hands bytes to a ByteSink in large pieces.
class PixelSinkConsumer : public DcmConsumer {
 public:
  explicit PixelSinkConsumer(const ByteSink& sink) : sink_(sink) { buffer_.reserve(kPixelSinkChunk); }

  OFBool good() const override { return ok_; }
  OFCondition status() const override { return ok_ ? EC_Normal : EC_InvalidStream; }
  OFBool isFlushed() const override { return buffer_.empty(); }
  offile_off_t avail() const override { return ok_ ? static_cast<offile_off_t>(1) << 30 : 0; }

  offile_off_t write(const void* buf, offile_off_t buflen) override {
    if (!ok_) return 0;
    buffer_.append(static_cast<const char*>(buf), static_cast<std::size_t>(buflen));
    if (buffer_.size() >= kPixelSinkChunk) flush();
    return buflen;
  }

  void flush() override {
    if (ok_ && !buffer_.empty()) ok_ = sink_(buffer_);
    buffer_.clear();
  }

 private:
  const ByteSink& sink_;
  std::string buffer_;
  bool ok_ = true;
};

class PixelSinkStream : public DcmOutputStream {
 public:
  explicit PixelSinkStream(PixelSinkConsumer* consumer) : DcmOutputStream(consumer) {}
};


// The rendered image's 8-bit output as a baseline JPEG, encoded by libjpeg-turbo
// (SIMD; several times faster than the IJG 6b code inside DCMTK). Grey images
// stay one-component; colour is written without chroma subsampling.
Result<std::string> EncodeJpeg(DicomImage& image, int quality) {
  const bool grey = image.isMonochrome();
  const void* pixels = image.getOutputData(8, 0, 0);
  if (pixels == nullptr) return Fail(ErrorCode::kInternal, "rendering the image to 8 bits failed");
  const int width = static_cast<int>(image.getWidth()), height = static_cast<int>(image.getHeight());
  std::unique_ptr<void, int (*)(tjhandle)> encoder(tjInitCompress(), tjDestroy);
  if (!encoder) return Fail(ErrorCode::kInternal, "cannot start the JPEG encoder");
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int failed = tjCompress2(encoder.get(), static_cast<const unsigned char*>(pixels), width, 0, height,
                                 grey ? TJPF_GRAY : TJPF_RGB, &jpeg, &size, grey ? TJSAMP_GRAY : TJSAMP_444, quality,
                                 TJFLAG_ACCURATEDCT);
  std::string out = failed || jpeg == nullptr ? "" : std::string(reinterpret_cast<const char*>(jpeg), size);
  tjFree(jpeg);
  image.deleteOutputData();
  if (out.empty()) return Fail(ErrorCode::kInternal, fmt::format("encoding the rendered image failed: {}",
                                                                 tjGetErrorStr2(encoder.get())));
  return out;
}

}  // namespace

bool IsEncapsulatedSyntax(const std::string& syntax) {
  return DcmXfer(syntax.c_str()).isEncapsulated();
}

bool CanTranscodeToExplicitLittleEndian(const std::string& syntax) {
  static const std::set<std::string> kDecodable = {
      "1.2.840.10008.1.2",      "1.2.840.10008.1.2.1",    "1.2.840.10008.1.2.2",    "1.2.840.10008.1.2.1.99",
      "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
      "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.5"};
  return kDecodable.count(syntax) > 0;
}

Result<FrameInfo> ReadFrameInfo(const std::string& path) {
  auto opened = PixelOpen(path);
  if (!opened) return tl::unexpected(opened.error());
  return PixelGeometry(*opened->dataset, opened->syntax);
}

Result<FrameSet> ReadFrames(const std::string& path, const std::vector<int>& numbers, FrameEncoding encoding) {
  auto opened = PixelOpen(path);
  if (!opened) return tl::unexpected(opened.error());
  auto info = PixelGeometry(*opened->dataset, opened->syntax);
  if (!info) return tl::unexpected(info.error());
  std::vector<int> wanted = numbers;
  if (wanted.empty()) {
    for (int f = 1; f <= info->frames; ++f) wanted.push_back(f);
  }
  for (int number : wanted) {
    if (auto ok = PixelCheckFrame(*info, number); !ok) return tl::unexpected(ok.error());
  }
  FrameSet set;
  const bool stored = encoding == FrameEncoding::kAsStored && DcmXfer(opened->xfer).isEncapsulated();
  auto frames = stored ? PixelStoredFrames(*opened, *info, wanted) : PixelDecodedFrames(*opened, *info, wanted);
  if (!frames) return tl::unexpected(frames.error());
  set.transfer_syntax = stored ? opened->syntax : kPixelExplicitLittleEndian;
  set.frames = std::move(*frames);
  return set;
}

Result<std::string> ReadBulkData(const std::string& path, unsigned group, unsigned element_number) {
  const DcmTagKey tag(static_cast<Uint16>(group), static_cast<Uint16>(element_number));
  if (tag == DCM_PixelData) {
    auto frames = ReadFrames(path, {}, FrameEncoding::kUncompressed);
    if (!frames) return tl::unexpected(frames.error());
    if (frames->frames.size() == 1) return std::move(frames->frames.front());
    std::size_t size = 0;
    for (const auto& frame : frames->frames) size += frame.size();
    std::string all;
    all.reserve(size);
    for (const auto& frame : frames->frames) all += frame;
    return all;
  }
  auto opened = PixelOpen(path);
  if (!opened) return tl::unexpected(opened.error());
  DcmElement* element = nullptr;
  if (opened->dataset->findAndGetElement(tag, element, OFTrue /* nested items too */).bad() || element == nullptr ||
      !PixelIsBinaryVr(element->ident())) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("the instance has no binary element ({:04X},{:04X})", group, element_number));
  }
  const Uint32 length = element->getLength();
  std::string bytes(length, '\0');
  DcmFileCache cache;
  if (length > 0 && element->getPartialValue(bytes.data(), 0, length, &cache, EBO_LittleEndian).bad()) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot read ({:04X},{:04X})", group, element_number));
  }
  return bytes;
}

Result<void> WriteExplicitLittleEndian(const std::string& path, const ByteSink& sink) {
  auto opened = PixelOpen(path);
  if (!opened) return tl::unexpected(opened.error());
  if (!CanTranscodeToExplicitLittleEndian(opened->syntax)) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("objects in transfer syntax {} cannot be decoded here", opened->syntax));
  }
  DcmDataset& ds = *opened->dataset;
  OFCondition status = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (status.bad() || !ds.canWriteXfer(EXS_LittleEndianExplicit)) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("cannot decode this object from {}: {}", opened->syntax, status.text()));
  }
  PixelSinkConsumer consumer(sink);
  PixelSinkStream stream(&consumer);
  DcmWriteCache cache;
  opened->file->transferInit();
  status = opened->file->write(stream, EXS_LittleEndianExplicit, EET_UndefinedLength, &cache, EGL_recalcGL,
                               EPD_noChange, 0, 0, 0, EWM_updateMeta);
  opened->file->transferEnd();
  stream.flush();
  consumer.flush();
  if (status.bad() || !consumer.good()) {
    return Fail(ErrorCode::kUnavailable, fmt::format("writing the transcoded object stopped: {}",
                                                     consumer.good() ? status.text() : "the receiver has gone"));
  }
  return {};
}

Result<std::string> TranscodeToExplicitLittleEndian(const std::string& path, const std::string& /*scratch_path*/) {
  std::string bytes;
  auto written = WriteExplicitLittleEndian(path, [&bytes](std::string_view piece) {
    bytes.append(piece);
    return true;
  });
  if (!written) return tl::unexpected(written.error());
  return bytes;
}

Result<std::string> RenderFrame(const std::string& path, const RenderOptions& options) {
  auto opened = PixelOpen(path);
  if (!opened) return tl::unexpected(opened.error());
  auto info = PixelGeometry(*opened->dataset, opened->syntax);
  if (!info) return tl::unexpected(info.error());
  if (auto ok = PixelCheckFrame(*info, options.frame); !ok) return tl::unexpected(ok.error());
  if (DcmXfer(opened->xfer).isEncapsulated() && !CanTranscodeToExplicitLittleEndian(opened->syntax)) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("images stored in transfer syntax {} cannot be decoded here", opened->syntax));
  }
  PixelFillOffsetTable(*opened, *info);
  // Partial access: only the asked frame is read and decoded.
  DicomImage image(opened->dataset, opened->xfer, CIF_UsePartialAccessToPixelData,
                   static_cast<unsigned long>(options.frame - 1), 1);
  if (image.getStatus() != EIS_Normal) {
    return Fail(ErrorCode::kUnsupported,
                fmt::format("cannot render this image: {}", DicomImage::getString(image.getStatus())));
  }
  if (image.isMonochrome()) {
    if (options.window_center && options.window_width) {
      double center = *options.window_center, width = *options.window_width;
      if (options.window_function == WindowFunction::kSigmoid) {
        image.setVoiLutFunction(EFV_Sigmoid);
      } else {
        image.setVoiLutFunction(EFV_Linear);
        // LINEAR_EXACT (c, w) is LINEAR (c + ½, w + 1): PS3.3 C.11.2.1.2.1 and C.11.2.1.3.2.
        if (options.window_function == WindowFunction::kLinearExact) {
          center += 0.5;
          width += 1;
        }
      }
      image.setWindow(center, width);
    } else if (image.getWindowCount() > 0) {
      image.setWindow(0);
    } else {
      image.setMinMaxWindow();
    }
  }
  const long image_columns = static_cast<long>(image.getWidth()), image_rows = static_cast<long>(image.getHeight());
  long left = 0, top = 0, columns = image_columns, rows = image_rows;
  const bool flip_horizontal = options.region_columns < 0, flip_vertical = options.region_rows < 0;
  if (options.region_columns != 0 && options.region_rows != 0) {
    columns = std::labs(options.region_columns);
    rows = std::labs(options.region_rows);
    left = flip_horizontal ? options.region_left - columns : options.region_left;
    top = flip_vertical ? options.region_top - rows : options.region_top;
    if (left < 0 || top < 0 || left + columns > image_columns || top + rows > image_rows) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("the region {}x{} at ({},{}) is not inside the {}x{} image", columns, rows, left, top,
                              image_columns, image_rows));
    }
  }
  unsigned long out_columns = static_cast<unsigned long>(columns), out_rows = static_cast<unsigned long>(rows);
  if (options.viewport_columns > 0 && options.viewport_rows > 0) {
    const double scale = std::min(static_cast<double>(options.viewport_columns) / static_cast<double>(columns),
                                  static_cast<double>(options.viewport_rows) / static_cast<double>(rows));
    out_columns = std::max<unsigned long>(1, static_cast<unsigned long>(static_cast<double>(columns) * scale + 0.5));
    out_rows = std::max<unsigned long>(1, static_cast<unsigned long>(static_cast<double>(rows) * scale + 0.5));
  }
  DicomImage* target = &image;
  std::unique_ptr<DicomImage> transformed;
  if (left != 0 || top != 0 || columns != image_columns || rows != image_rows || out_columns != image.getWidth() ||
      out_rows != image.getHeight()) {
    // Magnifying wants bilinear interpolation; reducing, the pbmplus averaging.
    const int interpolation = out_columns > static_cast<unsigned long>(columns) ? 3 : 1;
    transformed.reset(image.createScaledImage(left, top, static_cast<unsigned long>(columns),
                                              static_cast<unsigned long>(rows), out_columns, out_rows, interpolation,
                                              0));
    if (!transformed || transformed->getStatus() != EIS_Normal) {
      return Fail(ErrorCode::kInternal, "scaling the image failed");
    }
    target = transformed.get();
  }
  if ((flip_horizontal || flip_vertical) && !target->flipImage(flip_horizontal ? 1 : 0, flip_vertical ? 1 : 0)) {
    return Fail(ErrorCode::kInternal, "flipping the image failed");
  }
  if (options.format == ImageFormat::kJpeg) {
    return EncodeJpeg(*target, std::clamp(options.quality, 1, 100));
  }
  char* buffer = nullptr;
  std::size_t size = 0;
  FILE* memory = open_memstream(&buffer, &size);
  if (memory == nullptr) return Fail(ErrorCode::kInternal, "cannot open an in-memory stream");
  DiPNGPlugin png;
  png.setInterlaceType(E_pngInterlaceNone);
  const int written = target->writePluginFormat(&png, memory, 0);
  std::fclose(memory);
  std::string out(buffer == nullptr ? "" : std::string(buffer, size));
  std::free(buffer);
  if (!written || out.empty()) return Fail(ErrorCode::kInternal, "encoding the rendered image failed");
  return out;
}

}  // namespace dx::dicom
