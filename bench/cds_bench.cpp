// Decision-support benchmark.
// (1) Evaluations per second on one thread with the whole knowledge base loaded,
//     over the clinical vignettes of tests/scenarios/cds (a realistic mix of
//     presentations, matches, near misses and absences).
// (2) With --server HOST:PORT: CDS Hooks order-sign round trips over one
//     keep-alive HTTP connection (parse, evaluate, record the consultation,
//     audit, answer), next to GET /health on the same connection as the floor.
// Usage: dxhub_cds_bench KNOWLEDGE_DIR VIGNETTE_DIR [--server HOST:PORT] [--calls N]
#include <utility>  // Boost 1.74's asio needs std::exchange declared first

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "cds/evaluator.hpp"
#include "cds/loader.hpp"

namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

std::vector<dx::cds::FindingInput> Entries(const toml::node* node) {
  std::vector<dx::cds::FindingInput> out;
  if (const auto* array = node ? node->as_array() : nullptr) {
    for (const auto& item : *array) {
      if (auto text = item.value<std::string>()) out.push_back({*text, true});
    }
  }
  return out;
}

std::vector<dx::cds::Case> LoadVignettes(const fs::path& dir) {
  std::vector<dx::cds::Case> cases;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    toml::table file = toml::parse_file(entry.path().string());
    const auto* list = file["case"].as_array();
    if (list == nullptr) continue;
    for (const auto& item : *list) {
      const auto& table = *item.as_table();
      dx::cds::Case c;
      if (auto age = table["age"].value<double>()) c.age = *age;
      if (auto sex = table["sex"].value<std::string>()) {
        c.sex = dx::cds::ParsePatientSex(*sex).value_or(dx::cds::PatientSex::kUnknown);
      }
      c.findings = Entries(table.get("findings"));
      c.history = Entries(table.get("history"));
      if (auto requested = table["requested"].value<std::string>()) c.requested = *requested;
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

// Times `calls` requests over one connection; returns per-call milliseconds.
std::vector<double> RoundTrips(const std::string& host, const std::string& port, http::verb verb,
                               const std::string& target, const std::string& body, int calls) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.connect(resolver.resolve(host, port));
  stream.socket().set_option(boost::asio::ip::tcp::no_delay(true));
  beast::flat_buffer buffer;
  std::vector<double> ms;
  for (int i = 0; i < calls; ++i) {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();
    const auto start = Clock::now();
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (response.result_int() != 200) {
      std::fprintf(stderr, "%s answered %d: %s\n", target.c_str(), response.result_int(), response.body().c_str());
      std::exit(1);
    }
  }
  return ms;
}

std::string OrderSignRequest() {
  using nlohmann::json;
  json order = {{"resourceType", "ServiceRequest"}, {"id", "bench-1"}, {"status", "draft"}, {"intent", "order"},
                {"priority", "routine"}, {"subject", {{"reference", "Patient/bench"}}},
                {"code", {{"coding", json::array({{{"system", "urn:dxhub:cds:investigation"}, {"code", "MR-LSPINE"}}})}}},
                {"reasonCode", json::array({{{"text", "low back pain"}}, {{"text", "sciatica"}}})}};
  json condition = {{"resourceType", "Condition"}, {"clinicalStatus", {{"coding", json::array({{{"code", "active"}}})}}},
                    {"code", {{"coding", json::array({{{"system", "http://snomed.info/sct"}, {"code", "49727002"}}})}}}};
  json body = {{"hook", "order-sign"}, {"hookInstance", "7d3f5e9a-1c2b-4f60-9a8e-0b1c2d3e4f50"},
               {"context", {{"userId", "Practitioner/bench"}, {"patientId", "bench"},
                            {"draftOrders", {{"resourceType", "Bundle"}, {"type", "collection"},
                                             {"entry", json::array({{{"resource", order}}})}}}}},
               {"prefetch", {{"patient", {{"resourceType", "Patient"}, {"id", "bench"}, {"birthDate", "1975-03-14"},
                                          {"gender", "female"}}},
                             {"conditions", {{"resourceType", "Bundle"}, {"type", "searchset"},
                                             {"entry", json::array({{{"resource", condition}}})}}}}}};
  return body.dump();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s KNOWLEDGE_DIR VIGNETTE_DIR [--server HOST:PORT] [--calls N]\n", argv[0]);
    return 2;
  }
  std::string server;
  int calls = 2000;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--server") server = argv[i + 1];
    if (flag == "--calls") calls = std::stoi(argv[i + 1]);
  }
  auto knowledge = dx::cds::LoadKnowledgeBase(argv[1]);
  if (!knowledge) {
    std::fprintf(stderr, "%s\n", knowledge.error().message.c_str());
    return 1;
  }
  const auto cases = LoadVignettes(argv[2]);
  if (cases.empty()) {
    std::fprintf(stderr, "no vignettes in %s\n", argv[2]);
    return 1;
  }
  std::printf("knowledge: %zu topics, %zu rules, %zu findings, %zu investigations; %zu vignettes\n",
              knowledge->topics().size(), knowledge->rules().size(), knowledge->findings().size(),
              knowledge->investigations().size(), cases.size());

  // Warm up, then as many passes over the vignettes as fit in about two seconds.
  std::size_t checksum = 0;
  for (const auto& c : cases) checksum += dx::cds::Evaluate(*knowledge, c).recommendations.size();
  std::size_t evaluations = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(2)) {
    for (const auto& c : cases) checksum += dx::cds::Evaluate(*knowledge, c).recommendations.size();
    evaluations += cases.size();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("evaluate: %zu evaluations in %.2f s on one thread = %.0f evaluations/s (%.2f us each; checksum %zu)\n",
              evaluations, seconds, static_cast<double>(evaluations) / seconds,
              seconds * 1e6 / static_cast<double>(evaluations), checksum);

  if (!server.empty()) {
    const auto colon = server.rfind(':');
    const std::string host = server.substr(0, colon);
    const std::string port = server.substr(colon + 1);
    const std::string body = OrderSignRequest();
    RoundTrips(host, port, http::verb::post, "/cds-services/dxhub-imaging-order-sign", body, 200);  // warm up
    auto floor = RoundTrips(host, port, http::verb::get, "/health", "", calls);
    auto sign = RoundTrips(host, port, http::verb::post, "/cds-services/dxhub-imaging-order-sign", body, calls);
    std::printf("GET /health      : median %.3f ms, p99 %.3f ms (%d calls, one keep-alive connection)\n",
                Percentile(floor, 0.5), Percentile(floor, 0.99), calls);
    std::printf("order-sign       : median %.3f ms, p99 %.3f ms (%d calls; each recorded and audited)\n",
                Percentile(sign, 0.5), Percentile(sign, 0.99), calls);
  }
  return 0;
}
