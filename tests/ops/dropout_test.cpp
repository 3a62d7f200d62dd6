// Tests for lib/xgrad/ops/dropout.cpp.
#include <cmath>
#include <limits>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"
#include "second_order.hpp"

TEST_CASE("dropout zeroes about rate of the elements and scales the rest by 1 / (1 - rate)") {
    xg::manual_seed(1);
    const xg::Tensor x = xg::input(xt::ones<float>({200, 100}));
    const xg::Array y = xg::dropout(x, 0.3f, true).value();
    std::size_t zeros = 0, scaled = 0;
    for (float v : y) {
        zeros += v == 0.0f;
        scaled += v == 1.0f / 0.7f;
    }
    CHECK(zeros + scaled == y.size());
    // 20,000 draws: the fraction dropped is within 0.02 of 0.3 (over 6 standard deviations).
    CHECK(std::abs(static_cast<double>(zeros) / 20000.0 - 0.3) < 0.02);
    // The expected value is kept.
    CHECK(xt::mean(y)() == doctest::Approx(1.0).epsilon(0.03));
}

TEST_CASE("dropout masks repeat with the seed") {
    const xg::Tensor x = xg::input(xt::random::rand<float>({7, 9}, 1.0f, 2.0f));
    xg::manual_seed(42);
    const xg::Array a = xg::dropout(x, 0.5f, true).value();
    const xg::Array b = xg::dropout(x, 0.5f, true).value();
    xg::manual_seed(42);
    CHECK(xg::dropout(x, 0.5f, true).value() == a);
    CHECK(xg::dropout(x, 0.5f, true).value() == b);
    CHECK(a != b);
}

TEST_CASE("dropout is the identity at inference and at rate 0") {
    const xg::Tensor x = xg::input(xt::random::rand<float>({4, 5}, -1.0f, 1.0f));
    CHECK(xg::dropout(x, 0.5f, false).value() == x.value());
    CHECK(xg::dropout(x, 0.0f, true).value() == x.value());
}

TEST_CASE("dropout's gradient is the mask") {
    xg::manual_seed(3);
    const xg::Tensor x = xg::parameter(xt::random::rand<float>({6, 7}, -1.0f, 1.0f), "x");
    const xg::Tensor y = xg::dropout(x, 0.4f, true);
    xg::sum(y).backward();
    // y = x * mask, so dy/dx = mask = y / x.
    CHECK(xt::allclose(x.grad(), y.value() / x.value()));
    // With the same seed before each evaluation the mask is fixed, so gradcheck applies.
    const auto result = xg::gradcheck(
        [](const std::vector<xg::Tensor>& in) {
            xg::manual_seed(9);
            return xg::dropout(in[0], 0.5f, true);
        },
        {xt::random::rand<float>({3, 5, 5, 2}, -1.0f, 1.0f)});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("dropout passes gradgradcheck: a product by a constant mask, differentiable to any order") {
    xt::random::seed(5);
    for (const xg::Shape& shape : {xg::Shape{3, 5, 5, 2}, xg::Shape{7, 3}}) {
        CAPTURE(xg::format_shape(shape));
        // The seed before each evaluation fixes the mask, as in the first-order check.
        const auto f = [](const std::vector<xg::Tensor>& in) {
            xg::manual_seed(11);
            return xg::dropout(in[0], 0.4f, true);
        };
        const std::vector<xg::Array> x{xt::random::rand<float>(shape, -1.0f, 1.0f)};
        xg::test::check_second_order(f, x);
        xg::test::check_second_order([&f](const std::vector<xg::Tensor>& in) { return xg::tanh(f(in)); }, x);
    }
}

TEST_CASE("dropout rejects a rate outside [0, 1)") {
    const xg::Tensor x = xg::input(xt::zeros<float>({2, 3}));
    CHECK_THROWS_WITH_AS(xg::dropout(x, 1.0f, true), "dropout: rate is 1 for x (2, 3); expected 0 <= rate < 1",
                         xg::ValueError);
    CHECK_THROWS_AS(xg::dropout(x, -0.1f, false), xg::ValueError);
    CHECK_THROWS_AS(xg::dropout(x, std::numeric_limits<float>::quiet_NaN(), true), xg::ValueError);
}
