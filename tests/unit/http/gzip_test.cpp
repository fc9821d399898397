#include "http/gzip.hpp"

#include <gtest/gtest.h>

namespace dx::http {
namespace {

std::string Json(std::size_t bytes) {
  std::string text = "[";
  while (text.size() < bytes) text += R"({"00100010":{"vr":"PN","Value":[{"Alphabetic":"SMITH^JOHN"}]}},)";
  text.back() = ']';
  return text;
}

Response Through(Response answer, const std::string& accept_encoding) {
  Router router;
  router.Add("GET", "/x", [answer](const Request&) { return answer; });
  router.Use(Gzip());
  Request request;
  request.method = "GET";
  request.path = "/x";
  if (!accept_encoding.empty()) request.headers["accept-encoding"] = accept_encoding;
  return router.Dispatch(request);
}

TEST(Gzip, AcceptEncodingIsParsedWithWeights) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, *"));  // the named coding wins over the wildcard
}

TEST(Gzip, JsonBodiesAreCompressedWhenAccepted) {
  const std::string body = Json(20000);
  auto response = Through(Response{200, "application/dicom+json", body, {}}, "gzip, deflate");
  EXPECT_EQ(response.headers["Content-Encoding"], "gzip");
  EXPECT_EQ(response.headers["Vary"], "Accept-Encoding");
  EXPECT_LT(response.body.size(), body.size() / 4);
  auto plain = GzipDecompress(response.body);
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, body);
}

TEST(Gzip, OtherAnswersAreLeftAlone) {
  const std::string body = Json(20000);
  auto refused = Through(Response{200, "application/json", body, {}}, "gzip;q=0");
  EXPECT_EQ(refused.body, body);
  EXPECT_EQ(refused.headers.count("Content-Encoding"), 0u);
  EXPECT_EQ(refused.headers["Vary"], "Accept-Encoding");  // caches must still key on it
  EXPECT_EQ(Through(Response{200, "image/jpeg", body, {}}, "gzip").body, body);
  EXPECT_EQ(Through(Response{200, "application/json", "{}", {}}, "gzip").body, "{}");  // too small to pay
  EXPECT_EQ(Through(Response{200, "application/json", body, {}}, "").body, body);
}

TEST(Gzip, StreamedAnswersAreCompressedPieceByPiece) {
  const std::string piece = Json(3000);
  Response answer;
  answer.content_type = "application/dicom+json";
  answer.stream = [piece](const ChunkWriter& write) {
    for (int i = 0; i < 50; ++i) {
      if (!write(piece)) return false;
    }
    return true;
  };
  auto response = Through(answer, "gzip");
  ASSERT_TRUE(response.stream);
  EXPECT_EQ(response.headers["Content-Encoding"], "gzip");
  std::string compressed;
  int writes = 0;
  ASSERT_TRUE(response.stream([&](std::string_view bytes) {
    compressed.append(bytes);
    ++writes;
    return true;
  }));
  auto plain = GzipDecompress(compressed);
  ASSERT_TRUE(plain);
  std::string expected;
  for (int i = 0; i < 50; ++i) expected += piece;
  EXPECT_EQ(*plain, expected);
  EXPECT_LT(compressed.size(), expected.size() / 4);
}

TEST(Gzip, ACorruptStreamIsAnError) {
  EXPECT_FALSE(GzipDecompress("not gzip at all"));
  auto whole = GzipCompress(Json(5000));
  EXPECT_FALSE(GzipDecompress(std::string_view(whole).substr(0, whole.size() / 2)));
}

}  // namespace
}  // namespace dx::http
