#include "http/router.hpp"

#include <gtest/gtest.h>

namespace dx::http {
namespace {

Request Make(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

Router TwoRoutes(std::vector<std::string>* calls) {
  Router router;
  router.Add("GET", "/studies/{study}", [calls](const Request& request) {
    if (calls) calls->push_back("handler " + request.params.at("study"));
    return Response::Json({{"user", request.attributes.count("user") ? request.attributes.at("user") : ""}});
  });
  router.Add("POST", "/studies/{study}", [](const Request&) { return Response::Json({}, 201); });
  return router;
}

TEST(Router, MiddlewareRunsInOrderAroundTheRoute) {
  std::vector<std::string> calls;
  Router router = TwoRoutes(&calls);
  router.Use([&](Request& request, const Next& next) {
    calls.push_back("outer in");
    auto response = next(request);
    calls.push_back("outer out");
    response.headers["X-Outer"] = "1";
    return response;
  });
  router.Use([&](Request& request, const Next& next) {
    calls.push_back("inner in");
    request.attributes["user"] = "dr-jones";
    return next(request);
  });
  auto response = router.Dispatch(Make("GET", "/studies/1.2"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["X-Outer"], "1");
  EXPECT_NE(response.body.find("dr-jones"), std::string::npos);  // attributes reach the handler
  EXPECT_EQ(calls, (std::vector<std::string>{"outer in", "inner in", "handler 1.2", "outer out"}));
}

TEST(Router, MiddlewareMayAnswerWithoutTheRoute) {
  std::vector<std::string> calls;
  Router router = TwoRoutes(&calls);
  router.Use([](Request&, const Next&) { return Response::Problem(401, "sign in first"); });
  EXPECT_EQ(router.Dispatch(Make("GET", "/studies/1.2")).status, 401);
  EXPECT_TRUE(calls.empty());
}

TEST(Router, OptionsListsTheMethodsOfAKnownPath) {
  Router router = TwoRoutes(nullptr);
  auto response = router.Dispatch(Make("OPTIONS", "/studies/9"));
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.headers["Allow"], "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(router.Dispatch(Make("OPTIONS", "/nothing")).status, 404);
  EXPECT_TRUE(router.AllowedMethods("/nothing").empty());
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router = TwoRoutes(nullptr);
  auto response = router.Dispatch(Make("DELETE", "/studies/9"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers["Allow"], "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(router.Dispatch(Make("HEAD", "/studies/9")).status, 200);
}

TEST(Router, AnExplicitOptionsRouteWins) {
  Router router = TwoRoutes(nullptr);
  router.Add("OPTIONS", "/studies/{study}", [](const Request&) { return Response{200, "text/plain", "described", {}}; });
  auto response = router.Dispatch(Make("OPTIONS", "/studies/9"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "described");
}

}  // namespace
}  // namespace dx::http
