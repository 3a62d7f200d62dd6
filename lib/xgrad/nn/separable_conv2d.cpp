#include "xgrad/nn/separable_conv2d.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

SeparableConv2D::SeparableConv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size,
                                 SeparableConv2DOptions options)
    : Convolution("SeparableConv2D", convolution_settings(input_channels, filters, kernel_size, options)),
      depth_multiplier_(options.depth_multiplier) {
    if (input_channels == 0 || filters == 0 || depth_multiplier_ == 0) {
        throw ValueError(fmt::format("SeparableConv2D: input_channels {}, filters {} and depth_multiplier {}; expected "
                                     "all > 0",
                                     input_channels, filters, depth_multiplier_));
    }
    depthwise_kernel_ = register_parameter(
        "depthwise_kernel",
        Tensor(options.depthwise_initializer({kernel_size[0], kernel_size[1], input_channels, depth_multiplier_})));
    pointwise_kernel_ = register_parameter(
        "pointwise_kernel", Tensor(options.pointwise_initializer({1, 1, input_channels * depth_multiplier_, filters})));
    add_bias(options.use_bias, options.bias_initializer);
}

Tensor SeparableConv2D::convolve(const Tensor& x) const {
    const Tensor depthwise = depthwise_conv2d(x, depthwise_kernel_, strides(), padding(), dilation_rate());
    return bias().defined() ? conv2d_with_bias(depthwise, pointwise_kernel_, bias()) : conv2d(depthwise, pointwise_kernel_);
}

LayerConfig SeparableConv2D::layer_config() const {
    return {{"filters", std::to_string(filters())}, {"depth_multiplier", std::to_string(depth_multiplier_)}};
}

}  // namespace xg
