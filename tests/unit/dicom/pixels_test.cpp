#include "dicom/pixels.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "part10_writer.hpp"

namespace dx::dicom {
namespace {

// A 3-frame 24×32 12-bit MONOCHROME2 image, each frame a different pattern, with two
// private binary values beside the pixel data: OB (2 KiB) and OW (1,500 words).
constexpr int kRows = 32, kColumns = 24, kFrames = 3;
constexpr char kExplicitLe[] = "1.2.840.10008.1.2.1";

// Per process: ctest runs each test case in its own process, side by side.
std::string PixelsTempPath(const std::string& name) {
  return ::testing::TempDir() + "/pixels-" + std::to_string(::getpid()) + "-" + name;
}

std::string PixelsU16(unsigned value) { return std::string{static_cast<char>(value & 0xFF), static_cast<char>(value >> 8)}; }

std::string FramePixels(int frame) {
  std::string bytes;
  for (int y = 0; y < kRows; ++y) {
    for (int x = 0; x < kColumns; ++x) bytes += PixelsU16(static_cast<unsigned>((x * 97 + y * 31 + frame * 1000) % 4096));
  }
  return bytes;
}

std::string AllPixels() {
  std::string all;
  for (int f = 0; f < kFrames; ++f) all += FramePixels(f);
  return all;
}

std::string PrivateOb() {
  std::string bytes;
  for (int i = 0; i < 2048; ++i) bytes += static_cast<char>(i % 251);
  return bytes;
}

std::string PrivateOw() {
  std::string words;
  for (unsigned i = 0; i < 1500; ++i) words += PixelsU16(i * 7);
  return words;
}

testing::Part10Writer MultiFrame(bool with_pixels = true) {
  testing::Part10Writer w;
  const std::string sop = "1.2.826.0.1.3680043.10.1234.1";
  w.Add(0x0002, 0x0001, "OB", std::string("\0\1", 2));
  w.Add(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7.3");
  w.Add(0x0002, 0x0003, "UI", sop);
  w.Add(0x0002, 0x0010, "UI", kExplicitLe);
  w.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7.3");
  w.Add(0x0008, 0x0018, "UI", sop);
  w.Add(0x0008, 0x0060, "CS", "OT");
  w.Add(0x0009, 0x0010, "LO", "DXHUB TEST");
  w.Add(0x0009, 0x1001, "OB", PrivateOb());
  w.Add(0x0009, 0x1002, "OW", PrivateOw());
  w.Add(0x0010, 0x0010, "PN", "TEST^PIXELS");
  w.Add(0x0020, 0x000D, "UI", "1.2.826.0.1.3680043.10.1234");
  w.Add(0x0020, 0x000E, "UI", "1.2.826.0.1.3680043.10.1234.0");
  w.Add(0x0028, 0x0002, "US", PixelsU16(1));
  w.Add(0x0028, 0x0004, "CS", "MONOCHROME2");
  w.Add(0x0028, 0x0008, "IS", std::to_string(kFrames));
  w.Add(0x0028, 0x0010, "US", PixelsU16(kRows));
  w.Add(0x0028, 0x0011, "US", PixelsU16(kColumns));
  w.Add(0x0028, 0x0100, "US", PixelsU16(16));
  w.Add(0x0028, 0x0101, "US", PixelsU16(12));
  w.Add(0x0028, 0x0102, "US", PixelsU16(11));
  w.Add(0x0028, 0x0103, "US", PixelsU16(0));
  if (with_pixels) w.Add(0x7FE0, 0x0010, "OW", AllPixels());
  return w;
}

bool PixelsHaveTool(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

std::string Original() {
  const std::string path = PixelsTempPath("original.dcm");
  MultiFrame().Write(path);
  return path;
}

// The original converted by a DCMTK (or GDCM) command-line tool: "{tool} {options} in out".
std::string Converted(const std::string& name, const std::string& tool, const std::string& options) {
  const std::string out = PixelsTempPath(name + ".dcm");
  const std::string command = tool + " " + options + " '" + Original() + "' '" + out + "' >/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return out;
}

std::string PixelsReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

struct PixelsVariant {
  const char* name;
  const char* tool;
  const char* options;
  const char* syntax;
};

const PixelsVariant kLossless[] = {
    {"jpeg-sv1", "dcmcjpeg", "+e1", "1.2.840.10008.1.2.4.70"},
    {"jpeg-fragments", "dcmcjpeg", "+e1 -ot +fs 1", "1.2.840.10008.1.2.4.70"},
    {"jpeg-ls", "dcmcjpls", "+el", "1.2.840.10008.1.2.4.80"},
    {"rle", "dcmcrle", "", "1.2.840.10008.1.2.5"},
    {"big-endian", "dcmconv", "+tb", "1.2.840.10008.1.2.2"},
    {"deflate", "dcmconv", "+td", "1.2.840.10008.1.2.1.99"},
    {"implicit", "dcmconv", "+ti", "1.2.840.10008.1.2"},
};

class LosslessVariant : public ::testing::TestWithParam<PixelsVariant> {
 protected:
  void SetUp() override {
    if (!PixelsHaveTool(GetParam().tool)) GTEST_SKIP() << GetParam().tool << " is not installed (scripts/setup-deps.sh)";
    path_ = Converted(GetParam().name, GetParam().tool, GetParam().options);
  }
  std::string path_;
};

TEST_P(LosslessVariant, FramesDecodeToTheOriginalPixelsInTheOrderAsked) {
  auto info = ReadFrameInfo(path_);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->transfer_syntax, GetParam().syntax);
  EXPECT_EQ(info->frames, kFrames);
  auto frames = ReadFrames(path_, {3, 1, 2});
  ASSERT_TRUE(frames) << frames.error().message;
  EXPECT_EQ(frames->transfer_syntax, kExplicitLe);
  ASSERT_EQ(frames->frames.size(), 3u);
  EXPECT_EQ(frames->frames[0], FramePixels(2));
  EXPECT_EQ(frames->frames[1], FramePixels(0));
  EXPECT_EQ(frames->frames[2], FramePixels(1));
}

TEST_P(LosslessVariant, TranscodesToExplicitLittleEndianWithTheSamePixels) {
  const std::string out = PixelsTempPath(std::string(GetParam().name) + "-transcoded.dcm");
  std::ofstream file(out, std::ios::binary);
  std::size_t largest_piece = 0;
  auto written = WriteExplicitLittleEndian(path_, [&](std::string_view piece) {
    largest_piece = std::max(largest_piece, piece.size());
    file.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    return true;
  });
  file.close();
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_LE(largest_piece, std::size_t{1} << 18);
  auto info = ReadFrameInfo(out);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->transfer_syntax, kExplicitLe);
  auto frames = ReadFrames(out, {});
  ASSERT_TRUE(frames) << frames.error().message;
  ASSERT_EQ(frames->frames.size(), 3u);
  EXPECT_EQ(frames->frames[0] + frames->frames[1] + frames->frames[2], AllPixels());
  auto value = ReadBulkData(out, 0x0009, 0x1002);
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(*value, PrivateOw()) << "other binary values survive the transcoding";
  auto in_memory = TranscodeToExplicitLittleEndian(path_);
  ASSERT_TRUE(in_memory) << in_memory.error().message;
  EXPECT_EQ(*in_memory, PixelsReadAll(out));
}

TEST_P(LosslessVariant, BulkDataIsLittleEndianWhateverTheSyntax) {
  auto ob = ReadBulkData(path_, 0x0009, 0x1001);
  ASSERT_TRUE(ob) << ob.error().message;
  EXPECT_EQ(*ob, PrivateOb());
  auto ow = ReadBulkData(path_, 0x0009, 0x1002);
  ASSERT_TRUE(ow) << ow.error().message;
  EXPECT_EQ(*ow, PrivateOw());
  auto pixels = ReadBulkData(path_, 0x7FE0, 0x0010);
  ASSERT_TRUE(pixels) << pixels.error().message;
  EXPECT_EQ(*pixels, AllPixels());
}

TEST_P(LosslessVariant, RendersEachFrame) {
  RenderOptions options;
  options.format = ImageFormat::kPng;
  options.frame = 2;
  auto second = RenderFrame(path_, options);
  ASSERT_TRUE(second) << second.error().message;
  options.frame = 1;
  auto first = RenderFrame(path_, options);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_NE(*first, *second);
}

INSTANTIATE_TEST_SUITE_P(Syntaxes, LosslessVariant, ::testing::ValuesIn(kLossless),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           for (auto& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(Pixels, NativeFramesAreReadInTheOrderAsked) {
  auto frames = ReadFrames(Original(), {2, 2, 3}, FrameEncoding::kAsStored);
  ASSERT_TRUE(frames) << frames.error().message;
  EXPECT_EQ(frames->transfer_syntax, kExplicitLe) << "native frames go uncompressed even when asked as stored";
  ASSERT_EQ(frames->frames.size(), 3u);
  EXPECT_EQ(frames->frames[0], FramePixels(1));
  EXPECT_EQ(frames->frames[1], FramePixels(1));
  EXPECT_EQ(frames->frames[2], FramePixels(2));
}

TEST(Pixels, FrameNumbersOutOfRangeAreInvalidInput) {
  for (int bad : {0, 4, -1}) {
    auto frames = ReadFrames(Original(), {1, bad});
    ASSERT_FALSE(frames);
    EXPECT_EQ(frames.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(frames.error().message.find("frame " + std::to_string(bad) + " does not exist"), std::string::npos)
        << frames.error().message;
  }
  RenderOptions options;
  options.frame = 4;
  auto image = RenderFrame(Original(), options);
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().code, ErrorCode::kInvalidInput);
}

TEST(Pixels, AnObjectWithoutPixelDataHasNoFrames) {
  const std::string path = PixelsTempPath("no-pixels.dcm");
  MultiFrame(false).Write(path);
  auto frames = ReadFrames(path, {1});
  ASSERT_FALSE(frames);
  EXPECT_EQ(frames.error().code, ErrorCode::kInvalidInput);
  auto image = RenderFrame(path, RenderOptions{});
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().code, ErrorCode::kInvalidInput);
}

TEST(Pixels, BulkDataOfAbsentOrNonBinaryElementsIsNotFound) {
  for (auto [group, element] : {std::pair{0x0009u, 0x1003u}, std::pair{0x0010u, 0x0010u}}) {
    auto value = ReadBulkData(Original(), group, element);
    ASSERT_FALSE(value);
    EXPECT_EQ(value.error().code, ErrorCode::kNotFound);
  }
}

TEST(Pixels, StoredJpegFramesAreWholeBitstreamsWhateverTheFragmentation) {
  if (!PixelsHaveTool("dcmcjpeg")) GTEST_SKIP() << "dcmcjpeg is not installed";
  const std::string with_table = Converted("stored-jpeg", "dcmcjpeg", "+e1");
  const std::string fragmented = Converted("stored-jpeg-fragments", "dcmcjpeg", "+e1 -ot +fs 1");
  auto a = ReadFrames(with_table, {3, 1}, FrameEncoding::kAsStored);
  auto b = ReadFrames(fragmented, {3, 1}, FrameEncoding::kAsStored);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(a->transfer_syntax, "1.2.840.10008.1.2.4.70");
  ASSERT_EQ(a->frames.size(), 2u);
  for (const auto& frame : a->frames) {
    ASSERT_GT(frame.size(), 4u);
    EXPECT_EQ(frame.substr(0, 2), "\xFF\xD8") << "starts with SOI";
    const auto eoi = frame.rfind("\xFF\xD9");
    EXPECT_TRUE(eoi != std::string::npos && eoi + 2 >= frame.size() - 1) << "ends with EOI (and a pad byte)";
  }
  EXPECT_NE(a->frames[0], a->frames[1]);
  EXPECT_EQ(a->frames, b->frames);
}

TEST(Pixels, StoredRleFramesAreOneSegmentedFragmentEach) {
  if (!PixelsHaveTool("dcmcrle")) GTEST_SKIP() << "dcmcrle is not installed";
  auto frames = ReadFrames(Converted("stored-rle", "dcmcrle", ""), {2}, FrameEncoding::kAsStored);
  ASSERT_TRUE(frames) << frames.error().message;
  EXPECT_EQ(frames->transfer_syntax, "1.2.840.10008.1.2.5");
  ASSERT_GE(frames->frames[0].size(), 64u);
  EXPECT_EQ(frames->frames[0].substr(0, 4), std::string("\x02\0\0\0", 4)) << "two byte segments for 16-bit samples";
}

TEST(Pixels, Jpeg2000IsStoredOnlyNeverDecoded) {
  if (!PixelsHaveTool("gdcmconv")) GTEST_SKIP() << "gdcmconv is not installed";
  const std::string path = Converted("j2k", "gdcmconv", "--j2k");
  auto info = ReadFrameInfo(path);
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_EQ(info->transfer_syntax, "1.2.840.10008.1.2.4.90");
  EXPECT_TRUE(IsEncapsulatedSyntax(info->transfer_syntax));
  EXPECT_FALSE(CanTranscodeToExplicitLittleEndian(info->transfer_syntax));
  auto stored = ReadFrames(path, {2}, FrameEncoding::kAsStored);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->frames[0].substr(0, 2), "\xFF\x4F") << "a JPEG 2000 codestream";
  auto decoded = ReadFrames(path, {2});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupported);
  bool wrote = false;
  auto written = WriteExplicitLittleEndian(path, [&](std::string_view) { return wrote = true; });
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::kUnsupported);
  EXPECT_FALSE(wrote) << "nothing is written when the object cannot be decoded";
  auto image = RenderFrame(path, RenderOptions{});
  ASSERT_FALSE(image);
  EXPECT_EQ(image.error().code, ErrorCode::kUnsupported);
}

TEST(Pixels, TranscodingStopsWhenTheReceiverGoes) {
  auto written = WriteExplicitLittleEndian(Original(), [](std::string_view) { return false; });
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
}

TEST(Pixels, SyntaxFacts) {
  EXPECT_TRUE(IsEncapsulatedSyntax("1.2.840.10008.1.2.4.50"));
  EXPECT_TRUE(IsEncapsulatedSyntax("1.2.840.10008.1.2.5"));
  EXPECT_FALSE(IsEncapsulatedSyntax(kExplicitLe));
  EXPECT_FALSE(IsEncapsulatedSyntax("1.2.840.10008.1.2.1.99"));
  EXPECT_FALSE(IsEncapsulatedSyntax("not a syntax"));
  EXPECT_TRUE(CanTranscodeToExplicitLittleEndian("1.2.840.10008.1.2.4.81"));
  EXPECT_FALSE(CanTranscodeToExplicitLittleEndian("1.2.840.10008.1.2.4.91"));
}

// Width and height from a PNG's IHDR chunk.
std::pair<int, int> PixelsPngSize(const std::string& png) {
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(png[at]) << 24) | (static_cast<unsigned char>(png[at + 1]) << 16) |
           (static_cast<unsigned char>(png[at + 2]) << 8) | static_cast<unsigned char>(png[at + 3]);
  };
  return {be32(16), be32(20)};
}

TEST(Pixels, RenderingFollowsViewportRegionWindowAndQuality) {
  const std::string path = Original();
  RenderOptions options;
  options.format = ImageFormat::kPng;
  auto plain = RenderFrame(path, options);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(PixelsPngSize(*plain), std::pair(kColumns, kRows));

  options.viewport_columns = 12;
  options.viewport_rows = 12;
  auto fitted = RenderFrame(path, options);
  ASSERT_TRUE(fitted) << fitted.error().message;
  EXPECT_EQ(PixelsPngSize(*fitted), std::pair(9, 12)) << "fits inside keeping the aspect ratio";

  options.viewport_columns = 100;
  options.viewport_rows = 100;
  options.region_left = 4;
  options.region_top = 8;
  options.region_columns = 10;
  options.region_rows = 20;
  auto region = RenderFrame(path, options);
  ASSERT_TRUE(region) << region.error().message;
  EXPECT_EQ(PixelsPngSize(*region), std::pair(50, 100));
  options.region_left = 20;
  auto outside = RenderFrame(path, options);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::kInvalidInput);

  options = RenderOptions{};
  options.format = ImageFormat::kPng;
  options.window_center = 2048;
  options.window_width = 400;
  auto narrow = RenderFrame(path, options);
  options.window_function = WindowFunction::kSigmoid;
  auto sigmoid = RenderFrame(path, options);
  ASSERT_TRUE(narrow && sigmoid);
  EXPECT_NE(*narrow, *plain);
  EXPECT_NE(*sigmoid, *narrow);

  options = RenderOptions{};
  options.quality = 95;
  auto high = RenderFrame(path, options);
  options.quality = 5;
  auto low = RenderFrame(path, options);
  ASSERT_TRUE(high && low);
  EXPECT_EQ(high->substr(0, 2), "\xFF\xD8");
  EXPECT_LT(low->size(), high->size());
}

}  // namespace
}  // namespace dx::dicom
