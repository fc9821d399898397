// C-FIND SCU (PS3.4 C.4.1): queries a remote AE over one association that stays
// open across queries (Study Root or Patient Root). Not thread-safe; use one per
// thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dicom/attributes.hpp"
#include "dicom/dimse_server.hpp"

namespace dx::dicom {

class FindScu {
 public:
  FindScu(std::string calling_ae, int timeout_seconds);
  ~FindScu();

  Result<void> Connect(const RemotePeer& peer, QueryModel model);
  // All matches of one query; a failure status from the peer is an error naming it.
  Result<std::vector<Attributes>> Find(const Attributes& identifier);
  void Release();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::dicom
