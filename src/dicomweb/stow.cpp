#include "dicomweb/stow.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dicomweb/routes.hpp"
#include "http/multipart.hpp"

namespace dx::dicomweb {
namespace {

using nlohmann::json;

// PS3.18 Table 10.5.3-1 / PS3.4 Annex B failure reasons.
constexpr int kStowProcessingFailure = 0x0110;
constexpr int kStowDuplicate = 0x0111;
constexpr int kStowOutOfResources = 0xA700;
constexpr int kStowDoesNotMatch = 0xA900;
constexpr int kStowCannotUnderstand = 0xC000;

int FailureReason(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return kStowCannotUnderstand;
    case ErrorCode::kRefused: return kStowDoesNotMatch;
    case ErrorCode::kConflict: return kStowDuplicate;
    case ErrorCode::kTooLarge:
    case ErrorCode::kStorage: return kStowOutOfResources;
    default: return kStowProcessingFailure;
  }
}

json StowUi(const std::string& value) { return {{"vr", "UI"}, {"Value", json::array({value})}}; }

std::string StowBaseUrl(const http::Request& request) {
  auto host = request.headers.find("host");
  return fmt::format("http://{}{}", host == request.headers.end() ? "localhost" : host->second, kRoot);
}

http::Response Store(const http::Request& request, archive::Ingest& ingest, audit::AuditTrail& audit) {
  const auto content_type_it = request.headers.find("content-type");
  const std::string content_type = content_type_it == request.headers.end() ? "" : content_type_it->second;
  if (http::MediaType(content_type) != "multipart/related") {
    return http::Response::Problem(415, "STOW-RS takes multipart/related; type=\"application/dicom\"");
  }
  if (const std::string type = http::HeaderParameter(content_type, "type");
      !type.empty() && http::MediaType(type) != "application/dicom") {
    return http::Response::Problem(
        415, fmt::format("parts of type {} are not accepted; send type=\"application/dicom\"", type));
  }
  auto multipart = http::ParseMultipartRelated(content_type, request.body);
  if (!multipart) return http::Response::Problem(400, "malformed multipart body: " + multipart.error().message);
  const auto study_it = request.params.find("study");
  const std::string expected_study = study_it == request.params.end() ? "" : study_it->second;
  const std::string base = StowBaseUrl(request);

  json referenced = json::array();
  json failed = json::array();
  std::string study_for_url = expected_study;
  for (std::size_t i = 0; i < multipart->parts.size(); ++i) {
    const http::MultipartPart& part = multipart->parts[i];
    const auto part_type = part.headers.find("content-type");
    if (part_type != part.headers.end() && http::MediaType(part_type->second) != "application/dicom") {
      failed.push_back({{"00081197", {{"vr", "US"}, {"Value", json::array({kStowCannotUnderstand})}}}});
      audit.Record({"http", "dicomweb.store", fmt::format("part {} is {}, not application/dicom", i + 1, part_type->second),
                    {}, ""});
      continue;
    }
    const std::string staged = ingest.StagingPath();
    {
      std::ofstream out(staged, std::ios::binary | std::ios::trunc);
      out.write(part.body.data(), static_cast<std::streamsize>(part.body.size()));
      if (!out) {
        std::remove(staged.c_str());
        throw Error(ErrorCode::kStorage, "cannot write the received object to staging");
      }
    }
    archive::IngestOutcome identified;
    auto stored = ingest.StoreStaged(staged, "STOW-RS", "", expected_study, &identified);
    audit.Record({"http", "dicomweb.store", stored ? "success" : stored.error().message,
                  stored ? std::vector<std::string>{"study:" + stored->study_instance_uid,
                                                    "instance:" + stored->sop_instance_uid}
                         : std::vector<std::string>{},
                  ""});
    if (!stored) {
      json entry = {{"00081197", {{"vr", "US"}, {"Value", json::array({FailureReason(stored.error().code)})}}}};
      if (!identified.sop_instance_uid.empty()) {  // parsed, then refused: name the instance
        entry["00081150"] = StowUi(identified.sop_class_uid);
        entry["00081155"] = StowUi(identified.sop_instance_uid);
      }
      failed.push_back(std::move(entry));
      continue;
    }
    if (study_for_url.empty()) study_for_url = stored->study_instance_uid;
    json entry = {{"00081150", StowUi(stored->sop_class_uid)},
                  {"00081155", StowUi(stored->sop_instance_uid)},
                  {"00081190", {{"vr", "UR"},
                                {"Value", json::array({fmt::format("{}/studies/{}/series/{}/instances/{}", base,
                                                                   stored->study_instance_uid, stored->series_instance_uid,
                                                                   stored->sop_instance_uid)})}}}};
    if (stored->status == archive::IngestStatus::kIdenticalIgnored) {
      entry["00081196"] = {{"vr", "US"}, {"Value", json::array({0xB007})}};  // warning: already stored, identical
    }
    referenced.push_back(std::move(entry));
  }
  json answer = json::object();
  if (!study_for_url.empty()) {
    answer["00081190"] = {{"vr", "UR"}, {"Value", json::array({base + "/studies/" + study_for_url})}};
  }
  if (!referenced.empty()) answer["00081199"] = {{"vr", "SQ"}, {"Value", referenced}};
  if (!failed.empty()) answer["00081198"] = {{"vr", "SQ"}, {"Value", failed}};
  const int status = failed.empty() ? 200 : (referenced.empty() ? 409 : 202);
  return http::Response{status, "application/dicom+json", answer.dump(), {}};
}

}  // namespace

void RegisterStowRoutes(http::Router& router, archive::Ingest& ingest, audit::AuditTrail& audit) {
  auto store = [&ingest, &audit](const http::Request& request) { return Store(request, ingest, audit); };
  router.Add("POST", std::string(kRoot) + "/studies", store);
  router.Add("POST", std::string(kRoot) + "/studies/{study}", store);
}

}  // namespace dx::dicomweb
