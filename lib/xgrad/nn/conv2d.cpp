#include "xgrad/nn/conv2d.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Conv2D::Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, Conv2DOptions options)
    : Module("Conv2D", std::move(options.name)),
      input_channels_(input_channels),
      filters_(filters),
      kernel_size_(kernel_size),
      strides_(options.strides),
      padding_(parse_padding(options.padding, "Conv2D")),
      activation_(options.activation.empty() ? "linear" : options.activation),
      activation_fn_(activation_by_name(options.activation)) {
    if (input_channels == 0 || filters == 0) {
        throw ValueError(fmt::format("Conv2D: input_channels {} and filters {}; expected both > 0", input_channels, filters));
    }
    if (kernel_size[0] == 0 || kernel_size[1] == 0 || strides_[0] == 0 || strides_[1] == 0) {
        throw ValueError(fmt::format("Conv2D: kernel_size ({}, {}) and strides ({}, {}); expected every extent > 0",
                                     kernel_size[0], kernel_size[1], strides_[0], strides_[1]));
    }
    kernel_ = register_parameter(
        "kernel", Tensor(options.kernel_initializer({kernel_size[0], kernel_size[1], input_channels, filters})));
    if (options.use_bias) bias_ = register_parameter("bias", Tensor(options.bias_initializer({filters})));
}

Conv2D::Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, const std::string& activation)
    : Conv2D(input_channels, filters, kernel_size, Conv2DOptions{.activation = activation}) {}

void Conv2D::check_input(const Shape& s) const {
    if (s.size() != 3 || s[2] != input_channels_) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (height, width, {})", name(),
                                     format_shape(s), input_channels_));
    }
}

Activated Conv2D::forward_with_logits(const Tensor& x) {
    if (x.rank() != 4) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, height, width, {})", name(),
                                     format_shape(x.shape()), input_channels_));
    }
    check_input(Shape(x.shape().begin() + 1, x.shape().end()));
    const Tensor z = bias_.defined() ? conv2d_with_bias(x, kernel_, bias_, strides_, padding_)
                                     : conv2d(x, kernel_, strides_, padding_);
    return {activation_fn_(z), z, activation_};
}

std::optional<LayerConfig> Conv2D::config() const {
    return LayerConfig{{"input_channels", std::to_string(input_channels_)},
                       {"filters", std::to_string(filters_)},
                       {"kernel_size", fmt::format("{},{}", kernel_size_[0], kernel_size_[1])},
                       {"strides", fmt::format("{},{}", strides_[0], strides_[1])},
                       {"padding", std::string(padding_name(padding_))},
                       {"activation", activation_},
                       {"use_bias", bias_.defined() ? "true" : "false"}};
}

Shape Conv2D::output_shape(const Shape& input_shape) {
    check_input(input_shape);
    const Window2d g = window_geometry({1, input_shape[0], input_shape[1], input_shape[2]}, kernel_size_, strides_,
                                       padding_, name().c_str(), "kernel");
    return {g.oh, g.ow, filters_};
}

}  // namespace xg
