// DepthwiseConv2D: Keras's weights and defaults, the value as the op computes it, errors, and
// gradients through the layer.
#include "xgrad/nn/depthwise_conv2d.hpp"

#include <cmath>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"

TEST_CASE("DepthwiseConv2D has Keras's defaults: glorot_uniform depthwise_kernel (KH, KW, C, 1), zero bias, valid") {
    xg::manual_seed(3);
    xg::DepthwiseConv2D layer(8, {3, 3});
    CHECK(layer.name() == "depthwise_conv2d_1");
    CHECK(layer.kind() == "DepthwiseConv2D");
    CHECK(layer.depth_multiplier() == 1);
    CHECK(layer.depthwise_kernel().shape() == xg::Shape{3, 3, 8, 1});
    CHECK(layer.bias().shape() == xg::Shape{8});
    CHECK(xt::all(xt::equal(layer.bias().value(), 0.0f)));
    // glorot_uniform with Keras's fans for a (3, 3, 8, 1) kernel: 3*3*8 = 72 in, 3*3*1 = 9 out.
    const float limit = std::sqrt(6.0f / (72.0f + 9.0f));
    CHECK(xt::amax(xt::abs(layer.depthwise_kernel().value()))() <= limit);
    CHECK(xt::amax(xt::abs(layer.depthwise_kernel().value()))() > 0.8f * limit);
    CHECK(layer.padding() == xg::Padding::valid);
    CHECK(layer.activation() == "linear");
    CHECK(layer.parameter_count() == 3 * 3 * 8 + 8);
    CHECK(layer.named_parameters()[0].first == "depthwise_kernel");
    // Depth multiplier 3: three filters per channel, 24 output channels and biases.
    xg::DepthwiseConv2D tripled(8, {3, 3}, {.depth_multiplier = 3, .use_bias = false});
    CHECK(tripled.depthwise_kernel().shape() == xg::Shape{3, 3, 8, 3});
    CHECK_FALSE(tripled.bias().defined());
    CHECK(tripled.output_shape({10, 9, 8}) == xg::Shape{8, 7, 24});
}

TEST_CASE("DepthwiseConv2D computes activation(depthwise_conv2d(x, kernel) + bias)") {
    xt::random::seed(5);
    xg::DepthwiseConv2D layer(3, {2, 3}, {.activation = "tanh", .strides = {2, 2}, .padding = "same", .depth_multiplier = 2});
    xg::Tensor bias = layer.bias();  // a handle on the layer's own
    bias.mutable_value() = xt::random::rand<float>({6}, -1.0f, 1.0f);
    const xg::Array x = xt::random::rand<float>({2, 5, 7, 3}, -1.0f, 1.0f);
    const xg::Array expected =
        xt::tanh(xg::depthwise_conv2d(xg::input(x), xg::input(layer.depthwise_kernel().value()), {2, 2}, xg::Padding::same)
                     .value() +
                 layer.bias().value());
    CHECK(xt::allclose(layer(xg::input(x)).value(), expected, 1e-6, 1e-6));
    xg::Tape::current().clear();
}

TEST_CASE("DepthwiseConv2D's errors name the setting") {
    CHECK_THROWS_WITH_AS(xg::DepthwiseConv2D(3, {3, 3}, {.depth_multiplier = 0}),
                         "DepthwiseConv2D: input_channels 3 and depth_multiplier 0; expected both > 0", xg::ValueError);
    CHECK_THROWS_AS(xg::DepthwiseConv2D(0, {3, 3}), xg::ValueError);
    xg::DepthwiseConv2D layer(3, {5, 5});
    CHECK_THROWS_WITH_AS(layer(xg::input(xt::zeros<float>({1, 4, 4, 3}))),
                         doctest::Contains("kernel (5, 5) is larger than the input's rows and columns (4, 4)"),
                         xg::ShapeError);
}

TEST_CASE("gradients flow through DepthwiseConv2D to its input, kernel and bias") {
    xt::random::seed(7);
    xg::DepthwiseConv2D layer(2, {3, 2}, {.activation = "sigmoid", .strides = {1, 2}, .padding = "same", .depth_multiplier = 2});
    const auto through_input = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); },
                                             {xt::random::rand<float>({2, 4, 5, 2}, -1.0f, 1.0f)});
    CHECK_MESSAGE(through_input.passed, through_input.report());
    // The weights as inputs: the same computation with the layer's settings.
    const auto through_weights = xg::gradcheck(
        [](const std::vector<xg::Tensor>& in) {
            return xg::sigmoid(xg::depthwise_conv2d_with_bias(in[0], in[1], in[2], {1, 2}, xg::Padding::same));
        },
        {xt::random::rand<float>({2, 4, 5, 2}, -1.0f, 1.0f), layer.depthwise_kernel().value(),
         xt::random::rand<float>({4}, -1.0f, 1.0f)});
    CHECK_MESSAGE(through_weights.passed, through_weights.report());
    // And the layer's own parameters receive what backward computes for them.
    const xg::Tensor y = layer(xg::input(xt::random::rand<float>({2, 4, 5, 2}, -1.0f, 1.0f)));
    xg::sum(y).backward();
    CHECK(layer.depthwise_kernel().grad().shape() == xg::Shape{3, 2, 2, 2});
    CHECK(layer.bias().grad().shape() == xg::Shape{4});
    CHECK(xt::amax(xt::abs(layer.depthwise_kernel().grad()))() > 0.0f);
}
