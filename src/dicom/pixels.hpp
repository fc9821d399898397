// Pixel data of stored instances for WADO-RS (PS3.18 §10.4): single frames as
// uncompressed little-endian bytes (decoding JPEG, JPEG-LS and RLE where needed),
// and rendered frames as JPEG or PNG with a VOI window and a viewport
// (PS3.18 §8.3.5, rendered resources). DCMTK stays behind this header.
// Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace dx::dicom {

struct FrameInfo {
  int frames = 1;              // NumberOfFrames (1 when absent)
  int rows = 0;
  int columns = 0;
  int samples_per_pixel = 1;
  int bits_allocated = 0;
  std::string transfer_syntax;  // as stored
};

// The geometry of the image in a Part 10 file. kInvalidInput when it has no pixel data.
Result<FrameInfo> ReadFrameInfo(const std::string& path);

// Frames `numbers` (1-based, in the order asked) of the file at `path`, each as
// uncompressed little-endian pixel bytes (rows × columns × samples × bits/8).
// Compressed syntaxes are decoded (JPEG, JPEG-LS, RLE; not JPEG 2000: kUnsupported).
// kInvalidInput naming the frame when a number is out of range.
Result<std::vector<std::string>> ReadFrames(const std::string& path, const std::vector<int>& numbers);

enum class ImageFormat { kJpeg, kPng };

struct RenderOptions {
  int frame = 1;                       // 1-based
  std::optional<double> window_center;  // both set, or neither (the file's window, else min-max)
  std::optional<double> window_width;
  int viewport_columns = 0;            // 0: the image's own size; otherwise fit inside, keeping aspect
  int viewport_rows = 0;
  int quality = 90;                    // JPEG quality 1–100
  ImageFormat format = ImageFormat::kJpeg;
};

// One frame rendered to an 8-bit image (grey or RGB) in JPEG or PNG.
// kInvalidInput for a bad frame number; kUnsupported for images DCMTK cannot render.
Result<std::string> RenderFrame(const std::string& path, const RenderOptions& options);

// The value of the binary element `group`,`element` (the first occurrence, nested
// items included) as little-endian bytes; Pixel Data is decoded when compressed.
// kNotFound when the object has no such element.
Result<std::string> ReadBulkData(const std::string& path, unsigned group, unsigned element);

// True when TranscodeToExplicitLittleEndian can handle objects stored in `syntax`
// (the uncompressed syntaxes, deflate, JPEG, JPEG-LS and RLE; not JPEG 2000 or video).
bool CanTranscodeToExplicitLittleEndian(const std::string& syntax);

// The whole Part 10 object re-encoded in Explicit VR Little Endian, pixel data
// decoded (PS3.18 §8.7.3.5: what a client gets when it asks for that syntax).
// `scratch_path` is a unique file name it may write and removes again.
Result<std::string> TranscodeToExplicitLittleEndian(const std::string& path, const std::string& scratch_path);

}  // namespace dx::dicom
