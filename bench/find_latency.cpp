// Times C-FIND study queries against a running dxhub over one open association,
// so the figures are the query exchange itself (no process start, no association
// set-up): `dxhub_find_latency HOST PORT AE RUNS KEY=VALUE...` prints, for each
// KEY=VALUE query, the match count and the median and p95 in milliseconds.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dicom/attributes.hpp"
#include "dicom/dictionary.hpp"
#include "dicom/find_scu.hpp"
#include "find_timing.hpp"

namespace tags = dx::dicom::tags;

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s HOST PORT AE RUNS KEY=VALUE...\n", argv[0]);
    return 2;
  }
  dx::dicom::FindScu scu("FINDBENCH", 30);
  if (auto connected = scu.Connect({argv[3], argv[1], std::atoi(argv[2])}, dx::dicom::QueryModel::kStudyRoot);
      !connected) {
    std::fprintf(stderr, "%s\n", connected.error().message.c_str());
    return 1;
  }
  const int runs = std::atoi(argv[4]);
  std::printf("%-36s %8s %10s %10s\n", "query", "matches", "median_ms", "p95_ms");
  for (int a = 5; a < argc; ++a) {
    const std::string arg = argv[a];
    const auto eq = arg.find('=');
    auto info = dx::dicom::LookupAttribute(arg.substr(0, eq));
    if (eq == std::string::npos || !info) {
      std::fprintf(stderr, "bad query key: %s\n", arg.c_str());
      return 2;
    }
    dx::dicom::Attributes identifier;
    identifier.Set(tags::kQueryRetrieveLevel, "CS", "STUDY");
    for (auto tag : {tags::kStudyInstanceUid, tags::kPatientName, tags::kPatientId, tags::kStudyDate,
                     tags::kAccessionNumber, tags::kModalitiesInStudy, tags::kNumberOfStudyRelatedInstances}) {
      identifier.Set(tag, dx::dicom::VrOf(tag), "");
    }
    identifier.Set(info->tag, info->vr, arg.substr(eq + 1));
    auto timing = dx::bench::TimeFind(scu, identifier, runs);
    if (!timing) {
      std::fprintf(stderr, "%s\n", timing.error().message.c_str());
      return 1;
    }
    std::printf("%-36s %8zu %10.3f %10.3f\n", arg.c_str(), timing->matches, timing->median_ms, timing->p95_ms);
  }
  scu.Release();
  return 0;
}
