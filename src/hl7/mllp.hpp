// MLLP listener (HL7 v2 Minimal Lower Layer Protocol: 0x0B, message, 0x1C 0x0D):
// concurrent connections, several messages per connection, frames split across
// reads, a frame size limit and an idle timeout. Connections are served by an
// event loop on a few threads, not a thread each. Each message goes to the
// handler, whose answer (the ACK) is sent only when the handler replies, so a
// handler that replies once it has stored durably never acknowledges what it
// could lose. One message per connection is with the handler at a time, so
// answers go out in order. Messages are never logged; only counts and peers are.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace dx::hl7 {

class MessageHandler {
 public:
  // Sends the acknowledgement; call it once, from any thread.
  using Reply = std::function<void(std::string ack)>;
  virtual ~MessageHandler() = default;
  // Answers one framed message (parse it, store it, reply). Called on the
  // listener's threads, several at once: it must not wait for the disk or the
  // network, but hand such work on and reply when it is done.
  virtual void Handle(std::string_view message, const std::string& peer, Reply reply) = 0;
  // Answers a frame over the size limit; `start` is its first bytes.
  virtual void Oversized(std::string_view start, std::size_t limit, const std::string& peer, Reply reply) = 0;
};

struct MllpOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;                                   // 0 picks a free port
  std::size_t max_message_bytes = 1u << 20;       // larger frames are refused (the connection closes)
  std::chrono::seconds idle_timeout{300};         // a silent connection is closed
  std::size_t max_connections = 256;
  int threads = 2;                                // event-loop threads
};

class Session;

class MllpServer {
 public:
  MllpServer(MllpOptions options, MessageHandler& handler);
  ~MllpServer();
  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;

  // Binds and starts accepting; returns the bound port.
  Result<int> Start();
  // Stops accepting, closes connections, and returns once every message handed
  // to the handler has had its reply.
  void Stop();

 private:
  struct Impl;
  friend class Session;
  std::unique_ptr<Impl> impl_;
};

// Frames a message for sending.
std::string Frame(std::string_view message);

}  // namespace dx::hl7
