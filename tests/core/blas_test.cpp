#include "xgrad/core/blas.hpp"

#include <limits>
#include <utility>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

namespace {

// c = a . b with a (m, k) and b (k, n), by the definition.
xg::Array naive_matmul(const xg::Array& a, const xg::Array& b) {
    const std::size_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
    xg::Array c = xt::zeros<float>({m, n});
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            for (std::size_t p = 0; p < k; ++p) c(i, j) += a(i, p) * b(p, j);
        }
    }
    return c;
}

void check_close(const xg::Array& actual, const xg::Array& expected) {
    REQUIRE(actual.shape() == expected.shape());
    for (std::size_t i = 0; i < actual.size(); ++i) CHECK(actual.data()[i] == doctest::Approx(expected.data()[i]).epsilon(1e-5));
}

}  // namespace

TEST_CASE("gemm matches a naive loop for every combination of transposes") {
    xt::random::seed(3);
    const std::size_t m = 5, n = 4, k = 3;
    const xg::Array a = xt::random::rand<float>(xg::Shape{m, k}, -1.0f, 1.0f);
    const xg::Array b = xt::random::rand<float>(xg::Shape{k, n}, -1.0f, 1.0f);
    const xg::Array expected = naive_matmul(a, b);
    // Stored transposed copies, so the flags are what makes the product right.
    const xg::Array at = xt::transpose(a);
    const xg::Array bt = xt::transpose(b);

    for (bool transpose_a : {false, true}) {
        for (bool transpose_b : {false, true}) {
            CAPTURE(transpose_a);
            CAPTURE(transpose_b);
            xg::Array c = xt::zeros<float>({m, n});
            xg::gemm((transpose_a ? at : a).data(), (transpose_b ? bt : b).data(), c.data(), m, n, k, transpose_a,
                     transpose_b);
            check_close(c, expected);
        }
    }
}

TEST_CASE("gemm with one row or one column (the matrix-vector path) matches a naive loop") {
    xt::random::seed(5);
    const std::size_t k = 7, wide = 6;
    for (auto [m, n] : {std::pair<std::size_t, std::size_t>{1, wide}, {wide, 1}, {1, 1}}) {
        const xg::Array a = xt::random::rand<float>(xg::Shape{m, k}, -1.0f, 1.0f);
        const xg::Array b = xt::random::rand<float>(xg::Shape{k, n}, -1.0f, 1.0f);
        const xg::Array at = xt::transpose(a);
        const xg::Array bt = xt::transpose(b);
        const xg::Array base = xt::random::rand<float>(xg::Shape{m, n}, -1.0f, 1.0f);
        const xg::Array expected = 0.5f * naive_matmul(a, b) + 2.0f * base;
        for (bool transpose_a : {false, true}) {
            for (bool transpose_b : {false, true}) {
                CAPTURE(m);
                CAPTURE(n);
                CAPTURE(transpose_a);
                CAPTURE(transpose_b);
                xg::Array c(xg::Shape{m, n}, std::numeric_limits<float>::quiet_NaN());
                xg::gemm((transpose_a ? at : a).data(), (transpose_b ? bt : b).data(), c.data(), m, n, k, transpose_a,
                         transpose_b);
                check_close(c, naive_matmul(a, b));
                c = base;
                xg::gemm((transpose_a ? at : a).data(), (transpose_b ? bt : b).data(), c.data(), m, n, k, transpose_a,
                         transpose_b, 0.5f, 2.0f);
                check_close(c, expected);
            }
        }
    }
}

TEST_CASE("gemm scales by alpha and adds beta times c") {
    const xg::Array a = {{1.0f, 2.0f}, {3.0f, 4.0f}};
    const xg::Array b = {{1.0f, 0.0f}, {0.0f, 1.0f}};
    xg::Array c = {{10.0f, 20.0f}, {30.0f, 40.0f}};
    xg::gemm(a.data(), b.data(), c.data(), 2, 2, 2, false, false, 2.0f, 1.0f);
    CHECK(c == xg::Array{{12.0f, 24.0f}, {36.0f, 48.0f}});
}

TEST_CASE("gemm with beta = 0 overwrites whatever c held") {
    const xg::Array a = {{1.0f, 2.0f}};
    xg::Array b = {3.0f, 4.0f};
    b.reshape({2, 1});
    xg::Array c(xg::Shape{1, 1}, std::numeric_limits<float>::quiet_NaN());
    xg::gemm(a.data(), b.data(), c.data(), 1, 1, 2, false, false);
    CHECK(c(0, 0) == 11.0f);
}

TEST_CASE("gemm over an empty inner dimension gives zeros") {
    // (2, 0) . (0, 3): every element is an empty sum.
    const xg::Array a = xt::zeros<float>({2, 0});
    const xg::Array b = xt::zeros<float>({0, 3});
    xg::Array c(xg::Shape{2, 3}, 7.0f);
    for (bool transpose_a : {false, true}) {
        for (bool transpose_b : {false, true}) {
            c.fill(7.0f);
            xg::gemm(a.data(), b.data(), c.data(), 2, 3, 0, transpose_a, transpose_b);
            CHECK(c == xg::Array(xg::Shape{2, 3}, 0.0f));
        }
    }
}

TEST_CASE("blas thread count can be set and read back") {
    const int before = xg::blas_threads();
    CHECK(before >= 1);
    xg::set_blas_threads(1);
    CHECK(xg::blas_threads() == 1);
    xg::set_blas_threads(before);
    CHECK(xg::blas_threads() == before);
}
