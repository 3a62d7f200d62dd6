// Tests for lib/xgrad/ops/trigonometric.cpp: the circular and hyperbolic functions and their inverses.
#include <cmath>
#include <functional>
#include <limits>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "gradient_checks.hpp"
#include "random_inputs.hpp"
#include "scalar_path.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::check_unary;
using xg::test::Unary;
using xg::test::uniform;

// One function: its name on the tape, the C library's value and the textbook derivative in double,
// and an interval inside its domain where finite differences of float values are well-conditioned.
struct Function {
    const char* name;
    Unary op;
    double (*value)(double);
    double (*derivative)(double);
    float low, high;
};

// tan, the inverse circular functions, and the hyperbolic functions and their inverses.
std::vector<Function> circular_and_hyperbolic() {
    return {
        {"tan", [](const xg::Tensor& t) { return xg::tan(t); }, [](double v) { return std::tan(v); },
         [](double v) { return 1.0 / (std::cos(v) * std::cos(v)); }, -1.0f, 1.0f},
        {"asin", [](const xg::Tensor& t) { return xg::asin(t); }, [](double v) { return std::asin(v); },
         [](double v) { return 1.0 / std::sqrt(1.0 - v * v); }, -0.7f, 0.7f},
        {"acos", [](const xg::Tensor& t) { return xg::acos(t); }, [](double v) { return std::acos(v); },
         [](double v) { return -1.0 / std::sqrt(1.0 - v * v); }, -0.7f, 0.7f},
        {"atan", [](const xg::Tensor& t) { return xg::atan(t); }, [](double v) { return std::atan(v); },
         [](double v) { return 1.0 / (1.0 + v * v); }, -3.0f, 3.0f},
        {"sinh", [](const xg::Tensor& t) { return xg::sinh(t); }, [](double v) { return std::sinh(v); },
         [](double v) { return std::cosh(v); }, -2.0f, 2.0f},
        {"cosh", [](const xg::Tensor& t) { return xg::cosh(t); }, [](double v) { return std::cosh(v); },
         [](double v) { return std::sinh(v); }, -2.0f, 2.0f},
        {"asinh", [](const xg::Tensor& t) { return xg::asinh(t); }, [](double v) { return std::asinh(v); },
         [](double v) { return 1.0 / std::sqrt(v * v + 1.0); }, -3.0f, 3.0f},
        {"acosh", [](const xg::Tensor& t) { return xg::acosh(t); }, [](double v) { return std::acosh(v); },
         [](double v) { return 1.0 / std::sqrt(v * v - 1.0); }, 1.3f, 3.0f},
        {"atanh", [](const xg::Tensor& t) { return xg::atanh(t); }, [](double v) { return std::atanh(v); },
         [](double v) { return 1.0 / (1.0 - v * v); }, -0.7f, 0.7f},
    };
}

}  // namespace

TEST_CASE("sin and cos: values, gradients cos and -sin, NaN passed, scalar path, gradcheck and gradgradcheck") {
    const xg::Tensor x = xg::parameter(xg::Array{-4.0f, -0.5f, 0.0f, 1.0f, 3.0f}, "x");
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor s = xg::sin(x);
    const xg::Tensor c = xg::cos(x);
    REQUIRE(tape.size() == 2);
    CHECK(tape[0].op == "sin");
    CHECK(tape[1].op == "cos");
    // d(sin x + 2 cos x)/dx = cos x - 2 sin x
    xg::sum(s + 2.0f * c).backward();
    for (std::size_t i = 0; i < 5; ++i) {
        const double v = x.value()(i);
        CHECK(s.value()(i) == doctest::Approx(std::sin(v)).epsilon(1e-6));
        CHECK(c.value()(i) == doctest::Approx(std::cos(v)).epsilon(1e-6));
        CHECK(x.grad()(i) == doctest::Approx(std::cos(v) - 2.0 * std::sin(v)).epsilon(1e-6));
    }
    const xg::Tensor nan = xg::input(xg::Array{std::numeric_limits<float>::quiet_NaN()});
    CHECK(std::isnan(xg::sin(nan).value()(0)));
    CHECK(std::isnan(xg::cos(nan).value()(0)));
    for (const float v : {-0.8f, 2.5f}) {
        xg::test::check_scalar_unary("sin", [](const xg::Tensor& t) { return xg::sin(t); }, v);
        xg::test::check_scalar_unary("cos", [](const xg::Tensor& t) { return xg::cos(t); }, v);
    }
    xt::random::seed(19);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{}}) {
        const xg::Array a = uniform(shape, -4.0f, 4.0f);
        for (const Unary& op : {Unary([](const xg::Tensor& t) { return xg::sin(t); }),
                                Unary([](const xg::Tensor& t) { return xg::cos(t); })}) {
            check_unary(op, a);
            xg::test::check_second_order([&op](const std::vector<xg::Tensor>& in) { return op(in[0]); }, {a});
        }
    }
    // Third order, where the rules' own rules are differentiated: d^3 sin / dx^3 = -cos.
    xg::Tensor t = xg::parameter(xg::Array{0.3f, -1.2f}, "t");
    const xg::Tensor d1 = xg::grad(xg::sum(xg::sin(t)), t, {.create_graph = true});
    const xg::Tensor d2 = xg::grad(xg::sum(d1), t, {.create_graph = true});
    const xg::Tensor d3 = xg::grad(xg::sum(d2), t);
    for (std::size_t i = 0; i < 2; ++i) CHECK(d3.value()(i) == doctest::Approx(-std::cos(t.value()(i))).epsilon(1e-6));
}

TEST_CASE("empty tensors go through sin and cos, forward and backward") {
    xg::test::check_empty([](const xg::Tensor& t) { return xg::sin(t); }, {0, 3}, {0, 3});
    xg::test::check_empty([](const xg::Tensor& t) { return xg::cos(t); }, {2, 0}, {2, 0});
}

TEST_CASE("tan, the inverse circular and the hyperbolic functions: values, textbook gradients, NaN passed, scalar path") {
    for (const Function& f : circular_and_hyperbolic()) {
        CAPTURE(f.name);
        const xg::Array points = xt::linspace<float>(f.low, f.high, 5);
        const xg::Tensor x = xg::parameter(points, "x");
        xg::Tape::current().clear();
        const xg::Tensor y = f.op(x);
        REQUIRE(xg::Tape::current().size() == 1);
        CHECK(xg::Tape::current()[0].op == f.name);
        xg::sum(y).backward();
        for (std::size_t i = 0; i < points.size(); ++i) {
            const double v = points(i);
            CHECK(y.value()(i) == doctest::Approx(f.value(v)).epsilon(1e-6));
            CHECK(x.grad()(i) == doctest::Approx(f.derivative(v)).epsilon(1e-5));
        }
        CHECK(std::isnan(f.op(xg::input(xg::Array{std::numeric_limits<float>::quiet_NaN()})).value()(0)));
        for (const float v : {f.low * 0.9f, f.high * 0.6f}) xg::test::check_scalar_unary(f.name, f.op, v);
    }
}

TEST_CASE("tan, the inverse circular and the hyperbolic functions pass gradcheck and gradgradcheck") {
    xt::random::seed(23);
    for (const Function& f : circular_and_hyperbolic()) {
        CAPTURE(f.name);
        for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{}}) {
            const xg::Array a = uniform(shape, f.low, f.high);
            check_unary(f.op, a);
            xg::test::check_second_order([&f](const std::vector<xg::Tensor>& in) { return f.op(in[0]); }, {a});
        }
    }
    // Third order of a rule written from y: d^3 tan / dx^3 = 2 sec^2 x (1 + 3 tan^2 x).
    xg::Tensor t = xg::parameter(xg::Array{0.3f, -0.6f}, "t");
    const xg::Tensor d1 = xg::grad(xg::sum(xg::tan(t)), t, {.create_graph = true});
    const xg::Tensor d2 = xg::grad(xg::sum(d1), t, {.create_graph = true});
    const xg::Tensor d3 = xg::grad(xg::sum(d2), t);
    for (std::size_t i = 0; i < 2; ++i) {
        const double v = t.value()(i), sec2 = 1.0 / (std::cos(v) * std::cos(v)), tan = std::tan(v);
        CHECK(d3.value()(i) == doctest::Approx(2.0 * sec2 * (1.0 + 3.0 * tan * tan)).epsilon(1e-5));
    }
}

TEST_CASE("outside their domains the inverse functions give NaN, at its ends an infinite value or gradient") {
    const auto value_and_grad = [](const Unary& op, float v) {
        const xg::Tensor x = xg::parameter(xg::Array{v}, "x");
        const xg::Tensor y = op(x);
        xg::sum(y).backward();
        return std::pair{y.value()(0), x.grad()(0)};
    };
    const float inf = std::numeric_limits<float>::infinity();
    // Value and gradient NaN outside, on the plain path, the differentiable one and the scalar one.
    const std::vector<std::pair<Unary, float>> outside{
        {[](const xg::Tensor& t) { return xg::asin(t); }, 1.5f},   {[](const xg::Tensor& t) { return xg::acos(t); }, -1.5f},
        {[](const xg::Tensor& t) { return xg::acosh(t); }, 0.5f},  {[](const xg::Tensor& t) { return xg::acosh(t); }, -2.0f},
        {[](const xg::Tensor& t) { return xg::acosh(t); }, -1.0f}, {[](const xg::Tensor& t) { return xg::atanh(t); }, 2.0f},
        {[](const xg::Tensor& t) { return xg::atanh(t); }, -3.0f}};
    for (const auto& [op, v] : outside) {
        CAPTURE(v);
        const auto [value, gradient] = value_and_grad(op, v);
        CHECK(std::isnan(value));
        CHECK(std::isnan(gradient));
        const xg::Tensor x = xg::parameter(xg::Array{v}, "x");
        CHECK(std::isnan(xg::grad(xg::sum(op(x)), x, {.create_graph = true}).value()(0)));
        const xg::Tensor s = xg::Tensor::scalar(v, true);
        op(s).backward();
        CHECK(std::isnan(s.grad()()));
    }
    CHECK(value_and_grad([](const xg::Tensor& t) { return xg::asin(t); }, 1.0f) == std::pair{std::asin(1.0f), inf});
    CHECK(value_and_grad([](const xg::Tensor& t) { return xg::acos(t); }, 1.0f) == std::pair{0.0f, -inf});
    CHECK(value_and_grad([](const xg::Tensor& t) { return xg::acosh(t); }, 1.0f) == std::pair{0.0f, inf});
    CHECK(value_and_grad([](const xg::Tensor& t) { return xg::atanh(t); }, -1.0f) == std::pair{-inf, inf});
}

TEST_CASE("empty tensors go through tan, the inverse circular and the hyperbolic functions") {
    for (const Function& f : circular_and_hyperbolic()) {
        CAPTURE(f.name);
        xg::test::check_empty(f.op, {0, 3}, {0, 3});
    }
}
