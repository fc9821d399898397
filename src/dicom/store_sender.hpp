// C-STORE SCU (PS3.4 B.2): sends stored instances to a remote AE over one
// association, proposing each instance's stored transfer syntax with explicit
// and implicit little endian as fall-backs (decompressing when only those are
// accepted). Not thread-safe; use one sender per thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dicom/dimse_server.hpp"

namespace dx::dicom {

class StoreSender {
 public:
  StoreSender(std::string calling_ae, int timeout_seconds);
  ~StoreSender();

  // Opens the association, proposing contexts for the given instances.
  Result<void> Connect(const RemotePeer& peer, const std::vector<OutgoingInstance>& instances);
  // Sends one instance; the result is the peer's C-STORE response status.
  // `move_originator_ae` and `move_message_id` fill the C-MOVE sub-operation fields.
  Result<std::uint16_t> Send(const OutgoingInstance& instance, const std::string& move_originator_ae = "",
                             std::uint16_t move_message_id = 0);
  void Release();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::dicom
