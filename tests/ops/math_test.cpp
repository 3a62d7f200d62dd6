// Tests for lib/xgrad/ops/math.cpp: elementwise functions of one tensor.
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include "empty_tensor.hpp"
#include "gradient_checks.hpp"
#include "random_inputs.hpp"
#include "scalar_path.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::check_close;
using xg::test::check_unary;
using xg::test::Unary;
using xg::test::uniform;

// Values of either sign with |x| in [0.2, 1.2], away from a kink at 0.
xg::Array away_from_zero(const xg::Shape& shape) {
    return uniform(shape, 0.2f, 1.2f) * xt::where(uniform(shape, 0.0f, 1.0f) < 0.5f, -1.0f, 1.0f);
}


}  // namespace

TEST_CASE("elementwise functions compute the textbook values") {
    const xg::Tensor x = xg::input(xg::Array{0.25f, 1.0f, 4.0f});
    check_close(xg::pow(x, 3.0f).value(), xg::Array{0.015625f, 1.0f, 64.0f});
    check_close(xg::pow(x, -0.5f).value(), xg::Array{2.0f, 1.0f, 0.5f});
    check_close(xg::square(x).value(), xg::Array{0.0625f, 1.0f, 16.0f});
    check_close(xg::sqrt(x).value(), xg::Array{0.5f, 1.0f, 2.0f});
    check_close(xg::exp(xg::input(xg::Array{0.0f, 1.0f})).value(), xg::Array{1.0f, 2.7182817f});
    check_close(xg::log(x).value(), xg::Array{-1.3862944f, 0.0f, 1.3862944f});
    CHECK(xg::abs(xg::input(xg::Array{-2.0f, 0.0f, 3.0f})).value() == xg::Array{2.0f, 0.0f, 3.0f});
    CHECK(xg::clip(xg::input(xg::Array{-2.0f, 0.5f, 3.0f}), -1.0f, 1.0f).value() == xg::Array{-1.0f, 0.5f, 1.0f});
}

TEST_CASE("gradients at hand-picked points") {
    const xg::Tensor x = xg::parameter(xg::Array{-2.0f, 0.0f, 3.0f}, "x");
    SUBCASE("abs has gradient sign(x), 0 at 0") {
        xg::sum(xg::abs(x)).backward();
        CHECK(x.grad() == xg::Array{-1.0f, 0.0f, 1.0f});
    }
    SUBCASE("square has gradient 2x") {
        xg::sum(xg::square(x)).backward();
        CHECK(x.grad() == xg::Array{-4.0f, 0.0f, 6.0f});
    }
    SUBCASE("pow with an integer exponent works for negative bases") {
        xg::sum(xg::pow(x, 3.0f)).backward();
        CHECK(x.grad() == xg::Array{12.0f, 0.0f, 27.0f});
    }
    SUBCASE("pow with exponent 0 is a constant, so its gradient is 0 everywhere") {
        const xg::Tensor y = xg::pow(x, 0.0f);
        CHECK(y.value() == xg::Array{1.0f, 1.0f, 1.0f});
        xg::sum(y).backward();
        CHECK(x.grad() == xg::Array{0.0f, 0.0f, 0.0f});
    }
    SUBCASE("clip passes the gradient only inside the range") {
        xg::sum(xg::clip(x, -1.0f, 1.0f)).backward();
        CHECK(x.grad() == xg::Array{0.0f, 1.0f, 0.0f});
    }
}

TEST_CASE("pow passes gradcheck") {
    xt::random::seed(21);
    const xg::Array positive = uniform({3, 4}, 0.5f, 2.0f);
    for (float p : {2.0f, 3.0f, 0.5f, -1.0f, 1.7f}) {
        CAPTURE(p);
        check_unary([p](const xg::Tensor& x) { return xg::pow(x, p); }, positive);
    }
    // Integer exponents are defined for negative bases too.
    check_unary([](const xg::Tensor& x) { return xg::pow(x, 3.0f); }, away_from_zero({2, 3, 4}));
}

TEST_CASE("square, exp and abs pass gradcheck") {
    xt::random::seed(22);
    const xg::Array x = away_from_zero({3, 4});
    check_unary([](const xg::Tensor& t) { return xg::square(t); }, x);
    check_unary([](const xg::Tensor& t) { return xg::exp(t); }, x);
    check_unary([](const xg::Tensor& t) { return xg::abs(t); }, x);
    check_unary([](const xg::Tensor& t) { return xg::exp(t); }, xg::scalar_array(0.3f));
    check_unary([](const xg::Tensor& t) { return xg::abs(t); }, away_from_zero({2, 3, 4}));
}

TEST_CASE("sqrt and log pass gradcheck on their domain") {
    xt::random::seed(23);
    const xg::Array x = uniform({3, 4}, 0.5f, 2.0f);
    check_unary([](const xg::Tensor& t) { return xg::sqrt(t); }, x);
    check_unary([](const xg::Tensor& t) { return xg::log(t); }, x);
    check_unary([](const xg::Tensor& t) { return xg::log(t); }, uniform({2, 3, 4}, 0.5f, 2.0f));
}

TEST_CASE("clip passes gradcheck away from its bounds") {
    // Values at least 0.1 from -0.5 and 0.5, inside and outside the range.
    const xg::Array x = {{-1.2f, -0.8f, -0.3f, 0.0f}, {0.2f, 0.35f, 0.7f, 1.5f}, {-0.65f, 0.1f, -0.1f, 0.9f}};
    check_unary([](const xg::Tensor& t) { return xg::clip(t, -0.5f, 0.5f); }, x);
}

TEST_CASE("clip rejects an empty range") {
    const xg::Tensor x = xg::input(xg::Array{1.0f});
    CHECK_THROWS_WITH_AS(xg::clip(x, 1.0f, -1.0f), doctest::Contains("clip: low 1 > high -1"), xg::ValueError);
}

TEST_CASE("results are recorded under the op's name") {
    xg::Tape::current().clear();
    const xg::Tensor x = xg::parameter(xg::Array{1.0f}, "x");
    CHECK(xg::pow(x, 2.5f).creator()->op == "pow");
    CHECK(xg::pow(x, 2.5f).creator()->attributes().to_string() == "p=2.5");
    CHECK(xg::square(x).creator()->op == "square");
    CHECK(xg::sqrt(x).creator()->op == "sqrt");
    CHECK(xg::exp(x).creator()->op == "exp");
    CHECK(xg::log(x).creator()->op == "log");
    CHECK(xg::abs(x).creator()->op == "abs");
    CHECK(xg::clip(x, 0.0f, 1.0f).creator()->op == "clip");
    xg::Tape::current().clear();
}

TEST_CASE("empty tensors go through every elementwise function, forward and backward") {
    using xg::test::check_empty;
    const xg::Shape e{0, 3};
    check_empty([](const xg::Tensor& t) { return xg::pow(t, 2.5f); }, e, e);
    check_empty([](const xg::Tensor& t) { return xg::square(t); }, e, e);
    check_empty([](const xg::Tensor& t) { return xg::sqrt(t); }, e, e);
    check_empty([](const xg::Tensor& t) { return xg::exp(t); }, e, e);
    check_empty([](const xg::Tensor& t) { return xg::log(t); }, {2, 0, 4}, {2, 0, 4});
    check_empty([](const xg::Tensor& t) { return xg::abs(t); }, e, e);
    check_empty([](const xg::Tensor& t) { return xg::clip(t, -1.0f, 1.0f); }, {0}, {0});
}

TEST_CASE("NaN passes through clip and abs as in numpy") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Array clipped = xg::clip(xg::input(xg::Array{nan, -3.0f, 3.0f, 0.5f}), -1.0f, 1.0f).value();
    CHECK(std::isnan(clipped(0)));
    CHECK(xt::view(clipped, xt::range(1, 4)) == xg::Array{-1.0f, 1.0f, 0.5f});
    CHECK(std::isnan(xg::abs(xg::input(xg::Array{nan})).value()(0)));
}

TEST_CASE("abs's gradient keeps a NaN input NaN, on arrays and on inline scalars, and is 0 at 0") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    xg::Tensor a = xg::parameter(xg::Array{nan, 0.0f, -2.0f}, "a");
    xg::sum(xg::abs(a)).backward();
    CHECK(std::isnan(a.grad()(0)));
    CHECK(a.grad()(1) == 0.0f);
    CHECK(a.grad()(2) == -1.0f);
    xg::Tensor s = xg::Tensor::scalar(nan, true);
    xg::abs(s).backward();
    CHECK(std::isnan(s.node()->grad_item()));
}

TEST_CASE("square, sqrt, exp, log and abs on a 0-d scalar take the scalar path and match the array path") {
    using xg::test::check_scalar_unary;
    for (const float v : {-1.3f, 0.6f}) {
        check_scalar_unary("square", [](const xg::Tensor& t) { return xg::square(t); }, v);
        check_scalar_unary("exp", [](const xg::Tensor& t) { return xg::exp(t); }, v);
        // Either side of abs's kink at 0.
        check_scalar_unary("abs", [](const xg::Tensor& t) { return xg::abs(t); }, v);
    }
    for (const float v : {0.3f, 2.25f}) {  // inside the domain of sqrt and log
        check_scalar_unary("sqrt", [](const xg::Tensor& t) { return xg::sqrt(t); }, v);
        check_scalar_unary("log", [](const xg::Tensor& t) { return xg::log(t); }, v);
    }
}

TEST_CASE("the scalar path gives the textbook values and gradients") {
    using xg::test::check_value_and_grad, xg::test::scalar_value_and_grad;
    using Pair = std::pair<float, float>;
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::square(t); }, -3.0f), Pair{9.0f, -6.0f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::sqrt(t); }, 4.0f), Pair{2.0f, 0.25f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::exp(t); }, 1.0f), Pair{2.7182817f, 2.7182817f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::log(t); }, 4.0f), Pair{1.3862944f, 0.25f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::abs(t); }, -2.0f), Pair{2.0f, -1.0f});
    check_value_and_grad(scalar_value_and_grad([](const xg::Tensor& t) { return xg::abs(t); }, 0.0f), Pair{0.0f, 0.0f});
}

TEST_CASE("pow, square, sqrt, exp and log pass gradgradcheck, on arrays and on 0-d scalars") {
    xt::random::seed(13);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{2, 1, 3}, xg::Shape{}}) {
        const xg::Array positive = uniform(shape, 0.5f, 2.0f);
        const xg::Array x = away_from_zero(shape);
        for (const float p : {3.0f, 2.0f, 0.5f, -1.5f}) {
            CAPTURE(p);
            xg::test::check_second_order([p](const std::vector<xg::Tensor>& in) { return xg::pow(in[0], p); }, {positive});
        }
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::pow(in[0], 0.0f); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::square(in[0]); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::sqrt(in[0]); }, {positive});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::exp(in[0]); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::log(in[0]); }, {positive});
    }
}

TEST_CASE("abs and clip pass gradgradcheck where their second derivative is defined (away from kinks)") {
    xt::random::seed(14);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{}}) {
        const xg::Array x = away_from_zero(shape);
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::abs(in[0]); }, {x});
        // Bounds at +-0.7: |x| in [0.2, 1.2] meets them only within gradcheck's step by chance, so nudge.
        xg::Array inside = xt::where(xt::abs(xt::abs(x) - 0.7f) < 0.05f, x * 0.8f, x);
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::clip(in[0], -0.7f, 0.7f); }, {inside});
    }
}

TEST_CASE("abs's differentiable gradient is g * sign(x), a constant mask: the second derivative is 0") {
    const xg::Tensor x = xg::parameter(xg::Array{-2.0f, 3.0f}, "x");
    xg::GradOptions keep;
    keep.create_graph = true;
    const xg::Tensor g = xg::grad(xg::sum(xg::abs(x) * x), x, keep);  // d/dx x|x| = 2|x|
    CHECK(g.value() == xg::Array{4.0f, 6.0f});
    CHECK(xg::grad(xg::sum(g), x).value() == xg::Array{-2.0f, 2.0f});  // d/dx 2|x| = 2 sign(x)
}

TEST_CASE("erf: values, gradient 2 / sqrt(pi) e^(-x^2), NaN passed, scalar path, gradcheck and gradgradcheck") {
    const xg::Tensor x = xg::parameter(xg::Array{-1.5f, 0.0f, 0.5f, 4.0f}, "x");
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor y = xg::erf(x);
    REQUIRE(tape.size() == 1);
    CHECK(tape[0].op == "erf");
    xg::sum(y).backward();
    for (std::size_t i = 0; i < 4; ++i) {
        const double v = x.value()(i);
        CHECK(y.value()(i) == doctest::Approx(std::erf(v)).epsilon(1e-6));
        CHECK(x.grad()(i) == doctest::Approx(2.0 / std::sqrt(std::numbers::pi) * std::exp(-v * v)).epsilon(1e-6));
    }
    CHECK(std::isnan(xg::erf(xg::input(xg::Array{std::numeric_limits<float>::quiet_NaN()})).value()(0)));
    for (const float v : {-0.8f, 0.3f}) xg::test::check_scalar_unary("erf", [](const xg::Tensor& t) { return xg::erf(t); }, v);
    xt::random::seed(17);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{}}) {
        const xg::Array a = uniform(shape, -2.0f, 2.0f);
        check_unary([](const xg::Tensor& t) { return xg::erf(t); }, a);
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::erf(in[0]); }, {a});
    }
}
