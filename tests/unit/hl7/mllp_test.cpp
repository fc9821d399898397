#include "hl7/mllp.hpp"

#include <utility>  // Boost 1.74's asio needs std::exchange declared first

#include <poll.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <gtest/gtest.h>

namespace dx::hl7 {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers "ACK:<message>" at once, except a message "MSH|held": its reply is
// kept until the test sends it (as a handler that stores first does); and
// "MSH|big" gets an answer of kBigAnswer bytes. Counts calls.
class EchoHandler : public MessageHandler {
 public:
  void Handle(std::string_view message, const std::string&, Reply reply) override {
    ++handled;
    if (message == "MSH|held") {
      std::lock_guard lock(mutex);
      held = std::move(reply);
      return;
    }
    reply(message == "MSH|big" ? std::string(kBigAnswer, 'y') : "ACK:" + std::string(message));
  }
  static constexpr std::size_t kBigAnswer = 32u << 20;  // more than the socket buffers hold
  void Oversized(std::string_view, std::size_t limit, const std::string&, Reply reply) override {
    ++oversized;
    reply("TOO BIG " + std::to_string(limit));
  }
  // Sends the held reply from another thread, `delay` after the message arrived.
  std::thread ReleaseHeld(std::chrono::milliseconds delay = {}) {
    return std::thread([this, delay] {
      while (true) {
        {
          std::lock_guard lock(mutex);
          if (held) {
            std::this_thread::sleep_for(delay);
            released = true;
            held("ACK:MSH|held");
            return;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  std::atomic<int> handled{0}, oversized{0};
  std::atomic<bool> released{false};
  std::mutex mutex;
  Reply held;
};

class Mllp : public ::testing::Test {
 protected:
  void SetUp() override {
    MllpOptions options;
    options.max_message_bytes = 1000;
    server_ = std::make_unique<MllpServer>(options, handler_);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
  }
  tcp::socket Connect() {
    tcp::socket socket(io_);
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
    return socket;
  }
  // Reads one framed answer.
  static std::string ReadFrame(tcp::socket& socket) {
    std::string data;
    char c;
    while (asio::read(socket, asio::buffer(&c, 1))) {
      data += c;
      if (data.size() >= 2 && data[data.size() - 2] == '\x1c' && data.back() == '\r') break;
    }
    EXPECT_EQ(data.front(), '\x0b');
    return data.substr(1, data.size() - 3);
  }
  asio::io_context io_;
  EchoHandler handler_;
  std::unique_ptr<MllpServer> server_;
  int port_ = 0;
};

TEST_F(Mllp, SeveralMessagesOnOneConnectionEachGetItsAnswer) {
  auto socket = Connect();
  asio::write(socket, asio::buffer(Frame("MSH|one") + Frame("MSH|two")));
  EXPECT_EQ(ReadFrame(socket), "ACK:MSH|one");
  EXPECT_EQ(ReadFrame(socket), "ACK:MSH|two");
  asio::write(socket, asio::buffer(Frame("MSH|three")));
  EXPECT_EQ(ReadFrame(socket), "ACK:MSH|three");
}

TEST_F(Mllp, AFrameSplitAcrossWritesIsReassembled) {
  auto socket = Connect();
  const std::string framed = "\r\n" + Frame("MSH|split message");  // noise between frames is ignored
  for (char c : framed) {
    asio::write(socket, asio::buffer(&c, 1));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_EQ(ReadFrame(socket), "ACK:MSH|split message");
}

TEST_F(Mllp, ConnectionsAreServedConcurrently) {
  std::vector<std::thread> clients;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      asio::io_context io;
      tcp::socket socket(io);
      socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
      for (int i = 0; i < 20; ++i) {
        const std::string body = "MSH|" + std::to_string(t) + "-" + std::to_string(i);
        asio::write(socket, asio::buffer(Frame(body)));
        if (ReadFrame(socket) == "ACK:" + body) ++good;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(good.load(), 160);
  EXPECT_EQ(handler_.handled.load(), 160);
}

TEST_F(Mllp, AConnectionWaitingForItsReplyHoldsUpNoOther) {
  auto waiting = Connect();
  asio::write(waiting, asio::buffer(Frame("MSH|held") + Frame("MSH|after held")));
  auto other = Connect();
  for (int i = 0; i < 5; ++i) {
    asio::write(other, asio::buffer(Frame("MSH|other " + std::to_string(i))));
    EXPECT_EQ(ReadFrame(other), "ACK:MSH|other " + std::to_string(i));
  }
  EXPECT_EQ(handler_.handled.load(), 6);  // the message after the held one waits its turn
  auto release = handler_.ReleaseHeld();
  EXPECT_EQ(ReadFrame(waiting), "ACK:MSH|held");  // answers go out in order
  EXPECT_EQ(ReadFrame(waiting), "ACK:MSH|after held");
  release.join();
}

TEST_F(Mllp, StopWaitsForAReplyStillOwed) {
  auto socket = Connect();
  asio::write(socket, asio::buffer(Frame("MSH|held")));
  while (handler_.handled.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto release = handler_.ReleaseHeld(std::chrono::milliseconds(200));
  server_->Stop();  // a reply after Stop returned would reach a listener that is gone
  EXPECT_TRUE(handler_.released.load());
  release.join();
}

// An answer the socket cannot take at once is written in parts, whole and in
// order, and the connection goes on.
TEST_F(Mllp, AnAnswerLargerThanTheSocketBuffersArrivesWhole) {
  auto socket = Connect();
  asio::write(socket, asio::buffer(Frame("MSH|big") + Frame("MSH|next")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server's send buffer fills
  std::string data;
  // Reads until `data` has `size` bytes; false if nothing comes for 10 s.
  auto read_until = [&](std::size_t size) {
    std::vector<char> chunk(1 << 16);
    while (data.size() < size) {
      pollfd wait{socket.native_handle(), POLLIN, 0};
      if (::poll(&wait, 1, 10000) != 1) return false;
      data.append(chunk.data(), socket.read_some(asio::buffer(chunk)));
    }
    return true;
  };
  const std::size_t big_frame = EchoHandler::kBigAnswer + 3;
  ASSERT_TRUE(read_until(big_frame)) << "only " << data.size() << " bytes of " << big_frame;
  EXPECT_EQ(data.substr(0, 2), "\x0by");
  EXPECT_EQ(data.find_first_not_of('y', 1), EchoHandler::kBigAnswer + 1);
  EXPECT_EQ(data.substr(EchoHandler::kBigAnswer + 1, 2), "\x1c\r");
  data.erase(0, big_frame);
  ASSERT_TRUE(read_until(Frame("ACK:MSH|next").size()));
  EXPECT_EQ(data, Frame("ACK:MSH|next"));
}

TEST_F(Mllp, AFrameOfExactlyTheLimitIsAccepted) {
  auto socket = Connect();
  const std::string body = "MSH|" + std::string(996, 'x');  // 1000 bytes
  asio::write(socket, asio::buffer(Frame(body)));
  EXPECT_EQ(ReadFrame(socket), "ACK:" + body);
  EXPECT_EQ(handler_.oversized.load(), 0);
}

TEST_F(Mllp, AStartBlockInsideAFrameStartsTheMessageAgain) {
  auto socket = Connect();
  // A sender that gave up half way and started over: only the second message counts.
  asio::write(socket, asio::buffer("\x0bMSH|abandoned" + Frame("MSH|whole")));
  EXPECT_EQ(ReadFrame(socket), "ACK:MSH|whole");
  EXPECT_EQ(handler_.handled.load(), 1);
}

TEST_F(Mllp, AnOversizedFrameIsAnsweredAndTheConnectionClosed) {
  auto socket = Connect();
  asio::write(socket, asio::buffer(Frame("MSH|" + std::string(5000, 'x'))));
  EXPECT_EQ(ReadFrame(socket), "TOO BIG 1000");
  EXPECT_EQ(handler_.handled.load(), 0);
  EXPECT_EQ(handler_.oversized.load(), 1);
  char c;
  boost::system::error_code error;
  asio::read(socket, asio::buffer(&c, 1), error);
  EXPECT_TRUE(error);  // closed by the server
  auto next = Connect();  // and the listener still serves others
  asio::write(next, asio::buffer(Frame("MSH|after")));
  EXPECT_EQ(ReadFrame(next), "ACK:MSH|after");
}

TEST_F(Mllp, StopClosesOpenConnections) {
  auto socket = Connect();
  asio::write(socket, asio::buffer(Frame("MSH|x")));
  EXPECT_EQ(ReadFrame(socket), "ACK:MSH|x");
  server_->Stop();
  char c;
  boost::system::error_code error;
  asio::read(socket, asio::buffer(&c, 1), error);
  EXPECT_TRUE(error);
}

}  // namespace
}  // namespace dx::hl7
