#include "xgrad/core/blas.hpp"

#include <algorithm>

// xlinalg.hpp declares the cblas interface itself (OpenBLAS's <cblas.h> would clash).
#include <xtensor-blas/xlinalg.hpp>

extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

namespace xg {

void gemm(const float* a, const float* b, float* c, std::size_t m, std::size_t n, std::size_t k,
          bool transpose_a, bool transpose_b, float alpha, float beta) {
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
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, lda, b, ldb, beta, c,
                static_cast<int>(n));
}

int blas_threads() { return openblas_get_num_threads(); }

void set_blas_threads(int n) { openblas_set_num_threads(n); }

}  // namespace xg
