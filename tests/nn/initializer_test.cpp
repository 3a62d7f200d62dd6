// Initializers: ranges, moments, truncation, lookup by name, and repeatability under a seed.
#include "xgrad/nn/initializer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/detail/initializer_budget.hpp"

namespace {

struct Moments {
    double mean = 0, variance = 0, min = 0, max = 0;
};

Moments moments(const xg::Array& a) {
    Moments m;
    for (float v : a) m.mean += v;
    m.mean /= static_cast<double>(a.size());
    for (float v : a) m.variance += (v - m.mean) * (v - m.mean);
    m.variance /= static_cast<double>(a.size());
    m.min = *std::min_element(a.begin(), a.end());
    m.max = *std::max_element(a.begin(), a.end());
    return m;
}

}  // namespace

TEST_CASE("glorot_uniform draws from U(-l, l) with l = sqrt(6 / (fan_in + fan_out))") {
    xg::manual_seed(1);
    const xg::Array w = xg::initializers::glorot_uniform({200, 300});
    REQUIRE(w.shape() == xg::Shape{200, 300});
    const double limit = std::sqrt(6.0 / 500.0);
    const Moments m = moments(w);
    CHECK(m.min >= -limit);
    CHECK(m.max <= limit);
    // The extremes come close to the limit (not a narrower range).
    CHECK(m.min < -0.99 * limit);
    CHECK(m.max > 0.99 * limit);
    // 60000 draws: the mean's standard error is limit / sqrt(3 * 60000) ~ 2.6e-4.
    CHECK(std::abs(m.mean) < 1.5e-3);
    CHECK(m.variance == doctest::Approx(limit * limit / 3.0).epsilon(0.02));

    // A vector's fans are its size: l = sqrt(6 / (2 n)).
    const xg::Array b = xg::initializers::glorot_uniform({1000});
    const Moments mb = moments(b);
    CHECK(mb.max <= std::sqrt(6.0 / 2000.0));
    CHECK(mb.max > 0.95 * std::sqrt(6.0 / 2000.0));
}

TEST_CASE("a convolution kernel's fans are its channels times its receptive field, as in Keras") {
    xg::manual_seed(4);
    // (3, 3, 32, 64): fan_in 3*3*32 = 288, fan_out 3*3*64 = 576.
    const xg::Array k = xg::initializers::glorot_uniform({3, 3, 32, 64});
    const double limit = std::sqrt(6.0 / (288.0 + 576.0));
    const Moments m = moments(k);
    CHECK(m.max <= limit);
    CHECK(m.min >= -limit);
    CHECK(m.max > 0.99 * limit);
    CHECK(m.min < -0.99 * limit);
    const xg::Array h = xg::initializers::he_uniform({5, 5, 4, 8});
    const double he_limit = std::sqrt(6.0 / 100.0);
    CHECK(moments(h).max <= he_limit);
    CHECK(moments(h).max > 0.97 * he_limit);
}

TEST_CASE("he_normal has stddev sqrt(2 / fan_in) and is truncated at two of its sigmas") {
    xg::manual_seed(2);
    const xg::Array w = xg::initializers::he_normal({400, 250});
    const double stddev = std::sqrt(2.0 / 400.0);
    // Keras draws from N(0, s) truncated at 2s with s = stddev / 0.8796, so the result has `stddev`.
    const double bound = 2.0 * stddev / 0.87962566103423978;
    const Moments m = moments(w);
    CHECK(m.min >= -bound);
    CHECK(m.max <= bound);
    CHECK(m.max > 0.97 * bound);
    CHECK(m.min < -0.97 * bound);
    CHECK(std::abs(m.mean) < 1e-3);
    CHECK(std::sqrt(m.variance) == doctest::Approx(stddev).epsilon(0.02));
}

TEST_CASE("he_uniform draws from U(-l, l) with l = sqrt(6 / fan_in)") {
    xg::manual_seed(3);
    const xg::Array w = xg::initializers::he_uniform({100, 500});
    const double limit = std::sqrt(6.0 / 100.0);
    const Moments m = moments(w);
    CHECK(m.min >= -limit);
    CHECK(m.max <= limit);
    CHECK(m.max > 0.99 * limit);
    CHECK(m.variance == doctest::Approx(limit * limit / 3.0).epsilon(0.02));
}

TEST_CASE("zeros, random_normal and random_uniform") {
    const xg::Array z = xg::initializers::zeros({3, 4});
    CHECK(z.shape() == xg::Shape{3, 4});
    CHECK(xt::all(xt::equal(z, 0.0f)));

    xg::manual_seed(4);
    const Moments n = moments(xg::initializers::random_normal(1.0f, 0.5f)({200, 200}));
    CHECK(n.mean == doctest::Approx(1.0).epsilon(0.01));
    CHECK(std::sqrt(n.variance) == doctest::Approx(0.5).epsilon(0.02));
    const Moments d = moments(xg::initializers::random_normal()({200, 200}));
    CHECK(std::sqrt(d.variance) == doctest::Approx(0.05).epsilon(0.02));

    const Moments u = moments(xg::initializers::random_uniform(2.0f, 3.0f)({200, 200}));
    CHECK(u.min >= 2.0);
    CHECK(u.max <= 3.0);
    CHECK(u.mean == doctest::Approx(2.5).epsilon(0.01));
    const Moments du = moments(xg::initializers::random_uniform()({200, 200}));
    CHECK(du.min >= -0.05);
    CHECK(du.max <= 0.05);
    CHECK(du.max > 0.049);
}

namespace {

// The largest |G - I| of the Gram matrix of a's rows (by_rows) or columns, a read as (rows, last axis).
double orthonormality_error(const xg::Array& a, bool by_rows) {
    const std::size_t cols = a.shape().back(), rows = a.size() / cols;
    const std::size_t count = by_rows ? rows : cols, length = by_rows ? cols : rows;
    const auto at = [&](std::size_t vector, std::size_t k) {
        return double(by_rows ? a.data()[vector * cols + k] : a.data()[k * cols + vector]);
    };
    double worst = 0;
    for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t j = 0; j < count; ++j) {
            double dot = 0;
            for (std::size_t k = 0; k < length; ++k) dot += at(i, k) * at(j, k);
            worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
        }
    }
    return worst;
}

}  // namespace

TEST_CASE("orthogonal gives orthonormal columns, or rows when there are fewer rows, as Keras's Orthogonal") {
    xg::manual_seed(3);
    const xg::Array square = xg::initializers::orthogonal({16, 16});
    CHECK(orthonormality_error(square, false) < 1e-5);
    CHECK(orthonormality_error(square, true) < 1e-5);
    const xg::Array tall = xg::initializers::orthogonal({20, 6});
    CHECK(orthonormality_error(tall, false) < 1e-5);
    const xg::Array wide = xg::initializers::orthogonal({6, 20});
    CHECK(orthonormality_error(wide, true) < 1e-5);
    // More axes: (3 * 2 * 4, 5) as one matrix.
    const xg::Array kernel = xg::initializers::orthogonal({3, 2, 4, 5});
    CHECK(kernel.shape() == xg::Shape{3, 2, 4, 5});
    CHECK(orthonormality_error(kernel, false) < 1e-5);
    // Drawn, not fixed: another draw differs; the same seed repeats it.
    CHECK(xg::initializers::orthogonal({16, 16}) != square);
    xg::manual_seed(3);
    CHECK(xg::initializers::orthogonal({16, 16}) == square);
    CHECK(xg::initializers::orthogonal({0, 4}).size() == 0);
    CHECK_THROWS_WITH_AS(xg::initializers::orthogonal({4}), "orthogonal: shape (4,); expected at least two axes",
                         xg::ShapeError);
}

TEST_CASE("initializers are found by name") {
    xg::manual_seed(5);
    for (const char* name : {"glorot_uniform", "he_normal", "he_uniform", "orthogonal", "zeros", "ones", "random_normal",
                             "random_uniform"}) {
        CAPTURE(name);
        CHECK(xg::initializer_by_name(name)({4, 5}).shape() == xg::Shape{4, 5});
    }
    CHECK(xt::all(xt::equal(xg::initializer_by_name("zeros")({2, 2}), 0.0f)));
    CHECK(xt::all(xt::equal(xg::initializer_by_name("ones")({2, 2}), 1.0f)));
    // The named glorot_uniform is the function itself: the same seed, the same weights.
    xg::manual_seed(6);
    const xg::Array a = xg::initializer_by_name("glorot_uniform")({8, 8});
    xg::manual_seed(6);
    CHECK(a == xg::initializers::glorot_uniform({8, 8}));
    CHECK_THROWS_AS(xg::initializer_by_name("lecun_normal"), xg::ValueError);
}

TEST_CASE("the same seed gives identical weights, another seed different ones") {
    namespace init = xg::initializers;
    for (auto initializer : {xg::Initializer(init::glorot_uniform), xg::Initializer(init::he_normal),
                             xg::Initializer(init::he_uniform), init::random_normal(), init::random_uniform()}) {
        xg::manual_seed(42);
        const xg::Array a = initializer({30, 20});
        const xg::Array a_next = initializer({30, 20});
        xg::manual_seed(42);
        const xg::Array b = initializer({30, 20});
        xg::manual_seed(43);
        const xg::Array c = initializer({30, 20});
        CHECK(a == b);
        CHECK(a != a_next);
        CHECK(a != c);
    }
}

TEST_CASE("an initializer budget bounds the values the built-in initializers make, and nests") {
    namespace init = xg::initializers;
    // Without a budget, nothing is counted.
    CHECK(init::zeros({3, 4}).size() == 12);
    {
        xg::detail::InitializerBudget budget(10);
        CHECK(init::glorot_uniform({2, 3}).size() == 6);
        CHECK(init::ones({0, 1000000}).size() == 0);  // an empty shape costs nothing
        CHECK_THROWS_WITH_AS(init::he_normal({5}),
                             doctest::Contains("initializer: shape (5,) is 5 values, more than the 4 left of the 10 "
                                               "allowed"),
                             xg::ValueError);
        // A refused shape takes nothing; an inner budget is in force while it lives, and the outer
        // one, with the same four left, is back after it.
        {
            xg::detail::InitializerBudget inner(1);
            CHECK(init::he_uniform({1}).size() == 1);
            CHECK_THROWS_AS(init::random_normal()({1}), xg::ValueError);
        }
        CHECK(init::random_uniform()({3}).size() == 3);
        CHECK(init::zeros({}).size() == 1);  // a scalar is one value
        CHECK_THROWS_AS(init::zeros({1}), xg::ValueError);
    }
    CHECK(init::zeros({3, 4}).size() == 12);
    // Extents whose product reaches 2^64 are refused even by the largest budget, not wrapped around
    // to a small count.
    xg::detail::InitializerBudget unbounded(std::numeric_limits<std::size_t>::max());
    CHECK_THROWS_WITH_AS(init::zeros({std::size_t{1} << 32, std::size_t{1} << 32}),
                         doctest::Contains("initializer: shape (4294967296, 4294967296) has more elements than an "
                                           "array can hold"),
                         xg::ShapeError);
}
