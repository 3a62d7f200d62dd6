#include "xgrad/core/blas.hpp"

#include <algorithm>

// xlinalg.hpp declares the cblas interface itself (OpenBLAS's <cblas.h> would clash).
#include <xtensor-blas/xlinalg.hpp>

#include "xgrad/core/parallel.hpp"
#include "xgrad/core/threads.hpp"

namespace xg {
namespace {

// Multiply-adds below which a product runs on the calling thread alone: a part must be worth
// more than handing it to a worker, and at batch 8 or 32 the products are that small.
constexpr std::size_t kSplitWork = std::size_t{1} << 20;

// Parts split the output at multiples of this many rows or columns, whole tiles of sgemm's kernel.
constexpr std::size_t kSplitAlign = 16;

// c (m, n), leading dimension ldc, = alpha op(a) op(b) + beta c, on the calling thread.
void sgemm(const float* a, int lda, const float* b, int ldb, float* c, int ldc, std::size_t m, std::size_t n,
           std::size_t k, bool transpose_a, bool transpose_b, float alpha, float beta) {
    if (beta == 0.0f) {
        // OpenBLAS clears c with beta = 0 in a scalar loop of its own before adding the product;
        // a vectorised fill and beta = 1 do the same in a fraction of the time (and a NaN that
        // c held is gone either way).
        for (std::size_t i = 0; i < m; ++i) std::fill_n(c + i * static_cast<std::size_t>(ldc), n, 0.0f);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

void gemm(const float* a, const float* b, float* c, std::size_t m, std::size_t n, std::size_t k,
          bool transpose_a, bool transpose_b, float alpha, float beta) {
    // Read first: the first read also keeps OpenBLAS's own threading off for good.
    const std::size_t threads = static_cast<std::size_t>(num_threads());
    // A product with one row or one column is a matrix-vector product. sgemm would pack the
    // whole matrix into its panel layout on every call (for a single image through a
    // (784, 512) kernel that copy is a third of the call's instructions) and run its kernel on
    // a one-row edge; sgemv streams the matrix once.
    if ((m == 1 || n == 1) && k > 0) {
        // beta = 0 must ignore what c holds (NaN included), which BLAS's scaling by 0 does not promise.
        if (beta == 0.0f) std::fill(c, c + m * n, 0.0f);
        const int ik = static_cast<int>(k);
        if (m == 1) {
            // c (1, n) = op(b)^T x, x being a's single row: contiguous whether a is (1, k) or stored (k, 1).
            if (transpose_b) {  // b stored (n, k)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(n), ik, alpha, b, ik, a, 1, beta, c, 1);
            } else {  // b stored (k, n)
                cblas_sgemv(CblasRowMajor, CblasTrans, ik, static_cast<int>(n), alpha, b, static_cast<int>(n), a, 1,
                            beta, c, 1);
            }
        } else {
            // c (m, 1) = op(a) y, y being b's single column: contiguous either way too.
            if (transpose_a) {  // a stored (k, m)
                cblas_sgemv(CblasRowMajor, CblasTrans, ik, static_cast<int>(m), alpha, a, static_cast<int>(m), b, 1,
                            beta, c, 1);
            } else {  // a stored (m, k)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(m), ik, alpha, a, ik, b, 1, beta, c, 1);
            }
        }
        return;
    }
    // Row-major: a is (m, k) or stored (k, m) when transposed; likewise b is (k, n) or (n, k).
    const int lda = static_cast<int>(transpose_a ? m : k);
    const int ldb = static_cast<int>(transpose_b ? k : n);
    const int ldc = static_cast<int>(n);
    // Split along the longer side of c, so that each part packs its own share of the larger
    // operand and only the smaller one is packed by every part. Each element of c is still one
    // sum over k, in the order one thread would add it: the result does not depend on the
    // thread count. (Splitting k would, and would need a reduction.)
    const bool split_rows = m >= n;
    const std::size_t side = split_rows ? m : n;
    const std::size_t parts = std::min(threads, (side + kSplitAlign - 1) / kSplitAlign);
    if (parts < 2 || m * n * k < kSplitWork) {
        sgemm(a, lda, b, ldb, c, ldc, m, n, k, transpose_a, transpose_b, alpha, beta);
        return;
    }
    // Where part p starts; contiguous parts make one sub-product, so a range of them (all of
    // them, when the loop runs on one thread) is one sgemm call.
    auto start = [&](std::size_t p) {
        return p == parts ? side : std::min(side, (side * p / parts + kSplitAlign / 2) / kSplitAlign * kSplitAlign);
    };
    parallel_for(0, parts, 1, [=](std::size_t p0, std::size_t p1) {
        const std::size_t lo = start(p0), hi = start(p1);
        if (hi <= lo) return;
        if (split_rows) {  // rows lo..hi of c: those rows of op(a)
            const float* a_part = transpose_a ? a + lo : a + lo * k;
            sgemm(a_part, lda, b, ldb, c + lo * n, ldc, hi - lo, n, k, transpose_a, transpose_b, alpha, beta);
        } else {  // columns lo..hi of c: those columns of op(b)
            const float* b_part = transpose_b ? b + lo * k : b + lo;
            sgemm(a, lda, b_part, ldb, c + lo, ldc, m, hi - lo, k, transpose_a, transpose_b, alpha, beta);
        }
    });
}

}  // namespace xg
