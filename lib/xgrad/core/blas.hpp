#pragma once
// Matrix products through OpenBLAS. Kept behind this header so that only one
// translation unit pays for (and conflicts with) the cblas declarations. A large product is
// split into parts run on the library's threads (threads.hpp), one single-threaded sgemm each.
#include "xgrad/core/array.hpp"

namespace xg {

/// c = alpha * op(a) . op(b) + beta * c for 2-D row-major arrays, where op transposes
/// when asked; transposes are handed to sgemm as flags, never materialised.
/// c must already have the result shape (beta = 0 ignores its contents).
void gemm(const float* a, const float* b, float* c, std::size_t m, std::size_t n, std::size_t k,
          bool transpose_a, bool transpose_b, float alpha = 1.0f, float beta = 0.0f);

}  // namespace xg
