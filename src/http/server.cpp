#include "http/server.hpp"

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/logging.hpp"

namespace dx::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(text[i + 1]) && std::isxdigit(text[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Request ToRequest(const bhttp::request<bhttp::string_body>& in) {
  Request request;
  request.method = std::string(in.method_string());
  request.target = std::string(in.target());
  const auto question = request.target.find('?');
  request.path = PercentDecode(request.target.substr(0, question));
  if (question != std::string::npos) {
    std::string_view query(request.target);
    query.remove_prefix(question + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      auto eq = pair.find('=');
      request.query.emplace(PercentDecode(pair.substr(0, eq)),
                            eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(c));
    request.headers[name] = std::string(field.value());
  }
  request.body = in.body();
  return request;
}

// Sends the header, then each piece the stream produces as one chunk.
bool WriteStreamed(tcp::socket& socket, Response& response, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::empty_body> header{static_cast<bhttp::status>(response.status), version};
  header.set(bhttp::field::server, "dxhub");
  header.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) header.set(name, value);
  header.keep_alive(keep_alive);
  header.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> serializer{header};
  beast::error_code error;
  bhttp::write_header(socket, serializer, error);
  if (error) return false;
  const bool complete = response.stream([&](std::string_view piece) {
    if (piece.empty()) return true;
    asio::write(socket, bhttp::make_chunk(asio::buffer(piece.data(), piece.size())), error);
    return !error;
  });
  if (!complete || error) return false;  // the client sees a truncated chunked body
  asio::write(socket, bhttp::make_chunk_last(), error);
  return !error;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, const Router& r) : options(std::move(o)), router(r) {}
  ServerOptions options;
  const Router& router;
  asio::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::shared_ptr<spdlog::logger> log = Logger("http");
  // Open connections, so Stop can shut them down and wait for their threads.
  std::mutex sessions_mutex;
  std::condition_variable sessions_done;
  std::set<tcp::socket*> sessions;
  bool stopping = false;

  void Accept();
  void Session(tcp::socket& socket);
};

void Server::Impl::Accept() {
  acceptor->async_accept([this](beast::error_code error, tcp::socket socket) {
    if (error) return;  // acceptor closed
    socket.set_option(tcp::no_delay(true));
    {
      std::lock_guard lock(sessions_mutex);
      if (sessions.size() >= options.max_connections) {
        static constexpr char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nConnection: close\r\n"
            "Retry-After: 1\r\nContent-Length: 51\r\n\r\n{\"status\":503,\"detail\":\"too many open connections\"}";
        beast::error_code ignored;
        asio::write(socket, asio::buffer(kBusy, sizeof kBusy - 1), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        log->warn("event=connection-refused reason=\"too many open connections\" limit={}", options.max_connections);
        Accept();
        return;
      }
    }
    // Each connection runs synchronously on its own thread: simple, and enough
    // for the status endpoints; streaming services bring their own strands.
    std::thread([this, s = std::move(socket)]() mutable {
      {
        std::lock_guard lock(sessions_mutex);
        if (stopping) return;
        sessions.insert(&s);
      }
      Session(s);
      std::lock_guard lock(sessions_mutex);
      sessions.erase(&s);
      sessions_done.notify_all();
    }).detach();
    Accept();
  });
}

void Server::Impl::Session(tcp::socket& socket) {
  beast::flat_buffer buffer;
  beast::error_code error;
  while (true) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    bhttp::read(socket, buffer, parser, error);
    if (error == bhttp::error::end_of_stream || error == asio::error::eof || error == asio::error::connection_reset) break;
    Response response;
    bool keep_alive = false;
    unsigned version = 11;
    if (error == bhttp::error::body_limit) {
      response = Response::Problem(413, "request body exceeds the configured limit");
    } else if (error) {
      response = Response::Problem(400, "malformed HTTP request: " + error.message());
    } else {
      auto& in = parser.get();
      keep_alive = in.keep_alive();
      version = in.version();
      try {
        response = router.Dispatch(ToRequest(in));
      } catch (const Error& e) {
        response = Response::Problem(HttpStatus(e.code()), e.what());
        // Messages may name studies or patients: only server faults are logged above debug.
        if (response.status >= 500) {
          log->error("event=request-failed code={}", ToString(e.code()));
        } else {
          log->debug("event=request-refused code={} reason=\"{}\"", ToString(e.code()), e.what());
        }
      } catch (const std::exception& e) {
        response = Response::Problem(500, "internal error");
        log->error("event=request-failed reason=\"{}\"", e.what());
      }
      if (in.method() == bhttp::verb::head) response.body.clear();
    }
    if (response.stream && version >= 11) {
      if (!WriteStreamed(socket, response, version, keep_alive)) break;
      if (!keep_alive) break;
      continue;
    }
    if (response.stream) {  // HTTP/1.0 has no chunked coding: collect the body
      response.stream([&](std::string_view piece) {
        response.body.append(piece);
        return true;
      });
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), version};
    out.set(bhttp::field::server, "dxhub");
    out.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    bhttp::write(socket, out, error);
    if (error || !keep_alive) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, error);
}

Server::Server(ServerOptions options, const Router& router) : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() { Stop(); }

Result<int> Server::Start() {
  beast::error_code error;
  auto address = asio::ip::make_address(impl_->options.bind_address, error);
  if (error) return Fail(ErrorCode::kInvalidInput, "bad bind address " + impl_->options.bind_address);
  impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->options.port));
  impl_->acceptor->open(endpoint.protocol(), error);
  if (!error) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), error);
  if (!error) impl_->acceptor->bind(endpoint, error);
  if (!error) impl_->acceptor->listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Fail(ErrorCode::kUnavailable,
                "cannot listen on HTTP port " + std::to_string(impl_->options.port) + ": " + error.message());
  }
  const int port = impl_->acceptor->local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return port;
}

void Server::Stop() {
  if (!impl_ || !impl_->acceptor) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  impl_->io.stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  std::unique_lock lock(impl_->sessions_mutex);
  impl_->stopping = true;
  for (auto* socket : impl_->sessions) {
    beast::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_both, ignored);
  }
  impl_->sessions_done.wait(lock, [&] { return impl_->sessions.empty(); });
  lock.unlock();
  impl_->acceptor.reset();
}

}  // namespace dx::http
