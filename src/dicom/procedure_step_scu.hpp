// Modality Performed Procedure Step SCU (PS3.4 F.7): N-CREATE and N-SET over
// one association, as a modality reports a procedure in progress and then
// completed or discontinued. Used by `dxhub mpps`. Not thread-safe; use one per
// thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dicom/attributes.hpp"
#include "dicom/dimse_server.hpp"

namespace dx::dicom {

class ProcedureStepScu {
 public:
  ProcedureStepScu(std::string calling_ae, int timeout_seconds);
  ~ProcedureStepScu();

  Result<void> Connect(const RemotePeer& peer);
  // Sends the request and returns the peer's answer (any status); an error only
  // when the exchange itself fails. `sop_instance_uid` "" lets the peer choose
  // (N-CREATE only); the chosen UID is then in the answer's `instance_uid`.
  struct Answer {
    std::uint16_t status = 0;
    std::string error_comment;
    std::string instance_uid;
    Attributes attributes;
  };
  Result<Answer> Create(const std::string& sop_instance_uid, const Attributes& attributes);
  Result<Answer> Set(const std::string& sop_instance_uid, const Attributes& modification);
  void Release();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Attributes from findscu-style keys: "PatientName=DOE^JO", "(0040,0252)=IN PROGRESS",
// "ScheduledStepAttributesSequence[0].AccessionNumber=A1"; a key without '=' is empty.
Result<Attributes> AttributesFromKeys(const std::vector<std::string>& keys);

// The attributes as text, one per line, nested items indented ("(0040,0252) CS [IN PROGRESS]").
std::string Describe(const Attributes& attributes);

}  // namespace dx::dicom
