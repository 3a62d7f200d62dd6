// SeparableConv2D: Keras's weights and defaults, the value as a depthwise then a pointwise
// convolution, its parameter count against Conv2D's, errors, and gradients through the layer.
#include "xgrad/nn/separable_conv2d.hpp"

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/ops/ops.hpp"

TEST_CASE("SeparableConv2D has Keras's weights: depthwise_kernel, pointwise_kernel, bias, in that order") {
    xg::manual_seed(3);
    xg::SeparableConv2D layer(32, 64, {3, 3});
    CHECK(layer.name() == "separable_conv2d_1");
    CHECK(layer.kind() == "SeparableConv2D");
    const auto params = layer.named_parameters();
    REQUIRE(params.size() == 3);
    CHECK(params[0].first == "depthwise_kernel");
    CHECK(params[1].first == "pointwise_kernel");
    CHECK(params[2].first == "bias");
    CHECK(layer.depthwise_kernel().shape() == xg::Shape{3, 3, 32, 1});
    CHECK(layer.pointwise_kernel().shape() == xg::Shape{1, 1, 32, 64});
    CHECK(xt::all(xt::equal(layer.bias().value(), 0.0f)));
    // Keras's count for SeparableConv2D(64, 3) on 32 channels: 288 + 2048 + 64, against Conv2D's 18,496.
    CHECK(layer.parameter_count() == 2400);
    CHECK(xg::Conv2D(32, 64, {3, 3}).parameter_count() == 18496);
    xg::SeparableConv2D doubled(4, 5, {3, 3}, {.depth_multiplier = 2, .use_bias = false});
    CHECK(doubled.pointwise_kernel().shape() == xg::Shape{1, 1, 8, 5});
    CHECK(doubled.parameter_count() == 3 * 3 * 4 * 2 + 8 * 5);
}

TEST_CASE("SeparableConv2D computes activation(pointwise(depthwise(x)) + bias)") {
    xt::random::seed(5);
    xg::SeparableConv2D layer(3, 4, {3, 3},
                              {.activation = "relu", .strides = {2, 2}, .padding = "same", .depth_multiplier = 2});
    xg::Tensor bias = layer.bias();  // a handle on the layer's own
    bias.mutable_value() = xt::random::rand<float>({4}, -1.0f, 1.0f);
    const xg::Array x = xt::random::rand<float>({2, 7, 6, 3}, -1.0f, 1.0f);
    const xg::Tensor depthwise =
        xg::depthwise_conv2d(xg::input(x), xg::input(layer.depthwise_kernel().value()), {2, 2}, xg::Padding::same);
    const xg::Array expected = xt::maximum(
        xg::conv2d(depthwise, xg::input(layer.pointwise_kernel().value())).value() + layer.bias().value(), 0.0f);
    const xg::Tensor y = layer(xg::input(x));
    CHECK(y.shape() == xg::Shape{2, 4, 3, 4});
    CHECK(xt::allclose(y.value(), expected, 1e-6, 1e-6));
    xg::Tape::current().clear();
}

TEST_CASE("SeparableConv2D's errors name the setting") {
    CHECK_THROWS_WITH_AS(xg::SeparableConv2D(3, 0, {3, 3}),
                         "SeparableConv2D: input_channels 3, filters 0 and depth_multiplier 1; expected all > 0",
                         xg::ValueError);
    CHECK_THROWS_AS(xg::SeparableConv2D(3, 4, {3, 3}, {.depth_multiplier = 0}), xg::ValueError);
}

TEST_CASE("gradients flow through SeparableConv2D to its input and all three weights") {
    xt::random::seed(7);
    xg::SeparableConv2D layer(2, 3, {2, 2}, {.activation = "tanh", .padding = "same", .depth_multiplier = 2});
    const auto through_input = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); },
                                             {xt::random::rand<float>({2, 4, 3, 2}, -1.0f, 1.0f)});
    CHECK_MESSAGE(through_input.passed, through_input.report());
    const xg::Tensor y = layer(xg::input(xt::random::rand<float>({2, 4, 3, 2}, -1.0f, 1.0f)));
    xg::sum(y * y).backward();
    for (const auto& [name, p] : layer.named_parameters()) {
        CAPTURE(name);
        CHECK(p.grad().shape() == p.shape());
        CHECK(xt::amax(xt::abs(p.grad()))() > 0.0f);
    }
}
