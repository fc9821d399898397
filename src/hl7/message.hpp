// HL7 v2 messages (v2.3 to v2.5.1): parsing, reading by position, escaping and
// writing. Delimiters come from MSH-1 and MSH-2; segments may end in \r, \n or
// \r\n. Fields are kept as received (escaped) and decoded when read, so a message
// can be written back unchanged. Debian packages no C++ HL7 library, hence this
// small one (fuzzed: tests/fuzz/). Values are immutable once parsed; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace dx::hl7 {

struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

struct Segment {
  std::string name;                 // "MSH", "PID", "OBX", ...
  std::vector<std::string> fields;  // fields[i] is field i (1-based; fields[0] is the name), escaped
};

class Message {
 public:
  // Parses `text`; kInvalidInput naming what is wrong (no MSH first, bad
  // delimiters, a malformed segment name).
  static Result<Message> Parse(std::string_view text);

  const std::vector<Segment>& segments() const { return segments_; }
  const Delimiters& delimiters() const { return delimiters_; }

  // The first segment called `name`, or nullptr.
  const Segment* Find(std::string_view name) const;

  // A value by position, decoded: field `field` (1-based; for MSH, MSH-1 is the
  // field separator), repetition, component and subcomponent (1-based). Empty when absent.
  std::string Get(const Segment& segment, int field, int component = 1, int repetition = 1,
                  int subcomponent = 1) const;
  // The same by terser path in the first such segment: "PID-3", "MSH-9.2", "PID-3(2).4".
  std::string Get(std::string_view path) const;
  // Number of repetitions of a field (0 when empty).
  int Repetitions(const Segment& segment, int field) const;

  // The message with \r after each segment, as it would be sent.
  std::string Encode() const;

 private:
  Delimiters delimiters_;
  std::vector<Segment> segments_;
};

// Escapes the delimiters in `text` (and turns line breaks into \.br\) for a field value.
std::string Escape(std::string_view text, const Delimiters& delimiters = {});
// Decodes escape sequences: \F\ \S\ \T\ \R\ \E\, \.br\ as a line break, \Xhh..\ as
// bytes; formatting sequences it does not render (\H\ \N\ \.sp\ ...) are dropped.
std::string Unescape(std::string_view text, const Delimiters& delimiters = {});

// Splits raw text on `separator`.
std::vector<std::string_view> Split(std::string_view text, char separator);

}  // namespace dx::hl7
