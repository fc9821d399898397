// Pixel data of stored instances for WADO-RS (PS3.18 §10.4, §8.7.3): frames as
// stored (the compressed bitstream of each frame) or decoded to little-endian bytes,
// bulk data values, whole objects re-encoded in Explicit VR Little Endian, and frames
// rendered to JPEG or PNG with a VOI window and a viewport (§8.3.5). DCMTK stays
// behind this header. Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace dx::dicom {

// Receives output piece by piece; returns false to stop (the client has gone).
using ByteSink = std::function<bool(std::string_view)>;

// True when pixel data in `syntax` is encapsulated (JPEG, JPEG-LS, JPEG 2000,
// RLE, MPEG…): each frame is a compressed bitstream in one or more fragments.
bool IsEncapsulatedSyntax(const std::string& syntax);

// True when objects stored in `syntax` can be decoded to Explicit VR Little Endian
// here: the native syntaxes, deflate, JPEG (baseline, extended, lossless), JPEG-LS
// and RLE. Not JPEG 2000 (DCMTK 3.6.7 has no codec for it) nor video.
bool CanTranscodeToExplicitLittleEndian(const std::string& syntax);

struct FrameInfo {
  int frames = 1;  // NumberOfFrames (1 when absent)
  int rows = 0;
  int columns = 0;
  int samples_per_pixel = 1;
  int bits_allocated = 0;
  std::string transfer_syntax;  // as stored
};

// The geometry of the image in a Part 10 file. kInvalidInput when it has no pixel data.
Result<FrameInfo> ReadFrameInfo(const std::string& path);

enum class FrameEncoding {
  kUncompressed,  // little-endian pixel bytes, decoded when stored compressed
  kAsStored,      // encapsulated syntaxes: each frame's stored bitstream, its fragments joined;
                  // native syntaxes: the same as kUncompressed
};

struct FrameSet {
  std::string transfer_syntax;     // of the bytes returned: 1.2.840.10008.1.2.1 or the stored syntax
  std::vector<std::string> frames;  // in the order asked
};

// Frames `numbers` (1-based, in the order asked; empty: all frames) of the file at
// `path`. Only the frames asked are read and decoded. kInvalidInput naming the frame
// when a number is out of range or the object has no pixel data; kUnsupported when a
// frame cannot be decoded (JPEG 2000) or its fragments cannot be told apart.
Result<FrameSet> ReadFrames(const std::string& path, const std::vector<int>& numbers,
                            FrameEncoding encoding = FrameEncoding::kUncompressed);

// The value of the binary element (group,element) — the first occurrence, nested items
// included — as little-endian bytes, read from the file without loading the rest.
// Pixel Data is decoded when compressed (all frames, one after another). kNotFound
// when the object has no such binary element.
Result<std::string> ReadBulkData(const std::string& path, unsigned group, unsigned element);

// The whole Part 10 object re-encoded in Explicit VR Little Endian, pixel data decoded
// (PS3.18 §8.7.3.5.2), written to `sink` in pieces of at most 256 KiB. Nothing is
// written when decoding fails: kUnsupported for syntaxes CanTranscode… rejects.
Result<void> WriteExplicitLittleEndian(const std::string& path, const ByteSink& sink);

// The same, collected in memory. `scratch_path` is no longer used (the object is not
// written to disk); the parameter stays for existing callers.
Result<std::string> TranscodeToExplicitLittleEndian(const std::string& path, const std::string& scratch_path = {});

enum class ImageFormat { kJpeg, kPng };

// VOI LUT Function (PS3.3 C.11.2.1.3) of an explicit window.
enum class WindowFunction { kLinear, kLinearExact, kSigmoid };

struct RenderOptions {
  int frame = 1;                         // 1-based
  std::optional<double> window_center;   // both set, or neither (the file's window, else min-max)
  std::optional<double> window_width;
  WindowFunction window_function = WindowFunction::kLinear;
  int viewport_columns = 0;              // 0: the image's own size; otherwise fit inside, keeping aspect
  int viewport_rows = 0;
  // Source region (PS3.18 §8.3.5.1.3 sx,sy,sw,sh): region_columns == 0 means the whole
  // image; a negative width or height flips the output along that axis.
  int region_left = 0;
  int region_top = 0;
  int region_columns = 0;
  int region_rows = 0;
  int quality = 90;                      // JPEG quality 1–100
  ImageFormat format = ImageFormat::kJpeg;
};

// One frame rendered to an 8-bit image (grey or RGB) in JPEG or PNG; only that frame
// is decoded. kInvalidInput for a bad frame number, a region outside the image or an
// object without pixel data; kUnsupported for images DCMTK cannot decode or render.
Result<std::string> RenderFrame(const std::string& path, const RenderOptions& options);

}  // namespace dx::dicom
