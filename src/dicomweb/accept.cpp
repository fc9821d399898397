#include "dicomweb/accept.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace dx::dicomweb {
namespace {

std::string Trim(std::string text) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

std::string Lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Unquote(std::string text) {
  text = Trim(std::move(text));
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  return text;
}

// Splits on `separator` outside double quotes.
std::vector<std::string> SplitOutsideQuotes(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string current;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (c == separator && !quoted) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(current);
  return parts;
}

}  // namespace

std::optional<DicomAccept> NegotiateDicom(const std::string& accept) {
  if (Trim(accept).empty()) return DicomAccept{false, {kExplicitLittleEndian}};
  DicomAccept result;
  bool acceptable = false;
  for (const auto& range : SplitOutsideQuotes(accept, ',')) {
    auto fields = SplitOutsideQuotes(range, ';');
    const std::string media = Lower(Trim(fields[0]));
    std::string type, syntax;
    double quality = 1.0;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const auto eq = fields[i].find('=');
      if (eq == std::string::npos) continue;
      const std::string name = Lower(Trim(fields[i].substr(0, eq)));
      const std::string value = Unquote(fields[i].substr(eq + 1));
      if (name == "type") type = Lower(value);
      if (name == "transfer-syntax") syntax = value;
      if (name == "q") {
        try {
          quality = std::stod(value);
        } catch (const std::exception&) {
          quality = 0;
        }
      }
    }
    if (quality <= 0) continue;
    const bool dicom_parts = (media == "multipart/related" && (type.empty() || type == "application/dicom")) ||
                             media == "*/*" || media == "multipart/*" || media == "application/dicom";
    if (!dicom_parts) continue;
    acceptable = true;
    if (syntax == "*") {
      result.any_syntax = true;
    } else {
      result.syntaxes.insert(syntax.empty() ? kExplicitLittleEndian : syntax);
    }
  }
  if (!acceptable) return std::nullopt;
  return result;
}

}  // namespace dx::dicomweb
