// JSON text written directly, value by value, into one buffer, for resources
// that are made once and stored as text: no document tree is built, and nested
// objects are not written apart and copied in. Strings are escaped as RFC 8259
// requires, and bytes that are not UTF-8 (a sender's other character set, or
// damage) become U+FFFD, so the text is always valid JSON. Values are plain
// objects; not thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dx::results {

// Writes one JSON value. The writer puts the commas; a member is a Key followed
// by its value. Keys are member names from the code (plain ASCII, nothing to
// escape) and are written as they are.
//   JsonWriter w;
//   w.Object().Key("code").Object().Key("text").String("Hb").End().End();
//   w.text() == R"({"code":{"text":"Hb"}})"
class JsonWriter {
 public:
  explicit JsonWriter(std::size_t capacity = 1024) { text_.reserve(capacity); }

  JsonWriter& Key(std::string_view key);
  JsonWriter& Object();  // a value that is an object: its members follow, then End
  JsonWriter& Array();   // a value that is an array: its values follow, then End
  JsonWriter& End();     // closes the innermost object or array
  JsonWriter& String(std::string_view value);  // quotes included
  JsonWriter& Number(double value);  // finite; the shortest form that reads back as the same double ("95", "7.2")
  JsonWriter& Json(std::string_view json);  // a value already written as JSON text

  // Key(key).String(value), and so on: one member.
  JsonWriter& String(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Number(std::string_view key, double value) { return Key(key).Number(value); }
  JsonWriter& Json(std::string_view key, std::string_view json) { return Key(key).Json(json); }

  // The text so far; whole once every Object and Array has its End.
  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void Separate();       // a comma, unless the value opens its container or follows its key
  std::string text_;
  std::string closers_;  // '}' or ']' for each open container, innermost last
};

}  // namespace dx::results
