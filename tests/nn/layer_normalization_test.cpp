// LayerNormalization: Keras's defaults (gamma 1, beta 0, epsilon 1e-3), each example normalized by
// its own statistics (independent of the batch and of training mode), errors, and gradients.
#include "xgrad/nn/layer_normalization.hpp"

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

using xg::test::random_array;

TEST_CASE("LayerNormalization has Keras's defaults: gamma 1, beta 0, epsilon 1e-3, both trainable") {
    xg::LayerNormalization ln(4);
    CHECK(ln.name() == "layer_normalization_1");
    CHECK(ln.epsilon() == 1e-3f);
    CHECK(xt::all(xt::equal(ln.gamma().value(), 1.0f)));
    CHECK(xt::all(xt::equal(ln.beta().value(), 0.0f)));
    auto params = ln.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "gamma");
    CHECK(params[1].first == "beta");
    CHECK(ln.buffer_count() == 0);
    CHECK(ln.output_shape({5, 4}) == xg::Shape{5, 4});
}

TEST_CASE("each example is normalized by its own mean and variance, in training and in inference alike") {
    xg::LayerNormalization ln(3);
    ln.gamma().node()->mutable_value() = xg::Array{2.0f, 1.0f, 0.5f};
    ln.beta().node()->mutable_value() = xg::Array{0.0f, 1.0f, -1.0f};
    // Rows far apart in scale: a batch statistic would mix them.
    const xg::Array x = {{1.0f, 2.0f, 3.0f}, {100.0f, 300.0f, 200.0f}};
    const xg::Array y = ln(xg::input(x)).value();
    const float s = 1.0f / std::sqrt(2.0f / 3.0f + 1e-3f);         // row 0: mean 2, variance 2/3
    const float t = 100.0f / std::sqrt(20000.0f / 3.0f + 1e-3f);  // row 1: mean 200, variance 20000/3
    CHECK(xt::allclose(y, xg::Array{{-2.0f * s, 1.0f, 0.5f * s - 1.0f}, {-2.0f * t, 1.0f + t, -1.0f}}, 1e-5, 1e-5));
    // One example alone gives what it gave in the batch, and inference mode the same.
    CHECK(xt::allclose(ln(xg::input(xg::Array{{100.0f, 300.0f, 200.0f}})).value(), xt::view(y, xt::range(1, 2)), 0, 0));
    ln.eval();
    CHECK(ln(xg::input(x)).value() == y);
    // Images (n, h, w, c): each pixel's channels.
    xg::LayerNormalization channels(2);
    const xg::Array images = random_array({2, 3, 3, 2}, 4, -1.0f, 1.0f);
    const xg::Array z = channels(xg::input(images)).value();
    CHECK(z(1, 2, 0, 0) == doctest::Approx(-z(1, 2, 0, 1)));
    xg::Tape::current().clear();
}

TEST_CASE("without center or scale, beta and gamma are fixed and not parameters") {
    xg::LayerNormalization ln(3, {.center = false, .scale = false});
    CHECK(ln.parameters().empty());
    const xg::Array y = ln(xg::input(xg::Array{{1.0f, 2.0f, 6.0f}})).value();
    CHECK(y(0, 0) + y(0, 1) + y(0, 2) == doctest::Approx(0.0).epsilon(1e-6));
    xg::Tape::current().clear();
}

TEST_CASE("LayerNormalization's errors name the layer and the shapes") {
    CHECK_THROWS_AS(xg::LayerNormalization(0), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::LayerNormalization(3, {.epsilon = 0.0f}),
                         "LayerNormalization: epsilon 0; expected a finite value > 0", xg::ValueError);
    xg::LayerNormalization ln(3, {.name = "ln"});
    CHECK_THROWS_WITH_AS(ln(xg::input(xt::zeros<float>({2, 4}))),
                         "ln: input shape (4,) without the batch axis; expected (..., 3)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(ln(xg::input(xt::zeros<float>({3}))), "ln: input has shape (3,); expected (batch, ..., 3)",
                         xg::ShapeError);
    CHECK_THROWS_AS(ln.output_shape({2, 2}), xg::ShapeError);
    // An empty batch is no error: an empty result.
    CHECK(ln(xg::input(xt::zeros<float>({0, 3}))).shape() == xg::Shape{0, 3});
}

TEST_CASE("gradients flow through LayerNormalization to its input, gamma and beta") {
    xg::LayerNormalization ln(4);
    ln.gamma().node()->mutable_value() = xg::Array{1.5f, 0.7f, -0.4f, 1.0f};
    const xg::Array x = random_array({3, 2, 4}, 3, -1.0f, 1.0f);
    const auto check = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return ln(in[0]); }, {x});
    CHECK_MESSAGE(check.passed, check.report());
    xg::sum(ln(xg::input(x)) * xg::constant(x)).backward();
    CHECK(ln.gamma().has_grad());
    CHECK(ln.beta().has_grad());
}

TEST_CASE("summary counts gamma and beta as trainable params") {
    xg::Sequential model;
    model.emplace<xg::Dense>(8, 16);
    model.emplace<xg::LayerNormalization>(16);
    const std::string s = model.summary({8});
    CHECK(s.find("layer_normalization_1 (LayerNormalization)") != std::string::npos);
    CHECK(s.find("Total params: 176\nTrainable params: 176\nNon-trainable params: 0\n") != std::string::npos);
}
