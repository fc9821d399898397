#include "server/commands.hpp"

#include <csignal>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audit/audit_trail.hpp"
#include "cds/evaluator.hpp"
#include "cds/json.hpp"
#include "cds/loader.hpp"
#include "core/logging.hpp"
#include "dicom/procedure_step_scu.hpp"
#include "server/server.hpp"

namespace dx::server {

int RunServe(const Config& config) {
  // Block the stop signals before any thread starts so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto log = Logger("server");
  Server server(config);
  if (auto started = server.Start(); !started) {
    log->error("event=start-failed reason=\"{}\"", started.error().message);
    std::cerr << "dxhub: " << started.error().message << "\n";
    return 1;
  }
  std::cout << fmt::format("dxhub ready dicom={}:{} http={}:{} ae={} hl7={}:{} data={}", config.bind_address,
                           server.dicom_port(), config.bind_address, server.http_port(), config.ae_title,
                           config.bind_address, server.hl7_port(), config.data_dir)
            << std::endl;
  log->info("event=ready dicom_port={} http_port={} hl7_port={} ae={} durable={} duplicates={}", server.dicom_port(),
            server.http_port(), server.hl7_port(), config.ae_title, config.durable, ToString(config.duplicate_policy));
  int received = 0;
  sigwait(&signals, &received);
  log->info("event=stopping signal={}", received);
  server.Stop();
  return 0;
}

int RunImport(const Config& config, const std::vector<std::string>& paths, int threads) {
  auto storage = OpenStorage(config);
  if (!storage) {
    std::cerr << "dxhub import: " << storage.error().message << "\n";
    return 1;
  }
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      for (auto& entry : std::filesystem::recursive_directory_iterator(path, error)) {
        if (entry.is_regular_file()) files.push_back(entry.path().string());
      }
    } else if (std::filesystem::is_regular_file(path, error)) {
      files.push_back(path);
    } else {
      std::cerr << "dxhub import: no such file or folder: " << path << "\n";
      return 1;
    }
  }
  std::sort(files.begin(), files.end());
  // The same trail a running server writes to: appends from both processes interleave safely.
  auto audit = audit::FileAuditTrail::Open((std::filesystem::path(config.data_dir) / "audit.log").string(),
                                           config.durable);
  if (!audit) {
    std::cerr << "dxhub import: " << audit.error().message << "\n";
    return 1;
  }
  {
    archive::Ingest ingest({config.duplicate_policy, config.durable, config.ingest_batch}, *storage->index,
                           *storage->blobs);
    std::mutex mutex;
    std::size_t next = 0, stored = 0, duplicates = 0, failed = 0;
    auto worker = [&] {
      while (true) {
        std::string file;
        {
          std::lock_guard lock(mutex);
          if (next == files.size()) return;
          file = files[next++];
        }
        auto outcome = ingest.ImportFile(file);
        (*audit)->Record({"import", "dicom.import", outcome ? "success" : outcome.error().message,
                          outcome ? std::vector<std::string>{"study:" + outcome->study_instance_uid,
                                                             "instance:" + outcome->sop_instance_uid}
                                  : std::vector<std::string>{},
                          "local"});
        std::lock_guard lock(mutex);
        if (!outcome) {
          ++failed;
          std::cerr << "dxhub import: " << file << ": " << outcome.error().message << "\n";
        } else if (outcome->status == archive::IngestStatus::kIdenticalIgnored) {
          ++duplicates;
        } else {
          ++stored;
        }
      }
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back(worker);
    for (auto& thread : pool) thread.join();
    std::cout << nlohmann::json{{"files", files.size()}, {"stored", stored}, {"duplicates", duplicates},
                                {"failed", failed}}
                     .dump()
              << std::endl;
    if (failed > 0) return 2;
  }
  return 0;
}

int RunStatus(const Config& config) {
  auto storage = OpenStorage(config);
  if (!storage) {
    std::cerr << "dxhub status: " << storage.error().message << "\n";
    return 1;
  }
  auto stats = storage->index->Stats();
  if (!stats) {
    std::cerr << "dxhub status: " << stats.error().message << "\n";
    return 1;
  }
  std::cout << nlohmann::json{{"data_dir", config.data_dir},
                              {"patients", stats->patients},
                              {"studies", stats->studies},
                              {"series", stats->series},
                              {"instances", stats->instances},
                              {"bytes", stats->bytes}}
                   .dump(2)
            << std::endl;
  return 0;
}

int RunCds(const std::string& knowledge_dir, const std::string& case_json) {
  auto knowledge = cds::LoadKnowledgeBase(knowledge_dir);
  if (!knowledge) {
    std::cerr << "dxhub cds: " << knowledge.error().message << "\n";
    return 1;
  }
  const auto json = nlohmann::json::parse(case_json, nullptr, false);
  if (json.is_discarded()) {
    std::cerr << "dxhub cds: the case is not valid JSON\n";
    return 3;
  }
  auto input = cds::CaseFromJson(json);
  if (!input) {
    std::cerr << "dxhub cds: " << input.error().message << "\n";
    return 3;
  }
  const cds::Outcome outcome = cds::Evaluate(*knowledge, *input);
  std::cout << cds::OutcomeToJson(*knowledge, outcome).dump(2) << std::endl;
  return outcome.ok() ? 0 : 3;
}

int RunMpps(const MppsRequest& request) {
  const auto at = request.peer.find('@');
  const auto colon = request.peer.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at) {
    std::cerr << "dxhub mpps: --peer must be AE@host:port\n";
    return 2;
  }
  dicom::RemotePeer peer{request.peer.substr(0, at), request.peer.substr(at + 1, colon - at - 1), 0};
  try {
    peer.port = std::stoi(request.peer.substr(colon + 1));
  } catch (const std::exception&) {
    std::cerr << "dxhub mpps: bad port in --peer\n";
    return 2;
  }
  if (request.action == "set" && request.uid.empty()) {
    std::cerr << "dxhub mpps: set needs --uid\n";
    return 2;
  }
  auto attributes = dicom::AttributesFromKeys(request.keys);
  if (!attributes) {
    std::cerr << "dxhub mpps: " << attributes.error().message << "\n";
    return 2;
  }
  dicom::ProcedureStepScu scu(request.calling_ae, 30);
  if (auto connected = scu.Connect(peer); !connected) {
    std::cerr << "dxhub mpps: " << connected.error().message << "\n";
    return 1;
  }
  auto answer = request.action == "create" ? scu.Create(request.uid, *attributes) : scu.Set(request.uid, *attributes);
  scu.Release();
  if (!answer) {
    std::cerr << "dxhub mpps: " << answer.error().message << "\n";
    return 1;
  }
  std::cout << fmt::format("status=0x{:04X} uid={}\n", answer->status, answer->instance_uid);
  if (!answer->error_comment.empty()) std::cout << "error-comment=" << answer->error_comment << "\n";
  std::cout << dicom::Describe(answer->attributes);
  return answer->status == dicom::status::kSuccess ? 0 : 3;
}

}  // namespace dx::server
