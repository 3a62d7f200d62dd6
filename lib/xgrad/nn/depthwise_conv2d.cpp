#include "xgrad/nn/depthwise_conv2d.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

DepthwiseConv2D::DepthwiseConv2D(std::size_t input_channels, Size2 kernel_size, DepthwiseConv2DOptions options)
    : Convolution("DepthwiseConv2D",
                  convolution_settings(input_channels, input_channels * options.depth_multiplier, kernel_size, options)) {
    if (input_channels == 0 || options.depth_multiplier == 0) {
        throw ValueError(fmt::format("DepthwiseConv2D: input_channels {} and depth_multiplier {}; expected both > 0",
                                     input_channels, options.depth_multiplier));
    }
    depthwise_kernel_ = register_parameter(
        "depthwise_kernel",
        Tensor(options.depthwise_initializer({kernel_size[0], kernel_size[1], input_channels, options.depth_multiplier})));
    add_bias(options.use_bias, options.bias_initializer);
}

Tensor DepthwiseConv2D::convolve(const Tensor& x) const {
    return bias().defined()
               ? depthwise_conv2d_with_bias(x, depthwise_kernel_, bias(), strides(), padding(), dilation_rate())
               : depthwise_conv2d(x, depthwise_kernel_, strides(), padding(), dilation_rate());
}

LayerConfig DepthwiseConv2D::layer_config() const { return {{"depth_multiplier", std::to_string(depth_multiplier())}}; }

}  // namespace xg
