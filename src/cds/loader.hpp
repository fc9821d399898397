// Loads and validates a knowledge directory (knowledge/SCHEMA.md): findings,
// investigations and topic files in TOML. Every problem is reported, each naming
// the file (relative to the knowledge directory), the line and the rule or entry.
// Stateless functions; safe to call from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cds/knowledge_base.hpp"
#include "core/error.hpp"

namespace dx::cds {

// One knowledge file's text and its name as shown in errors ("topics/lung-cancer.toml").
struct KnowledgeFile {
  std::string name;
  std::string text;
};

// The texts of a knowledge base, as read from disk or given by tests.
struct KnowledgeSources {
  std::vector<KnowledgeFile> findings;
  std::vector<KnowledgeFile> investigations;
  std::vector<KnowledgeFile> topics;  // topic id = file stem
};

// Reads dir/findings.toml, dir/findings/*.toml, dir/investigations.toml,
// dir/investigations/*.toml and dir/topics/*.toml in name order (deterministic).
// Fails (kNotFound) when the directory or topics/ is missing.
Result<KnowledgeSources> ReadKnowledgeSources(const std::filesystem::path& dir);

// Parses and validates; on failure the error message lists every problem found,
// one per line, e.g.
// "topics/lung-cancer.toml:12: rule NG12-LUNG-CXR-40: unknown finding 'cuogh' in any_of".
Result<KnowledgeBase> ParseKnowledgeBase(const KnowledgeSources& sources);

// ReadKnowledgeSources then ParseKnowledgeBase.
Result<KnowledgeBase> LoadKnowledgeBase(const std::filesystem::path& dir);

}  // namespace dx::cds
