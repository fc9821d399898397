// MLLP listener (HL7 v2 Minimal Lower Layer Protocol: 0x0B, message, 0x1C 0x0D):
// concurrent connections, several messages per connection, frames split across
// reads, a frame size limit and an idle timeout. Each message goes to the
// handler, whose answer (the ACK) is sent only when it returns, so a handler
// that stores durably before returning never acknowledges what it could lose.
// Messages are never logged; only counts and peers are.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace dx::hl7 {

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // The acknowledgement for one framed message (parse it, store it, answer).
  // Called from several threads at once.
  virtual std::string Handle(std::string_view message, const std::string& peer) = 0;
  // The acknowledgement for a frame over the size limit; `start` is its first bytes.
  virtual std::string Oversized(std::string_view start, std::size_t limit, const std::string& peer) = 0;
};

struct MllpOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;                                   // 0 picks a free port
  std::size_t max_message_bytes = 1u << 20;       // larger frames are refused (the connection closes)
  std::chrono::seconds idle_timeout{300};         // a silent connection is closed
  std::size_t max_connections = 256;
};

class MllpServer {
 public:
  MllpServer(MllpOptions options, MessageHandler& handler);
  ~MllpServer();
  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;

  // Binds and starts accepting; returns the bound port.
  Result<int> Start();
  // Stops accepting, closes connections and waits for their threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Frames a message for sending.
std::string Frame(std::string_view message);

}  // namespace dx::hl7
