#include "results/oru.hpp"

#include <cctype>
#include <cmath>
#include <ctime>
#include <optional>
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "core/hash.hpp"
#include "core/nhs_number.hpp"
#include "fhir/search.hpp"
#include "results/json_text.hpp"

namespace dx::results {
namespace {

using hl7::AckProblem;
using hl7::ErrorCondition;

AckProblem Problem(ErrorCondition condition, std::string location, std::string text) {
  return AckProblem{condition, std::move(location), std::move(text)};
}

// HL7 coding system names (table 0396) as FHIR system URIs.
std::string SystemUri(const std::string& system, const std::string& sender) {
  if (system == "LN" || system == "LOINC") return "http://loinc.org";
  if (system == "SCT" || system == "SNM" || system == "SNOMED" || system == "SNOMEDCT") return "http://snomed.info/sct";
  if (system == "UCUM") return "http://unitsofmeasure.org";
  if (system == "READ" || system == "RC") return "http://read.info/readv2";
  return fmt::format("urn:dxhub:local:{}", system.empty() ? sender.substr(0, sender.find('|')) : system);
}

// A CE/CWE value at `field` (repetition 1) as a CodeableConcept: its codings
// (identifier^text^system, then the alternate triplet) and its text. Returns the
// main coding, "system|code", or "" when there is no code.
std::string WriteCodeableConcept(JsonWriter& w, const hl7::Message& m, const hl7::Segment& s, int field,
                                 const std::string& sender) {
  std::string main_code;
  w.Object();
  for (int triplet = 0; triplet < 2; ++triplet) {
    const std::string code = m.Get(s, field, 1 + 3 * triplet);
    if (code.empty()) continue;
    const std::string uri = SystemUri(m.Get(s, field, 3 + 3 * triplet), sender);
    if (main_code.empty()) {
      w.Key("coding").Array();
      main_code = uri + "|" + code;
    }
    w.Object().String("system", uri).String("code", code);
    if (const std::string display = m.Get(s, field, 2 + 3 * triplet); !display.empty()) w.String("display", display);
    w.End();
  }
  if (!main_code.empty()) w.End();
  if (const std::string text = m.Get(s, field, 2); !text.empty()) w.String("text", text);
  w.End();
  return main_code;
}

// A one-coding CodeableConcept list, as FHIR categories are written.
void WriteCategoryList(JsonWriter& w, std::string_view system, std::string_view code) {
  w.Array().Object().Key("coding").Array().Object().String("system", system).String("code", code).End().End().End().End();
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// A decimal number ("7.2", "-0.5", ".5", "+3."), spaces around allowed; nothing else.
std::optional<double> Number(std::string_view text) {
  text = TrimSpaces(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  bool digits = false, point = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !point) {
      point = true;
    } else if (!(c == '-' && i == 0)) {
      return std::nullopt;
    }
  }
  if (!digits) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A Quantity, UCUM-coded when it has a unit; `comparator` ("<", ">=", ...) when not empty.
void WriteQuantity(JsonWriter& w, double value, const std::string& unit, const std::string& comparator = "") {
  w.Object().Number("value", value);
  if (!unit.empty()) w.String("unit", unit).String("system", "http://unitsofmeasure.org").String("code", unit);
  if (!comparator.empty()) w.String("comparator", comparator);
  w.End();
}

// OBX-7 ("3.5-5.0", "<5", ">1", "3.5 - 5.0") as a FHIR referenceRange; the text is
// always kept, the bounds only when they are numbers.
void WriteReferenceRange(JsonWriter& w, const std::string& text, const std::string& unit) {
  std::optional<double> low, high;
  const std::string_view trimmed = TrimSpaces(text);
  if (!trimmed.empty() && (trimmed.front() == '<' || trimmed.front() == '>')) {
    std::string_view bound = trimmed.substr(1);
    if (!bound.empty() && bound.front() == '=') bound.remove_prefix(1);
    (trimmed.front() == '<' ? high : low) = Number(bound);
  } else if (const auto dash = trimmed.find('-', 1); dash != std::string_view::npos) {
    low = Number(trimmed.substr(0, dash));
    high = Number(trimmed.substr(dash + 1));
    if (!low || !high) low = high = std::nullopt;
  }
  w.Object();
  if (low) WriteQuantity(w.Key("low"), *low, unit);
  if (high) WriteQuantity(w.Key("high"), *high, unit);
  w.String("text", text).End();
}

std::optional<std::string> ReportStatus(const std::string& code) {
  if (code.empty() || code == "F") return "final";
  if (code == "P") return "preliminary";
  if (code == "C") return "corrected";
  if (code == "A") return "partial";
  if (code == "X") return "cancelled";
  if (code == "O" || code == "I" || code == "S") return "registered";
  if (code == "R") return "preliminary";
  return std::nullopt;
}

std::optional<std::string> ObservationStatus(const std::string& code, const std::string& report_status) {
  if (code.empty()) return report_status == "partial" ? "preliminary" : report_status;
  if (code == "F") return "final";
  if (code == "P" || code == "R" || code == "S") return "preliminary";
  if (code == "C") return "corrected";
  if (code == "X" || code == "N") return "cancelled";
  if (code == "D" || code == "W") return "entered-in-error";
  if (code == "I" || code == "O") return "registered";
  return std::nullopt;
}

struct Interpretation {
  std::string codeable;  // a CodeableConcept's JSON, or empty when there are no flags
  bool abnormal = false;
  bool critical = false;
};

// OBX-8 flags (table 0078) as v3 ObservationInterpretation codes.
std::optional<Interpretation> Flags(const hl7::Message& m, const hl7::Segment& s) {
  Interpretation out;
  JsonWriter codeable(256);
  for (int r = 1; r <= m.Repetitions(s, 8); ++r) {
    const std::string flag = m.Get(s, 8, 1, r);
    static const char* const kKnown[] = {"L", "H", "LL", "HH", "N", "A", "AA", "<", ">", "S", "R", "I", "U", "D", "B", "W", "NEG", "POS"};
    if (flag.empty()) continue;
    if (std::find(std::begin(kKnown), std::end(kKnown), flag) == std::end(kKnown)) return std::nullopt;
    if (codeable.text().empty()) codeable.Object().Key("coding").Array();
    codeable.Object()
        .String("system", "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation")
        .String("code", flag)
        .End();
    if (flag != "N" && flag != "NEG" && flag != "S") out.abnormal = true;
    if (flag == "LL" || flag == "HH" || flag == "AA") out.critical = true;
  }
  if (!codeable.text().empty()) out.codeable = codeable.End().End().Take();
  return out;
}

std::string ShortHash(const std::string& text) { return Sha256Hex(text).substr(0, 24); }

// A report's id, the same for every version of it. kHashed: "lab-" and a hash of
// the sender, the order and the test code. kOrdered: "lab-", six hexadecimal
// digits for the sender, the kind of order number (f, p, or m for a message
// without one) and the number itself, then six for the test code, so that a
// laboratory's reports, numbered in sequence, follow each other in the store's
// index of ids. Letters and digits stand as they are, other bytes as ".XX" (so
// two numbers never share an id); a number too long for a FHIR id (64
// characters, with room for the observations' suffixes) falls back to kHashed.
std::string ReportId(storage::ResourceIds ids, const std::string& sender, char kind, const std::string& number,
                     const std::string& code) {
  const auto hashed = [&] {
    const char* key = kind == 'f' ? "filler:" : kind == 'p' ? "placer:" : "message:";
    return "lab-" + ShortHash(sender + "|" + key + number + "|" + code);
  };
  if (ids == storage::ResourceIds::kHashed) return hashed();
  constexpr std::size_t kMost = 44;
  std::string id = "lab-" + ShortHash(sender).substr(0, 6) + "-" + kind;
  for (const unsigned char c : number) {
    if (std::isalnum(c)) {
      id += static_cast<char>(c);
    } else {
      id += fmt::format(".{:02X}", c);
    }
    if (id.size() > kMost) return hashed();
  }
  return id + "-" + ShortHash(code).substr(0, 6);
}

// The texts of the NTE comments in `segments` [from, to), one per NTE that has any.
std::vector<std::string> Notes(const hl7::Message& m, std::size_t from, std::size_t to) {
  std::vector<std::string> notes;
  const auto& segments = m.segments();
  for (std::size_t i = from; i < to && i < segments.size(); ++i) {
    if (segments[i].name != "NTE") break;
    std::string text;
    for (int r = 1; r <= std::max(1, m.Repetitions(segments[i], 3)); ++r) {
      if (r > 1) text += "\n";
      text += m.Get(segments[i], 3, 1, r);
    }
    if (!text.empty()) notes.push_back(std::move(text));
  }
  return notes;
}

// Comments as a list of FHIR Annotations.
void WriteAnnotations(JsonWriter& w, const std::vector<std::string>& notes) {
  w.Array();
  for (const auto& note : notes) w.Object().String("text", note).End();
  w.End();
}

}  // namespace

std::string FhirDateTime(const std::string& ts) {
  // YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ]: digits in pairs after the year.
  std::string_view text(ts), zone;
  if (text.size() > 5 && (text[text.size() - 5] == '+' || text[text.size() - 5] == '-')) {
    zone = text.substr(text.size() - 5);
    text.remove_suffix(5);
  }
  if (const auto dot = text.find('.'); dot != std::string_view::npos) {
    const auto fraction = text.substr(dot + 1);
    if (dot != 14 || fraction.empty() || fraction.size() > 4) return {};
    for (char c : fraction) {
      if (c < '0' || c > '9') return {};
    }
    text = text.substr(0, dot);
  }
  auto all_digits = [](std::string_view digits) {
    return !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (text.size() < 4 || text.size() > 14 || text.size() % 2 != 0 || !all_digits(text)) return {};
  if (!zone.empty() && !all_digits(zone.substr(1))) return {};
  auto number = [&](std::size_t at, std::size_t length) {
    int value = 0;
    for (std::size_t i = at; i < at + length; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = text.size() >= 6 ? number(4, 2) - 1 : 0;
  tm.tm_mday = text.size() >= 8 ? number(6, 2) : 1;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return {};
  if (text.size() <= 8) {  // a date alone: no time zone to apply
    if (text.size() == 4) return std::string(text);
    if (text.size() == 6) return fmt::format("{}-{}", text.substr(0, 4), text.substr(4, 2));
    return fmt::format("{}-{}-{}", text.substr(0, 4), text.substr(4, 2), text.substr(6, 2));
  }
  tm.tm_hour = number(8, 2);
  tm.tm_min = text.size() >= 12 ? number(10, 2) : 0;
  tm.tm_sec = text.size() >= 14 ? number(12, 2) : 0;
  if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) return {};
  std::time_t seconds;
  if (!zone.empty()) {
    const int offset = ((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 + ((zone[3] - '0') * 10 + (zone[4] - '0')) * 60;
    seconds = timegm(&tm) + (zone[0] == '+' ? -offset : offset);
  } else {
    tm.tm_isdst = -1;
    seconds = std::mktime(&tm);  // the server's local time
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return out;
}

tl::expected<MappedOru, hl7::AckProblem> MapOru(const hl7::Message& m, const std::string& sender,
                                                storage::ResourceIds ids) {
  const auto& segments = m.segments();
  const hl7::Segment* pid = m.Find("PID");
  if (!pid) return tl::unexpected(Problem(ErrorCondition::kRequiredFieldMissing, "PID", "the PID segment is missing"));
  // The NHS number: the PID-3 identifier whose assigning authority or type says NHS.
  std::string nhs;
  for (int r = 1; r <= m.Repetitions(*pid, 3); ++r) {
    const std::string authority = m.Get(*pid, 3, 4, r), type = m.Get(*pid, 3, 5, r);
    if (authority == "NHS" || type == "NH" || authority.find("nhs-number") != std::string::npos) {
      nhs = m.Get(*pid, 3, 1, r);
      break;
    }
  }
  if (nhs.empty()) {
    return tl::unexpected(Problem(ErrorCondition::kRequiredFieldMissing, "PID^1^3",
                                  "PID-3 holds no NHS number (assigning authority NHS or identifier type NH)"));
  }
  const auto normalized = NormalizeNhsNumber(nhs);
  if (!normalized) {
    return tl::unexpected(Problem(ErrorCondition::kDataTypeError, "PID^1^3",
                                  "the NHS number in PID-3 is not valid (10 digits with a Modulus 11 check digit)"));
  }
  nhs = *normalized;
  JsonWriter subject(256);
  subject.Object().Key("identifier").Object().String("system", fhir::kNhsNumberSystem).String("value", nhs).End();
  if (const std::string family = m.Get(*pid, 5, 1); !family.empty()) {
    subject.String("display", fmt::format("{}{}", family, m.Get(*pid, 5, 2).empty() ? "" : ", " + m.Get(*pid, 5, 2)));
  }
  const std::string subject_json = subject.End().Take();
  std::string practice;
  if (const hl7::Segment* pd1 = m.Find("PD1")) {
    practice = m.Get(*pd1, 3, 10).empty() ? m.Get(*pd1, 3, 3) : m.Get(*pd1, 3, 10);
  }
  const hl7::Segment* msh = m.Find("MSH");
  const std::string message_time = msh ? FhirDateTime(m.Get(*msh, 7)) : "";
  const std::string performer = msh ? m.Get(*msh, 4) : "";

  MappedOru mapped;
  std::vector<storage::ResourceRecord>& out = mapped.resources;
  const hl7::Segment* orc = nullptr;
  std::size_t report_index = 0;  // out[report_index] is the current report, once obr_count > 0
  // The current report: every member is written at its OBR, then "result" (the
  // references to its observations) last, opened by its first OBX.
  JsonWriter report_json;
  int obr_count = 0, obx_in_report = 0;
  auto finish_report = [&] {
    if (obr_count == 0) return;
    if (obx_in_report > 0) report_json.End();
    out[report_index].json = report_json.End().Take();
  };
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const hl7::Segment& s = segments[i];
    if (s.name == "ORC") {
      orc = &s;
    } else if (s.name == "OBR") {
      finish_report();
      ++obr_count;
      obx_in_report = 0;
      const std::string location = fmt::format("OBR^{}^", obr_count);
      const auto status = ReportStatus(m.Get(s, 25));
      if (!status) {
        return tl::unexpected(Problem(ErrorCondition::kTableValueNotFound, location + "25",
                                      fmt::format("OBR-25 result status '{}' is not in HL7 table 0123", m.Get(s, 25))));
      }
      JsonWriter codeable(256);
      const std::string code = WriteCodeableConcept(codeable, m, s, 4, sender);
      if (code.empty()) {
        return tl::unexpected(Problem(ErrorCondition::kRequiredFieldMissing, location + "4",
                                      "OBR-4 (the universal service identifier) is empty"));
      }
      const std::string placer = !m.Get(s, 2).empty() ? m.Get(s, 2) : (orc ? m.Get(*orc, 2) : "");
      const std::string filler = !m.Get(s, 3).empty() ? m.Get(s, 3) : (orc ? m.Get(*orc, 3) : "");
      std::string id = !filler.empty() ? ReportId(ids, sender, 'f', filler, code)
                       : !placer.empty() ? ReportId(ids, sender, 'p', placer, code)
                                         : ReportId(ids, sender, 'm', (msh ? m.Get(*msh, 10) : "") + ":" +
                                                                          std::to_string(obr_count), code);
      std::string effective = FhirDateTime(m.Get(s, 7));
      if (effective.empty()) effective = message_time;
      const std::string section = m.Get(s, 24);
      const std::string category = section.empty() ? "LAB" : section;
      report_json = JsonWriter();
      report_json.Object().String("resourceType", "DiagnosticReport").String("id", id).String("status", *status);
      const bool identified = !placer.empty() || !filler.empty();
      if (identified) report_json.Key("identifier").Array();
      if (!placer.empty()) {
        report_json.Object()
            .Key("type").Object().String("text", "Placer order number").End()
            .String("system", "urn:dxhub:placer-order")
            .String("value", placer)
            .End();
      }
      if (!filler.empty()) {
        report_json.Object()
            .Key("type").Object().String("text", "Filler order number").End()
            .String("system", "urn:dxhub:filler-order:" + sender.substr(0, sender.find('|')))
            .String("value", filler)
            .End();
      }
      if (identified) report_json.End();
      if (!placer.empty()) {
        report_json.Key("basedOn").Array().Object().String("type", "ServiceRequest");
        report_json.Key("identifier").Object().String("system", "urn:dxhub:placer-order").String("value", placer).End();
        report_json.End().End();
      }
      WriteCategoryList(report_json.Key("category"), "http://terminology.hl7.org/CodeSystem/v2-0074", category);
      report_json.Json("code", codeable.text());
      report_json.Json("subject", subject_json);
      if (!effective.empty()) report_json.String("effectiveDateTime", effective);
      const std::string issued = FhirDateTime(m.Get(s, 22));
      if (!issued.empty() || !message_time.empty()) {
        const std::string instant = issued.empty() ? message_time : issued;
        if (instant.size() > 10) report_json.String("issued", instant);
      }
      if (!performer.empty()) {
        report_json.Key("performer").Array().Object().String("display", performer).End().End();
      }
      const auto notes = Notes(m, i + 1, segments.size());
      if (!notes.empty()) {
        std::string conclusion;
        for (const auto& note : notes) conclusion += (conclusion.empty() ? "" : "\n") + note;
        report_json.String("conclusion", conclusion);
      }
      std::string report_practice = practice;
      if (orc && report_practice.empty()) {
        report_practice = m.Get(*orc, 21, 10).empty() ? m.Get(*orc, 21, 3) : m.Get(*orc, 21, 10);
      }
      storage::ResourceRecord record;
      record.type = "DiagnosticReport";
      record.id = id;
      record.nhs_number = nhs;
      record.status = *status;
      record.category = category;
      record.code = code;
      record.effective = effective;
      record.practice = report_practice;
      mapped.reports.push_back({id, nhs, placer, filler, *status});
      out.push_back(std::move(record));
      report_index = out.size() - 1;
    } else if (s.name == "OBX") {
      ++obx_in_report;
      const std::string location = fmt::format("OBX^{}^", obx_in_report);
      if (obr_count == 0) {
        return tl::unexpected(Problem(ErrorCondition::kSegmentSequence, "OBX", "an OBX segment comes before any OBR"));
      }
      const storage::ResourceRecord& report = out[report_index];
      const std::string type = m.Get(s, 2);
      JsonWriter codeable(256);
      const std::string code = WriteCodeableConcept(codeable, m, s, 3, sender);
      if (code.empty()) {
        return tl::unexpected(Problem(ErrorCondition::kRequiredFieldMissing, location + "3", "OBX-3 is empty"));
      }
      const auto status = ObservationStatus(m.Get(s, 11), report.status);
      if (!status) {
        return tl::unexpected(Problem(ErrorCondition::kTableValueNotFound, location + "11",
                                      fmt::format("OBX-11 status '{}' is not in HL7 table 0085", m.Get(s, 11))));
      }
      const auto flags = Flags(m, s);
      if (!flags) {
        return tl::unexpected(Problem(ErrorCondition::kTableValueNotFound, location + "8",
                                      "OBX-8 holds an abnormal flag not in HL7 table 0078"));
      }
      const std::string set_id = m.Get(s, 1).empty() ? std::to_string(obx_in_report) : m.Get(s, 1);
      const std::string id = report.id + "-" + set_id + (m.Get(s, 4).empty() ? "" : "." + ShortHash(m.Get(s, 4)).substr(0, 6));
      JsonWriter obs;
      obs.Object().String("resourceType", "Observation").String("id", id).String("status", *status);
      WriteCategoryList(obs.Key("category"), "http://terminology.hl7.org/CodeSystem/observation-category", "laboratory");
      obs.Json("code", codeable.text());
      obs.Json("subject", subject_json);
      std::string effective = FhirDateTime(m.Get(s, 14));
      if (effective.empty()) effective = report.effective;
      if (!effective.empty()) obs.String("effectiveDateTime", effective);
      const std::string unit = m.Get(s, 6, 1);
      const std::string raw_value = m.Get(s, 5);
      if (type == "NM") {
        const auto value = Number(raw_value);
        if (!value && !raw_value.empty()) {
          return tl::unexpected(Problem(ErrorCondition::kDataTypeError, location + "5",
                                        fmt::format("OBX-5 is not a number although OBX-2 says NM")));
        }
        if (value) WriteQuantity(obs.Key("valueQuantity"), *value, unit);
      } else if (type == "ST" || type == "TX" || type == "FT") {
        std::string text;
        for (int r = 1; r <= m.Repetitions(s, 5); ++r) text += (r > 1 ? "\n" : "") + m.Get(s, 5, 1, r);
        if (!text.empty()) obs.String("valueString", text);
      } else if (type == "CE" || type == "CWE") {
        WriteCodeableConcept(obs.Key("valueCodeableConcept"), m, s, 5, sender);
      } else if (type == "SN") {
        // comparator ^ number ^ separator ^ number
        const std::string comparator = m.Get(s, 5, 1), separator = m.Get(s, 5, 3);
        const auto first = Number(m.Get(s, 5, 2)), second = Number(m.Get(s, 5, 4));
        if (!first && !(separator.empty() && comparator.empty() && raw_value.empty())) {
          return tl::unexpected(Problem(ErrorCondition::kDataTypeError, location + "5",
                                        "OBX-5 is not a structured numeric (comparator^number^separator^number)"));
        }
        if (first && separator.empty()) {
          const bool known = comparator == "<" || comparator == "<=" || comparator == ">" || comparator == ">=";
          WriteQuantity(obs.Key("valueQuantity"), *first, unit, known ? comparator : "");
        } else if (first && second && (separator == "-" || separator == "^")) {
          obs.Key("valueRange").Object();
          WriteQuantity(obs.Key("low"), *first, unit);
          WriteQuantity(obs.Key("high"), *second, unit);
          obs.End();
        } else if (first && second && (separator == ":" || separator == "/")) {
          obs.Key("valueRatio").Object();
          obs.Key("numerator").Object().Number("value", *first).End();
          obs.Key("denominator").Object().Number("value", *second).End();
          obs.End();
        } else if (first) {
          return tl::unexpected(Problem(ErrorCondition::kDataTypeError, location + "5",
                                        fmt::format("OBX-5 separator '{}' is not -, : or /", separator)));
        }
      } else if (type.empty() && raw_value.empty()) {
        // no value: a test that was not done or is pending
      } else {
        return tl::unexpected(Problem(ErrorCondition::kDataTypeError, location + "2",
                                      fmt::format("OBX-2 value type '{}' is not supported (NM, ST, TX, FT, CE, CWE, SN)",
                                                  type)));
      }
      if (const std::string range = m.Get(s, 7); !range.empty()) {
        WriteReferenceRange(obs.Key("referenceRange").Array(), range, unit);
        obs.End();
      }
      if (!flags->codeable.empty()) obs.Key("interpretation").Array().Json(flags->codeable).End();
      if (const auto notes = Notes(m, i + 1, segments.size()); !notes.empty()) WriteAnnotations(obs.Key("note"), notes);
      storage::ResourceRecord record;
      record.type = "Observation";
      record.id = id;
      record.nhs_number = nhs;
      record.status = *status;
      record.category = "laboratory";
      record.code = code;
      record.effective = effective;
      record.report_id = report.id;
      record.abnormal = flags->abnormal;
      record.urgent = flags->critical;
      record.json = obs.End().Take();
      if (obx_in_report == 1) report_json.Key("result").Array();  // every earlier OBX was mapped, or we returned
      report_json.Object().String("reference", "Observation/" + id).End();
      out[report_index].abnormal = out[report_index].abnormal || flags->abnormal;
      out[report_index].urgent = out[report_index].urgent || flags->critical;
      out.push_back(std::move(record));  // may move the report: `report` is not used after this
    }
  }
  finish_report();
  if (obr_count == 0) {
    return tl::unexpected(Problem(ErrorCondition::kRequiredFieldMissing, "OBR", "the message has no OBR segment"));
  }
  return mapped;
}

}  // namespace dx::results
