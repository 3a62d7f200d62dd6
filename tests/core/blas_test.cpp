#include "xgrad/core/blas.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/core/parallel.hpp"
#include "xgrad/core/threads.hpp"

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

TEST_CASE("a product split across threads is the product, and the same on every run") {
    // Shapes on both sides of the split threshold, split along rows (m >= n), columns, and k
    // (k the largest side, b not transposed: a batch through a layer's kernel), with sides that
    // are not multiples of the split alignment, every transpose, and beta = 0 and 1. Where the
    // parts end decides which of sgemm's kernels (a full tile or an edge) computes an element,
    // and a split along k adds the parts' sums in part order, so the last bits may differ
    // between thread counts, never between runs.
    const std::vector<std::array<std::size_t, 3>> shapes{
        {128, 384, 300}, {300, 384, 128}, {128, 512, 10}, {97, 301, 53}, {301, 97, 53}, {33, 2000, 17}, {8, 8, 8},
        {1, 700, 300}, {700, 1, 300}, {1, 40, 30}, {32, 512, 784}, {17, 45, 2001}, {128, 300, 400}};
    xt::random::seed(11);
    for (const auto& [m, n, k] : shapes) {
        const xg::Array a = xt::random::rand<float>(xg::Shape{m * k}, -1.0f, 1.0f);
        const xg::Array b = xt::random::rand<float>(xg::Shape{k * n}, -1.0f, 1.0f);
        const xg::Array start = xt::random::rand<float>(xg::Shape{m * n}, -1.0f, 1.0f);
        for (bool transpose_a : {false, true}) {
            for (bool transpose_b : {false, true}) {
                for (float beta : {0.0f, 1.0f}) {
                    // The product by its definition, in double.
                    std::vector<double> expected(m * n);
                    for (std::size_t i = 0; i < m; ++i) {
                        for (std::size_t j = 0; j < n; ++j) {
                            double sum = 0.0;
                            for (std::size_t p = 0; p < k; ++p) {
                                const double av = transpose_a ? a(p * m + i) : a(i * k + p);
                                const double bv = transpose_b ? b(j * k + p) : b(p * n + j);
                                sum += av * bv;
                            }
                            expected[i * n + j] = 0.5 * sum + beta * start(i * n + j);
                        }
                    }
                    for (int threads : {1, 2, 3, 5}) {
                        INFO("m=" << m << " n=" << n << " k=" << k << " transpose_a=" << transpose_a
                                  << " transpose_b=" << transpose_b << " beta=" << beta << " threads=" << threads);
                        const int saved = xg::num_threads();
                        xg::set_num_threads(threads);
                        xg::Array c = start, again = start;
                        xg::gemm(a.data(), b.data(), c.data(), m, n, k, transpose_a, transpose_b, 0.5f, beta);
                        xg::gemm(a.data(), b.data(), again.data(), m, n, k, transpose_a, transpose_b, 0.5f, beta);
                        xg::set_num_threads(saved);
                        double worst = 0.0;
                        for (std::size_t i = 0; i < m * n; ++i) {
                            worst = std::max(worst, std::abs(expected[i] - c(i)) / (1.0 + std::abs(expected[i])));
                        }
                        CHECK(worst < 1e-5);
                        CHECK(std::equal(c.begin(), c.end(), again.begin(), [](float x, float y) {
                            return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
                        }));
                    }
                }
            }
        }
    }
}

TEST_CASE("a product split along k clears c with beta 0 and gives the same bits when its loop runs nested") {
    // (32, 512, 784): a batch through a kernel, split along k on two threads.
    const std::size_t m = 32, n = 512, k = 784;
    xt::random::seed(12);
    const xg::Array a = xt::random::rand<float>(xg::Shape{m * k}, -1.0f, 1.0f);
    const xg::Array b = xt::random::rand<float>(xg::Shape{k * n}, -1.0f, 1.0f);
    const int saved = xg::num_threads();
    xg::set_num_threads(2);
    xg::Array top = xt::zeros<float>({m * n});
    top(5) = std::numeric_limits<float>::quiet_NaN();  // beta = 0 ignores what c held
    xg::gemm(a.data(), b.data(), top.data(), m, n, k, false, false, 1.0f, 0.0f);
    CHECK(std::all_of(top.begin(), top.end(), [](float v) { return std::isfinite(v); }));
    // Inside a loop's range the product runs on that thread alone: the same parts, added in the
    // same order, so the same bits.
    std::vector<xg::Array> nested(2, xg::Array(xt::zeros<float>({m * n})));
    xg::parallel_for(0, 2, 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) {
            xg::gemm(a.data(), b.data(), nested[i].data(), m, n, k, false, false, 1.0f, 0.0f);
        }
    });
    xg::set_num_threads(saved);
    for (const xg::Array& c : nested) {
        CHECK(std::equal(c.begin(), c.end(), top.begin(), [](float x, float y) {
            return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
        }));
    }
}
