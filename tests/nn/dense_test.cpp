// Dense: shapes, the forward value against x . kernel + bias by hand, options, errors, and
// gradients (input through xg::gradcheck, kernel and bias by central differences).
#include "xgrad/nn/dense.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <doctest/doctest.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"
#include "../ops/second_order.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;

double projected(const xg::Array& y, const xg::Array& r) {
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += static_cast<double>(y.data()[i]) * r.data()[i];
    return total;
}

// Worst relative error, over every element of every parameter of `layer`, between the tape's
// gradient of sum(layer(x) * r) and central differences (the measure xg::gradcheck uses).
double worst_parameter_error(xg::Dense& layer, const xg::Array& x) {
    xg::Shape out_shape(x.shape().begin(), x.shape().end());
    out_shape.back() = layer.units();
    const xg::Array r = random_array(out_shape, 99, 0.5f, 1.5f);
    for (auto& p : layer.parameters()) p.zero_grad();
    xg::sum(layer(xg::input(x)) * xg::constant(r)).backward();
    double worst = 0.0;
    const double eps = 1e-2;
    xg::NoGradGuard no_grad;
    for (auto& p : layer.parameters()) {
        REQUIRE(p.has_grad());
        const xg::Array analytic = p.grad();
        xg::Array& w = p.mutable_value();
        for (std::size_t k = 0; k < w.size(); ++k) {
            const float original = w.data()[k];
            w.data()[k] = original + static_cast<float>(eps);
            const double up = projected(layer(xg::input(x)).value(), r);
            w.data()[k] = original - static_cast<float>(eps);
            const double down = projected(layer(xg::input(x)).value(), r);
            w.data()[k] = original;
            const double numeric = (up - down) / (2.0 * eps);
            const double a = analytic.data()[k];
            worst = std::max(worst, std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)}));
        }
    }
    return worst;
}

}  // namespace

TEST_CASE("Dense holds a (in, units) kernel and a (units,) bias named after the layer") {
    xg::Dense a(4, 3), b(3, 2, "relu");
    // Registered nowhere, each is the first Dense of its (absent) parent.
    CHECK(a.name() == "dense_1");
    CHECK(b.name() == "dense_1");
    CHECK(a.kind() == "Dense");
    CHECK(a.kernel().shape() == xg::Shape{4, 3});
    CHECK(a.bias().shape() == xg::Shape{3});
    CHECK(a.input_dim() == 4);
    CHECK(a.units() == 3);
    CHECK(a.activation() == "linear");
    CHECK(b.activation() == "relu");
    CHECK(a.kernel().name() == "dense_1/kernel");
    CHECK(a.bias().name() == "dense_1/bias");
    CHECK(a.parameter_count() == 4 * 3 + 3);
    auto named = b.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "kernel");
    CHECK(named[1].first == "bias");
    // Keras defaults: zero bias, glorot_uniform kernel within its limit.
    CHECK(xt::all(xt::equal(a.bias().value(), 0.0f)));
    CHECK(xt::amax(xt::abs(a.kernel().value()))() <= std::sqrt(6.0f / 7.0f));
    CHECK(xt::amax(xt::abs(a.kernel().value()))() > 0.0f);
}

TEST_CASE("Dense computes activation(x . kernel + bias) for every activation") {
    const xg::Array x = {{1.0f, 2.0f, -1.0f}, {0.5f, -1.0f, 2.0f}};
    const xg::Array kernel = {{0.5f, -1.0f}, {0.25f, 0.5f}, {-0.5f, 1.5f}};
    const xg::Array bias = {0.1f, -0.2f};
    for (const char* name : {"linear", "relu", "sigmoid", "tanh", "softmax"}) {
        CAPTURE(name);
        xg::Dense layer(3, 2, name);
        xg::Tensor k = layer.kernel(), b = layer.bias();  // handles share the layer's nodes
        k.mutable_value() = kernel;
        b.mutable_value() = bias;
        const xg::Array y = layer(xg::input(x)).value();
        REQUIRE(y.shape() == xg::Shape{2, 2});
        for (std::size_t r = 0; r < 2; ++r) {
            double z[2];
            for (std::size_t c = 0; c < 2; ++c) {
                z[c] = bias(c);
                for (std::size_t i = 0; i < 3; ++i) z[c] += static_cast<double>(x(r, i)) * kernel(i, c);
            }
            for (std::size_t c = 0; c < 2; ++c) {
                double expected = z[c];
                const std::string n = name;
                if (n == "relu") expected = std::max(z[c], 0.0);
                if (n == "sigmoid") expected = 1.0 / (1.0 + std::exp(-z[c]));
                if (n == "tanh") expected = std::tanh(z[c]);
                if (n == "softmax") expected = std::exp(z[c]) / (std::exp(z[0]) + std::exp(z[1]));
                CHECK(y(r, c) == doctest::Approx(expected).epsilon(1e-6));
            }
        }
        xg::Tape::current().clear();
    }
}

TEST_CASE("Dense options: no bias, initializers, name, activation") {
    xg::Dense plain(3, 2, xg::DenseOptions{.use_bias = false});
    CHECK_FALSE(plain.bias().defined());
    CHECK(plain.parameters().size() == 1);
    CHECK(plain.parameter_count() == 6);
    xg::Tensor k = plain.kernel();
    k.mutable_value() = xt::ones<float>({3, 2});
    const xg::Array y = plain(xg::input(xg::Array{{1.0f, 2.0f, 3.0f}})).value();
    CHECK(y(0, 0) == 6.0f);
    CHECK(y(0, 1) == 6.0f);

    // Filled by hand: GCC 12 warns (-Wnonnull, a false positive) inside xtensor on xt::ones(s) * v.
    const auto filled = [](float v) {
        return [v](const xg::Shape& s) {
            xg::Array a = xg::uninitialized(s);
            a.fill(v);
            return a;
        };
    };
    xg::Dense custom(2, 4, xg::DenseOptions{.activation = "tanh",
                                            .kernel_initializer = filled(0.5f),
                                            .bias_initializer = filled(2.0f),
                                            .name = "head"});
    CHECK(custom.name() == "head");
    CHECK(custom.kernel().name() == "head/kernel");
    CHECK(custom.activation() == "tanh");
    CHECK(xt::all(xt::equal(custom.kernel().value(), 0.5f)));
    CHECK(xt::all(xt::equal(custom.bias().value(), 2.0f)));
}

TEST_CASE("Dense rejects empty sizes, unknown activations and wrong inputs") {
    CHECK_THROWS_AS(xg::Dense(0, 3), xg::ValueError);
    CHECK_THROWS_AS(xg::Dense(3, 0), xg::ValueError);
    CHECK_THROWS_AS(xg::Dense(3, 2, "swish_gated"), xg::ValueError);
    xg::Dense layer(4, 2, xg::DenseOptions{.name = "checked"});
    try {
        layer(xg::input(xt::ones<float>({5, 3})));
        FAIL("expected ShapeError");
    } catch (const xg::ShapeError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("checked") != std::string::npos);
        CHECK(msg.find("(5, 3)") != std::string::npos);
        CHECK(msg.find("(batch, 4)") != std::string::npos);
    }
    CHECK_THROWS_AS(layer(xg::input(xt::ones<float>({4}))), xg::ShapeError);
    CHECK_THROWS_AS(layer.output_shape({3}), xg::ShapeError);
    CHECK(layer.output_shape({4}) == xg::Shape{2});
    xg::Tape::current().clear();
}

TEST_CASE("Dense passes gradcheck for its input, kernel and bias, with every activation") {
    xg::manual_seed(7);
    const xg::Array x = random_array({5, 4}, 3);
    for (const char* name : {"linear", "relu", "sigmoid", "tanh", "softmax"}) {
        CAPTURE(name);
        xg::Dense layer(4, 3, name);
        if (std::string(name) == "relu") {
            // Keep every pre-activation away from the kink, where differences are not derivatives.
            xg::NoGradGuard no_grad;
            const xg::Array z = xg::matmul(xg::input(x), layer.kernel()).value();
            xg::Tensor b = layer.bias();
            for (std::size_t c = 0; c < 3; ++c) b.mutable_value()(c) = 0.3f;
            for (std::size_t r = 0; r < 5; ++r) {
                for (std::size_t c = 0; c < 3; ++c) REQUIRE(std::abs(z(r, c) + 0.3f) > 0.1f);
            }
        }
        const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); }, {x});
        CHECK_MESSAGE(result.passed, result.report());
        CHECK(worst_parameter_error(layer, x) < 1e-2);
        xg::Tape::current().clear();
    }
}

TEST_CASE("Dense's kernel and bias gradients are x^T . dy and the column sums of dy") {
    xg::Dense layer(2, 2, "linear");
    const xg::Array x = random_array({3, 2}, 5);
    const xg::Array r = random_array({3, 2}, 99, 0.5f, 1.5f);
    xg::sum(layer(xg::input(x)) * xg::constant(r)).backward();
    const xg::Array right = layer.kernel().grad();
    // dL/dkernel = x^T r
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t j = 0; j < 2; ++j) {
            double expected = 0.0;
            for (std::size_t n = 0; n < 3; ++n) expected += static_cast<double>(x(n, i)) * r(n, j);
            CHECK(right(i, j) == doctest::Approx(expected).epsilon(1e-5));
        }
    }
    // dL/dbias = column sums of r
    for (std::size_t j = 0; j < 2; ++j) {
        CHECK(layer.bias().grad()(j) == doctest::Approx(r(0, j) + r(1, j) + r(2, j)).epsilon(1e-5));
    }
}

TEST_CASE("Dense maps the last axis of a longer input, each position as a row of its own (Keras's)") {
    xg::manual_seed(11);
    const xg::Array x = random_array({3, 4, 5}, 5);
    for (const char* name : {"linear", "softmax"}) {
        CAPTURE(name);
        xg::Dense layer(5, 2, name);
        const xg::Activated out = layer.call_with_logits(xg::input(x));
        REQUIRE(out.output.shape() == xg::Shape{3, 4, 2});
        REQUIRE(out.logits.shape() == xg::Shape{3, 4, 2});
        const xg::Array rows = layer(xg::input(xt::reshape_view(x, {12, 5}))).value();
        CHECK(xt::allclose(xt::reshape_view(out.output.value(), {12, 2}), rows));
        const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); }, {x});
        CHECK_MESSAGE(result.passed, result.report());
        CHECK(worst_parameter_error(layer, x) < 1e-2);
        xg::Tape::current().clear();
    }
    xg::Dense layer(5, 2, "tanh");
    xg::test::check_second_order([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); }, {random_array({2, 3, 5}, 6)});
    CHECK(layer.output_shape({4, 5}) == xg::Shape{4, 2});
    CHECK(layer.output_shape({2, 4, 5}) == xg::Shape{2, 4, 2});
    CHECK_THROWS_WITH_AS(layer.output_shape({4, 3}), doctest::Contains("input shape (4, 3); expected (5,) or (..., 5)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(layer(xg::input(xt::zeros<float>({2, 4, 3}))),
                         doctest::Contains("input has shape (2, 4, 3); expected (batch, 5) or (batch, ..., 5)"), xg::ShapeError);
    // Each step on its own: a mask reaching it passes on.
    CHECK(layer.passes_mask());
    const xg::Array mask = {{1.0f, 1.0f, 0.0f, 0.0f}, {1.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 1.0f}};
    const xg::Masked masked = layer.call_masked(xg::input(x), xg::constant(mask));
    CHECK(masked.mask.value() == mask);
    xg::Tape::current().clear();
}
