#include "cds/loader.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <toml++/toml.h>

namespace dx::cds {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxProblems = 200;
constexpr double kMaxRuleAge = 130.0;

// Collects every validation problem so one load reports them all.
class Problems {
 public:
  void Add(std::string message) {
    if (list_.size() < kMaxProblems) {
      list_.push_back(std::move(message));
    } else {
      ++dropped_;
    }
  }
  bool empty() const { return list_.empty(); }
  std::size_t count() const { return list_.size() + dropped_; }
  std::string Join() const {
    std::string out;
    for (const auto& p : list_) {
      out += p;
      out += '\n';
    }
    if (dropped_ > 0) out += "... and " + std::to_string(dropped_) + " more\n";
    if (!out.empty()) out.pop_back();
    return out;
  }

 private:
  std::vector<std::string> list_;
  std::size_t dropped_ = 0;
};

std::string Line(const toml::node& node) {
  return std::to_string(node.source().begin.line);
}

bool MatchesPattern(std::string_view text, auto&& first_ok, auto&& rest_ok) {
  if (text.empty() || !first_ok(text.front())) return false;
  return std::all_of(text.begin() + 1, text.end(), rest_ok);
}
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsFindingId(std::string_view s) {
  return MatchesPattern(s, IsLower, [](char c) { return IsLower(c) || IsDigit(c) || c == '_'; });
}
bool IsInvestigationCode(std::string_view s) {
  return MatchesPattern(s, IsUpper, [](char c) { return IsUpper(c) || IsDigit(c) || c == '-'; });
}
bool IsRuleId(std::string_view s) {
  return MatchesPattern(s, IsUpper, [](char c) { return IsUpper(c) || IsDigit(c) || c == '-' || c == '.'; });
}
bool IsTopicId(std::string_view s) {
  return MatchesPattern(s, IsLower, [](char c) { return IsLower(c) || IsDigit(c) || c == '-'; });
}
bool IsSnomedId(std::string_view s) {
  return s.size() >= 6 && s.size() <= 18 && std::all_of(s.begin(), s.end(), IsDigit);
}

// Reads the keys of one TOML table with type checks, remembering which keys were
// read so that CheckUnknown can report the rest. Problems are prefixed with
// "file:line: context: ".
class Fields {
 public:
  Fields(const toml::table& table, std::string file, std::string context, Problems& problems)
      : table_(table), file_(std::move(file)), context_(std::move(context)), problems_(problems) {}

  void SetContext(std::string context) { context_ = std::move(context); }

  void Problem(const toml::node& at, const std::string& message) {
    problems_.Add(file_ + ":" + Line(at) + ": " + context_ + ": " + message);
  }
  void Problem(const std::string& message) { Problem(table_, message); }

  const toml::node* Get(std::string_view key) {
    used_.emplace(key);
    return table_.get(key);
  }

  std::optional<std::string> String(std::string_view key, bool required) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) Problem("missing required key '" + std::string(key) + "'");
      return std::nullopt;
    }
    if (!node->is_string()) {
      Problem(*node, "'" + std::string(key) + "' must be a string");
      return std::nullopt;
    }
    std::string value = node->as_string()->get();
    if (required && value.find_first_not_of(" \t\r\n") == std::string::npos) {
      Problem(*node, "'" + std::string(key) + "' must not be empty");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::int64_t> Int(std::string_view key, bool required) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) Problem("missing required key '" + std::string(key) + "'");
      return std::nullopt;
    }
    if (!node->is_integer()) {
      Problem(*node, "'" + std::string(key) + "' must be an integer");
      return std::nullopt;
    }
    return node->as_integer()->get();
  }

  std::optional<double> Number(std::string_view key, bool required) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) Problem("missing required key '" + std::string(key) + "'");
      return std::nullopt;
    }
    if (node->is_integer()) return static_cast<double>(node->as_integer()->get());
    if (node->is_floating_point()) return node->as_floating_point()->get();
    Problem(*node, "'" + std::string(key) + "' must be a number");
    return std::nullopt;
  }

  std::optional<bool> Bool(std::string_view key) {
    const toml::node* node = Get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_boolean()) {
      Problem(*node, "'" + std::string(key) + "' must be true or false");
      return std::nullopt;
    }
    return node->as_boolean()->get();
  }

  // An array of strings; absent gives an empty list (a problem if required).
  std::vector<std::string> Strings(std::string_view key, bool required) {
    std::vector<std::string> out;
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) Problem("missing required key '" + std::string(key) + "'");
      return out;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      Problem(*node, "'" + std::string(key) + "' must be an array of strings");
      return out;
    }
    for (const auto& element : *array) {
      if (!element.is_string()) {
        Problem(element, "'" + std::string(key) + "' must contain only strings");
        continue;
      }
      out.push_back(element.as_string()->get());
    }
    return out;
  }

  const toml::table* Table(std::string_view key, bool required) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) Problem("missing required key '" + std::string(key) + "'");
      return nullptr;
    }
    if (!node->is_table()) {
      Problem(*node, "'" + std::string(key) + "' must be a table");
      return nullptr;
    }
    return node->as_table();
  }

  // An array whose elements must be tables; absent gives nullptr.
  const toml::array* TableArray(std::string_view key, bool required) {
    const toml::node* node = Get(key);
    if (node == nullptr) {
      if (required) Problem("missing required key '" + std::string(key) + "'");
      return nullptr;
    }
    const toml::array* array = node->as_array();
    bool ok = array != nullptr;
    if (ok) {
      for (const auto& element : *array) ok = ok && element.is_table();
    }
    if (!ok) {
      Problem(*node, "'" + std::string(key) + "' must be an array of tables");
      return nullptr;
    }
    return array;
  }

  void CheckUnknown() {
    for (const auto& [key, node] : table_) {
      if (!used_.contains(std::string(key.str()))) {
        Problem(node, "unknown key '" + std::string(key.str()) + "'");
      }
    }
  }

  const std::string& file() const { return file_; }
  const std::string& context() const { return context_; }
  Problems& problems() { return problems_; }

 private:
  const toml::table& table_;
  std::string file_;
  std::string context_;
  Problems& problems_;
  std::set<std::string, std::less<>> used_;
};

std::optional<toml::table> ParseToml(const KnowledgeFile& file, Problems& problems) {
  try {
    return toml::parse(file.text, file.name);
  } catch (const toml::parse_error& error) {
    problems.Add(file.name + ":" + std::to_string(error.source().begin.line) + ":" +
                 std::to_string(error.source().begin.column) +
                 ": TOML syntax error: " + std::string(error.description()));
    return std::nullopt;
  }
}

// Reads [[<key>]] from a vocabulary file, reporting any other top-level key.
const toml::array* EntryArray(const toml::table& root, const KnowledgeFile& file, std::string_view key,
                              Problems& problems) {
  Fields top(root, file.name, "file", problems);
  const toml::array* entries = top.TableArray(key, false);
  top.CheckUnknown();
  return entries;
}

void LoadFindings(const KnowledgeFile& file, KnowledgeBase& base, Problems& problems) {
  auto root = ParseToml(file, problems);
  if (!root) return;
  const toml::array* entries = EntryArray(*root, file, "finding", problems);
  if (entries == nullptr) return;
  std::size_t ordinal = 0;
  for (const auto& node : *entries) {
    ++ordinal;
    Fields f(*node.as_table(), file.name, "finding #" + std::to_string(ordinal), problems);
    Finding finding;
    finding.file = file.name;
    auto id = f.String("id", true);
    if (id) {
      f.SetContext("finding '" + *id + "'");
      if (!IsFindingId(*id)) f.Problem("id must match [a-z][a-z0-9_]*");
      finding.id = *id;
    }
    finding.label = f.String("label", true).value_or("");
    if (auto kind_text = f.String("kind", true)) {
      if (auto kind = ParseFindingKind(*kind_text)) {
        finding.kind = *kind;
      } else {
        f.Problem("kind must be symptom, sign, history, test-result or demographic, not '" + *kind_text + "'");
      }
    }
    if (auto snomed = f.String("snomed", false)) {
      if (!IsSnomedId(*snomed)) f.Problem("snomed must be a SNOMED CT id (6 to 18 digits), not '" + *snomed + "'");
      finding.snomed = *snomed;
    }
    finding.synonyms = f.Strings("synonyms", false);
    finding.question = f.String("question", false).value_or("");
    finding.implies = f.Strings("implies", false);
    f.CheckUnknown();
    if (!id || !IsFindingId(*id)) continue;
    if (auto added = base.mutable_findings().Add(std::move(finding)); !added) {
      f.Problem(added.error().message);
    }
  }
}

void LoadInvestigations(const KnowledgeFile& file, KnowledgeBase& base, Problems& problems) {
  auto root = ParseToml(file, problems);
  if (!root) return;
  const toml::array* entries = EntryArray(*root, file, "investigation", problems);
  if (entries == nullptr) return;
  std::size_t ordinal = 0;
  for (const auto& node : *entries) {
    ++ordinal;
    Fields f(*node.as_table(), file.name, "investigation #" + std::to_string(ordinal), problems);
    Investigation inv;
    inv.file = file.name;
    auto code = f.String("code", true);
    if (code) {
      f.SetContext("investigation '" + *code + "'");
      if (!IsInvestigationCode(*code)) f.Problem("code must match [A-Z][A-Z0-9-]*");
      inv.code = *code;
    }
    inv.name = f.String("name", true).value_or("");
    bool modality_ok = false;
    if (auto text = f.String("modality", true)) {
      if (auto modality = ParseModality(*text)) {
        inv.modality = *modality;
        modality_ok = true;
      } else {
        f.Problem("modality must be one of XR MG FL CT MR US NM PET DXA ECHO ENDO LAB PHYS REFERRAL NONE, not '" +
                  *text + "'");
      }
    }
    inv.region = f.String("region", true).value_or("");
    inv.contrast = f.Bool("contrast").value_or(false);
    if (auto snomed = f.String("snomed", false)) {
      if (!IsSnomedId(*snomed)) f.Problem("snomed must be a SNOMED CT id (6 to 18 digits), not '" + *snomed + "'");
      inv.snomed = *snomed;
    }
    auto dose = f.Number("dose_msv", modality_ok && IsIonising(inv.modality));
    if (dose) {
      if (*dose < 0.0 || *dose > 100.0) {
        f.Problem("dose_msv must be between 0 and 100");
      } else if (modality_ok && !IsIonising(inv.modality) && *dose != 0.0) {
        f.Problem("dose_msv must be 0 for non-ionising modality " + std::string(ToString(inv.modality)));
      } else {
        inv.dose_msv = *dose;
      }
    }
    inv.dose_band = DoseBandFor(inv.dose_msv);
    if (auto band_text = f.String("dose_band", false)) {
      auto band = ParseDoseBand(*band_text);
      if (!band) {
        f.Problem("dose_band must be 0, I, II, III or IV, not '" + *band_text + "'");
      } else if (*band != inv.dose_band) {
        f.Problem("dose_band " + *band_text + " does not match dose_msv " + std::to_string(inv.dose_msv) +
                  " (band " + std::string(ToString(inv.dose_band)) + ")");
      }
    }
    inv.synonyms = f.Strings("synonyms", false);
    f.CheckUnknown();
    if (!code || !IsInvestigationCode(*code)) continue;
    if (auto added = base.mutable_investigations().Add(std::move(inv)); !added) {
      f.Problem(added.error().message);
    }
  }
}

class RuleReader {
 public:
  RuleReader(KnowledgeBase& base, StringMap<std::string>& rule_files) : base_(base), rule_files_(rule_files) {}

  // Returns the rule when it has no problems.
  std::optional<Rule> Read(const toml::table& table, const std::string& file, const std::string& topic,
                           std::size_t ordinal, Problems& problems) {
    const std::size_t before = problems.count();
    Fields f(table, file, "rule #" + std::to_string(ordinal), problems);
    Rule rule;
    rule.file = file;
    rule.topic = topic;
    if (auto id = f.String("id", true)) {
      f.SetContext("rule " + *id);
      if (!IsRuleId(*id)) f.Problem("id must match [A-Z][A-Z0-9.-]*");
      if (auto [it, inserted] = rule_files_.try_emplace(*id, file); !inserted) {
        f.Problem("duplicate rule id (also defined in " + it->second + ")");
      }
      rule.id = *id;
    }
    if (auto version = f.Int("version", true)) {
      if (*version < 1) f.Problem("version must be 1 or more");
      rule.version = static_cast<int>(*version);
    }
    rule.title = f.String("title", true).value_or("");
    ReadAppliesTo(f, rule);

    raw_positive_ = 0;
    rule.all_of = Findings(f, "all_of", true);
    rule.any_of = Findings(f, "any_of", true);
    if (auto min = f.Int("any_of_min", false)) {
      if (rule.any_of.empty()) {
        f.Problem("any_of_min given without any_of");
      } else if (*min < 1 || *min > static_cast<std::int64_t>(rule.any_of.size())) {
        f.Problem("any_of_min must be between 1 and the number of any_of findings (" +
                  std::to_string(rule.any_of.size()) + ")");
      }
      rule.any_of_min = static_cast<int>(*min);
    }
    rule.red_flags = Findings(f, "red_flags", true);
    rule.history = Findings(f, "history", true);
    rule.history_any = Findings(f, "history_any", true);
    rule.none_of = Findings(f, "none_of");
    rule.asks = Findings(f, "asks");
    if (raw_positive_ == 0) {
      f.Problem("rule needs at least one of all_of, any_of, red_flags, history, history_any");
    }
    for (FindingIndex excluded : rule.none_of) {
      for (const auto* group : {&rule.all_of, &rule.history}) {
        if (std::find(group->begin(), group->end(), excluded) != group->end()) {
          f.Problem("finding '" + base_.findings().at(excluded).id +
                    "' is both required and in none_of: the rule can never match");
        }
      }
    }

    if (auto score = f.Int("score", true)) {
      if (*score < 1 || *score > 9) f.Problem("score must be between 1 and 9, not " + std::to_string(*score));
      rule.score = static_cast<int>(*score);
    }
    if (auto text = f.String("urgency", true)) {
      if (auto urgency = ParseUrgency(*text)) {
        rule.urgency = *urgency;
      } else {
        f.Problem("urgency must be immediate, within-24-hours, within-48-hours, within-2-weeks, routine or none, not '" +
                  *text + "'");
      }
    }
    ReadRecommend(f, rule);
    ReadAdviseAgainst(f, rule);
    ReadSource(f, rule);
    rule.rationale = f.String("rationale", true).value_or("");
    f.CheckUnknown();
    if (problems.count() != before) return std::nullopt;
    return rule;
  }

 private:
  // Resolves a list of finding ids; `positive` lists count towards the rule's
  // criteria (counted before resolution so an unknown id is not reported twice).
  std::vector<FindingIndex> Findings(Fields& f, std::string_view key, bool positive = false) {
    std::vector<FindingIndex> out;
    const auto ids = f.Strings(key, false);
    if (positive) raw_positive_ += ids.size();
    for (const auto& id : ids) {
      auto index = base_.findings().FindId(id);
      if (!index) {
        f.Problem("unknown finding '" + id + "' in " + std::string(key));
        continue;
      }
      if (std::find(out.begin(), out.end(), *index) != out.end()) {
        f.Problem("finding '" + id + "' listed twice in " + std::string(key));
        continue;
      }
      out.push_back(*index);
    }
    return out;
  }

  void ReadAppliesTo(Fields& f, Rule& rule) {
    const toml::table* table = f.Table("applies_to", false);
    if (table == nullptr) return;
    Fields a(*table, f.file(), f.context() + ": applies_to", f.problems());
    auto check_age = [&](std::string_view key, double& target) {
      if (auto age = a.Number(key, false)) {
        if (*age < 0.0 || *age > kMaxRuleAge) {
          a.Problem(std::string(key) + " must be between 0 and 130");
        } else {
          target = *age;
        }
      }
    };
    check_age("age_min", rule.age_min);
    check_age("age_max", rule.age_max);
    check_age("age_below", rule.age_below);
    if (rule.age_min > rule.age_max) {
      a.Problem("age_min " + std::to_string(rule.age_min) + " is greater than age_max " +
                std::to_string(rule.age_max) + " (bounds inverted)");
    }
    if (rule.age_min >= rule.age_below) {
      a.Problem("age_min must be below age_below (bounds inverted)");
    }
    if (auto text = a.String("sex", false)) {
      if (auto sex = ParseRuleSex(*text)) {
        rule.sex = *sex;
      } else {
        a.Problem("sex must be any, female or male, not '" + *text + "'");
      }
    }
    a.CheckUnknown();
  }

  std::optional<InvestigationIndex> InvestigationRef(Fields& f, const std::string& code, std::string_view where) {
    auto index = base_.investigations().FindCode(code);
    if (!index) f.Problem("unknown investigation '" + code + "' in " + std::string(where));
    return index;
  }

  void ReadRecommend(Fields& f, Rule& rule) {
    const toml::array* items = f.TableArray("recommend", true);
    if (items == nullptr) return;
    if (items->empty()) f.Problem("recommend must list at least one investigation");
    bool all_none = true;
    for (const auto& node : *items) {
      Fields r(*node.as_table(), f.file(), f.context() + ": recommend", f.problems());
      RecommendItem item;
      item.score = rule.score;
      auto code = r.String("investigation", true);
      item.note = r.String("note", false).value_or("");
      if (auto score = r.Int("score", false)) {
        if (*score < 1 || *score > 9) r.Problem("score must be between 1 and 9, not " + std::to_string(*score));
        item.score = static_cast<int>(*score);
      }
      r.CheckUnknown();
      if (!code) continue;
      auto index = InvestigationRef(f, *code, "recommend");
      if (!index) continue;
      for (const auto& existing : rule.recommend) {
        if (existing.investigation == *index) f.Problem("investigation '" + *code + "' recommended twice");
      }
      if (base_.investigations().at(*index).modality != Modality::kNone) all_none = false;
      item.investigation = *index;
      rule.recommend.push_back(std::move(item));
    }
    if (rule.urgency == Urgency::kNone && !rule.recommend.empty() && !all_none) {
      f.Problem("urgency 'none' is only for rules whose recommendations are all modality NONE");
    }
  }

  void ReadAdviseAgainst(Fields& f, Rule& rule) {
    const toml::array* items = f.TableArray("advise_against", false);
    if (items == nullptr) return;
    for (const auto& node : *items) {
      Fields r(*node.as_table(), f.file(), f.context() + ": advise_against", f.problems());
      auto code = r.String("investigation", true);
      auto reason = r.String("reason", true);
      r.CheckUnknown();
      if (!code || !reason) continue;
      auto index = InvestigationRef(f, *code, "advise_against");
      if (!index) continue;
      for (const auto& item : rule.recommend) {
        if (item.investigation == *index) f.Problem("investigation '" + *code + "' is both recommended and advised against");
      }
      rule.advise_against.push_back(AdviseAgainst{*index, *reason});
    }
  }

  void ReadSource(Fields& f, Rule& rule) {
    const toml::table* table = f.Table("source", true);
    if (table == nullptr) return;
    Fields s(*table, f.file(), f.context() + ": source", f.problems());
    rule.source.guideline = s.String("guideline", true).value_or("");
    rule.source.recommendation = s.String("recommendation", true).value_or("");
    rule.source.edition = s.String("edition", false).value_or("");
    if (auto url = s.String("url", true)) {
      if (url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0) {
        s.Problem("url must start with https:// or http://");
      }
      rule.source.url = *url;
    }
    s.CheckUnknown();
  }

  KnowledgeBase& base_;
  StringMap<std::string>& rule_files_;
  std::size_t raw_positive_ = 0;
};

std::string StemOf(const std::string& name) {
  return fs::path(name).stem().string();
}

void LoadTopic(const KnowledgeFile& file, KnowledgeBase& base, RuleReader& reader, Problems& problems) {
  auto root = ParseToml(file, problems);
  if (!root) return;
  Fields top(*root, file.name, "file", problems);
  const toml::table* topic_table = top.Table("topic", true);
  const toml::array* rules = top.TableArray("rule", false);
  top.CheckUnknown();
  if (topic_table == nullptr) return;

  Topic topic;
  topic.file = file.name;
  Fields t(*topic_table, file.name, "topic", problems);
  if (auto id = t.String("id", true)) {
    if (!IsTopicId(*id)) t.Problem("id must match [a-z][a-z0-9-]*");
    if (*id != StemOf(file.name)) t.Problem("id '" + *id + "' must equal the file name '" + StemOf(file.name) + "'");
    topic.id = *id;
  }
  topic.title = t.String("title", true).value_or("");
  topic.guidelines = t.Strings("guidelines", true);
  if (t.Get("guidelines") != nullptr && topic.guidelines.empty()) t.Problem("guidelines must name at least one guideline");
  topic.summary = t.String("summary", false).value_or("");
  topic.reviewed = t.String("reviewed", false).value_or("");
  t.CheckUnknown();
  if (base.FindTopic(topic.id)) {
    t.Problem("duplicate topic id '" + topic.id + "'");
    return;
  }
  if (rules == nullptr || rules->empty()) {
    t.Problem("topic has no [[rule]] entries");
    return;
  }
  const std::string topic_id = topic.id;
  base.AddTopic(std::move(topic));
  std::size_t ordinal = 0;
  for (const auto& node : *rules) {
    ++ordinal;
    if (auto rule = reader.Read(*node.as_table(), file.name, topic_id, ordinal, problems)) {
      base.AddRule(std::move(*rule));
    }
  }
}

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot open " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Reads dir/<single> (if present) then dir/<folder>/*.toml sorted by name.
Result<void> ReadGroup(const fs::path& dir, const std::string& single, const std::string& folder,
                       std::vector<KnowledgeFile>& out) {
  std::error_code ec;
  if (!single.empty() && fs::is_regular_file(dir / single, ec)) {
    auto text = ReadText(dir / single);
    if (!text) return tl::unexpected(text.error());
    out.push_back({single, std::move(*text)});
  }
  if (!fs::is_directory(dir / folder, ec)) return {};
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / folder, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") {
      names.push_back(entry.path().filename().string());
    }
  }
  if (ec) return Fail(ErrorCode::kStorage, "cannot list " + (dir / folder).string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto text = ReadText(dir / folder / name);
    if (!text) return tl::unexpected(text.error());
    out.push_back({folder + "/" + name, std::move(*text)});
  }
  return {};
}

}  // namespace

Result<KnowledgeSources> ReadKnowledgeSources(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Fail(ErrorCode::kNotFound, "knowledge directory not found: " + dir.string());
  if (!fs::is_directory(dir / "topics", ec)) {
    return Fail(ErrorCode::kNotFound, "knowledge directory has no topics/ folder: " + dir.string());
  }
  KnowledgeSources sources;
  if (auto r = ReadGroup(dir, "findings.toml", "findings", sources.findings); !r) return tl::unexpected(r.error());
  if (auto r = ReadGroup(dir, "investigations.toml", "investigations", sources.investigations); !r) {
    return tl::unexpected(r.error());
  }
  if (auto r = ReadGroup(dir, "", "topics", sources.topics); !r) return tl::unexpected(r.error());
  return sources;
}

Result<KnowledgeBase> ParseKnowledgeBase(const KnowledgeSources& sources) {
  KnowledgeBase base;
  Problems problems;
  for (const auto& file : sources.findings) LoadFindings(file, base, problems);
  if (auto r = base.mutable_findings().Finalise(); !r) problems.Add(r.error().message);
  for (const auto& file : sources.investigations) LoadInvestigations(file, base, problems);
  StringMap<std::string> rule_files;
  RuleReader reader(base, rule_files);
  for (const auto& file : sources.topics) LoadTopic(file, base, reader, problems);
  if (problems.empty() && base.rules().empty()) problems.Add("knowledge base has no rules");
  if (!problems.empty()) {
    return Fail(ErrorCode::kInvalidInput, "knowledge base is invalid (" + std::to_string(problems.count()) +
                                              " problem" + (problems.count() == 1 ? "" : "s") + "):\n" +
                                              problems.Join());
  }
  return base;
}

Result<KnowledgeBase> LoadKnowledgeBase(const fs::path& dir) {
  auto sources = ReadKnowledgeSources(dir);
  if (!sources) return tl::unexpected(sources.error());
  return ParseKnowledgeBase(*sources);
}

}  // namespace dx::cds
