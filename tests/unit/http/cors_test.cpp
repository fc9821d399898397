#include "http/cors.hpp"

#include <gtest/gtest.h>

namespace dx::http {
namespace {

class Cors : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/studies", [this](const Request&) {
      ++handled_;
      return Response::Json({});
    });
    router_.Add("POST", "/studies", [this](const Request&) {
      ++handled_;
      return Response::Json({});
    });
  }
  Response Send(const std::vector<std::string>& origins, Request request) {
    Router router = router_;
    router.Use(dx::http::Cors({origins}, router));
    return router.Dispatch(std::move(request));
  }
  static Request Make(std::string method, std::string path, std::map<std::string, std::string> headers) {
    Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.headers = std::move(headers);
    return request;
  }
  Router router_;
  int handled_ = 0;
};

TEST_F(Cors, AnAllowedOriginIsEchoedAndHeadersExposed) {
  auto response = Send({"http://viewer.example:3000"}, Make("GET", "/studies", {{"origin", "http://viewer.example:3000"}}));
  EXPECT_EQ(response.headers["Access-Control-Allow-Origin"], "http://viewer.example:3000");
  EXPECT_EQ(response.headers["Vary"], "Origin");
  EXPECT_NE(response.headers["Access-Control-Expose-Headers"].find("Warning"), std::string::npos);
  EXPECT_EQ(handled_, 1);
}

TEST_F(Cors, OtherOriginsAndSameOriginRequestsGetNoCorsHeaders) {
  auto other = Send({"http://viewer.example:3000"}, Make("GET", "/studies", {{"origin", "http://evil.example"}}));
  EXPECT_EQ(other.headers.count("Access-Control-Allow-Origin"), 0u);
  auto same = Send({"http://viewer.example:3000"}, Make("GET", "/studies", {}));
  EXPECT_EQ(same.headers.count("Access-Control-Allow-Origin"), 0u);
  auto off = Send({}, Make("GET", "/studies", {{"origin", "http://viewer.example:3000"}}));
  EXPECT_EQ(off.headers.count("Access-Control-Allow-Origin"), 0u);
}

TEST_F(Cors, StarAllowsAnyOrigin) {
  auto response = Send({"*"}, Make("GET", "/studies", {{"origin", "https://anywhere.example"}}));
  EXPECT_EQ(response.headers["Access-Control-Allow-Origin"], "*");
  EXPECT_EQ(response.headers.count("Vary"), 0u);
}

TEST_F(Cors, PreflightIsAnsweredWithoutTheHandler) {
  auto response = Send({"http://viewer.example:3000"},
                       Make("OPTIONS", "/studies",
                            {{"origin", "http://viewer.example:3000"},
                             {"access-control-request-method", "POST"},
                             {"access-control-request-headers", "content-type, authorization"}}));
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.headers["Access-Control-Allow-Origin"], "http://viewer.example:3000");
  EXPECT_EQ(response.headers["Access-Control-Allow-Methods"], "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(response.headers["Access-Control-Allow-Headers"], "content-type, authorization");
  EXPECT_EQ(response.headers["Access-Control-Max-Age"], "600");
  EXPECT_EQ(handled_, 0);
  auto unknown = Send({"*"}, Make("OPTIONS", "/nowhere",
                                  {{"origin", "http://viewer.example:3000"}, {"access-control-request-method", "GET"}}));
  EXPECT_EQ(unknown.status, 404);
}

}  // namespace
}  // namespace dx::http
