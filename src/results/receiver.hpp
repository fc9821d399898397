// The HL7 v2 results receiver: the MLLP listener's message handler. For each
// message it checks the type (ORU^R01; anything else gets AR), the version
// (2.3 to 2.5.1) and the content (mapped by oru.hpp; a problem gets AE with an
// ERR segment), then hands the message, its acknowledgement and its resources to
// the group commit, which answers AA once they are durable; the listener's
// threads never wait for the disk. A message whose sender and
// control id were seen before is answered with the first acknowledgement again
// and stored nothing. Every message is audited (never with its content), and
// answered only once that is durable too. Once a new message is stored, the
// observer (if any) learns which requests its reports answer, before the
// acknowledgement goes out.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "hl7/ack.hpp"
#include "hl7/mllp.hpp"
#include "results/group_commit.hpp"
#include "results/oru.hpp"

namespace dx::results {

// A journaled message as the receiver stored it (parsed and mapped again, with
// the store's `ids`), or nullopt when it no longer maps (GroupCommit's Rebuild).
std::optional<storage::IncomingMessage> RebuildIncoming(const JournalEntry& entry, storage::ResourceIds ids);

class ResultsReceiver : public hl7::MessageHandler {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // The group commit (which audits) must outlive the receiver. `ids`: the
  // store's (ResultStore::ResourceIdScheme).
  ResultsReceiver(GroupCommit& commit, storage::ResourceIds ids, hl7::Acknowledger self = {},
                  Clock now = std::chrono::system_clock::now);

  // Called with the reports of each newly stored message and its sender ("APP|FACILITY"),
  // on the group commit's journal thread: while it runs, no batch is journaled.
  using Observer = std::function<void(const std::vector<ReportForOrder>&, const std::string& sender)>;
  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  void Handle(std::string_view message, const std::string& peer, Reply reply) override;
  void Oversized(std::string_view start, std::size_t limit, const std::string& peer, Reply reply) override;

 private:
  void Receive(std::string_view message, const std::string& peer, Reply& reply);
  // Audits `event`, then replies `ack`.
  void AuditThenReply(audit::Event event, std::string ack, Reply& reply);
  std::string NextControlId();
  std::string Timestamp() const;

  GroupCommit& commit_;
  storage::ResourceIds ids_;
  hl7::Acknowledger self_;
  Clock now_;
  Observer observer_;
  std::string prefix_;  // makes ACK control ids unique across restarts
  std::atomic<std::uint64_t> sequence_{0};
};

}  // namespace dx::results
