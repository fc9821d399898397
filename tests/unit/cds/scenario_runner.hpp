// Runs vignette files (knowledge/SCHEMA.md §5) against a knowledge base and lists
// every case whose outcome differs from its expectation. Test support code; not
// thread-safe across calls that share a seen-ids set.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cds/knowledge_base.hpp"

namespace dx::cds::testing {

struct ScenarioResult {
  std::size_t files = 0;
  std::size_t cases = 0;
  std::vector<std::string> failures;     // one line per mismatch, naming file and case
  std::set<std::string> rules_exercised; // the `rule` of every case
};

// Runs one vignette file's text; `name` is used in failure messages. Case ids
// must be unique across every call that shares `seen_ids`.
void RunScenarioText(const KnowledgeBase& knowledge, const std::string& name, const std::string& text,
                     std::set<std::string>& seen_ids, ScenarioResult& result);

// Runs every *.toml in dir (name order).
ScenarioResult RunScenarioDirectory(const KnowledgeBase& knowledge, const std::filesystem::path& dir);

}  // namespace dx::cds::testing
