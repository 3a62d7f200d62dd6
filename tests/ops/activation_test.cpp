// Tests for lib/xgrad/ops/activation.cpp: relu, sigmoid, tanh.
#include <cmath>
#include <functional>
#include <limits>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "scalar_path.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using Unary = std::function<xg::Tensor(const xg::Tensor&)>;

// Values of either sign with |x| in [0.2, 2], away from relu's kink at 0.
xg::Array away_from_zero(const xg::Shape& shape) {
    const xg::Array magnitude = xt::random::rand<float>(shape, 0.2f, 2.0f);
    const xg::Array coin = xt::random::rand<float>(shape, 0.0f, 1.0f);
    return magnitude * xt::where(coin < 0.5f, -1.0f, 1.0f);
}

void check_unary(const Unary& op, const xg::Array& x) {
    const auto result = xg::gradcheck([&op](const std::vector<xg::Tensor>& in) { return op(in[0]); }, {x});
    CHECK_MESSAGE(result.passed, result.report());
}

void check_close(const xg::Array& actual, const xg::Array& expected) {
    REQUIRE(actual.shape() == expected.shape());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        CHECK(actual.data()[i] == doctest::Approx(expected.data()[i]).epsilon(1e-6));
    }
}

}  // namespace

TEST_CASE("activations compute the textbook values") {
    const xg::Tensor x = xg::input(xg::Array{-2.0f, 0.0f, 1.5f});
    CHECK(xg::relu(x).value() == xg::Array{0.0f, 0.0f, 1.5f});
    check_close(xg::sigmoid(x).value(), xg::Array{0.11920292f, 0.5f, 0.81757448f});
    check_close(xg::tanh(x).value(), xg::Array{-0.96402758f, 0.0f, 0.90514825f});
}

TEST_CASE("sigmoid and tanh saturate without NaN for large inputs") {
    const xg::Tensor x = xg::parameter(xg::Array{-1000.0f, 1000.0f}, "x");
    const xg::Tensor s = xg::sigmoid(x);
    CHECK(s.value() == xg::Array{0.0f, 1.0f});
    CHECK(xg::tanh(x).value() == xg::Array{-1.0f, 1.0f});
    xg::sum(s).backward();
    CHECK(x.grad() == xg::Array{0.0f, 0.0f});
}

TEST_CASE("gradients at hand-picked points") {
    const xg::Tensor x = xg::parameter(xg::Array{-2.0f, 0.0f, 1.5f}, "x");
    SUBCASE("relu: 1 where x > 0, 0 elsewhere, 0 at the kink") {
        xg::sum(xg::relu(x)).backward();
        CHECK(x.grad() == xg::Array{0.0f, 0.0f, 1.0f});
    }
    SUBCASE("sigmoid: y (1 - y)") {
        xg::sum(xg::sigmoid(x)).backward();
        check_close(x.grad(), xg::Array{0.10499359f, 0.25f, 0.14914645f});
    }
    SUBCASE("tanh: 1 - y^2") {
        xg::sum(xg::tanh(x)).backward();
        check_close(x.grad(), xg::Array{0.07065082f, 1.0f, 0.18070664f});
    }
}

TEST_CASE("relu, sigmoid and tanh pass gradcheck") {
    xt::random::seed(31);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{2, 3, 4}, xg::Shape{}}) {
        CAPTURE(xg::format_shape(shape));
        const xg::Array x = away_from_zero(shape);
        check_unary([](const xg::Tensor& t) { return xg::relu(t); }, x);
        check_unary([](const xg::Tensor& t) { return xg::sigmoid(t); }, x);
        check_unary([](const xg::Tensor& t) { return xg::tanh(t); }, x);
    }
}

TEST_CASE("empty tensors go through relu, sigmoid and tanh, forward and backward") {
    using xg::test::check_empty;
    check_empty([](const xg::Tensor& t) { return xg::relu(t); }, {0, 3}, {0, 3});
    check_empty([](const xg::Tensor& t) { return xg::sigmoid(t); }, {0, 3}, {0, 3});
    check_empty([](const xg::Tensor& t) { return xg::tanh(t); }, {3, 0}, {3, 0});
}

TEST_CASE("NaN passes through every activation, so a diverging layer cannot hide behind relu") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor x = xg::input(xg::Array{nan, -1.0f, 2.0f});
    const xg::Array r = xg::relu(x).value();
    CHECK(std::isnan(r(0)));
    CHECK(r(1) == 0.0f);
    CHECK(r(2) == 2.0f);
    CHECK(std::isnan(xg::sigmoid(x).value()(0)));
    CHECK(std::isnan(xg::tanh(x).value()(0)));
}

TEST_CASE("relu, sigmoid and tanh on a 0-d scalar take the scalar path and match the array path") {
    using xg::test::check_scalar_unary;
    // Either side of relu's kink at 0.
    for (const float v : {-0.7f, 1.3f}) {
        check_scalar_unary("relu", [](const xg::Tensor& t) { return xg::relu(t); }, v);
        check_scalar_unary("sigmoid", [](const xg::Tensor& t) { return xg::sigmoid(t); }, v);
        check_scalar_unary("tanh", [](const xg::Tensor& t) { return xg::tanh(t); }, v);
    }
}

TEST_CASE("the scalar path gives the activations' textbook values and gradients") {
    using xg::test::check_value_and_grad, xg::test::scalar_value_and_grad;
    using Pair = std::pair<float, float>;
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::relu(t); }, 1.5f), Pair{1.5f, 1.0f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::relu(t); }, -2.0f), Pair{0.0f, 0.0f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::relu(t); }, 0.0f), Pair{0.0f, 0.0f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::sigmoid(t); }, -2.0f), Pair{0.11920292f, 0.10499359f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::tanh(t); }, 1.5f), Pair{0.90514825f, 0.18070664f});
    // Saturated, without NaN.
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::sigmoid(t); }, 1000.0f), Pair{1.0f, 0.0f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::tanh(t); }, -1000.0f), Pair{-1.0f, 0.0f});
}

TEST_CASE("relu, sigmoid and tanh pass gradgradcheck (relu away from its kink), on arrays and 0-d scalars") {
    xt::random::seed(32);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{2, 3, 4}, xg::Shape{}}) {
        const xg::Array x = away_from_zero(shape);
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::relu(in[0]); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::sigmoid(in[0]); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::tanh(in[0]); }, {x});
    }
}
