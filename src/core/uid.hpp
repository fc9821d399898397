// DICOM UID checks and generation (PS3.5 §9.1), and random UUIDs. Generation
// is thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dx {

// True when `uid` is 1..64 chars of digit components separated by single dots,
// with no leading zero in a multi-digit component (PS3.5 §9.1).
bool IsValidUid(std::string_view uid);

// A fresh UID under dxhub's 2.25 (UUID-derived) root (PS3.5 §B.2).
std::string GenerateUid();

// A random (version 4) UUID in its lower-case 8-4-4-4-12 text form (RFC 9562).
std::string GenerateUuid();

}  // namespace dx
