// The dxhub node: opens the index and blob store under the data folder, starts
// the ingest pipeline, the DIMSE listener and the HTTP listener, and stops them in reverse order.
// Start and Stop are called from one thread.
#pragma once

#include <memory>

#include "archive/ingest.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "storage/api/blob_store.hpp"
#include "storage/api/instance_index.hpp"

namespace dx::server {

// Index and blobs under `config.data_dir`, opened together (used by every subcommand).
struct Storage {
  std::unique_ptr<storage::InstanceIndex> index;
  std::unique_ptr<storage::BlobStore> blobs;
};
Result<Storage> OpenStorage(const Config& config);

class Server {
 public:
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Result<void> Start();
  void Stop();
  int dicom_port() const;
  int http_port() const;
  int hl7_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::server
