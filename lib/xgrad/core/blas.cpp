#include "xgrad/core/blas.hpp"

// xlinalg.hpp declares the cblas interface itself (OpenBLAS's <cblas.h> would clash).
#include <xtensor-blas/xlinalg.hpp>

extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

namespace xg {

void gemm(const float* a, const float* b, float* c, std::size_t m, std::size_t n, std::size_t k,
          bool transpose_a, bool transpose_b, float alpha, float beta) {
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
