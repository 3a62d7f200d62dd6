// PReLU: Keras's defaults (alpha 0, one per input element), shared axes, the learned slope's
// values and gradients, its config, and errors.
#include "xgrad/nn/prelu.hpp"

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

using xg::test::random_array;

TEST_CASE("PReLU has Keras's defaults: alpha 0 for each input element, trainable, so it starts as relu") {
    xg::PReLU layer({3, 4});
    CHECK(layer.name() == "p_re_lu_1");
    auto params = layer.named_parameters();
    REQUIRE(params.size() == 1);
    CHECK(params[0].first == "alpha");
    CHECK(layer.alpha().shape() == xg::Shape{3, 4});
    CHECK(xt::all(xt::equal(layer.alpha().value(), 0.0f)));
    CHECK(layer.output_shape({3, 4}) == xg::Shape{3, 4});
    const xg::Array x = random_array({2, 3, 4}, 1, -1.0f, 1.0f);
    CHECK(layer(xg::input(x)).value() == xg::relu(xg::input(x)).value());
    xg::Tape::current().clear();
}

TEST_CASE("PReLU shares one slope along the shared axes: one per channel of an image for {1, 2}") {
    xg::PReLU layer({2, 3, 2}, {.shared_axes = {1, 2}});
    CHECK(layer.alpha().shape() == xg::Shape{1, 1, 2});
    layer.alpha().node()->mutable_value() = xg::Array{{{0.25f, -0.5f}}};
    const xg::Array x = random_array({2, 2, 3, 2}, 2, -1.0f, 1.0f);
    const xg::Array y = layer(xg::input(x)).value();
    for (std::size_t i = 0; i < x.size(); ++i) {
        const float v = x.data()[i], slope = i % 2 == 0 ? 0.25f : -0.5f;
        CHECK(y.data()[i] == doctest::Approx(v > 0.0f ? v : slope * v));
    }
    CHECK(xg::PReLU({5, 7, 3}, {.shared_axes = {2}}).alpha().shape() == xg::Shape{5, 1, 3});
    // As Keras's, any extent along a shared axis: a larger image gets the same channel slopes.
    const xg::Array larger = random_array({1, 5, 4, 2}, 3, -1.0f, 1.0f);
    CHECK(layer.output_shape({5, 4, 2}) == xg::Shape{5, 4, 2});
    const xg::Array z = layer(xg::input(larger)).value();
    CHECK(z(0, 4, 3, 1) == doctest::Approx(larger(0, 4, 3, 1) > 0.0f ? larger(0, 4, 3, 1) : -0.5f * larger(0, 4, 3, 1)));
    CHECK_THROWS_WITH_AS(layer(xg::input(xt::zeros<float>({1, 5, 4, 3}))),
                         "p_re_lu_1: input has shape (1, 5, 4, 3); expected (batch, any, any, 2)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(layer.output_shape({5, 4}), "p_re_lu_1: input shape (5, 4); expected (any, any, 2)", xg::ShapeError);
    xg::Tape::current().clear();
}

TEST_CASE("PReLU's gradients: x's pass gradcheck and gradgradcheck, alpha's is the sum of the negative inputs it scales") {
    xg::PReLU layer({3, 2}, {.alpha_initializer = [](const xg::Shape& s) { return random_array(s, 3, 0.1f, 0.6f); },
                             .shared_axes = {1}});
    // Away from 0, where the slope changes.
    xg::Array x = random_array({4, 3, 2}, 4, 0.2f, 1.5f) * xt::where(random_array({4, 3, 2}, 5, -1.0f, 1.0f) < 0.0f, -1.0f, 1.0f);
    auto f = [&layer](const std::vector<xg::Tensor>& in) { return layer(in[0]); };
    const auto first = xg::gradcheck(f, {x});
    CHECK_MESSAGE(first.passed, first.report());
    const auto second = xg::gradgradcheck(f, {x});
    CHECK_MESSAGE(second.passed, second.report());
    xg::Tensor(layer.alpha()).zero_grad();
    xg::sum(layer(xg::input(x))).backward();
    for (std::size_t c = 0; c < 2; ++c) {
        float negative_sum = 0.0f;
        for (std::size_t n = 0; n < 4; ++n) {
            for (std::size_t h = 0; h < 3; ++h) negative_sum += std::min(x(n, h, c), 0.0f);
        }
        CHECK(layer.alpha().grad()(0, c) == doctest::Approx(negative_sum));
    }
    xg::Tape::current().clear();
}

TEST_CASE("PReLU's config rebuilds it; its settings and inputs are checked, naming what is wrong") {
    const xg::PReLU layer({4, 4, 3}, {.shared_axes = {1, 2}});
    CHECK(*layer.config() == xg::LayerConfig{{"input_shape", "4,4,3"}, {"shared_axes", "1,2"}});
    auto rebuilt = xg::make_layer("PReLU", *layer.config(), "slopes");
    auto& prelu = dynamic_cast<xg::PReLU&>(*rebuilt);
    CHECK(prelu.name() == "slopes");
    CHECK(prelu.alpha().shape() == xg::Shape{1, 1, 3});
    CHECK(prelu.shared_axes() == std::vector<std::size_t>{1, 2});
    CHECK(*xg::PReLU({8}).config() == xg::LayerConfig{{"input_shape", "8"}});

    CHECK_THROWS_WITH_AS(xg::PReLU({4, 3}, {.shared_axes = {0}}),
                         "PReLU: shared_axes (0) for input shape (4, 3); expected distinct axes from 1 to 2 (axis 0 is the batch)",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::PReLU({4, 3}, {.shared_axes = {3}}), doctest::Contains("expected distinct axes from 1 to 2"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::PReLU({4, 3}, {.shared_axes = {1, 1}}), doctest::Contains("shared_axes (1, 1)"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::PReLU(xg::Shape{}), "PReLU: input shape (); expected at least one axis, none of extent 0",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::PReLU({4, 0}), doctest::Contains("PReLU: input shape (4, 0)"), xg::ValueError);
    xg::PReLU dense_slopes({3}, {.name = "slopes"});
    CHECK_THROWS_WITH_AS(dense_slopes(xg::input(xt::zeros<float>({2, 4}))), "slopes: input has shape (2, 4); expected (batch, 3)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(dense_slopes(xg::input(xt::zeros<float>({3}))), "slopes: input has shape (3,); expected (batch, 3)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(dense_slopes.output_shape({2, 3}), "slopes: input shape (2, 3); expected (3,)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(dense_slopes(xg::Tensor::scalar(1.0f)), "slopes: input has shape (); expected (batch, 3)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::make_layer("PReLU", {{"input_shape", "4,x"}}, "p"), doctest::Contains("setting 'input_shape' is '4,x'"),
                         xg::ValueError);
}
