// dxhub: parses the command line and runs one subcommand; nothing else.
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/logging.hpp"
#include "server/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dxhub — diagnostics exchange: DICOM archive, orders, results and reporting"};
  app.require_subcommand(1);
  app.fallthrough();  // options may follow the subcommand: dxhub serve --data-dir D
  dx::ConfigBuilder config_builder(app);

  auto* serve = app.add_subcommand("serve", "run the node (DIMSE and HTTP listeners)");
  auto* import = app.add_subcommand("import", "store DICOM files from folders or files");
  std::vector<std::string> import_paths;
  int import_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  import->add_option("paths", import_paths, "files or folders (recursive)")->required();
  import->add_option("--threads", import_threads, "parallel imports");
  auto* status = app.add_subcommand("status", "print index counts as JSON");

  auto* cds = app.add_subcommand("cds", "try a decision-support case: which test suits this patient?");
  std::string case_file, sex = "unknown", requested;
  double age = -1;
  std::vector<std::string> findings, history;
  cds->add_option("--case", case_file, "case as a JSON file (knowledge/SCHEMA.md); or use the flags below");
  cds->add_option("--age", age, "age in years");
  cds->add_option("--sex", sex, "female, male or unknown");
  cds->add_option("--finding", findings, "a finding: code, SNOMED id or words; 'no X' for absent");
  cds->add_option("--history", history, "a history item");
  cds->add_option("--requested", requested, "the test the requester has in mind");

  auto* mpps = app.add_subcommand("mpps", "report a performed procedure step to a DICOM peer (N-CREATE or N-SET)");
  dx::server::MppsRequest mpps_request;
  mpps->add_option("action", mpps_request.action, "create or set")->required()->check(CLI::IsMember({"create", "set"}));
  mpps->add_option("--peer", mpps_request.peer, "the peer as AE@host:port")->required();
  mpps->add_option("--calling-ae", mpps_request.calling_ae, "our AE title");
  mpps->add_option("--uid", mpps_request.uid, "the step's SOP Instance UID (create: the peer chooses when absent)");
  mpps->add_option("-k,--key", mpps_request.keys, "an attribute as findscu's -k: Name=value, (gggg,eeee)=value, "
                   "Sequence[0].Name=value");

  CLI11_PARSE(app, argc, argv);
  auto config = config_builder.Finish();
  if (!config) {
    std::cerr << "dxhub: " << config.error().message << "\n";
    return 2;
  }
  dx::ConfigureLogging(config->log_level);
  if (*serve) return dx::server::RunServe(*config);
  if (*import) return dx::server::RunImport(*config, import_paths, import_threads);
  if (*status) return dx::server::RunStatus(*config);
  if (*mpps) return dx::server::RunMpps(mpps_request);
  if (*cds) {
    std::string case_json;
    if (!case_file.empty()) {
      std::ifstream in(case_file);
      if (!in) {
        std::cerr << "dxhub cds: cannot read " << case_file << "\n";
        return 2;
      }
      case_json.assign(std::istreambuf_iterator<char>(in), {});
    } else {
      nlohmann::json input{{"sex", sex}, {"findings", findings}, {"history", history}};
      if (age >= 0) input["age"] = age;
      if (!requested.empty()) input["requested"] = requested;
      case_json = input.dump();
    }
    return dx::server::RunCds(config->knowledge_dir, case_json);
  }
  return 2;
}
