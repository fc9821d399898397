// Content checksums for blobs (SHA-256, hex). Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dx {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, std::size_t size);
  std::string HexDigest();  // ends the computation

 private:
  void* context_;
};

std::string Sha256Hex(std::string_view data);

}  // namespace dx
