// Convolution, the base of Conv2D, DepthwiseConv2D and SeparableConv2D: the same input
// checks, output shapes, shared settings (dilation among them) and logits for all three.
#include "xgrad/nn/convolution.hpp"

#include <memory>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/depthwise_conv2d.hpp"
#include "xgrad/nn/separable_conv2d.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// One of each, 3 input channels, 6 output channels, 3x2 windows, strides (2, 1), same padding, relu.
std::vector<std::shared_ptr<xg::Convolution>> layers() {
    return {std::make_shared<xg::Conv2D>(3, 6, xg::Size2{3, 2},
                                         xg::Conv2DOptions{.activation = "relu", .strides = {2, 1}, .padding = "same"}),
            std::make_shared<xg::DepthwiseConv2D>(
                3, xg::Size2{3, 2},
                xg::DepthwiseConv2DOptions{.activation = "relu", .strides = {2, 1}, .padding = "same", .depth_multiplier = 2}),
            std::make_shared<xg::SeparableConv2D>(
                3, 6, xg::Size2{3, 2},
                xg::SeparableConv2DOptions{.activation = "relu", .strides = {2, 1}, .padding = "same"})};
}

}  // namespace

TEST_CASE("every convolution layer shapes its output from its window, strides and padding") {
    for (const auto& layer : layers()) {
        CAPTURE(layer->kind());
        CHECK(layer->input_channels() == 3);
        CHECK(layer->output_channels() == 6);
        CHECK(layer->kernel_size() == xg::Size2{3, 2});
        CHECK(layer->strides() == xg::Size2{2, 1});
        CHECK(layer->padding() == xg::Padding::same);
        CHECK(layer->activation() == "relu");
        CHECK(layer->output_shape({7, 5, 3}) == xg::Shape{4, 5, 6});
        // Random kernels make some values negative before the activation: relu leaves none.
        const xg::Activated y = layer->call_with_logits(xg::input(xt::ones<float>({2, 7, 5, 3})));
        CHECK(y.output.shape() == xg::Shape{2, 4, 5, 6});
        CHECK(y.activation == "relu");
        CHECK(xt::amin(y.logits.value())() < 0.0f);
        CHECK(y.output.value() == xt::maximum(y.logits.value(), 0.0f));
    }
    xg::Tape::current().clear();
}

TEST_CASE("every convolution layer's config holds the shared settings beside its own") {
    for (const auto& layer : layers()) {
        CAPTURE(layer->kind());
        const xg::LayerConfig c = *layer->config();
        CHECK(c.at("input_channels") == "3");
        CHECK(c.at("kernel_size") == "3,2");
        CHECK(c.at("strides") == "2,1");
        CHECK(c.at("dilation_rate") == "1,1");
        CHECK(c.at("padding") == "same");
        CHECK(c.at("activation") == "relu");
        CHECK(c.at("use_bias") == "true");
        CHECK(layer->bias().shape() == xg::Shape{6});
    }
    CHECK(layers()[0]->config()->at("filters") == "6");
    CHECK(layers()[1]->config()->at("depth_multiplier") == "2");
    CHECK(layers()[2]->config()->at("depth_multiplier") == "1");
}

TEST_CASE("every convolution layer names itself and the expected shape when the input does not fit") {
    for (const auto& layer : layers()) {
        CAPTURE(layer->kind());
        const std::string rank = layer->name() + ": input has shape (2, 5, 5); expected (batch, height, width, 3)";
        CHECK_THROWS_WITH_AS((*layer)(xg::input(xt::zeros<float>({2, 5, 5}))), rank.c_str(), xg::ShapeError);
        const std::string channels =
            layer->name() + ": input shape (5, 5, 4) without the batch axis; expected (height, width, 3)";
        CHECK_THROWS_WITH_AS((*layer)(xg::input(xt::zeros<float>({2, 5, 5, 4}))), channels.c_str(), xg::ShapeError);
        CHECK_THROWS_AS(layer->output_shape({5, 5}), xg::ShapeError);
    }
    CHECK_THROWS_WITH_AS(xg::DepthwiseConv2D(3, {0, 3}),
                         "DepthwiseConv2D: kernel_size (0, 3), strides (1, 1) and dilation_rate (1, 1); expected every "
                         "extent > 0",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::SeparableConv2D(3, 4, {3, 3}, {.strides = {1, 0}}),
                         "SeparableConv2D: kernel_size (3, 3), strides (1, 0) and dilation_rate (1, 1); expected every "
                         "extent > 0",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Conv2D(3, 4, {3, 3}, xg::Conv2DOptions{.dilation_rate = {0, 2}}),
                         "Conv2D: kernel_size (3, 3), strides (1, 1) and dilation_rate (0, 2); expected every extent > 0",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Conv2D(3, 4, {3, 3}, xg::Conv2DOptions{.dilation_rate = {std::size_t{1} << 40, 1}}),
                         doctest::Contains("Conv2D: kernel_size (3, 3) with dilation_rate (1099511627776, 1) spans more than"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Conv2D(3, 4, {3, 3}, xg::Conv2DOptions{.padding = "full"}),
                         "Conv2D: padding 'full' is unknown; expected 'valid' or 'same'", xg::ValueError);
    CHECK_THROWS_AS(xg::DepthwiseConv2D(3, {3, 3}, {.activation = "swishy"}), xg::ValueError);
}

TEST_CASE("every convolution layer spreads its kernel's taps by dilation_rate") {
    // 3x2 taps, (2, 3) apart, span 5x4 pixels: valid 7x5 -> 3x2.
    xt::random::seed(4);
    const std::vector<std::shared_ptr<xg::Convolution>> dilated{
        std::make_shared<xg::Conv2D>(3, 6, xg::Size2{3, 2}, xg::Conv2DOptions{.dilation_rate = {2, 3}}),
        std::make_shared<xg::DepthwiseConv2D>(3, xg::Size2{3, 2},
                                              xg::DepthwiseConv2DOptions{.dilation_rate = {2, 3}, .depth_multiplier = 2}),
        std::make_shared<xg::SeparableConv2D>(3, 6, xg::Size2{3, 2}, xg::SeparableConv2DOptions{.dilation_rate = {2, 3}})};
    const xg::Array x = xt::random::rand<float>({2, 7, 5, 3}, -1.0f, 1.0f);
    for (const auto& layer : dilated) {
        CAPTURE(layer->kind());
        CHECK(layer->dilation_rate() == xg::Size2{2, 3});
        CHECK(layer->config()->at("dilation_rate") == "2,3");
        CHECK(layer->output_shape({7, 5, 3}) == xg::Shape{3, 2, 6});
        CHECK((*layer)(xg::input(x)).shape() == xg::Shape{2, 3, 2, 6});
        CHECK_THROWS_WITH_AS(layer->output_shape({4, 5, 3}),
                             doctest::Contains("kernel_size (3, 2) (spanning (5, 4) with dilation_rate (2, 3)) is larger than the "
                                               "input's rows and columns (4, 5)"),
                             xg::ShapeError);
    }
    // The layer is its op with the same dilation.
    const auto& conv = static_cast<const xg::Conv2D&>(*dilated[0]);
    const xg::Array expected =
        xg::conv2d_with_bias(xg::input(x), conv.kernel(), conv.bias(), {1, 1}, xg::Padding::valid, {2, 3}).value();
    CHECK((*dilated[0])(xg::input(x)).value() == expected);
    xg::Tape::current().clear();
}
