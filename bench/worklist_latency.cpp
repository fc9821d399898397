// Times Modality Worklist C-FIND queries against a running worklist SCP over one
// open association: `dxhub_worklist_latency HOST PORT AE RUNS QUERY...`, where a
// QUERY is findscu-style keys separated by ';' (for example
// "ScheduledProcedureStepSequence[0].Modality=CT;PatientName"). Prints, per query,
// the match count and the median and p95 in milliseconds. Works with any SCP.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dicom/find_scu.hpp"
#include "find_timing.hpp"
#include "dicom/procedure_step_scu.hpp"

namespace {

// The keys every query returns: what a modality shows on its worklist screen.
const char* const kReturnKeys[] = {
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyInstanceUID",
    "RequestedProcedureID", "RequestedProcedureDescription",
    "ScheduledProcedureStepSequence[0].ScheduledStationAETitle",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime",
    "ScheduledProcedureStepSequence[0].Modality",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepID"};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s HOST PORT AE RUNS QUERY...\n", argv[0]);
    return 2;
  }
  dx::dicom::FindScu scu("WLBENCH", 30);
  if (auto connected = scu.Connect({argv[3], argv[1], std::atoi(argv[2])}, dx::dicom::QueryModel::kModalityWorklist);
      !connected) {
    std::fprintf(stderr, "%s\n", connected.error().message.c_str());
    return 1;
  }
  const int runs = std::atoi(argv[4]);
  std::printf("%-72s %8s %10s %10s\n", "query", "matches", "median_ms", "p95_ms");
  for (int a = 5; a < argc; ++a) {
    std::vector<std::string> keys(std::begin(kReturnKeys), std::end(kReturnKeys));
    const std::string query = argv[a];
    for (std::size_t start = 0; start <= query.size();) {
      const std::size_t end = std::min(query.find(';', start), query.size());
      if (end > start) keys.push_back(query.substr(start, end - start));
      start = end + 1;
    }
    auto identifier = dx::dicom::AttributesFromKeys(keys);
    if (!identifier) {
      std::fprintf(stderr, "%s\n", identifier.error().message.c_str());
      return 2;
    }
    auto timing = dx::bench::TimeFind(scu, *identifier, runs);
    if (!timing) {
      std::fprintf(stderr, "%s\n", timing.error().message.c_str());
      return 1;
    }
    std::printf("%-72s %8zu %10.3f %10.3f\n", query.c_str(), timing->matches, timing->median_ms, timing->p95_ms);
  }
  scu.Release();
  return 0;
}
