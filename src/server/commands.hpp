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

// An N-CREATE or N-SET of a Modality Performed Procedure Step, as a modality sends it.
struct MppsRequest {
  std::string action;          // create or set
  std::string peer;            // AE@host:port
  std::string calling_ae = "MODALITY";
  std::string uid;
  std::vector<std::string> keys;  // findscu-style -k keys
};
// Sends it and prints the answer (status, Error Comment, returned attributes).
// Exit code 0 on success, 3 when the peer answered with a failure, 1 when it
// could not be asked, 2 for bad arguments.
int RunMpps(const MppsRequest& request);

}  // namespace dx::server
