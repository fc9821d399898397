#include "core/uid.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>

namespace dx {

bool IsValidUid(std::string_view uid) {
  if (uid.empty() || uid.size() > 64) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = uid.find('.', start);
    std::string_view part = uid.substr(start, dot == std::string_view::npos ? uid.npos : dot - start);
    if (part.empty()) return false;
    if (part.size() > 1 && part[0] == '0') return false;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

namespace {

// 16 random bytes shaped as a version 4 UUID (RFC 9562 §5.4).
void RandomUuidBytes(unsigned char (&bytes)[16]) {
  RAND_bytes(bytes, sizeof bytes);
  bytes[6] = (bytes[6] & 0x0F) | 0x40;
  bytes[8] = (bytes[8] & 0x3F) | 0x80;
}

}  // namespace

std::string GenerateUuid() {
  unsigned char bytes[16];
  RandomUuidBytes(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0F]);
  }
  return out;
}

std::string GenerateUid() {
  unsigned char bytes[16];
  RandomUuidBytes(bytes);
  // Decimal of the 128-bit value, by repeated division.
  std::string decimal;
  std::uint32_t words[4];
  for (int i = 0; i < 4; ++i) {
    words[i] = (std::uint32_t(bytes[4 * i]) << 24) | (std::uint32_t(bytes[4 * i + 1]) << 16) |
               (std::uint32_t(bytes[4 * i + 2]) << 8) | bytes[4 * i + 3];
  }
  while (words[0] || words[1] || words[2] || words[3]) {
    std::uint64_t remainder = 0;
    for (auto& w : words) {
      std::uint64_t current = (remainder << 32) | w;
      w = static_cast<std::uint32_t>(current / 10);
      remainder = current % 10;
    }
    decimal.push_back(static_cast<char>('0' + remainder));
  }
  if (decimal.empty()) decimal = "0";
  std::reverse(decimal.begin(), decimal.end());
  return "2.25." + decimal;
}

}  // namespace dx
