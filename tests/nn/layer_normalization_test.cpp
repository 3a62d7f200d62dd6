// LayerNormalization: Keras's defaults (gamma 1, beta 0, epsilon 1e-3), each example normalized by
// its own statistics (independent of the batch and of training mode), errors, and gradients.
#include "xgrad/nn/layer_normalization.hpp"

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/layer_registry.hpp"
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
    CHECK_FALSE(ln.gamma().defined());
    CHECK_FALSE(ln.beta().defined());
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

TEST_CASE("a normalized shape of several axes normalizes each example over all of them") {
    // Keras's LayerNormalization(axis=[1, 2, 3]) of images, torch's LayerNorm((h, w, c)).
    xg::LayerNormalization ln(xg::Shape{4, 3, 2}, {.name = "ln"});
    CHECK(ln.normalized_shape() == xg::Shape{4, 3, 2});
    CHECK(ln.gamma().shape() == xg::Shape{4, 3, 2});
    CHECK(ln.parameter_count() == 48);
    const xg::Array images = random_array({3, 4, 3, 2}, 5, -2.0f, 3.0f);
    const xg::Array y = ln(xg::input(images)).value();
    for (std::size_t n = 0; n < 3; ++n) {
        const xg::Array image = xt::view(y, n);
        CHECK(xt::mean(image)() == doctest::Approx(0.0).epsilon(1e-5));
        // Variance 1 less what epsilon takes: var / (var + 1e-3).
        const xg::Array x = xt::view(images, n);
        const float var = xt::variance(x)();
        CHECK(xt::variance(image)() == doctest::Approx(var / (var + 1e-3f)).epsilon(1e-4));
    }
    CHECK(ln.output_shape({4, 3, 2}) == xg::Shape{4, 3, 2});
    CHECK(ln.output_shape({7, 4, 3, 2}) == xg::Shape{7, 4, 3, 2});
    CHECK_THROWS_WITH_AS(ln(xg::input(xt::zeros<float>({2, 4, 3, 3}))),
                         "ln: input shape (4, 3, 3) without the batch axis; expected (..., 4, 3, 2)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(ln(xg::input(xt::zeros<float>({3, 2}))), "ln: input has shape (3, 2); expected (batch, ..., 4, 3, 2)",
                         xg::ShapeError);
    CHECK_THROWS_AS(ln.output_shape({3, 2}), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::LayerNormalization(xg::Shape{}),
                         "LayerNormalization: normalized shape (); expected at least one axis, none of extent 0",
                         xg::ValueError);
    CHECK_THROWS_AS(xg::LayerNormalization(xg::Shape{3, 0}), xg::ValueError);
    xg::Tape::current().clear();
}

TEST_CASE("gradients through a LayerNormalization of several axes pass gradcheck") {
    xg::LayerNormalization ln(xg::Shape{2, 3});
    ln.gamma().node()->mutable_value() = random_array({2, 3}, 6, 0.5f, 1.5f);
    ln.beta().node()->mutable_value() = random_array({2, 3}, 7, -1.0f, 1.0f);
    const xg::Array x = random_array({2, 2, 3}, 8, -1.0f, 1.0f);
    const auto check = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return ln(in[0]); }, {x});
    CHECK_MESSAGE(check.passed, check.report());
    xg::Tape::current().clear();
}

TEST_CASE("LayerNormalization's config rebuilds it through the layer registry, one axis or several") {
    for (const xg::Shape& shape : {xg::Shape{5}, xg::Shape{4, 3, 2}}) {
        xg::LayerNormalization ln(shape, {.epsilon = 1e-5f, .center = false});
        const auto config = ln.config();
        REQUIRE(config.has_value());
        CHECK(config->contains(shape.size() == 1 ? "features" : "normalized_shape"));
        auto rebuilt = std::dynamic_pointer_cast<xg::LayerNormalization>(
            xg::make_layer("LayerNormalization", *config, "again"));
        REQUIRE(rebuilt != nullptr);
        CHECK(rebuilt->normalized_shape() == shape);
        CHECK(rebuilt->epsilon() == 1e-5f);
        CHECK(rebuilt->parameter_count() == ln.parameter_count());
    }
    const xg::LayerConfig both{{"features", "3"}, {"normalized_shape", "4,3"}, {"epsilon", "0.001"},
                               {"center", "true"}, {"scale", "true"}};
    CHECK_THROWS_WITH_AS(xg::make_layer("LayerNormalization", both, "ln"),
                         doctest::Contains("settings 'features' and 'normalized_shape' both given"), xg::ValueError);
    for (const char* bad : {"4,,3", "4,3,", "0,2", "1,1,1,1,1,1,1,1,1", "x"}) {
        CAPTURE(bad);
        xg::LayerConfig config{{"normalized_shape", bad}, {"epsilon", "0.001"}, {"center", "true"}, {"scale", "true"}};
        CHECK_THROWS_WITH_AS(xg::make_layer("LayerNormalization", config, "ln"),
                             doctest::Contains("LayerNormalization: setting 'normalized_shape' is"), xg::ValueError);
    }
}
