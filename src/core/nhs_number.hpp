// NHS number validation (NHS Data Dictionary: 10 digits, Modulus 11 check digit).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dx {

// True when `text` (spaces and hyphens allowed between digits) is a valid
// NHS number: 10 digits, check digit by Modulus 11, not 10 after the check.
bool IsValidNhsNumber(std::string_view text);

// The 10 digits of a valid NHS number with separators removed, or nullopt.
std::optional<std::string> NormalizeNhsNumber(std::string_view text);

}  // namespace dx
