// Resource JSON as the SQLite result store keeps it: an LZ4 block compressed
// against a dictionary built into dxhub, so that a stored full blood count's
// eleven resources take about a fifth of the bytes, which SQLite writes twice
// (to the WAL, then to the database file). Values stored as TEXT are plain JSON,
// as written before packing existed, and are read as they are. A JsonPacker is
// used by one thread at a time; UnpackJson is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace dx::storage::sqlite {

// The first byte of a packed value: LZ4 with dictionary 1 (packed_json.cpp). A
// different dictionary would take a new byte, and readers keep every earlier one.
inline constexpr char kPackedFormat = 1;

// Compresses resource JSON into the stored form: kPackedFormat, the JSON's length
// (4 bytes, little-endian), then one LZ4 block. kStorage error past SQLite's
// largest value.
class JsonPacker {
 public:
  JsonPacker();
  ~JsonPacker();
  JsonPacker(const JsonPacker&) = delete;
  JsonPacker& operator=(const JsonPacker&) = delete;
  Result<std::string> Pack(std::string_view json);

 private:
  struct Streams;
  std::unique_ptr<Streams> streams_;  // the dictionary loaded once, and a working copy
};

// The JSON a JsonPacker packed; kStorage error for a value of an unknown format or
// one that is damaged (wrong length, bad block).
Result<std::string> UnpackJson(std::string_view packed);

}  // namespace dx::storage::sqlite
