#include "dicom/json_model.hpp"

#include <fmt/format.h>

namespace dx::dicom {
namespace {

bool IsIntegerVr(const std::string& vr) {
  return vr == "IS" || vr == "SS" || vr == "US" || vr == "SL" || vr == "UL" || vr == "SV" || vr == "UV";
}

bool IsDecimalVr(const std::string& vr) { return vr == "DS" || vr == "FL" || vr == "FD"; }

void AppendEscaped(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: copied when well formed (RFC 3629), else U+FFFD.
    std::size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (c > 0xF4) length = 0;
    bool valid = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (valid && length >= 3) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) || (c == 0xF0 && second < 0x90) ||
          (c == 0xF4 && second > 0x8F)) {
        valid = false;  // overlong, surrogate or beyond U+10FFFF
      }
    }
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out.push_back('"');
}

}  // namespace

void AppendDicomJson(const Attributes& attributes, std::string& out) {
  static constexpr char kHexUpper[] = "0123456789ABCDEF";
  out.push_back('{');
  bool first_element = true;
  for (const auto& element : attributes.elements()) {
    if (!first_element) out.push_back(',');
    first_element = false;
    out.push_back('"');
    for (std::uint32_t key = element.tag.Key(), shift = 28;; shift -= 4) {
      out.push_back(kHexUpper[(key >> shift) & 0xF]);
      if (shift == 0) break;
    }
    out += "\":{";
    const std::string& vr = element.vr.empty() ? std::string("UN") : element.vr;
    if (!element.value.empty() && vr != "SQ") {
      out += "\"Value\":[";
      bool first_value = true;
      for (const auto& part : SplitValues(element.value)) {
        if (!first_value) out.push_back(',');
        first_value = false;
        if (vr == "PN") {
          if (part.empty()) {
            out += "null";
          } else {
            out += "{\"Alphabetic\":";
            AppendEscaped(part, out);
            out.push_back('}');
          }
        } else if (IsIntegerVr(vr) || IsDecimalVr(vr)) {
          try {
            std::size_t used = 0;
            if (IsIntegerVr(vr)) {
              out += std::to_string(std::stoll(part, &used));
            } else {
              out += nlohmann::json(std::stod(part, &used)).dump();
            }
          } catch (const std::exception&) {
            out += "null";
          }
        } else {
          AppendEscaped(part, out);
        }
      }
      out += "],";
    } else if (vr == "SQ" && !element.items.empty()) {
      out += "\"Value\":[";
      for (std::size_t i = 0; i < element.items.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendDicomJson(element.items[i], out);
      }
      out += "],";
    }
    out += "\"vr\":";
    AppendEscaped(vr, out);
    out.push_back('}');
  }
  out.push_back('}');
}

nlohmann::json ToDicomJson(const Attributes& attributes) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& element : attributes.elements()) {
    nlohmann::json entry{{"vr", element.vr.empty() ? "UN" : element.vr}};
    if (!element.value.empty() && element.vr != "SQ") {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& part : SplitValues(element.value)) {
        if (element.vr == "PN") {
          values.push_back(part.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"Alphabetic", part}});
        } else if (IsIntegerVr(element.vr) || IsDecimalVr(element.vr)) {
          try {
            std::size_t used = 0;
            if (IsIntegerVr(element.vr)) {
              long long number = std::stoll(part, &used);
              values.push_back(number);
            } else {
              double number = std::stod(part, &used);
              values.push_back(number);
            }
          } catch (const std::exception&) {
            values.push_back(nullptr);
          }
        } else {
          values.push_back(part);
        }
      }
      entry["Value"] = std::move(values);
    } else if (element.vr == "SQ" && !element.items.empty()) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& item : element.items) items.push_back(ToDicomJson(item));
      entry["Value"] = std::move(items);
    }
    object[fmt::format("{:04X}{:04X}", element.tag.group, element.tag.element)] = std::move(entry);
  }
  return object;
}

}  // namespace dx::dicom
