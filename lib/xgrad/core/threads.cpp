#include "xgrad/core/threads.hpp"

#include <atomic>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

namespace xg {
namespace {

// Read once, before the first product: OpenBLAS's default becomes ours, and OpenBLAS itself is
// kept to the calling thread. Its idle threads poll the cores for a while after each product,
// which took them from our loops running in between.
std::atomic<int>& thread_count() {
    static std::atomic<int> count = [] {
        const int initial = openblas_get_num_threads();
        openblas_set_num_threads(1);
        return initial < 1 ? 1 : initial;
    }();
    return count;
}

// Read when the library is loaded, so that OpenBLAS is kept to the calling thread before any
// product can start its threads.
[[maybe_unused]] const int count_at_load = thread_count().load(std::memory_order_relaxed);

}  // namespace

int num_threads() { return thread_count().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
    if (n < 1) throw ValueError(fmt::format("set_num_threads: {} threads; expected at least 1", n));
    thread_count().store(n, std::memory_order_relaxed);
}

}  // namespace xg
