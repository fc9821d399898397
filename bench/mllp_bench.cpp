// HL7 v2 over MLLP load client for bench/results.sh: CONNECTIONS senders, each
// sending MESSAGES full blood counts (ORU^R01, one OBR and ten OBX) one after the
// other and waiting for each acknowledgement, as a laboratory system does.
// The patients' NHS numbers come in no order (Scatter).
// Prints messages per second and the acknowledgement latency (median, p99); exits
// non-zero if any acknowledgement is not AA.
//   dxhub_mllp_bench HOST:PORT CONNECTIONS MESSAGES
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string NhsNumber(long seed) {
  // Nine digits from the seed, then the Modulus 11 check digit (skipping seeds that give 10).
  while (true) {
    std::string digits = std::to_string(400000000 + seed % 500000000);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
    int check = 11 - sum % 11;
    if (check == 11) check = 0;
    if (check != 10) return digits + static_cast<char>('0' + check);
    ++seed;
  }
}

// Spreads consecutive seeds over the whole range (a multiplicative hash): a
// laboratory's results arrive for patients in no order, so the store's patient
// index is written at random places, as in production.
long Scatter(long seed) { return static_cast<long>((static_cast<unsigned long>(seed) * 2654435761UL) % 500000000UL); }

std::string Message(int connection, int index) {
  // Control id and order numbers from a running counter, as laboratory systems
  // number them: of one width, so that they sort in the order they were given.
  // (From 0, the widths change at 10, 100, 1,000 and 10,000, and each new number
  // sorts among the earlier ones: a random place in the store's indexes of ids.)
  const std::string id = "B" + std::to_string(connection) + "-" + std::to_string(1000000 + index);
  std::string m = "MSH|^~\\&|BENCHLAB|RBZ|GP|Y01234|20261120093000+0000||ORU^R01^ORU_R01|" + id + "|P|2.4\r";
  m += "PID|1||" + NhsNumber(Scatter(connection * 1000003L + index)) + "^^^NHS^NH||SMITH^JOHN||19600101|M\r";
  m += "PD1|||SURGERY^^Y01234\r";
  m += "OBR|1|P" + id + "|F" + id + "|26604007^Full blood count^SCT|||20261120080000+0000|||||||||||||||||HM|F\r";
  const char* const codes[] = {"718-7", "6690-2", "777-3", "789-8", "4544-3", "787-2", "785-6", "751-8", "731-0", "742-7"};
  for (int i = 0; i < 10; ++i) {
    m += "OBX|" + std::to_string(i + 1) + "|NM|" + codes[i] + "^Analyte^LN||" + std::to_string(100 + index % 50) +
         "|g/L|90-160|N|||F\r";
  }
  return "\x0b" + m + "\x1c\r";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s HOST:PORT CONNECTIONS MESSAGES\n", argv[0]);
    return 2;
  }
  const std::string target = argv[1];
  const std::string host = target.substr(0, target.rfind(':'));
  const int port = std::stoi(target.substr(target.rfind(':') + 1));
  const int connections = std::stoi(argv[2]), messages = std::stoi(argv[3]);
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(connections));
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<std::uint16_t>(port));
      ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        failures += messages;
        return;
      }
      char buffer[4096];
      for (int i = 0; i < messages; ++i) {
        const std::string framed = Message(c, i);
        const auto sent = Clock::now();
        if (::send(fd, framed.data(), framed.size(), 0) != static_cast<ssize_t>(framed.size())) {
          ++failures;
          break;
        }
        std::string ack;
        while (ack.size() < 2 || ack.substr(ack.size() - 2) != "\x1c\r") {
          const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
          if (n <= 0) break;
          ack.append(buffer, static_cast<std::size_t>(n));
        }
        latencies[static_cast<std::size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        if (ack.find("MSA|AA|") == std::string::npos) ++failures;
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto at = [&](double p) { return all.empty() ? 0.0 : all[static_cast<std::size_t>(p * (all.size() - 1) + 0.5)]; };
  std::printf("%d connections x %d messages: %.0f messages/s  ack median %.2f ms  p99 %.2f ms  (%d not AA)\n",
              connections, messages, static_cast<double>(all.size()) / seconds, at(0.5), at(0.99), failures.load());
  return failures.load() == 0 ? 0 : 1;
}
