// JSON text written directly, member by member, for resources that are made once
// and stored as text: no document tree is built, copied or walked. Strings are
// escaped as RFC 8259 requires, and bytes that are not UTF-8 (a sender's other
// character set, or damage) become U+FFFD, so the text is always valid JSON.
// Values are plain objects; not thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dx::results {

// `text` as a JSON string, quotes included.
std::string JsonString(std::string_view text);
// A finite number in its shortest form that reads back as the same double ("95", "7.2").
std::string JsonNumber(double value);

// An object: {"key":value,...} in the order the members are added. Keys are
// member names from the code (plain ASCII, nothing to escape) and are written as
// they are.
class JsonObject {
 public:
  JsonObject() { text_.reserve(128); }  // most objects fit: one allocation
  JsonObject& String(std::string_view key, std::string_view value);
  JsonObject& Number(std::string_view key, double value);
  // A member whose value is already JSON text (an object, array, or a JsonString).
  JsonObject& Json(std::string_view key, std::string_view json);

  bool empty() const { return text_.size() == 1; }
  // The text with its closing brace.
  std::string Text() const { return text_ + '}'; }

 private:
  void AddKey(std::string_view key);
  std::string text_ = "{";
};

// An array of values already written as JSON text: [value,...].
class JsonArray {
 public:
  JsonArray() { text_.reserve(128); }
  JsonArray& Add(std::string_view json);

  bool empty() const { return text_.size() == 1; }
  std::string Text() const { return text_ + ']'; }

 private:
  std::string text_ = "[";
};

}  // namespace dx::results
