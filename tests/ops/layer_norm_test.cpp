// Tests for lib/xgrad/ops/layer_norm.cpp: each example normalized over its trailing axes, against
// a double-precision reference; gradients of x, gamma and beta, first and second order; errors.
#include <cmath>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::uniform;

// x viewed as (rows, features), each row normalized in double, times gamma plus beta (features,).
xg::Array reference(const xg::Array& x, const xg::Array& gamma, const xg::Array& beta, double epsilon) {
    const std::size_t features = gamma.size(), rows = x.size() / features;
    xg::Array y = xg::uninitialized(x.shape());
    for (std::size_t r = 0; r < rows; ++r) {
        const float* row = x.data() + r * features;
        double mean = 0, var = 0;
        for (std::size_t k = 0; k < features; ++k) mean += row[k];
        mean /= static_cast<double>(features);
        for (std::size_t k = 0; k < features; ++k) var += (row[k] - mean) * (row[k] - mean);
        var /= static_cast<double>(features);
        for (std::size_t k = 0; k < features; ++k) {
            y.data()[r * features + k] = static_cast<float>((row[k] - mean) / std::sqrt(var + epsilon) *
                                                                gamma.data()[k] + beta.data()[k]);
        }
    }
    return y;
}

}  // namespace

TEST_CASE("layer_norm normalizes each example over the axes from `axis` to the last") {
    xt::random::seed(61);
    const xg::Array x = uniform({2, 3, 4}) * 3.0f + 1.0f;
    // The last axis: gamma and beta (4,); axes 1 and 2: gamma and beta (3, 4).
    for (long axis : {-1L, 2L, 1L}) {
        CAPTURE(axis);
        const xg::Shape normalized = axis == 1 ? xg::Shape{3, 4} : xg::Shape{4};
        const xg::Array gamma = uniform(normalized) + 1.5f, beta = uniform(normalized);
        const xg::Array y = xg::layer_norm(xg::input(x), xg::input(gamma), xg::input(beta), axis, 1e-3f).value();
        CHECK(xt::allclose(y, reference(x, gamma, beta, 1e-3), 1e-5, 1e-5));
    }
    // A constant example has no spread: beta, not NaN.
    const xg::Array flat = xt::ones<float>({1, 4}) * 7.0f;
    const xg::Array beta = {0.5f, -1.0f, 2.0f, 0.0f};
    CHECK(xg::layer_norm(xg::input(flat), xg::input(xt::ones<float>({4})), xg::input(beta)).value() ==
          xg::Array{{0.5f, -1.0f, 2.0f, 0.0f}});
}

TEST_CASE("layer_norm's gradients of x, gamma and beta pass gradcheck and gradgradcheck") {
    xt::random::seed(62);
    for (long axis : {-1L, 1L}) {
        CAPTURE(axis);
        const xg::Shape normalized = axis == 1 ? xg::Shape{2, 3} : xg::Shape{3};
        auto f = [axis](const std::vector<xg::Tensor>& in) { return xg::layer_norm(in[0], in[1], in[2], axis, 1e-2f); };
        const std::vector<xg::Array> inputs{uniform({2, 2, 3}), uniform(normalized) + 1.5f, uniform(normalized)};
        const auto first = xg::gradcheck(f, inputs);
        CHECK_MESSAGE(first.passed, first.report());
        xg::test::check_second_order(f, inputs);
    }
}

TEST_CASE("layer_norm of an empty batch is empty, forward and backward; its statistics of no values are NaN") {
    using xg::test::check_empty;
    const xg::Tensor four = xg::input(xt::ones<float>({4}));
    check_empty([&](const xg::Tensor& x) { return xg::layer_norm(x, four, four); }, {0, 4}, {0, 4});
    const xg::Tensor rows = xg::input(xt::ones<float>({3, 4}));
    check_empty([&](const xg::Tensor& x) { return xg::layer_norm(x, rows, rows, 1); }, {0, 3, 4}, {0, 3, 4});
    const xg::LayerNormStatistics none = xg::layer_norm_statistics(xg::input(xt::zeros<float>({2, 0})));
    REQUIRE(none.mean.shape() == xg::Shape{2, 1});
    CHECK(std::isnan(none.mean.value()(0, 0)));
    CHECK(std::isnan(none.inv_std.value()(1, 0)));
}

TEST_CASE("layer_norm rejects gamma or beta of other shapes, axes out of range and a bad epsilon") {
    const xg::Tensor x = xg::input(xt::zeros<float>({2, 3}));
    const xg::Tensor three = xg::input(xt::ones<float>({3}));
    CHECK_THROWS_WITH_AS(xg::layer_norm(x, xg::input(xt::ones<float>({2})), three),
                         doctest::Contains("layer_norm: gamma has shape (2,) for x (2, 3) normalized from axis 1; "
                                           "expected (3,)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::layer_norm(x, three, xg::input(xt::ones<float>({2, 3}))),
                         doctest::Contains("layer_norm: beta has shape (2, 3)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::layer_norm(x, three, three, 2), doctest::Contains("layer_norm: axis 2 is out of range"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::layer_norm(xg::input(xg::scalar_array(1.0f)), three, three), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::layer_norm(x, three, three, -1, -1.0f),
                         doctest::Contains("layer_norm: epsilon -1; expected a finite value >= 0"), xg::ValueError);
    CHECK_THROWS_AS(xg::layer_norm(x, three, three, -1, std::nanf("")), xg::ValueError);
}
