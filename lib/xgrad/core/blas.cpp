#include "xgrad/core/blas.hpp"

#include <algorithm>
#include <vector>

// xlinalg.hpp declares the cblas interface itself (OpenBLAS's <cblas.h> would clash).
#include <xtensor-blas/xlinalg.hpp>

#include "xgrad/core/parallel.hpp"
#include "xgrad/core/threads.hpp"

namespace xg {
namespace {

// Multiply-adds below which a product runs on the calling thread alone: a part must be worth
// more than handing it to a worker, and at batch 8 or 32 the products are that small.
constexpr std::size_t kSplitWork = std::size_t{1} << 20;
// The same for a matrix-vector product, which reads each matrix element once: a single
// image through a (784, 512) kernel is split, each core streaming half the matrix.
constexpr std::size_t kSplitMatrixVector = std::size_t{1} << 17;

// Parts split the output at multiples of this many rows or columns, whole tiles of sgemm's kernel.
constexpr std::size_t kSplitAlign = 16;
// The partial results a product split along k may hold beyond c itself, in floats: a batch
// through a kernel, or a kernel's gradient over a batch, have a small c; a product whose c is
// as large as its inputs is split along c instead, needing no partials.
constexpr std::size_t kSplitPartials = std::size_t{1} << 19;

// How many parts to cut a side of c into, for a product of `work` multiply-adds: 1 below
// `threshold`, else one per thread, each at least kSplitAlign long.
std::size_t parts_for(std::size_t side, std::size_t work, std::size_t threshold) {
    if (work < threshold) return 1;
    return std::min(static_cast<std::size_t>(num_threads()), (side + kSplitAlign - 1) / kSplitAlign);
}

// Where part p of `parts` pieces of [0, side) starts, at a multiple of kSplitAlign: the same
// cut for the products split along c and along k, so that a thread's rows of a kernel are the
// same in both.
std::size_t part_start(std::size_t side, std::size_t parts, std::size_t p) {
    return p == parts ? side : std::min(side, (side * p / parts + kSplitAlign / 2) / kSplitAlign * kSplitAlign);
}

// fn(lo, hi) over `parts` pieces of [0, side) on the library's threads. Adjacent parts handed
// to one thread (all of them, when the loop runs on one thread) make one call, one product.
template <class F>
void for_each_part(std::size_t side, std::size_t parts, const F& fn) {
    if (parts < 2) {
        fn(std::size_t{0}, side);
        return;
    }
    auto start = [side, parts](std::size_t p) { return part_start(side, parts, p); };
    parallel_for(0, parts, 1, [&fn, start](std::size_t p0, std::size_t p1) {
        const std::size_t lo = start(p0), hi = start(p1);
        if (hi > lo) fn(lo, hi);
    });
}

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

// y = alpha op(matrix) x + beta y, the matrix stored (rows, cols) with leading dimension ld and
// used transposed when `transpose` (y then has cols elements, else rows), on the calling thread.
void sgemv(const float* matrix, std::size_t rows, std::size_t cols, int ld, bool transpose, const float* x,
           float* y, float alpha, float beta) {
    // beta = 0 must ignore what y holds (NaN included), which BLAS's scaling by 0 does not promise.
    if (beta == 0.0f) std::fill_n(y, transpose ? cols : rows, 0.0f);
    cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols),
                alpha, matrix, ld, x, 1, beta, y, 1);
}

}  // namespace

void gemm(const float* a, const float* b, float* c, std::size_t m, std::size_t n, std::size_t k,
          bool transpose_a, bool transpose_b, float alpha, float beta) {
    // A product with one row or one column is a matrix-vector product. sgemm would pack the
    // whole matrix into its panel layout on every call (for a single image through a
    // (784, 512) kernel that copy is a third of the call's instructions) and run its kernel on
    // a one-row edge; sgemv streams the matrix once. Split along c, each part streams its rows
    // or columns of the matrix.
    if ((m == 1 || n == 1) && k > 0) {
        const int ik = static_cast<int>(k);
        if (m == 1) {
            // c (1, n) = op(b)^T x, x being a's single row: contiguous whether a is (1, k) or stored (k, 1).
            for_each_part(n, parts_for(n, n * k, kSplitMatrixVector), [&](std::size_t lo, std::size_t hi) {
                if (transpose_b) {  // b stored (n, k): its rows lo..hi
                    sgemv(b + lo * k, hi - lo, k, ik, false, a, c + lo, alpha, beta);
                } else {  // b stored (k, n): its columns lo..hi
                    sgemv(b + lo, k, hi - lo, static_cast<int>(n), true, a, c + lo, alpha, beta);
                }
            });
        } else {
            // c (m, 1) = op(a) y, y being b's single column: contiguous either way too.
            for_each_part(m, parts_for(m, m * k, kSplitMatrixVector), [&](std::size_t lo, std::size_t hi) {
                if (transpose_a) {  // a stored (k, m): its columns lo..hi
                    sgemv(a + lo, k, hi - lo, static_cast<int>(m), true, b, c + lo, alpha, beta);
                } else {  // a stored (m, k): its rows lo..hi
                    sgemv(a + lo * k, hi - lo, k, ik, false, b, c + lo, alpha, beta);
                }
            });
        }
        return;
    }
    // Row-major: a is (m, k) or stored (k, m) when transposed; likewise b is (k, n) or (n, k).
    const int lda = static_cast<int>(transpose_a ? m : k);
    const int ldb = static_cast<int>(transpose_b ? k : n);
    const int ldc = static_cast<int>(n);
    // k the largest side, c small: a batch through a layer's kernel (the rows of b), or a
    // kernel's gradient over a long batch (a convolution's). Split along k, each part reading
    // its own rows of b and adding its partial product into c in part order. For the batch
    // through a kernel, those rows are the ones the same thread computes the gradient of and
    // updates (the gradient's product splits its output's rows at the same cuts, and the caller
    // takes the front part of every loop, parallel.cpp), so a kernel's rows stay in one core's
    // cache from step to step. Split along n, each part read half of every row, and moved half
    // the kernel between the cores' caches at every step, which cost more than the second core
    // gave.
    if (!transpose_b && k > std::max(m, n)) {
        const std::size_t parts = parts_for(k, m * n * k, kSplitWork);
        if (parts > 1 && (parts - 1) * m * n <= kSplitPartials) {
            // Kept per thread from call to call (at most kSplitPartials floats): a step's products
            // reuse it instead of allocating and clearing one each time. The pointer is taken
            // here, on the caller: inside the loop `buffer` would name each worker's own. A call
            // whose loop runs serially (nested, or the pool busy) still computes the same parts
            // and adds them in the same order, so its bits do not depend on the pool.
            thread_local std::vector<float> buffer;
            if (buffer.size() < (parts - 1) * m * n) buffer.resize((parts - 1) * m * n);
            float* const partial = buffer.data();
            auto start = [k, parts](std::size_t p) { return part_start(k, parts, p); };
            parallel_for(0, parts, 1, [&](std::size_t p0, std::size_t p1) {
                for (std::size_t p = p0; p < p1; ++p) {
                    const std::size_t lo = start(p), hi = start(p + 1);
                    if (p > 0 && hi == lo) continue;  // an empty part (many threads, short k): added as nothing
                    const float* a_part = transpose_a ? a + lo * m : a + lo;  // columns lo..hi of op(a)
                    float* out = p == 0 ? c : partial + (p - 1) * m * n;
                    sgemm(a_part, lda, b + lo * n, ldb, out, ldc, m, n, hi - lo, transpose_a, false, alpha,
                          p == 0 ? beta : 0.0f);
                }
            });
            for (std::size_t p = 1; p < parts; ++p) {
                if (start(p + 1) == start(p)) continue;
                const float* add = partial + (p - 1) * m * n;
                for (std::size_t i = 0; i < m * n; ++i) c[i] += add[i];
            }
            return;
        }
    }
    // Split along the longer side of c, so that each part packs its own share of the larger
    // operand and only the smaller one is packed by every part. Each element of c is then one
    // sum over k in sgemm's order; only which of sgemm's kernels computes it, a full tile's or
    // an edge's, depends on where the parts end, so the last bits may differ between thread
    // counts, never between runs.
    if (m >= n) {
        for_each_part(m, parts_for(m, m * n * k, kSplitWork), [&](std::size_t lo, std::size_t hi) {
            const float* a_part = transpose_a ? a + lo : a + lo * k;  // rows lo..hi of op(a)
            sgemm(a_part, lda, b, ldb, c + lo * n, ldc, hi - lo, n, k, transpose_a, transpose_b, alpha, beta);
        });
    } else {
        for_each_part(n, parts_for(n, m * n * k, kSplitWork), [&](std::size_t lo, std::size_t hi) {
            const float* b_part = transpose_b ? b + lo * k : b + lo;  // columns lo..hi of op(b)
            sgemm(a, lda, b_part, ldb, c + lo, ldc, m, hi - lo, k, transpose_a, transpose_b, alpha, beta);
        });
    }
}

}  // namespace xg
