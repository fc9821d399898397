#include "server/server.hpp"

#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "core/logging.hpp"
#include "audit/audit_trail.hpp"
#include "cds/hooks/service.hpp"
#include "cds/loader.hpp"
#include "dicom/dimse_server.hpp"
#include "dicomweb/routes.hpp"
#include "dicomweb/stow.hpp"
#include "dimse/archive_handlers.hpp"
#include "fhir/routes.hpp"
#include "http/cors.hpp"
#include "hl7/mllp.hpp"
#include "orders/catalogue.hpp"
#include "orders/pathway.hpp"
#include "orders/routes.hpp"
#include "worklist/schedule_service.hpp"
#include "results/inbox.hpp"
#include "results/receiver.hpp"
#include "http/gzip.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "waits/routes.hpp"
#include "storage/blob/filesystem_blob_store.hpp"
#include "storage/postgres/postgres_consultation_store.hpp"
#include "storage/postgres/postgres_index.hpp"
#include "storage/postgres/postgres_order_store.hpp"
#include "storage/postgres/postgres_result_store.hpp"
#include "storage/sqlite/sqlite_consultation_store.hpp"
#include "storage/sqlite/sqlite_index.hpp"
#include "storage/sqlite/sqlite_order_store.hpp"
#include "storage/sqlite/sqlite_result_store.hpp"

namespace dx::server {

namespace {

// The stores the `index` option names: SQLite in the data folder, or a PostgreSQL
// database that several nodes share (its conninfo may hold a password: not logged).
Result<std::unique_ptr<storage::InstanceIndex>> OpenConfiguredIndex(const Config& config) {
  std::unique_ptr<storage::InstanceIndex> index;
  if (config.index == "sqlite") {
    auto sqlite = storage::SqliteIndex::Open((std::filesystem::path(config.data_dir) / "index.sqlite").string(),
                                             config.durable);
    if (!sqlite) return tl::unexpected(sqlite.error());
    index = std::move(*sqlite);
  } else {
    auto postgres = storage::PostgresIndex::Open(config.index, config.durable, {8, ""});
    if (!postgres) return tl::unexpected(postgres.error());
    index = std::move(*postgres);
  }
  Logger("server")->info("event=index-open backend={}", config.index == "sqlite" ? "sqlite" : "postgresql");
  return index;
}

Result<std::unique_ptr<storage::ConsultationStore>> OpenConfiguredConsultations(const Config& config) {
  if (config.index == "sqlite") {
    auto sqlite = storage::SqliteConsultationStore::Open(
        (std::filesystem::path(config.data_dir) / "index.sqlite").string(), config.durable);
    if (!sqlite) return tl::unexpected(sqlite.error());
    return std::unique_ptr<storage::ConsultationStore>(std::move(*sqlite));
  }
  auto postgres = storage::PostgresConsultationStore::Open(config.index, config.durable, {2, ""});
  if (!postgres) return tl::unexpected(postgres.error());
  return std::unique_ptr<storage::ConsultationStore>(std::move(*postgres));
}

Result<std::unique_ptr<storage::ResultStore>> OpenConfiguredResults(const Config& config) {
  if (config.index == "sqlite") {
    auto sqlite = storage::SqliteResultStore::Open((std::filesystem::path(config.data_dir) / "index.sqlite").string(),
                                                   config.durable);
    if (!sqlite) return tl::unexpected(sqlite.error());
    return std::unique_ptr<storage::ResultStore>(std::move(*sqlite));
  }
  auto postgres = storage::PostgresResultStore::Open(config.index, config.durable, {4, ""});
  if (!postgres) return tl::unexpected(postgres.error());
  return std::unique_ptr<storage::ResultStore>(std::move(*postgres));
}

Result<std::unique_ptr<storage::OrderStore>> OpenConfiguredOrders(const Config& config) {
  if (config.index == "sqlite") {
    auto sqlite = storage::SqliteOrderStore::Open((std::filesystem::path(config.data_dir) / "index.sqlite").string(),
                                                  config.durable);
    if (!sqlite) return tl::unexpected(sqlite.error());
    return std::unique_ptr<storage::OrderStore>(std::move(*sqlite));
  }
  auto postgres = storage::PostgresOrderStore::Open(config.index, config.durable, {2, ""});
  if (!postgres) return tl::unexpected(postgres.error());
  return std::unique_ptr<storage::OrderStore>(std::move(*postgres));
}

}  // namespace

Result<Storage> OpenStorage(const Config& config) {
  std::error_code error;
  std::filesystem::create_directories(config.data_dir, error);
  if (error) {
    return Fail(ErrorCode::kStorage, fmt::format("cannot create data folder {}: {}", config.data_dir, error.message()));
  }
  const std::filesystem::path root(config.data_dir);
  auto index = OpenConfiguredIndex(config);
  if (!index) return tl::unexpected(index.error());
  auto blobs = storage::FilesystemBlobStore::Open((root / "blobs").string());
  if (!blobs) return tl::unexpected(blobs.error());
  return Storage{std::move(*index), std::move(*blobs)};
}

struct Server::Impl {
  Config config;
  Storage storage;
  std::unique_ptr<audit::FileAuditTrail> audit;
  std::unique_ptr<archive::Ingest> ingest;
  std::unique_ptr<dimse::ArchiveHandlers> handlers;
  std::unique_ptr<worklist::ScheduleService> schedule;
  std::unique_ptr<dicom::DimseServer> dimse;
  std::unique_ptr<cds::KnowledgeBase> knowledge;
  std::unique_ptr<storage::ConsultationStore> consultations;
  std::unique_ptr<storage::ResultStore> results;
  std::unique_ptr<results::Journal> journal;
  std::unique_ptr<results::GroupCommit> group_commit;
  std::unique_ptr<results::ReadAfterAck> visible_results;
  std::unique_ptr<results::ResultsReceiver> receiver;
  std::unique_ptr<hl7::MllpServer> mllp;
  std::unique_ptr<cds::hooks::CdsService> cds;
  std::unique_ptr<storage::OrderStore> orders;
  std::unique_ptr<orders::Pathway> pathway;
  std::unique_ptr<orders::TestCatalogue> catalogue;
  http::Router router;
  std::unique_ptr<http::Server> http;
  int dicom_port = 0;
  int http_port = 0;
  int hl7_port = 0;

  void AddStatusRoutes();
};

void Server::Impl::AddStatusRoutes() {
  router.Add("GET", "/health", [](const http::Request&) { return http::Response::Json({{"status", "ok"}}); });
  router.Add("GET", "/api/status", [this](const http::Request&) {
    auto stats = storage.index->Stats();
    if (!stats) throw Error(stats.error());
    return http::Response::Json({{"ae_title", config.ae_title},
                                 {"dicom_port", dicom_port},
                                 {"patients", stats->patients},
                                 {"studies", stats->studies},
                                 {"series", stats->series},
                                 {"instances", stats->instances},
                                 {"bytes", stats->bytes}});
  });
}

Server::Server(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

Server::~Server() { Stop(); }

Result<void> Server::Start() {
  auto& c = impl_->config;
  auto storage = OpenStorage(c);
  if (!storage) return tl::unexpected(storage.error());
  impl_->storage = std::move(*storage);
  auto audit = audit::FileAuditTrail::Open((std::filesystem::path(c.data_dir) / "audit.log").string(), c.durable);
  if (!audit) return tl::unexpected(audit.error());
  impl_->audit = std::move(*audit);
  auto orders = OpenConfiguredOrders(c);
  if (!orders) return tl::unexpected(orders.error());
  impl_->orders = std::move(*orders);
  impl_->pathway = std::make_unique<orders::Pathway>(*impl_->orders);
  impl_->ingest = std::make_unique<archive::Ingest>(
      archive::IngestOptions{c.duplicate_policy, c.durable, c.ingest_batch}, *impl_->storage.index,
      *impl_->storage.blobs);
  // The first image of a booked request marks it performed (matched by accession number).
  impl_->ingest->SetObserver([pathway = impl_->pathway.get()](const archive::IngestOutcome& stored,
                                                               const std::string& calling_ae) {
    if (stored.accession_number.empty()) return;
    auto moved = pathway->PerformedByAccession(stored.accession_number, std::time(nullptr), "modality:" + calling_ae,
                                               "study:" + stored.study_instance_uid);
    if (!moved) Logger("server")->warn("event=perform-by-image-failed reason=\"{}\"", moved.error().message);
  });
  impl_->handlers =
      std::make_unique<dimse::ArchiveHandlers>(c, *impl_->ingest, *impl_->storage.index, *impl_->storage.blobs,
                                              *impl_->audit);
  dicom::DimseServerOptions options;
  options.ae_title = c.ae_title;
  options.bind_address = c.bind_address;
  options.port = c.dicom_port;
  options.max_associations = c.max_associations;
  options.max_object_bytes = c.max_object_bytes;
  impl_->schedule = std::make_unique<worklist::ScheduleService>(*impl_->orders, *impl_->pathway, *impl_->audit);
  impl_->dimse = std::make_unique<dicom::DimseServer>(options, *impl_->handlers, impl_->schedule.get());
  auto port = impl_->dimse->Start();
  if (!port) return tl::unexpected(port.error());
  impl_->dicom_port = *port;

  impl_->AddStatusRoutes();
  auto knowledge = cds::LoadKnowledgeBase(c.knowledge_dir);
  if (!knowledge) {
    return Fail(knowledge.error().code, fmt::format("decision-support knowledge base {}: {}", c.knowledge_dir,
                                                    knowledge.error().message));
  }
  impl_->knowledge = std::make_unique<cds::KnowledgeBase>(std::move(*knowledge));
  auto consultations = OpenConfiguredConsultations(c);
  if (!consultations) return tl::unexpected(consultations.error());
  impl_->consultations = std::move(*consultations);
  impl_->cds = std::make_unique<cds::hooks::CdsService>(*impl_->knowledge, *impl_->consultations, *impl_->audit);
  impl_->cds->RegisterRoutes(impl_->router);
  dicomweb::RegisterRoutes(impl_->router, *impl_->storage.index, *impl_->storage.blobs, *impl_->audit, c.ae_title);
  dicomweb::RegisterStowRoutes(impl_->router, *impl_->ingest, *impl_->audit);
  auto results = OpenConfiguredResults(c);
  if (!results) return tl::unexpected(results.error());
  impl_->results = std::move(*results);
  auto catalogue = orders::TestCatalogue::Load(c.knowledge_dir, *impl_->knowledge);
  if (!catalogue) return tl::unexpected(catalogue.error());
  impl_->catalogue = std::make_unique<orders::TestCatalogue>(std::move(*catalogue));
  auto now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  orders::RegisterOrderRoutes(impl_->router, *impl_->orders, *impl_->catalogue, *impl_->audit, now);
  waits::RegisterWaitsRoutes(impl_->router, *impl_->orders, *impl_->catalogue, *impl_->audit, now);
  // Acknowledged results are journaled first and applied to the store in large
  // transactions; what an earlier run journaled and had not applied is applied now.
  auto journal = results::Journal::Open((std::filesystem::path(c.data_dir) / "hl7-journal").string(), c.durable);
  if (!journal) return tl::unexpected(journal.error());
  impl_->journal = std::move(*journal);
  auto ids = impl_->results->ResourceIdScheme();
  if (!ids) return tl::unexpected(ids.error());
  impl_->group_commit =
      std::make_unique<results::GroupCommit>(
      *impl_->results, *impl_->journal, *impl_->audit,
      [ids = *ids](const results::JournalEntry& entry) { return results::RebuildIncoming(entry, ids); },
      results::GroupCommitOptions{.apply_delay = std::chrono::milliseconds(c.results_apply_delay_ms)});
  if (auto recovered = impl_->group_commit->Recover(); !recovered) return tl::unexpected(recovered.error());
  impl_->visible_results = std::make_unique<results::ReadAfterAck>(*impl_->results, *impl_->group_commit);
  fhir::RegisterFhirRoutes(impl_->router, *impl_->visible_results, *impl_->audit);
  results::RegisterInboxRoutes(impl_->router, *impl_->visible_results, *impl_->audit);
  impl_->receiver = std::make_unique<results::ResultsReceiver>(*impl_->group_commit, *ids,
                                                               hl7::Acknowledger{"DXHUB", c.ae_title});
  // A final result for a request placed here marks it reported (placer = request id, filler = accession).
  impl_->receiver->SetObserver([pathway = impl_->pathway.get()](const std::vector<results::ReportForOrder>& reports,
                                                                const std::string& sender) {
    for (const auto& report : reports) {
      if (report.status != "final" && report.status != "corrected" && report.status != "amended") continue;
      if (report.placer.empty() && report.filler.empty()) continue;
      auto moved = pathway->ReportedByResult(report.placer, report.filler, report.nhs_number, std::time(nullptr),
                                             "hl7:" + sender, "DiagnosticReport/" + report.report_id);
      if (!moved) Logger("server")->warn("event=report-by-result-failed reason=\"{}\"", moved.error().message);
    }
  });
  hl7::MllpOptions mllp;
  mllp.bind_address = c.bind_address;
  mllp.port = c.hl7_port;
  mllp.max_message_bytes = static_cast<std::size_t>(c.max_hl7_message_bytes);
  impl_->mllp = std::make_unique<hl7::MllpServer>(mllp, *impl_->receiver);
  auto hl7_port = impl_->mllp->Start();
  if (!hl7_port) return tl::unexpected(hl7_port.error());
  impl_->hl7_port = *hl7_port;
  // Outermost first: CORS answers preflights before anything else runs.
  impl_->router.Use(http::Cors({c.cors_origins}, impl_->router));
  impl_->router.Use(http::Gzip());
  impl_->http = std::make_unique<http::Server>(
      http::ServerOptions{c.bind_address, c.http_port, 2, static_cast<std::size_t>(c.max_request_bytes)},
      impl_->router);
  auto http_port = impl_->http->Start();
  if (!http_port) return tl::unexpected(http_port.error());
  impl_->http_port = *http_port;
  return {};
}

void Server::Stop() {
  if (!impl_) return;
  if (impl_->http) impl_->http->Stop();
  impl_->http.reset();
  if (impl_->mllp) impl_->mllp->Stop();
  impl_->mllp.reset();
  impl_->receiver.reset();
  impl_->visible_results.reset();
  impl_->group_commit.reset();
  impl_->journal.reset();
  if (impl_->dimse) impl_->dimse->Stop();
  impl_->dimse.reset();
  impl_->schedule.reset();
  impl_->handlers.reset();
  impl_->cds.reset();
  impl_->results.reset();
  impl_->catalogue.reset();
  impl_->consultations.reset();
  impl_->knowledge.reset();
  impl_->ingest.reset();
  impl_->pathway.reset();
  impl_->orders.reset();
  impl_->audit.reset();
  impl_->storage = {};
}

int Server::dicom_port() const { return impl_->dicom_port; }
int Server::http_port() const { return impl_->http_port; }
int Server::hl7_port() const { return impl_->hl7_port; }

}  // namespace dx::server
