#pragma once
// What the micro-benchmarks of tools/bench share: the process's CPU clock (all its threads,
// so that a run that waited for a core shows it) and the median of rounds.
#include <algorithm>
#include <ctime>
#include <vector>

namespace bench {

inline double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace bench
