#include "results/json_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dx::results {
namespace {

using nlohmann::json;

// One string or number, as the writer writes a value.
std::string JsonString(std::string_view text) { return JsonWriter().String(text).Take(); }
std::string JsonNumber(double value) { return JsonWriter().Number(value).Take(); }

TEST(JsonText, StringsAreEscapedAndReadBackUnchanged) {
  const std::string text = "quote \" backslash \\ line\nbreak\ttab \x01 control, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\xa9\xb8";
  const std::string written = JsonString(text);
  EXPECT_EQ(json::parse(written).get<std::string>(), text);
  EXPECT_NE(written.find("\\u0001"), std::string::npos);
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
}

TEST(JsonText, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  // Latin-1 é, a lone continuation byte, an overlong '/', a surrogate, and a sequence cut short.
  for (const std::string bad : {"caf\xe9", "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82"}) {
    const std::string written = JsonString("<" + bad + ">");
    const json parsed = json::parse(written);  // valid JSON, so valid UTF-8
    const std::string back = parsed.get<std::string>();
    EXPECT_NE(back.find("\xef\xbf\xbd"), std::string::npos) << written;
    EXPECT_EQ(back.front(), '<');
    EXPECT_EQ(back.back(), '>');
  }
}

TEST(JsonText, NumbersAreShortestAndExact) {
  EXPECT_EQ(JsonNumber(95), "95");
  EXPECT_EQ(JsonNumber(7.2), "7.2");
  EXPECT_EQ(JsonNumber(-0.5), "-0.5");
  EXPECT_EQ(json::parse(JsonNumber(1e-7)).get<double>(), 1e-7);
}

TEST(JsonText, ObjectsAndArraysNestWithTheirCommas) {
  JsonWriter w;
  w.Object().String("resourceType", "Observation");
  w.Key("code").Object().Key("coding").Array();
  w.Object().String("system", "http://loinc.org").String("code", "718-7").End();
  w.Object().String("system", "http://snomed.info/sct").String("code", "1").End();
  w.End().End();
  w.Number("value", 7.2).Key("note").Array().End();
  w.Key("range").Array().Json(R"({"text":"1-2"})").Json("3").End();
  w.End();
  EXPECT_EQ(w.text(),
            R"({"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"718-7"},)"
            R"({"system":"http://snomed.info/sct","code":"1"}]},"value":7.2,"note":[],"range":[{"text":"1-2"},3]})");
  EXPECT_NO_THROW((void)json::parse(w.text()));
  JsonWriter empty;
  EXPECT_EQ(empty.Object().End().Take(), "{}");
  JsonWriter list;
  EXPECT_EQ(list.Array().String("a").Number(-0.5).Object().End().End().Take(), R"(["a",-0.5,{}])");
}

}  // namespace
}  // namespace dx::results
