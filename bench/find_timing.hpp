// Times one C-FIND identifier over an open association: three warm-up queries,
// then `runs` timed ones (from C-FIND-RQ to the final response). Shared by the
// C-FIND and worklist latency benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dicom/find_scu.hpp"

namespace dx::bench {

struct FindTiming {
  std::size_t matches = 0;
  double median_ms = 0;
  double p95_ms = 0;
};

inline Result<FindTiming> TimeFind(dicom::FindScu& scu, const dicom::Attributes& identifier, int runs) {
  runs = std::max(runs, 1);
  std::vector<double> times;
  FindTiming timing;
  for (int i = 0; i < runs + 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto found = scu.Find(identifier);
    const auto end = std::chrono::steady_clock::now();
    if (!found) return tl::unexpected(found.error());
    timing.matches = found->size();
    if (i >= 3) times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  timing.median_ms = times[times.size() / 2];
  timing.p95_ms = times[std::min(times.size() - 1, times.size() * 95 / 100)];
  return timing;
}

}  // namespace dx::bench
