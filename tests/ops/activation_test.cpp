// Tests for lib/xgrad/ops/activation.cpp: relu, sigmoid, tanh, and Keras's other activations
// (elu, selu, softplus, swish, gelu in both forms, mish, leaky_relu, thresholded_relu, relu6, hard_sigmoid,
// hard_swish) against formulas written here in double precision.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "gradient_checks.hpp"
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

// Values of either sign with |x| in [0.2, 2], away from relu's kink at 0.
xg::Array away_from_kink(const xg::Shape& shape) {
    const xg::Array magnitude = xt::random::rand<float>(shape, 0.2f, 2.0f);
    const xg::Array coin = xt::random::rand<float>(shape, 0.0f, 1.0f);
    return magnitude * xt::where(coin < 0.5f, -1.0f, 1.0f);
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
        const xg::Array x = away_from_kink(shape);
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
        const xg::Array x = away_from_kink(shape);
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::relu(in[0]); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::sigmoid(in[0]); }, {x});
        xg::test::check_second_order([](const std::vector<xg::Tensor>& in) { return xg::tanh(in[0]); }, {x});
    }
}

namespace {

// An activation, its formula in double precision, and whether it takes the scalar path on 0-d
// inputs (the ops with settings take the array path: their rules capture the settings).
struct Keras {
    const char* op;
    Unary f;
    double (*formula)(double);
    bool scalar_path;
};

double clamp01(double u) { return u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u; }

const std::vector<Keras>& keras_activations() {
    static const std::vector<Keras> all{
        {"elu", [](const xg::Tensor& t) { return xg::elu(t); }, [](double v) { return v > 0 ? v : std::expm1(v); }, false},
        {"elu", [](const xg::Tensor& t) { return xg::elu(t, 0.7f); },
         [](double v) { return v > 0 ? v : 0.7 * std::expm1(v); }, false},
        {"selu", [](const xg::Tensor& t) { return xg::selu(t); },
         [](double v) { return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * std::expm1(v)); }, true},
        {"softplus", [](const xg::Tensor& t) { return xg::softplus(t); }, [](double v) { return std::log1p(std::exp(v)); }, true},
        {"swish", [](const xg::Tensor& t) { return xg::swish(t); }, [](double v) { return v / (1.0 + std::exp(-v)); }, true},
        {"gelu", [](const xg::Tensor& t) { return xg::gelu(t); },
         [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }, true},
        {"gelu_tanh", [](const xg::Tensor& t) { return xg::gelu(t, true); },
         [](double v) { return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (v + 0.044715 * v * v * v))); }, true},
        {"mish", [](const xg::Tensor& t) { return xg::mish(t); },
         [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }, true},
        {"leaky_relu", [](const xg::Tensor& t) { return xg::leaky_relu(t); }, [](double v) { return v > 0 ? v : 0.2 * v; }, false},
        {"leaky_relu", [](const xg::Tensor& t) { return xg::leaky_relu(t, 0.01f); },
         [](double v) { return v > 0 ? v : 0.01 * v; }, false},
        {"thresholded_relu", [](const xg::Tensor& t) { return xg::thresholded_relu(t, 2.5f); },
         [](double v) { return v > 2.5 ? v : 0.0; }, false},
        {"thresholded_relu", [](const xg::Tensor& t) { return xg::thresholded_relu(t, -3.0f); },
         [](double v) { return v > -3.0 ? v : 0.0; }, false},
        {"relu6", [](const xg::Tensor& t) { return xg::relu6(t); }, [](double v) { return std::min(std::max(v, 0.0), 6.0); }, true},
        {"hard_sigmoid", [](const xg::Tensor& t) { return xg::hard_sigmoid(t); }, [](double v) { return clamp01(0.2 * v + 0.5); },
         false},
        {"hard_sigmoid", [](const xg::Tensor& t) { return xg::hard_sigmoid(t, 1.0f / 6.0f, 0.5f); },
         [](double v) { return clamp01(v / 6.0 + 0.5); }, false},
        {"hard_swish", [](const xg::Tensor& t) { return xg::hard_swish(t); }, [](double v) { return v * clamp01(v / 6.0 + 0.5); },
         true},
    };
    return all;
}

// Away from every kink (0, +-2.5, +-3, 6), on both sides of each, and where the functions saturate.
const std::vector<float> sample_points{-7.0f, -2.9f, -1.3f, -0.4f, 0.3f, 1.1f, 2.7f, 6.5f};

// Random values of either sign away from the kinks: |x| in [0.2, 2], [3.5, 5.5] and [6.5, 8.5].
xg::Array away_from_kinks(const xg::Shape& shape) {
    const xg::Array near = away_from_kink(shape);
    const xg::Array far_magnitude = xt::random::rand<float>(shape, 3.5f, 5.5f) +
                                    xt::where(xt::random::rand<float>(shape, 0.0f, 1.0f) < 0.5f, 0.0f, 3.0f);
    const xg::Array far = far_magnitude * xt::where(near < 0.0f, -1.0f, 1.0f);
    return xt::where(xt::random::rand<float>(shape, 0.0f, 1.0f) < 0.7f, near, far);
}

}  // namespace

TEST_CASE("Keras's activations give their formulas' values and derivatives, recorded under their names") {
    xg::Tape& tape = xg::Tape::current();
    for (const Keras& a : keras_activations()) {
        const std::string op = a.op;
        CAPTURE(op);
        tape.clear();
        xg::Array points(xg::Shape{sample_points.size()});
        std::copy(sample_points.begin(), sample_points.end(), points.begin());
        const xg::Tensor x = xg::parameter(points, "x");
        const xg::Tensor y = a.f(x);
        REQUIRE(tape.size() == 1);
        CHECK(tape[0].op == a.op);
        xg::sum(y).backward();
        for (std::size_t i = 0; i < sample_points.size(); ++i) {
            const double v = sample_points[i], h = 1e-5;
            CAPTURE(v);
            CHECK(y.value()(i) == doctest::Approx(a.formula(v)).epsilon(1e-5).scale(1e-6));
            const double slope = (a.formula(v + h) - a.formula(v - h)) / (2 * h);
            CHECK(x.grad()(i) == doctest::Approx(slope).epsilon(1e-4).scale(1e-5));
        }
    }
}

TEST_CASE("Keras's activations pass gradcheck and gradgradcheck away from their kinks, on arrays and 0-d scalars") {
    xt::random::seed(33);
    for (const Keras& a : keras_activations()) {
        const std::string op = a.op;
        CAPTURE(op);
        for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{2, 3, 4}, xg::Shape{}}) {
            CAPTURE(xg::format_shape(shape));
            const xg::Array x = away_from_kinks(shape);
            check_unary(a.f, x);
            const Unary f = a.f;
            xg::test::check_second_order([f](const std::vector<xg::Tensor>& in) { return f(in[0]); }, {x});
        }
    }
}

TEST_CASE("Keras's activations without settings take the scalar path on 0-d inputs; those with settings give the same") {
    for (const Keras& a : keras_activations()) {
        for (const float v : {-1.3f, -0.4f, 0.3f, 2.7f}) {
            if (a.scalar_path) {
                xg::test::check_scalar_unary(a.op, a.f, v);
            } else {
                const std::string op = a.op;
                CAPTURE(op);
                const xg::Tensor x = xg::Tensor::scalar(v, true);
                const xg::Tensor y = a.f(x);
                CHECK(y.shape() == xg::Shape{});
                CHECK(y.item() == doctest::Approx(a.formula(v)).epsilon(1e-5));
            }
        }
    }
}

TEST_CASE("Keras's activations pass NaN through and have finite first and second derivatives where they saturate, at infinity too") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), big = std::numeric_limits<float>::max();
    for (const Keras& a : keras_activations()) {
        const std::string op = a.op;
        CAPTURE(op);
        CHECK(std::isnan(a.f(xg::input(xg::Array{nan})).value()(0)));
        const float inf = std::numeric_limits<float>::infinity();
        const xg::Tensor x = xg::parameter(xg::Array{-inf, -big, -1e30f, -1000.0f, 1000.0f, 1e30f, big, inf}, "x");
        const xg::Tensor y = a.f(x);
        // dy/dx by the plain rule, then by the differentiable one, and its derivative.
        xg::sum(y).backward(true);
        const xg::Tensor dx = xg::grad(xg::sum(y), x, {.create_graph = true});
        // A piecewise linear activation's differentiable rule is g times a constant: nothing to differentiate.
        const xg::Array d2x = dx.requires_grad() ? xg::grad(xg::sum(dx), x).value() : xt::zeros<float>({8});
        for (std::size_t i = 0; i < 8; ++i) {
            CAPTURE(x.value()(i));
            CHECK_FALSE(std::isnan(y.value()(i)));
            CHECK(std::isfinite(x.grad()(i)));
            CHECK(dx.value()(i) == x.grad()(i));
            CHECK(std::isfinite(d2x(i)));
        }
    }
    // The limits: elu and selu approach -alpha (times scale), softplus and swish 0 below and x above.
    const xg::Tensor x = xg::input(xg::Array{-1000.0f, 1000.0f});
    CHECK(xg::elu(x, 0.5f).value() == xg::Array{-0.5f, 1000.0f});
    CHECK(xg::selu(x).value()(0) == doctest::Approx(-1.0507009873554805 * 1.6732632423543772));
    CHECK(xg::softplus(x).value() == xg::Array{0.0f, 1000.0f});
    CHECK(xg::swish(x).value() == xg::Array{0.0f, 1000.0f});
    CHECK(xg::gelu(x).value() == xg::Array{0.0f, 1000.0f});
    const xg::Array gelu_tanh = xg::gelu(x, true).value();
    CHECK(gelu_tanh(0) == 0.0f);
    CHECK(gelu_tanh(1) == 1000.0f);
    CHECK(xg::gelu(xg::input(xg::Array{-std::numeric_limits<float>::max(), -1e30f})).value() == xg::Array{0.0f, 0.0f});
    CHECK(xg::gelu(xg::input(xg::Array{-std::numeric_limits<float>::max(), -1e30f}), true).value() == xg::Array{0.0f, 0.0f});
    CHECK(xg::mish(x).value() == xg::Array{0.0f, 1000.0f});
    // At -inf the limits, 0, rather than -inf * 0.
    const xg::Tensor minus_inf = xg::input(xg::Array{-std::numeric_limits<float>::infinity()});
    for (const Unary& f : {Unary([](const xg::Tensor& t) { return xg::swish(t); }), Unary([](const xg::Tensor& t) { return xg::gelu(t); }),
                          Unary([](const xg::Tensor& t) { return xg::mish(t); }), Unary([](const xg::Tensor& t) { return xg::hard_swish(t); })}) {
        CHECK(f(minus_inf).value()(0) == 0.0f);
    }
}

TEST_CASE("the gradients at the kinks: leaky_relu alpha and elu alpha at 0, relu6 0 at 0 and 6, hard_swish TensorFlow's 0 and 1") {
    const xg::Tensor x = xg::parameter(xg::Array{0.0f, 6.0f, -3.0f, 3.0f}, "x");
    SUBCASE("leaky_relu: alpha at 0") {
        xg::sum(xg::leaky_relu(x, 0.1f)).backward();
        CHECK(x.grad()(0) == doctest::Approx(0.1f));
    }
    SUBCASE("relu6: 0 at 0 and at 6") {
        xg::sum(xg::relu6(x)).backward();
        CHECK(x.grad()(0) == 0.0f);
        CHECK(x.grad()(1) == 0.0f);
    }
    SUBCASE("hard_swish: 0 at -3, 1 at 3 (PyTorch's hardswish gives -0.5 and 1.5 there)") {
        xg::sum(xg::hard_swish(x)).backward();
        CHECK(x.grad()(2) == 0.0f);
        CHECK(x.grad()(3) == 1.0f);
    }
    SUBCASE("thresholded_relu: 0 at theta, where it jumps from 0 to theta") {
        const xg::Tensor y = xg::thresholded_relu(x, 3.0f);
        CHECK(y.value() == xg::Array{0.0f, 6.0f, 0.0f, 0.0f});
        xg::sum(y).backward();
        CHECK(x.grad() == xg::Array{0.0f, 1.0f, 0.0f, 0.0f});
        CHECK(xg::thresholded_relu(xg::input(xg::Array{1.0f, 1.5f})).value() == xg::Array{0.0f, 1.5f});
    }
    SUBCASE("elu: alpha at 0 (the left side, alpha e^0)") {
        xg::sum(xg::elu(x, 0.5f)).backward();
        CHECK(x.grad()(0) == doctest::Approx(0.5f));
    }
}

TEST_CASE("elu, leaky_relu, thresholded_relu and hard_sigmoid record their settings and refuse a non-finite one") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor x = xg::parameter(xg::Array{-1.0f, 2.0f}, "x");
    (void)xg::elu(x, 0.5f);
    (void)xg::leaky_relu(x, 0.1f);
    (void)xg::hard_sigmoid(x, 0.25f, 0.4f);
    (void)xg::thresholded_relu(x, 0.75f);
    REQUIRE(tape.size() == 4);
    CHECK(tape[3].attributes().number("theta") == 0.75f);
    CHECK(tape[0].attributes().number("alpha") == 0.5f);
    CHECK(tape[1].attributes().number("alpha") == 0.1f);
    CHECK(tape[2].attributes().number("alpha") == 0.25f);
    CHECK(tape[2].attributes().number("beta") == 0.4f);
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(xg::elu(x, nan), "elu: alpha nan; expected a finite number", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::leaky_relu(x, inf), "leaky_relu: alpha inf; expected a finite number", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::thresholded_relu(x, nan), "thresholded_relu: theta nan; expected a finite number",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::hard_sigmoid(x, 0.2f, -inf), "hard_sigmoid: beta -inf; expected a finite number", xg::ValueError);
}

TEST_CASE("empty tensors go through Keras's activations, forward and backward") {
    for (const Keras& a : keras_activations()) {
        const std::string op = a.op;
        CAPTURE(op);
        xg::test::check_empty(a.f, {0, 3}, {0, 3});
    }
}
