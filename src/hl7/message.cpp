#include "hl7/message.hpp"

#include <cctype>

#include <fmt/format.h>

namespace dx::hl7 {

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

namespace {

bool ValidSegmentName(std::string_view name) {
  if (name.size() != 3) return false;
  for (char c : name) {
    if (!std::isupper(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The piece number `index` (1-based) of `text` split on `separator`, or "".
std::string_view Piece(std::string_view text, char separator, int index) {
  if (index < 1) return {};
  std::size_t start = 0;
  for (int i = 1; i < index; ++i) {
    const auto at = text.find(separator, start);
    if (at == std::string_view::npos) return {};
    start = at + 1;
  }
  const auto end = text.find(separator, start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Message> Message::Parse(std::string_view text) {
  // Leading blank lines (some senders pad) are not a segment.
  while (!text.empty() && (text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
  if (text.size() < 8 || text.substr(0, 3) != "MSH") {
    return Fail(ErrorCode::kInvalidInput, "an HL7 v2 message must start with an MSH segment");
  }
  Message message;
  Delimiters& d = message.delimiters_;
  d.field = text[3];
  const std::string_view encoding = text.substr(4, text.find_first_of(std::string{d.field, '\r', '\n'}, 4) - 4);
  if (encoding.size() < 3 || encoding.size() > 5) {
    return Fail(ErrorCode::kInvalidInput, "MSH-2 must hold the component, repetition and escape characters");
  }
  d.component = encoding[0];
  d.repetition = encoding[1];
  d.escape = encoding[2];
  d.subcomponent = encoding.size() > 3 ? encoding[3] : '&';
  std::string seen;
  for (char c : std::string{d.field, d.component, d.repetition, d.escape, d.subcomponent}) {
    if (c == '\r' || c == '\n' || std::isalnum(static_cast<unsigned char>(c)) || seen.find(c) != std::string::npos) {
      return Fail(ErrorCode::kInvalidInput, "MSH-1 and MSH-2 must be five different punctuation characters");
    }
    seen.push_back(c);
  }
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (end < text.size() && text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;  // \r\n
    if (line.empty()) continue;
    Segment segment;
    segment.name = std::string(line.substr(0, 3));
    if (!ValidSegmentName(segment.name) || (line.size() > 3 && line[3] != d.field)) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("segment {} does not start with a three-character name", message.segments_.size() + 1));
    }
    if (segment.name == "MSH") {
      if (!message.segments_.empty()) return Fail(ErrorCode::kInvalidInput, "a second MSH segment in one message");
      // MSH-1 is the field separator itself; MSH-2 the encoding characters.
      segment.fields.push_back("MSH");
      segment.fields.push_back(std::string(1, d.field));
      for (auto piece : Split(line.substr(4), d.field)) segment.fields.emplace_back(piece);
    } else {
      for (auto piece : Split(line, d.field)) segment.fields.emplace_back(piece);
    }
    message.segments_.push_back(std::move(segment));
  }
  return message;
}

const Segment* Message::Find(std::string_view name) const {
  for (const auto& segment : segments_) {
    if (segment.name == name) return &segment;
  }
  return nullptr;
}

std::string Message::Get(const Segment& segment, int field, int component, int repetition, int subcomponent) const {
  if (field < 1 || field >= static_cast<int>(segment.fields.size())) return {};
  const std::string& raw = segment.fields[static_cast<std::size_t>(field)];
  if (segment.name == "MSH" && field <= 2) return raw;  // the delimiters themselves
  std::string_view value = Piece(raw, delimiters_.repetition, repetition);
  value = Piece(value, delimiters_.component, component);
  value = Piece(value, delimiters_.subcomponent, subcomponent);
  return Unescape(value, delimiters_);
}

std::string Message::Get(std::string_view path) const {
  // SEG-field[(repetition)][.component[.subcomponent]]
  if (path.size() < 5 || path[3] != '-') return {};
  const Segment* segment = Find(path.substr(0, 3));
  if (!segment) return {};
  int numbers[4] = {0, 1, 1, 1};  // field, component, subcomponent, repetition
  std::size_t i = 4;
  auto read = [&](int& out) {
    int value = 0;
    bool any = false;
    while (i < path.size() && std::isdigit(static_cast<unsigned char>(path[i]))) {
      value = value * 10 + (path[i++] - '0');
      any = true;
    }
    if (any) out = value;
    return any;
  };
  if (!read(numbers[0])) return {};
  if (i < path.size() && path[i] == '(') {
    ++i;
    read(numbers[3]);
    if (i < path.size() && path[i] == ')') ++i;
  }
  if (i < path.size() && path[i] == '.') {
    ++i;
    read(numbers[1]);
  }
  if (i < path.size() && path[i] == '.') {
    ++i;
    read(numbers[2]);
  }
  return Get(*segment, numbers[0], numbers[1], numbers[3], numbers[2]);
}

int Message::Repetitions(const Segment& segment, int field) const {
  if (field < 1 || field >= static_cast<int>(segment.fields.size())) return 0;
  const std::string& raw = segment.fields[static_cast<std::size_t>(field)];
  if (raw.empty()) return 0;
  return static_cast<int>(Split(raw, delimiters_.repetition).size());
}

std::string Message::Encode() const {
  std::string out;
  for (const auto& segment : segments_) {
    if (segment.name == "MSH") {
      out += "MSH";
      out += delimiters_.field;
      for (std::size_t i = 2; i < segment.fields.size(); ++i) {
        if (i > 2) out += delimiters_.field;
        out += segment.fields[i];
      }
    } else {
      for (std::size_t i = 0; i < segment.fields.size(); ++i) {
        if (i) out += delimiters_.field;
        out += segment.fields[i];
      }
    }
    out += '\r';
  }
  return out;
}

std::string Escape(std::string_view text, const Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == d.escape) {
      out += {d.escape, 'E', d.escape};
    } else if (c == d.field) {
      out += {d.escape, 'F', d.escape};
    } else if (c == d.component) {
      out += {d.escape, 'S', d.escape};
    } else if (c == d.subcomponent) {
      out += {d.escape, 'T', d.escape};
    } else if (c == d.repetition) {
      out += {d.escape, 'R', d.escape};
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += d.escape;
      out += ".br";
      out += d.escape;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Unescape(std::string_view text, const Delimiters& d) {
  if (text.find(d.escape) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != d.escape) {
      out += text[i];
      continue;
    }
    const auto close = text.find(d.escape, i + 1);
    if (close == std::string_view::npos) {  // a lone escape character is kept as is
      out += text.substr(i);
      break;
    }
    const std::string_view code = text.substr(i + 1, close - i - 1);
    if (code == "F") {
      out += d.field;
    } else if (code == "S") {
      out += d.component;
    } else if (code == "T") {
      out += d.subcomponent;
    } else if (code == "R") {
      out += d.repetition;
    } else if (code == "E") {
      out += d.escape;
    } else if (code == ".br") {
      out += '\n';
    } else if (!code.empty() && code[0] == 'X' && code.size() % 2 == 1) {
      for (std::size_t h = 1; h + 1 < code.size(); h += 2) {
        const int hi = HexValue(code[h]), lo = HexValue(code[h + 1]);
        if (hi < 0 || lo < 0) break;
        out += static_cast<char>(hi * 16 + lo);
      }
    }  // other sequences (highlighting, character sets, .sp, .in ...) carry no text
    i = close;
  }
  return out;
}

}  // namespace dx::hl7
