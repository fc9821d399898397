#include "hl7/mllp.hpp"

#include <utility>  // Boost 1.74's asio needs std::exchange declared first

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
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

// One connection. Everything it does runs on its strand; one message at a time
// is with the handler, and the connection reads on only after its answer is sent.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(MllpServer::Impl& server, tcp::socket socket, std::string peer);
  void Start();
  void Close();
  tcp::socket::executor_type socket_executor() { return socket_.get_executor(); }

 private:
  void Read();
  void Process();
  void HandOver();
  void Answer(std::string ack, bool close_after);
  void Answered(bool close_after);
  void ArmIdleTimer();

  MllpServer::Impl& server_;
  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  const std::string peer_;
  std::array<char, 64 * 1024> chunk_;  // the last read: chunk_[pos_, filled_) is not parsed yet
  std::size_t filled_ = 0, pos_ = 0;
  std::string message_;   // the frame being read
  bool in_frame_ = false, oversized_ = false, closed_ = false;
  std::string out_;       // the answer being written
  std::size_t handled_ = 0;
  std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();
};

struct MllpServer::Impl {
  Impl(MllpOptions o, MessageHandler& h) : options(std::move(o)), handler(h) {}
  MllpOptions options;
  MessageHandler& handler;
  asio::io_context io;  // first: destroyed last, after everything that uses it
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::shared_ptr<spdlog::logger> log = Logger("mllp");
  std::mutex mutex;
  std::condition_variable replied;              // in_flight went down
  std::set<std::shared_ptr<Session>> sessions;  // open connections
  std::size_t in_flight = 0;                    // messages with the handler, not yet replied to
  bool stopping = false;

  void Accept();
};

Session::Session(MllpServer::Impl& server, tcp::socket socket, std::string peer)
    : server_(server), socket_(std::move(socket)), idle_timer_(socket_.get_executor()), peer_(std::move(peer)) {}

void Session::Start() {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);  // Answer writes without waiting
  ArmIdleTimer();
  Read();
}

void Session::ArmIdleTimer() {
  idle_timer_.expires_at(last_read_ + server_.options.idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code error) {
    if (error || self->closed_) return;
    if (std::chrono::steady_clock::now() - self->last_read_ >= self->server_.options.idle_timeout) {
      self->server_.log->debug("event=connection-idle peer={}", self->peer_);
      self->Close();
      return;
    }
    self->ArmIdleTimer();
  });
}

void Session::Read() {
  socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code error,
                                                                            std::size_t n) {
    if (error || self->closed_) {  // closed, reset or stopped
      self->Close();
      return;
    }
    self->last_read_ = std::chrono::steady_clock::now();
    self->filled_ = n;
    self->pos_ = 0;
    self->Process();
  });
}

// Parses what was read; hands a whole frame over, or reads on.
void Session::Process() {
  const std::size_t limit = server_.options.max_message_bytes;
  const std::string_view read(chunk_.data(), filled_);
  while (pos_ < read.size()) {
    if (!in_frame_) {  // bytes between frames (stray CR/LF) are ignored
      if (read[pos_++] == kStartBlock) {
        in_frame_ = true;
        oversized_ = false;
        message_.clear();
      }
      continue;
    }
    // Inside a frame, everything up to the next block character is the message.
    std::size_t end = read.find_first_of(std::string_view("\x0b\x1c", 2), pos_);
    if (end == std::string_view::npos) end = read.size();
    const std::size_t room = limit - message_.size();
    message_.append(read.substr(pos_, std::min(end - pos_, room)));
    if (end - pos_ > room) oversized_ = true;  // keep reading to the end block, answer once
    pos_ = end;
    if (pos_ == read.size()) break;
    if (read[pos_++] == kStartBlock) {  // a new frame before the end of the last: start again
      message_.clear();
      oversized_ = false;
      continue;
    }
    // The end block is followed by a carriage return; it may arrive in the next read.
    in_frame_ = false;
    HandOver();
    return;
  }
  Read();
}

void Session::HandOver() {
  {
    std::lock_guard lock(server_.mutex);
    ++server_.in_flight;
  }
  auto replied = std::make_shared<std::atomic<bool>>(false);
  MessageHandler::Reply reply = [self = shared_from_this(), replied, close = oversized_](std::string ack) {
    if (replied->exchange(true)) return;
    asio::post(self->socket_.get_executor(),
               [self, ack = std::move(ack), close]() mutable { self->Answer(std::move(ack), close); });
    std::lock_guard lock(self->server_.mutex);
    --self->server_.in_flight;
    self->server_.replied.notify_all();
  };
  try {
    if (oversized_) {
      server_.handler.Oversized(message_, server_.options.max_message_bytes, peer_, reply);
    } else {
      server_.handler.Handle(message_, peer_, reply);
    }
  } catch (const std::exception& e) {  // no answer can be built: close, the sender will retry
    server_.log->error("event=handler-failed reason=\"{}\" peer={}", e.what(), peer_);
    Close();
    if (!replied->exchange(true)) {
      std::lock_guard lock(server_.mutex);
      --server_.in_flight;
      server_.replied.notify_all();
    }
  }
}

// An answer nearly always fits the socket's send buffer: it is written at once,
// and only the rest, if any, by an asynchronous write, whose completion would
// otherwise pass through the scheduler (a lock, and often a wake-up of the
// other thread) for every message.
void Session::Answer(std::string ack, bool close_after) {
  if (closed_) return;
  out_ = Frame(ack);
  boost::system::error_code error;
  const std::size_t written = socket_.write_some(asio::buffer(out_), error);
  if (error && error != asio::error::would_block) {
    Close();
    return;
  }
  if (written == out_.size()) return Answered(close_after);
  asio::async_write(socket_, asio::buffer(out_) + written,
                    [self = shared_from_this(), close_after](boost::system::error_code error, std::size_t) {
                      if (error) return self->Close();
                      self->Answered(close_after);
                    });
}

void Session::Answered(bool close_after) {
  ++handled_;
  if (close_after) {
    server_.log->warn("event=frame-refused reason=\"over {} bytes\" peer={}", server_.options.max_message_bytes, peer_);
    Close();
    return;
  }
  Process();  // frames already read, or read on
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  server_.log->debug("event=connection-closed peer={} messages={}", peer_, handled_);
  std::lock_guard lock(server_.mutex);
  server_.sessions.erase(shared_from_this());
}

void MllpServer::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(io), [this](boost::system::error_code error, tcp::socket socket) {
    if (error) return;  // the acceptor was closed
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const auto remote = socket.remote_endpoint(ignored);
    std::string peer = ignored ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (sessions.size() >= options.max_connections) {
        log->warn("event=connection-refused reason=\"too many connections\" limit={}", options.max_connections);
        socket.close(ignored);
      } else {
        session = std::make_shared<Session>(*this, std::move(socket), std::move(peer));
        sessions.insert(session);
      }
    }
    if (session) asio::dispatch(session->socket_executor(), [session] { session->Start(); });
    Accept();
  });
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
  impl_->work.emplace(impl_->io.get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
  return port;
}

void MllpServer::Stop() {
  if (!impl_ || !impl_->acceptor) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
    std::set<std::shared_ptr<Session>> open;
    {
      std::lock_guard lock(impl_->mutex);
      open = impl_->sessions;
    }
    for (const auto& session : open) asio::post(session->socket_executor(), [session] { session->Close(); });
  });
  {
    // Every message handed over gets its reply before the loop may end.
    std::unique_lock lock(impl_->mutex);
    impl_->replied.wait(lock, [&] { return impl_->in_flight == 0; });
  }
  impl_->work.reset();  // the threads return once the connections are closed
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  impl_->acceptor.reset();
}

}  // namespace dx::hl7
