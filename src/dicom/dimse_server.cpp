#include "dicom/dimse_server.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <netinet/in.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/oflog/oflog.h>
#include <fmt/format.h>

#include "core/logging.hpp"
#include "core/uid.hpp"
#include "dicom/association_io.hpp"
#include "dicom/store_sender.hpp"

namespace dx::dicom {
namespace {

using detail::ErrorDetail;
using detail::ToAttributes;
using detail::ToDataset;

const char* const kQueryRetrieveClasses[] = {
    UID_VerificationSOPClass,
    UID_FINDPatientRootQueryRetrieveInformationModel,
    UID_FINDStudyRootQueryRetrieveInformationModel,
    UID_MOVEPatientRootQueryRetrieveInformationModel,
    UID_MOVEStudyRootQueryRetrieveInformationModel,
    UID_GETPatientRootQueryRetrieveInformationModel,
    UID_GETStudyRootQueryRetrieveInformationModel,
};

const char* const kScheduleClasses[] = {
    UID_FINDModalityWorklistInformationModel,
    UID_ModalityPerformedProcedureStepSOPClass,
};

bool IsServiceClass(const char* uid, bool schedule) {
  for (const char* known : kQueryRetrieveClasses) {
    if (std::strcmp(uid, known) == 0) return true;
  }
  if (schedule) {
    for (const char* known : kScheduleClasses) {
      if (std::strcmp(uid, known) == 0) return true;
    }
  }
  return false;
}

QueryModel ModelOf(const char* sop_class) {
  std::string uid(sop_class);
  if (uid == UID_FINDPatientRootQueryRetrieveInformationModel || uid == UID_MOVEPatientRootQueryRetrieveInformationModel ||
      uid == UID_GETPatientRootQueryRetrieveInformationModel) {
    return QueryModel::kPatientRoot;
  }
  if (uid == UID_FINDModalityWorklistInformationModel) return QueryModel::kModalityWorklist;
  return QueryModel::kStudyRoot;
}

bool KnownSyntax(const char* uid) {
  DcmXfer xfer(uid);
  return xfer.getXfer() != EXS_Unknown;
}

// Chooses the transfer syntax to accept for one proposed context: storage keeps
// the first the sender proposes that DCMTK knows (so objects are stored, and sent
// back by C-GET, as they are); services prefer explicit, then implicit little endian.
const char* ChooseSyntax(const T_ASC_PresentationContext& context, bool storage) {
  if (storage) {
    for (int i = 0; i < context.transferSyntaxCount; ++i) {
      if (KnownSyntax(context.proposedTransferSyntaxes[i])) return context.proposedTransferSyntaxes[i];
    }
    return nullptr;
  }
  for (const char* preferred : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}) {
    for (int i = 0; i < context.transferSyntaxCount; ++i) {
      if (std::strcmp(context.proposedTransferSyntaxes[i], preferred) == 0) return preferred;
    }
  }
  return nullptr;
}

// DCMTK listens on every interface; swap its listening socket for one bound to
// the configured address (dup2 onto the same descriptor number DCMTK holds).
Result<void> RebindListener(T_ASC_Network* network, const std::string& address, int port) {
  auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(network->network);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(address.c_str(), service.c_str(), &hints, &found) != 0 || !found) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("bad bind address '{}'", address));
  }
  int fd = ::socket(found->ai_family, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 128) == 0;
  const int bind_errno = errno;
  ::freeaddrinfo(found);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot listen on {}:{}: {}", address, port, std::strerror(bind_errno)));
  }
  ::dup2(fd, key->networkSpecific.TCP.listenSocket);
  ::close(fd);
  return {};
}

// How long a new connection may take to send its A-ASSOCIATE-RQ.
constexpr int kAssociationRequestSeconds = 5;

int BoundPort(T_ASC_Network* network) {
  auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(network->network);
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(key->networkSpecific.TCP.listenSocket, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

}  // namespace

struct DimseServer::Impl {
  Impl(DimseServerOptions o, DimseHandlers& h, ScheduleHandlers* s) : options(std::move(o)), handlers(h), schedule(s) {}
  DimseServerOptions options;
  DimseHandlers& handlers;
  ScheduleHandlers* schedule;
  std::shared_ptr<spdlog::logger> log = Logger("dimse");
  T_ASC_Network* network = nullptr;
  std::thread acceptor;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable idle;
  int active = 0;
  std::uint64_t next_id = 1;

  void AcceptLoop();
  void Serve(T_ASC_Association* association, std::uint64_t id);
  bool Negotiate(T_ASC_Association* association, AssociationInfo& info);
  OFCondition HandleStore(T_ASC_Association* association, T_ASC_PresentationContextID context,
                          T_DIMSE_C_StoreRQ& request, const AssociationInfo& info);
  OFCondition HandleFind(T_ASC_Association* association, T_ASC_PresentationContextID context,
                         T_DIMSE_C_FindRQ& request, const AssociationInfo& info);
  OFCondition HandleMove(T_ASC_Association* association, T_ASC_PresentationContextID context,
                         T_DIMSE_C_MoveRQ& request, const AssociationInfo& info);
  OFCondition HandleGet(T_ASC_Association* association, T_ASC_PresentationContextID context,
                        T_DIMSE_C_GetRQ& request, const AssociationInfo& info);
  OFCondition HandleProcedureStep(T_ASC_Association* association, T_ASC_PresentationContextID context,
                                  T_DIMSE_Message& request, const AssociationInfo& info);
};

DimseServer::DimseServer(DimseServerOptions options, DimseHandlers& handlers, ScheduleHandlers* schedule)
    : impl_(std::make_unique<Impl>(std::move(options), handlers, schedule)) {}

DimseServer::~DimseServer() { Stop(); }

Result<int> DimseServer::Start() {
  // Nagle's algorithm delays every small DIMSE message by a delayed ACK; DCMTK
  // reads this variable when it opens sockets.
  ::setenv("TCP_NODELAY", "1", 1);
  detail::InitializeToolkit();
  dcmDisableGethostbyaddr.set(OFTrue);
  OFCondition cond = ASC_initializeNetwork(NET_ACCEPTOR, 0, impl_->options.network_timeout_seconds, &impl_->network);
  if (cond.bad()) return Fail(ErrorCode::kUnavailable, fmt::format("cannot open DICOM listener: {}", cond.text()));
  if (auto bound = RebindListener(impl_->network, impl_->options.bind_address, impl_->options.port); !bound) {
    ASC_dropNetwork(&impl_->network);
    return tl::unexpected(bound.error());
  }
  const int port = BoundPort(impl_->network);
  impl_->acceptor = std::thread([this] { impl_->AcceptLoop(); });
  return port;
}

void DimseServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  std::unique_lock lock(impl_->mutex);
  impl_->idle.wait(lock, [&] { return impl_->active == 0; });
  lock.unlock();
  if (impl_->network) ASC_dropNetwork(&impl_->network);
}

void DimseServer::Impl::AcceptLoop() {
  while (!stopping) {
    if (!ASC_associationWaiting(network, 1)) continue;
    T_ASC_Association* association = nullptr;
    // The request is read on this thread, so a peer that connects and stays
    // silent may hold up others only for kAssociationRequestSeconds.
    OFCondition cond = ASC_receiveAssociation(network, &association, options.max_pdu_bytes, nullptr, nullptr,
                                              OFFalse, DUL_NOBLOCK, kAssociationRequestSeconds);
    if (cond.bad()) {
      log->warn("event=association-receive-failed reason=\"{}\"", cond.text());
      if (association) {
        ASC_dropSCPAssociation(association);
        ASC_destroyAssociation(&association);
      }
      continue;
    }
    std::uint64_t id;
    {
      std::lock_guard lock(mutex);
      if (active >= options.max_associations) {
        T_ASC_RejectParameters reject{ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                                      ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED};
        ASC_rejectAssociation(association, &reject);
        ASC_dropSCPAssociation(association);
        ASC_destroyAssociation(&association);
        log->warn("event=association-rejected reason=\"too many associations\" limit={}", options.max_associations);
        continue;
      }
      ++active;
      id = next_id++;
    }
    std::thread([this, association, id] {
      Serve(association, id);
      std::lock_guard lock(mutex);
      --active;
      idle.notify_all();
    }).detach();
  }
}

bool DimseServer::Impl::Negotiate(T_ASC_Association* association, AssociationInfo& info) {
  char calling[65] = {}, called[65] = {}, peer[129] = {}, local[129] = {};
  ASC_getAPTitles(association->params, calling, sizeof calling, called, sizeof called, nullptr, 0);
  ASC_getPresentationAddresses(association->params, peer, sizeof peer, local, sizeof local);
  info.calling_ae = calling;
  info.called_ae = called;
  info.peer_address = peer;
  if (!handlers.AcceptAssociation(info)) {
    T_ASC_RejectParameters reject{ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                                  ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED};
    ASC_rejectAssociation(association, &reject);
    log->warn("event=association-rejected calling_ae={} peer={} reason=\"calling AE title not allowed\"",
              info.calling_ae, info.peer_address);
    return false;
  }
  ASC_setAPTitles(association->params, nullptr, nullptr, options.ae_title.c_str());
  const int count = ASC_countPresentationContexts(association->params);
  for (int i = 0; i < count; ++i) {
    T_ASC_PresentationContext context;
    ASC_getPresentationContext(association->params, i, &context);
    const bool service = IsServiceClass(context.abstractSyntax, schedule != nullptr);
    const bool storage = !service && dcmIsaStorageSOPClassUID(context.abstractSyntax, ESSC_All);
    if (!service && !storage) {
      ASC_refusePresentationContext(association->params, context.presentationContextID,
                                    ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
      continue;
    }
    const char* syntax = ChooseSyntax(context, storage);
    if (!syntax) {
      ASC_refusePresentationContext(association->params, context.presentationContextID,
                                    ASC_P_TRANSFERSYNTAXESNOTSUPPORTED);
      continue;
    }
    // Accept the role the requestor proposes: a C-GET requestor acts as storage SCP.
    T_ASC_SC_ROLE role = storage ? context.proposedRole : ASC_SC_ROLE_DEFAULT;
    ASC_acceptPresentationContext(association->params, context.presentationContextID, syntax, role);
  }
  OFCondition cond = ASC_acknowledgeAssociation(association);
  if (cond.bad()) {
    log->warn("event=association-ack-failed calling_ae={} reason=\"{}\"", info.calling_ae, cond.text());
    return false;
  }
  return true;
}

void DimseServer::Impl::Serve(T_ASC_Association* association, std::uint64_t id) {
  AssociationInfo info;
  info.id = id;
  if (Negotiate(association, info)) {
    log->debug("event=association-open id={} calling_ae={} peer={}", id, info.calling_ae, info.peer_address);
    while (true) {
      T_DIMSE_Message message{};
      T_ASC_PresentationContextID context = 0;
      OFCondition cond = DIMSE_receiveCommand(association, DIMSE_NONBLOCKING, options.network_timeout_seconds,
                                              &context, &message, nullptr);
      if (cond == DUL_PEERREQUESTEDRELEASE) {
        ASC_acknowledgeRelease(association);
        break;
      }
      if (cond == DUL_PEERABORTEDASSOCIATION) break;
      if (cond.bad()) {
        log->warn("event=association-aborted id={} calling_ae={} reason=\"{}\"", id, info.calling_ae, cond.text());
        ASC_abortAssociation(association);
        break;
      }
      switch (message.CommandField) {
        case DIMSE_C_ECHO_RQ:
          cond = DIMSE_sendEchoResponse(association, context, &message.msg.CEchoRQ, STATUS_Success, nullptr);
          break;
        case DIMSE_C_STORE_RQ:
          cond = HandleStore(association, context, message.msg.CStoreRQ, info);
          break;
        case DIMSE_C_FIND_RQ:
          cond = HandleFind(association, context, message.msg.CFindRQ, info);
          break;
        case DIMSE_C_MOVE_RQ:
          cond = HandleMove(association, context, message.msg.CMoveRQ, info);
          break;
        case DIMSE_C_GET_RQ:
          cond = HandleGet(association, context, message.msg.CGetRQ, info);
          break;
        case DIMSE_N_CREATE_RQ:
        case DIMSE_N_SET_RQ:
          cond = HandleProcedureStep(association, context, message, info);
          break;
        case DIMSE_C_CANCEL_RQ:
          break;  // a cancel after the operation ended needs no answer
        default:
          log->warn("event=unsupported-command id={} command=0x{:04x}", id, unsigned(message.CommandField));
          cond = DIMSE_BADCOMMANDTYPE;
          break;
      }
      if (cond.bad()) {
        log->warn("event=association-aborted id={} calling_ae={} reason=\"{}\"", id, info.calling_ae, cond.text());
        ASC_abortAssociation(association);
        break;
      }
    }
  }
  ASC_dropSCPAssociation(association);
  ASC_destroyAssociation(&association);
}

// ---- C-STORE (PS3.4 B.2) -------------------------------------------------

namespace {

struct StoreContext {
  DimseServer* server = nullptr;
  DimseHandlers* handlers = nullptr;
  const AssociationInfo* info = nullptr;
  std::uint64_t max_bytes = 0;
  std::string path;
  std::unique_ptr<DcmDataset> detail;  // DIMSE_storeProvider does not take ownership
};

void StoreCallback(void* data, T_DIMSE_StoreProgress* progress, T_DIMSE_C_StoreRQ* request, char*, DcmDataset**,
                   T_DIMSE_C_StoreRSP* response, DcmDataset** status_detail) {
  if (progress->state != DIMSE_StoreEnd) return;
  auto* context = static_cast<StoreContext*>(data);
  if (response->DimseStatus != STATUS_Success) return;
  struct stat info {};
  const std::uint64_t size = ::stat(context->path.c_str(), &info) == 0 ? info.st_size : 0;
  if (size > context->max_bytes) {
    std::remove(context->path.c_str());
    response->DimseStatus = status::kOutOfResources;
    context->detail.reset(ErrorDetail(fmt::format("object of {} bytes exceeds the limit of {}", size, context->max_bytes)));
    *status_detail = context->detail.get();
    return;
  }
  StoreRequest store{*context->info, request->AffectedSOPClassUID, request->AffectedSOPInstanceUID, context->path,
                     size};
  StoreResponse answer = context->handlers->Store(store);
  response->DimseStatus = answer.status;
  if (!answer.error_comment.empty()) {
    context->detail.reset(ErrorDetail(answer.error_comment));
    *status_detail = context->detail.get();
  }
}

}  // namespace

OFCondition DimseServer::Impl::HandleStore(T_ASC_Association* association, T_ASC_PresentationContextID context,
                                           T_DIMSE_C_StoreRQ& request, const AssociationInfo& info) {
  StoreContext store{nullptr, &handlers, &info, options.max_object_bytes, handlers.StagingPath(), nullptr};
  OFCondition cond = DIMSE_storeProvider(association, context, &request, store.path.c_str(), 1, nullptr, StoreCallback,
                                         &store, DIMSE_NONBLOCKING, options.network_timeout_seconds);
  if (cond.bad()) std::remove(store.path.c_str());
  return cond;
}

// ---- C-FIND (PS3.4 C.4.1) ------------------------------------------------

namespace {

struct FindContext {
  DimseHandlers* handlers;
  ScheduleHandlers* schedule;
  const AssociationInfo* info;
  std::vector<Attributes> matches;
  std::size_t next = 0;
};

void FindCallback(void* data, OFBool cancelled, T_DIMSE_C_FindRQ* request, DcmDataset* identifier, int response_count,
                  T_DIMSE_C_FindRSP* response, DcmDataset** response_identifier, DcmDataset** status_detail) {
  auto* context = static_cast<FindContext*>(data);
  if (cancelled) {
    response->DimseStatus = STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest;
    return;
  }
  if (response_count == 1) {
    if (!identifier) {
      response->DimseStatus = status::kIdentifierDoesNotMatchClass;
      *status_detail = ErrorDetail("C-FIND request has no identifier");
      return;
    }
    const QueryModel model = ModelOf(request->AffectedSOPClassUID);
    auto found = model == QueryModel::kModalityWorklist
                     ? context->schedule->FindWorklist(*context->info, ToAttributes(*identifier))
                     : context->handlers->Find(*context->info, model, ToAttributes(*identifier));
    if (!found) {
      response->DimseStatus = found.error().code == ErrorCode::kInvalidInput ? status::kIdentifierDoesNotMatchClass
                                                                             : status::kCannotUnderstand;
      *status_detail = ErrorDetail(found.error().message);
      return;
    }
    context->matches = std::move(*found);
  }
  if (context->next < context->matches.size()) {
    response->DimseStatus = STATUS_Pending;
    *response_identifier = ToDataset(context->matches[context->next++]);
  } else {
    response->DimseStatus = STATUS_Success;
  }
}

}  // namespace

OFCondition DimseServer::Impl::HandleFind(T_ASC_Association* association, T_ASC_PresentationContextID context,
                                          T_DIMSE_C_FindRQ& request, const AssociationInfo& info) {
  FindContext find{&handlers, schedule, &info, {}, 0};
  return DIMSE_findProvider(association, context, &request, FindCallback, &find, DIMSE_NONBLOCKING,
                            options.network_timeout_seconds);
}

// ---- C-MOVE and C-GET (PS3.4 C.4.2, C.4.3) ---------------------------------

namespace {

// Shared bookkeeping of sub-operations for C-MOVE and C-GET.
struct RetrieveContext {
  RetrieveContext(DimseHandlers* h, const AssociationInfo* i, std::string ae) : handlers(h), info(i), our_ae(std::move(ae)) {}
  DimseHandlers* handlers;
  const AssociationInfo* info;
  std::string our_ae;
  std::vector<OutgoingInstance> instances;
  std::size_t next = 0;
  int completed = 0, failed = 0, warning = 0;
  std::vector<std::string> failed_uids;
  // C-MOVE: the outbound association; C-GET: the requesting association.
  std::unique_ptr<StoreSender> sender;
  T_ASC_Association* requesting = nullptr;
  std::string error;  // set when the retrieve cannot start
  std::uint16_t error_status = 0;
  std::uint16_t message_id = 0;
  std::string move_originator;
};

template <typename Response>
void FillCounts(const RetrieveContext& context, Response* response) {
  const int remaining = static_cast<int>(context.instances.size() - context.next);
  response->NumberOfRemainingSubOperations = remaining;
  response->NumberOfCompletedSubOperations = context.completed;
  response->NumberOfFailedSubOperations = context.failed;
  response->NumberOfWarningSubOperations = context.warning;
  response->opts = O_MOVE_NUMBEROFREMAININGSUBOPERATIONS | O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS |
                   O_MOVE_NUMBEROFFAILEDSUBOPERATIONS | O_MOVE_NUMBEROFWARNINGSUBOPERATIONS;
}

// One step: send the next instance, or produce the final status.
template <typename Response>
void RetrieveStep(RetrieveContext& context, bool cancelled, Response* response, DcmDataset** response_identifier,
                  DcmDataset** status_detail) {
  if (!context.error.empty()) {
    response->DimseStatus = context.error_status;
    *status_detail = ErrorDetail(context.error);
    return;
  }
  if (!cancelled && context.next < context.instances.size()) {
    const OutgoingInstance& instance = context.instances[context.next++];
    auto sent = context.sender ? context.sender->Send(instance, context.move_originator, context.message_id)
                               : detail::SendInstance(context.requesting, instance, "", 0);
    if (!sent) {
      ++context.failed;
      context.failed_uids.push_back(instance.sop_instance_uid);
      Logger("dimse")->warn("event=sub-operation-failed reason=\"{}\"", sent.error().message);
    } else if (*sent == STATUS_Success) {
      ++context.completed;
    } else if ((*sent & 0xF000) == 0xB000) {
      ++context.warning;
    } else {
      ++context.failed;
      context.failed_uids.push_back(instance.sop_instance_uid);
    }
    if (context.next < context.instances.size()) {
      response->DimseStatus = STATUS_Pending;
      FillCounts(context, response);
      return;
    }
  }
  FillCounts(context, response);
  if (cancelled) {
    response->DimseStatus = STATUS_MOVE_Cancel_SubOperationsTerminatedDueToCancelIndication;
  } else if (context.failed == 0 && context.warning == 0) {
    response->DimseStatus = STATUS_Success;
    // Final success carries no remaining count (PS3.4 C.4.2.1.6).
    response->opts &= ~O_MOVE_NUMBEROFREMAININGSUBOPERATIONS;
  } else if (context.completed == 0 && context.warning == 0) {
    response->DimseStatus = status::kSubOperationsFailed;
  } else {
    response->DimseStatus = status::kWarningSubOperations;
  }
  if (!context.failed_uids.empty()) {
    Attributes failed;
    std::string list;
    for (const auto& uid : context.failed_uids) list += (list.empty() ? "" : "\\") + uid;
    failed.Set(Tag{0x0008, 0x0058}, "UI", list);  // Failed SOP Instance UID List
    *response_identifier = ToDataset(failed);
  }
}

Result<std::vector<OutgoingInstance>> StartRetrieve(RetrieveContext& context, const char* sop_class,
                                                    DcmDataset* identifier) {
  if (!identifier) return Fail(ErrorCode::kInvalidInput, "retrieve request has no identifier");
  return context.handlers->Retrieve(*context.info, ModelOf(sop_class), ToAttributes(*identifier));
}

void MoveCallback(void* data, OFBool cancelled, T_DIMSE_C_MoveRQ* request, DcmDataset* identifier, int response_count,
                  T_DIMSE_C_MoveRSP* response, DcmDataset** status_detail, DcmDataset** response_identifier) {
  auto* context = static_cast<RetrieveContext*>(data);
  if (response_count == 1) {
    auto destination = context->handlers->MoveDestination(request->MoveDestination);
    if (!destination) {
      context->error = destination.error().message;
      context->error_status = status::kMoveDestinationUnknown;
    } else if (auto found = StartRetrieve(*context, request->AffectedSOPClassUID, identifier); !found) {
      context->error = found.error().message;
      context->error_status = status::kIdentifierDoesNotMatchClass;
    } else {
      context->instances = std::move(*found);
      if (!context->instances.empty()) {
        context->sender = std::make_unique<StoreSender>(context->our_ae, 30);
        if (auto connected = context->sender->Connect(*destination, context->instances); !connected) {
          context->error = connected.error().message;
          context->error_status = status::kOutOfResources;
        }
      }
    }
  }
  RetrieveStep(*context, cancelled, response, response_identifier, status_detail);
  if (!DICOM_PENDING_STATUS(response->DimseStatus) && context->sender) context->sender->Release();
}

void GetCallback(void* data, OFBool cancelled, T_DIMSE_C_GetRQ* request, DcmDataset* identifier, int response_count,
                 T_DIMSE_C_GetRSP* response, DcmDataset** status_detail, DcmDataset** response_identifier) {
  auto* context = static_cast<RetrieveContext*>(data);
  if (response_count == 1) {
    if (auto found = StartRetrieve(*context, request->AffectedSOPClassUID, identifier); !found) {
      context->error = found.error().message;
      context->error_status = status::kIdentifierDoesNotMatchClass;
    } else {
      context->instances = std::move(*found);
    }
  }
  RetrieveStep(*context, cancelled, response, response_identifier, status_detail);
}

}  // namespace

OFCondition DimseServer::Impl::HandleMove(T_ASC_Association* association, T_ASC_PresentationContextID context,
                                          T_DIMSE_C_MoveRQ& request, const AssociationInfo& info) {
  RetrieveContext retrieve(&handlers, &info, options.ae_title);
  retrieve.message_id = request.MessageID;
  retrieve.move_originator = info.calling_ae;
  return DIMSE_moveProvider(association, context, &request, MoveCallback, &retrieve, DIMSE_NONBLOCKING,
                            options.network_timeout_seconds);
}

OFCondition DimseServer::Impl::HandleGet(T_ASC_Association* association, T_ASC_PresentationContextID context,
                                         T_DIMSE_C_GetRQ& request, const AssociationInfo& info) {
  RetrieveContext retrieve(&handlers, &info, options.ae_title);
  retrieve.requesting = association;
  return DIMSE_getProvider(association, context, &request, GetCallback, &retrieve, DIMSE_NONBLOCKING,
                           options.network_timeout_seconds);
}

// ---- N-CREATE and N-SET of a Modality Performed Procedure Step (PS3.4 F.7) --

OFCondition DimseServer::Impl::HandleProcedureStep(T_ASC_Association* association, T_ASC_PresentationContextID context,
                                                   T_DIMSE_Message& request, const AssociationInfo& info) {
  const bool create = request.CommandField == DIMSE_N_CREATE_RQ;
  const T_DIMSE_DataSetType data_type = create ? request.msg.NCreateRQ.DataSetType : request.msg.NSetRQ.DataSetType;
  std::unique_ptr<DcmDataset> received;
  if (data_type != DIMSE_DATASET_NULL) {
    DcmDataset* dataset = nullptr;
    OFCondition cond = DIMSE_receiveDataSetInMemory(association, DIMSE_BLOCKING, options.network_timeout_seconds,
                                                    &context, &dataset, nullptr, nullptr);
    if (cond.bad()) return cond;
    received.reset(dataset);
  }
  const Attributes attributes = received ? ToAttributes(*received) : Attributes{};
  const char* sop_class = create ? request.msg.NCreateRQ.AffectedSOPClassUID : request.msg.NSetRQ.RequestedSOPClassUID;
  // Answers for a class other than MPPS, e.g. an N-SET sent on a storage context.
  const bool supported = schedule && std::strcmp(sop_class, UID_ModalityPerformedProcedureStepSOPClass) == 0;
  auto step = [&](auto&& call) {
    return supported ? call()
                     : ProcedureStepResponse{status::kSopClassNotSupported,
                                             "only Modality Performed Procedure Step instances are created or set", {}};
  };

  T_DIMSE_Message response{};
  ProcedureStepResponse answer;
  std::string uid;
  if (create) {
    const T_DIMSE_N_CreateRQ& rq = request.msg.NCreateRQ;
    // The requestor may leave the instance UID to the provider (PS3.7 10.1.5.1.4).
    uid = (rq.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID) && rq.AffectedSOPInstanceUID[0] != '\0'
              ? rq.AffectedSOPInstanceUID
              : GenerateUid();
    answer = step([&] { return schedule->CreateProcedureStep(info, uid, attributes); });
    T_DIMSE_N_CreateRSP& rsp = response.msg.NCreateRSP;
    response.CommandField = DIMSE_N_CREATE_RSP;
    rsp.MessageIDBeingRespondedTo = rq.MessageID;
    OFStandard::strlcpy(rsp.AffectedSOPClassUID, rq.AffectedSOPClassUID, sizeof rsp.AffectedSOPClassUID);
    OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, uid.c_str(), sizeof rsp.AffectedSOPInstanceUID);
    rsp.DimseStatus = answer.status;
    rsp.opts = O_NCREATE_AFFECTEDSOPCLASSUID | O_NCREATE_AFFECTEDSOPINSTANCEUID;
  } else {
    const T_DIMSE_N_SetRQ& rq = request.msg.NSetRQ;
    uid = rq.RequestedSOPInstanceUID;
    answer = step([&] {
      return received ? schedule->SetProcedureStep(info, uid, attributes)
                      : ProcedureStepResponse{status::kMissingAttribute, "N-SET carries no modification list", {}};
    });
    T_DIMSE_N_SetRSP& rsp = response.msg.NSetRSP;
    response.CommandField = DIMSE_N_SET_RSP;
    rsp.MessageIDBeingRespondedTo = rq.MessageID;
    OFStandard::strlcpy(rsp.AffectedSOPClassUID, rq.RequestedSOPClassUID, sizeof rsp.AffectedSOPClassUID);
    OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, uid.c_str(), sizeof rsp.AffectedSOPInstanceUID);
    rsp.DimseStatus = answer.status;
    rsp.opts = O_NSET_AFFECTEDSOPCLASSUID | O_NSET_AFFECTEDSOPINSTANCEUID;
  }
  std::unique_ptr<DcmDataset> data;
  if (answer.status == status::kSuccess && !answer.attributes.elements().empty()) data.reset(ToDataset(answer.attributes));
  std::unique_ptr<DcmDataset> detail;
  if (answer.status != status::kSuccess && !answer.error_comment.empty()) detail.reset(ErrorDetail(answer.error_comment));
  if (create) {
    response.msg.NCreateRSP.DataSetType = data ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
  } else {
    response.msg.NSetRSP.DataSetType = data ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
  }
  return DIMSE_sendMessageUsingMemoryData(association, context, &response, detail.get(), data.get(), nullptr, nullptr);
}

}  // namespace dx::dicom
