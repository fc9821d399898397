#include "core/nhs_number.hpp"

namespace dx {

std::optional<std::string> NormalizeNhsNumber(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ' ' && c != '-') {
      return std::nullopt;
    }
  }
  if (digits.size() != 10) return std::nullopt;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
  int check = 11 - (sum % 11);
  if (check == 11) check = 0;
  if (check == 10) return std::nullopt;
  if (check != digits[9] - '0') return std::nullopt;
  return digits;
}

bool IsValidNhsNumber(std::string_view text) { return NormalizeNhsNumber(text).has_value(); }

}  // namespace dx
