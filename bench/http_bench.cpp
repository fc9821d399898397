// HTTP timing client for the DICOMweb benchmarks (bench/dicomweb.sh), so dxhub
// and Orthanc are measured by the same code:
//   latency HOST:PORT TARGET N [ACCEPT]  N GETs over one keep-alive connection:
//                                        median, p99 (ms) and body bytes
//   stream HOST:PORT TARGET R [ACCEPT]   R whole-body GETs on fresh connections:
//                                        time to the first body byte, total time, MB/s
//   sequence HOST:PORT R [ACCEPT|]TARGET...  the targets one after the other on one
//                                        keep-alive connection, R times: median total ms
//                                        (a viewer's requests up to its first frame)
//   loopback BYTES R                     the floor: a plain TCP stream of BYTES over
//                                        loopback, in this process, R times: MB/s
//   post HOST:PORT TARGET FILE N C       N POSTs of FILE's bytes (JSON) over C keep-alive
//                                        connections at once: requests/s, median and p99 ms
#include <utility>  // Boost 1.74's asio needs std::exchange declared first

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5)];
}

std::pair<std::string, std::string> HostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  return {text.substr(0, colon), text.substr(colon + 1)};
}

int Latency(const std::string& server, const std::string& target, int n, const std::string& accept) {
  auto [host, port] = HostPort(server);
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::resolver(io).resolve(host, port));
  stream.socket().set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  std::vector<double> ms;
  std::size_t bytes = 0;
  for (int i = 0; i < n + 5; ++i) {  // five warm-up requests
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    if (!accept.empty()) request.set(http::field::accept, accept);
    request.keep_alive(true);
    const auto start = Clock::now();
    http::write(stream, request);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{8} << 30);
    http::read(stream, buffer, parser);
    const double elapsed = Ms(Clock::now() - start);
    const auto& response = parser.get();
    if (response.result_int() != 200) {
      std::fprintf(stderr, "%s: HTTP %d %s\n", target.c_str(), response.result_int(), response.body().substr(0, 300).c_str());
      return 1;
    }
    if (i >= 5) {
      ms.push_back(elapsed);
      bytes = response.body().size();
    }
  }
  std::printf("median %.3f ms  p99 %.3f ms  (%d requests, %zu body bytes)\n", Percentile(ms, 0.5), Percentile(ms, 0.99),
              n, bytes);
  return 0;
}

int Stream(const std::string& server, const std::string& target, int rounds, const std::string& accept) {
  auto [host, port] = HostPort(server);
  std::vector<double> first, total, rate;
  std::size_t bytes = 0;
  for (int r = 0; r < rounds + 1; ++r) {  // one warm-up round
    asio::io_context io;
    tcp::socket socket(io);
    asio::connect(socket, tcp::resolver(io).resolve(host, port));
    socket.set_option(tcp::no_delay(true));
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
    if (!accept.empty()) request += "Accept: " + accept + "\r\n";
    request += "\r\n";
    const auto start = Clock::now();
    asio::write(socket, asio::buffer(request));
    std::vector<char> chunk(1 << 20);
    std::string head;
    std::size_t received = 0;
    bool in_body = false;
    Clock::time_point first_body{};
    boost::system::error_code error;
    while (true) {
      const std::size_t n = socket.read_some(asio::buffer(chunk), error);
      if (n > 0) {
        if (!in_body) {
          head.append(chunk.data(), n);
          const auto end = head.find("\r\n\r\n");
          if (end != std::string::npos) {
            if (head.compare(9, 3, "200") != 0) {
              std::fprintf(stderr, "%s: %s\n", target.c_str(), head.substr(0, head.find("\r\n")).c_str());
              return 1;
            }
            in_body = true;
            received = head.size() - end - 4;
            if (received > 0) first_body = Clock::now();
          }
        } else {
          if (received == 0) first_body = Clock::now();
          received += n;
        }
      }
      if (error) break;
    }
    const auto done = Clock::now();
    if (r == 0) continue;
    bytes = received;
    first.push_back(Ms(first_body - start));
    total.push_back(Ms(done - start));
    rate.push_back(static_cast<double>(received) / 1e6 / std::chrono::duration<double>(done - start).count());
  }
  std::printf("first body byte median %.2f ms  total median %.1f ms  %.0f MB/s median, %.0f best  (%zu bytes, %d rounds)\n",
              Percentile(first, 0.5), Percentile(total, 0.5), Percentile(rate, 0.5),
              *std::max_element(rate.begin(), rate.end()), bytes, rounds);
  return 0;
}

int Sequence(const std::string& server, int rounds, const std::vector<std::string>& steps) {
  auto [host, port] = HostPort(server);
  std::vector<double> totals;
  for (int r = 0; r < rounds + 1; ++r) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    const auto start = Clock::now();
    stream.connect(tcp::resolver(io).resolve(host, port));
    stream.socket().set_option(tcp::no_delay(true));
    beast::flat_buffer buffer;
    for (const auto& step : steps) {
      const auto bar = step.find('|');
      const std::string accept = bar == std::string::npos ? "" : step.substr(0, bar);
      const std::string target = bar == std::string::npos ? step : step.substr(bar + 1);
      http::request<http::empty_body> request{http::verb::get, target, 11};
      request.set(http::field::host, host);
      if (!accept.empty()) request.set(http::field::accept, accept);
      http::write(stream, request);
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{8} << 30);
      http::read(stream, buffer, parser);
      if (parser.get().result_int() != 200) {
        std::fprintf(stderr, "%s: HTTP %d\n", target.c_str(), parser.get().result_int());
        return 1;
      }
    }
    if (r > 0) totals.push_back(Ms(Clock::now() - start));
  }
  std::printf("median %.2f ms  p99 %.2f ms  (%zu requests in sequence, new connection each time, %d rounds)\n",
              Percentile(totals, 0.5), Percentile(totals, 0.99), steps.size(), rounds);
  return 0;
}

int Loopback(std::size_t bytes, int rounds) {
  std::vector<double> rate;
  for (int r = 0; r < rounds; ++r) {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    std::thread sender([&acceptor, bytes] {
      tcp::socket socket = acceptor.accept();
      std::vector<char> block(1 << 18, 'x');
      std::size_t sent = 0;
      while (sent < bytes) sent += asio::write(socket, asio::buffer(block.data(), std::min(block.size(), bytes - sent)));
    });
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::vector<char> chunk(1 << 20);
    std::size_t received = 0;
    boost::system::error_code error;
    const auto start = Clock::now();
    while (!error) received += socket.read_some(asio::buffer(chunk), error);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    sender.join();
    rate.push_back(static_cast<double>(received) / 1e6 / seconds);
  }
  std::printf("loopback TCP %.0f MB/s median, %.0f best  (%zu bytes, %d rounds)\n", Percentile(rate, 0.5),
              *std::max_element(rate.begin(), rate.end()), bytes, rounds);
  return 0;
}

int Post(const std::string& server, const std::string& target, const std::string& file, int n, int connections) {
  std::FILE* in = std::fopen(file.c_str(), "rb");
  if (!in) throw std::runtime_error("cannot read " + file);
  std::string body;
  char block[65536];
  for (std::size_t got; (got = std::fread(block, 1, sizeof block, in)) > 0;) body.append(block, got);
  std::fclose(in);
  auto [host, port] = HostPort(server);
  std::vector<std::vector<double>> per_connection(static_cast<std::size_t>(connections));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      asio::io_context io;
      beast::tcp_stream stream(io);
      stream.connect(tcp::resolver(io).resolve(host, port));
      stream.socket().set_option(tcp::no_delay(true));
      beast::flat_buffer buffer;
      for (int i = c; i < n; i += connections) {
        http::request<http::string_body> request{http::verb::post, target, 11};
        request.set(http::field::host, host);
        request.set(http::field::content_type, "application/fhir+json");
        request.body() = body;
        request.prepare_payload();
        request.keep_alive(true);
        const auto sent = Clock::now();
        http::write(stream, request);
        http::response<http::string_body> response;
        http::read(stream, buffer, response);
        per_connection[static_cast<std::size_t>(c)].push_back(Ms(Clock::now() - sent));
        if (response.result_int() != 200 && response.result_int() != 201 && failures++ == 0) {
          std::fprintf(stderr, "%s: HTTP %d %s\n", target.c_str(), response.result_int(), response.body().substr(0, 300).c_str());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> ms;
  for (const auto& each : per_connection) ms.insert(ms.end(), each.begin(), each.end());
  std::printf("%.0f requests/s  median %.3f ms  p99 %.3f ms  (%d requests, %d connections, %d failed)\n",
              static_cast<double>(n) / seconds, Percentile(ms, 0.5), Percentile(ms, 0.99), n, connections,
              failures.load());
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "latency" && argc >= 5) return Latency(argv[2], argv[3], std::stoi(argv[4]), argc > 5 ? argv[5] : "");
    if (mode == "stream" && argc >= 5) return Stream(argv[2], argv[3], std::stoi(argv[4]), argc > 5 ? argv[5] : "");
    if (mode == "sequence" && argc >= 5) {
      return Sequence(argv[2], std::stoi(argv[3]), std::vector<std::string>(argv + 4, argv + argc));
    }
    if (mode == "loopback" && argc >= 4) return Loopback(std::stoull(argv[2]), std::stoi(argv[3]));
    if (mode == "post" && argc >= 7) return Post(argv[2], argv[3], argv[4], std::stoi(argv[5]), std::stoi(argv[6]));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: %s latency HOST:PORT TARGET N [ACCEPT] | stream HOST:PORT TARGET R [ACCEPT] |"
               " sequence HOST:PORT R [ACCEPT|]TARGET... | loopback BYTES R | post HOST:PORT TARGET FILE N C\n",
               argv[0]);
  return 2;
}
