#include "hl7/mllp.hpp"

#include <utility>  // Boost 1.74's asio needs std::exchange declared first

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "core/logging.hpp"

namespace dx::hl7 {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr char kStartBlock = 0x0B;
constexpr char kEndBlock = 0x1C;
constexpr char kCarriageReturn = 0x0D;
}  // namespace

std::string Frame(std::string_view message) {
  std::string framed;
  framed.reserve(message.size() + 3);
  framed += kStartBlock;
  framed.append(message);
  framed += kEndBlock;
  framed += kCarriageReturn;
  return framed;
}

struct MllpServer::Impl {
  Impl(MllpOptions o, MessageHandler& h) : options(std::move(o)), handler(h) {}
  MllpOptions options;
  MessageHandler& handler;
  asio::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread accept_thread;
  std::shared_ptr<spdlog::logger> log = Logger("mllp");
  std::mutex mutex;
  std::condition_variable sessions_done;
  std::set<int> sessions;  // native handles of open connections
  bool stopping = false;

  void Accept();
  void Session(tcp::socket socket);
};

void MllpServer::Impl::Accept() {
  acceptor->async_accept([this](boost::system::error_code error, tcp::socket socket) {
    if (error) return;
    socket.set_option(tcp::no_delay(true));
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (sessions.size() >= options.max_connections) {
        log->warn("event=connection-refused reason=\"too many connections\" limit={}", options.max_connections);
        boost::system::error_code ignored;
        socket.close(ignored);
        Accept();
        return;
      }
      sessions.insert(socket.native_handle());
    }
    std::thread([this, s = std::move(socket)]() mutable {
      const int handle = s.native_handle();
      Session(std::move(s));
      std::lock_guard lock(mutex);
      sessions.erase(handle);
      sessions_done.notify_all();
    }).detach();
    Accept();
  });
}

void MllpServer::Impl::Session(tcp::socket socket) {
  boost::system::error_code error;
  const auto remote = socket.remote_endpoint(error);
  const std::string peer = error ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
  // The idle timeout, as a receive timeout on the socket: a read that waits longer fails.
  timeval timeout{static_cast<time_t>(options.idle_timeout.count()), 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string buffer, message;
  bool in_frame = false, oversized = false;
  std::size_t handled = 0;
  char chunk[64 * 1024];
  while (true) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), error);
    if (error) break;  // closed, reset, timed out or stopped
    std::size_t i = 0;
    while (i < n) {
      if (!in_frame) {  // bytes between frames (stray CR/LF) are ignored
        if (chunk[i++] == kStartBlock) {
          in_frame = true;
          oversized = false;
          message.clear();
        }
        continue;
      }
      // Inside a frame, everything up to the next block character is the message.
      std::size_t end = i;
      while (end < n && chunk[end] != kEndBlock && chunk[end] != kStartBlock) ++end;
      const std::size_t room = options.max_message_bytes - message.size();
      message.append(chunk + i, std::min(end - i, room));
      if (end - i > room) oversized = true;  // keep reading to the end block, answer once
      i = end;
      if (i == n) break;
      if (chunk[i++] == kStartBlock) {  // a new frame before the end of the last: start again
        message.clear();
        oversized = false;
        continue;
      }
      // The end block is followed by a carriage return; it may arrive in the next read.
      in_frame = false;
      std::string ack;
      try {
        ack = oversized ? handler.Oversized(message, options.max_message_bytes, peer) : handler.Handle(message, peer);
      } catch (const std::exception& e) {  // no answer can be built: close, the sender will retry
        log->error("event=handler-failed reason=\"{}\" peer={}", e.what(), peer);
        socket.shutdown(tcp::socket::shutdown_both, error);
        return;
      }
      asio::write(socket, asio::buffer(Frame(ack)), error);
      if (error) break;
      ++handled;
      if (oversized) {
        socket.shutdown(tcp::socket::shutdown_both, error);
        log->warn("event=frame-refused reason=\"over {} bytes\" peer={}", options.max_message_bytes, peer);
        return;
      }
    }
    if (error) break;
  }
  log->debug("event=connection-closed peer={} messages={}", peer, handled);
  socket.shutdown(tcp::socket::shutdown_both, error);
}

MllpServer::MllpServer(MllpOptions options, MessageHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

MllpServer::~MllpServer() { Stop(); }

Result<int> MllpServer::Start() {
  boost::system::error_code error;
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
                "cannot listen on MLLP port " + std::to_string(impl_->options.port) + ": " + error.message());
  }
  const int port = impl_->acceptor->local_endpoint().port();
  impl_->Accept();
  impl_->accept_thread = std::thread([this] { impl_->io.run(); });
  return port;
}

void MllpServer::Stop() {
  if (!impl_ || !impl_->acceptor) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  impl_->io.stop();
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::unique_lock lock(impl_->mutex);
  impl_->stopping = true;
  for (int handle : impl_->sessions) ::shutdown(handle, SHUT_RDWR);
  impl_->sessions_done.wait(lock, [&] { return impl_->sessions.empty(); });
  lock.unlock();
  impl_->acceptor.reset();
}

}  // namespace dx::hl7
