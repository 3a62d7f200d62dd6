#include "xgrad/nn/conv2d.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Conv2D::Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, Conv2DOptions options)
    : Convolution("Conv2D", convolution_settings(input_channels, filters, kernel_size, options)) {
    if (input_channels == 0 || filters == 0) {
        throw ValueError(fmt::format("Conv2D: input_channels {} and filters {}; expected both > 0", input_channels, filters));
    }
    kernel_ = register_parameter(
        "kernel", Tensor(options.kernel_initializer({kernel_size[0], kernel_size[1], input_channels, filters})));
    add_bias(options.use_bias, options.bias_initializer);
}

Conv2D::Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, const std::string& activation)
    : Conv2D(input_channels, filters, kernel_size, Conv2DOptions{.activation = activation}) {}

Tensor Conv2D::convolve(const Tensor& x) const {
    return bias().defined() ? conv2d_with_bias(x, kernel_, bias(), strides(), padding(), dilation_rate())
                            : conv2d(x, kernel_, strides(), padding(), dilation_rate());
}

LayerConfig Conv2D::layer_config() const { return {{"filters", std::to_string(filters())}}; }

}  // namespace xg
