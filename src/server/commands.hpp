// The `dxhub` subcommands, each returning the process exit code.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace dx::server {

// Runs the node until SIGINT or SIGTERM; prints one ready line on stdout.
int RunServe(const Config& config);
// Stores every file under the given paths (folders recursively); prints counts.
int RunImport(const Config& config, const std::vector<std::string>& paths, int threads);
// Prints the index counts as JSON.
int RunStatus(const Config& config);
// Evaluates one decision-support case (JSON, knowledge/SCHEMA.md) against the
// knowledge base in `knowledge_dir` and prints the outcome as JSON. Exit code 0
// when evaluated, 3 when the case itself is invalid, 1 when the knowledge base is.
int RunCds(const std::string& knowledge_dir, const std::string& case_json);

}  // namespace dx::server
