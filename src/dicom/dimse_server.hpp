// DIMSE service provider (PS3.7): accepts associations on a TCP port, negotiates
// presentation contexts, and hands each request to DimseHandlers as plain C++
// values. One thread per association (bounded); Start/Stop from one thread.
// Handlers are called concurrently from association threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "dicom/attributes.hpp"

namespace dx::dicom {

struct AssociationInfo {
  std::string calling_ae;
  std::string called_ae;
  std::string peer_address;
  std::uint64_t id = 0;
};

// PS3.7 C.2 status codes used by the services.
namespace status {
inline constexpr std::uint16_t kSuccess = 0x0000;
inline constexpr std::uint16_t kPending = 0xFF00;
inline constexpr std::uint16_t kCancel = 0xFE00;
inline constexpr std::uint16_t kWarningSubOperations = 0xB000;  // some sub-operations failed
inline constexpr std::uint16_t kOutOfResources = 0xA700;
inline constexpr std::uint16_t kMoveDestinationUnknown = 0xA801;
inline constexpr std::uint16_t kIdentifierDoesNotMatchClass = 0xA900;
inline constexpr std::uint16_t kCannotUnderstand = 0xC000;
inline constexpr std::uint16_t kProcessingFailure = 0x0110;
inline constexpr std::uint16_t kSubOperationsFailed = 0xA702;  // C-MOVE/C-GET: none succeeded
// N-CREATE and N-SET (PS3.7 C.4).
inline constexpr std::uint16_t kInvalidAttributeValue = 0x0106;
inline constexpr std::uint16_t kDuplicateInstance = 0x0111;
inline constexpr std::uint16_t kNoSuchInstance = 0x0112;
inline constexpr std::uint16_t kMissingAttribute = 0x0120;
inline constexpr std::uint16_t kMissingAttributeValue = 0x0121;
inline constexpr std::uint16_t kSopClassNotSupported = 0x0122;
}  // namespace status

// A C-STORE request whose data set has been written, bit for bit as received,
// into `file_path` (a Part 10 file with a meta header naming the transfer syntax).
struct StoreRequest {
  AssociationInfo association;
  std::string sop_class_uid;     // from the command
  std::string sop_instance_uid;  // from the command
  std::string file_path;
  std::uint64_t size_bytes = 0;  // of the received data set
};

struct StoreResponse {
  std::uint16_t status = status::kSuccess;
  std::string error_comment;  // (0000,0902) on failure, 64 characters at most
};

// The information models a query or retrieve names (PS3.4 C.6).
enum class QueryModel { kPatientRoot, kStudyRoot, kModalityWorklist };

// One instance to send as a C-STORE sub-operation (C-MOVE, C-GET).
struct OutgoingInstance {
  std::string file_path;
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string transfer_syntax_uid;
};

struct RemotePeer {
  std::string ae_title;
  std::string host;
  int port = 0;
};

class DimseHandlers {
 public:
  virtual ~DimseHandlers() = default;
  // Whether to accept an association from this peer (AE allow-list).
  virtual bool AcceptAssociation(const AssociationInfo& association) = 0;
  // A fresh path where the next received object may be written.
  virtual std::string StagingPath() = 0;
  // Takes the received file (moving it away or deleting it) and answers.
  virtual StoreResponse Store(const StoreRequest& request) = 0;
  // C-FIND matches for `identifier`; an error ends the query with a failure status.
  virtual Result<std::vector<Attributes>> Find(const AssociationInfo& association, QueryModel model,
                                               const Attributes& identifier) = 0;
  // The instances a C-MOVE or C-GET identifier selects.
  virtual Result<std::vector<OutgoingInstance>> Retrieve(const AssociationInfo& association, QueryModel model,
                                                         const Attributes& identifier) = 0;
  // Where a C-MOVE destination AE title lives.
  virtual Result<RemotePeer> MoveDestination(const std::string& ae_title) = 0;
};

// The answer to an N-CREATE or N-SET: a status, its Error Comment when it
// failed, and the attributes to return (may be empty).
struct ProcedureStepResponse {
  std::uint16_t status = status::kSuccess;
  std::string error_comment;
  Attributes attributes;
};

// The Modality Worklist (PS3.4 K) and Modality Performed Procedure Step (PS3.4
// F.7) services: negotiated only when the server is given these handlers.
class ScheduleHandlers {
 public:
  virtual ~ScheduleHandlers() = default;
  // Worklist C-FIND matches; kInvalidInput ends the query with A900, other errors with C000.
  virtual Result<std::vector<Attributes>> FindWorklist(const AssociationInfo& association,
                                                       const Attributes& identifier) = 0;
  // N-CREATE of the step `sop_instance_uid` (chosen by the caller, or by the
  // server when the requestor named none).
  virtual ProcedureStepResponse CreateProcedureStep(const AssociationInfo& association,
                                                    const std::string& sop_instance_uid,
                                                    const Attributes& attributes) = 0;
  // N-SET of the step `sop_instance_uid` with a modification list.
  virtual ProcedureStepResponse SetProcedureStep(const AssociationInfo& association,
                                                 const std::string& sop_instance_uid,
                                                 const Attributes& modification) = 0;
};

struct DimseServerOptions {
  std::string ae_title = "DXHUB";
  std::string bind_address = "127.0.0.1";
  int port = 0;                    // 0 picks a free port
  int max_associations = 64;
  std::uint64_t max_object_bytes = 2ull << 30;
  int network_timeout_seconds = 60;
  std::uint32_t max_pdu_bytes = 131072;  // ASC_MAXIMUMPDUSIZE, the largest DCMTK accepts
};

class DimseServer {
 public:
  // `schedule` (optional, outliving the server) adds the worklist and MPPS services.
  DimseServer(DimseServerOptions options, DimseHandlers& handlers, ScheduleHandlers* schedule = nullptr);
  ~DimseServer();
  DimseServer(const DimseServer&) = delete;
  DimseServer& operator=(const DimseServer&) = delete;

  // Binds and starts accepting; returns the bound port.
  Result<int> Start();
  // Stops accepting, waits for open associations to end (they are aborted
  // after the network timeout at most).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dx::dicom
