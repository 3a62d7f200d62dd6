#include "xgrad/nn/convolution.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

Convolution::Convolution(std::string kind, ConvolutionSettings s)
    : Module(kind, std::move(s.name)),
      input_channels_(s.input_channels),
      output_channels_(s.output_channels),
      kernel_size_(s.kernel_size),
      strides_(s.strides),
      dilation_rate_(s.dilation_rate),
      padding_(parse_padding(s.padding, kind.c_str())),
      activation_(s.activation.empty() ? "linear" : s.activation),
      activation_fn_(activation_by_name(s.activation)) {
    const auto positive = [](Size2 v) { return v[0] > 0 && v[1] > 0; };
    if (!positive(s.kernel_size) || !positive(s.strides) || !positive(s.dilation_rate)) {
        throw ValueError(fmt::format("{}: kernel_size ({}, {}), strides ({}, {}) and dilation_rate ({}, {}); expected "
                                     "every extent > 0",
                                     kind, s.kernel_size[0], s.kernel_size[1], s.strides[0], s.strides[1],
                                     s.dilation_rate[0], s.dilation_rate[1]));
    }
    check_window_span(s.kernel_size, s.dilation_rate, kind.c_str(), "kernel_size", "dilation_rate");
}

void Convolution::add_bias(bool use_bias, const Initializer& initializer) {
    if (use_bias) bias_ = register_parameter("bias", Tensor(initializer({output_channels_})));
}

void Convolution::check_input(const Shape& s) const {
    if (s.size() != 3 || s[2] != input_channels_) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (height, width, {})", name(),
                                     format_shape(s), input_channels_));
    }
}

Activated Convolution::forward_with_logits(const Tensor& x) {
    if (x.rank() != 4) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, height, width, {})", name(),
                                     format_shape(x.shape()), input_channels_));
    }
    check_input(Shape(x.shape().begin() + 1, x.shape().end()));
    const Tensor z = convolve(x);
    return {activation_fn_(z), z, activation_};
}

std::optional<LayerConfig> Convolution::config() const {
    LayerConfig c = layer_config();
    c.insert({{"input_channels", std::to_string(input_channels_)},
              {"kernel_size", fmt::format("{},{}", kernel_size_[0], kernel_size_[1])},
              {"strides", fmt::format("{},{}", strides_[0], strides_[1])},
              {"dilation_rate", fmt::format("{},{}", dilation_rate_[0], dilation_rate_[1])},
              {"padding", std::string(padding_name(padding_))},
              {"activation", activation_},
              {"use_bias", bias_.defined() ? "true" : "false"}});
    return c;
}

Size2 Convolution::output_size(std::size_t h, std::size_t w) const {
    const Window2d g = window_geometry({1, h, w, input_channels_}, kernel_size_, strides_, padding_, name().c_str(),
                                       "kernel_size", dilation_rate_, "dilation_rate");
    return {g.oh, g.ow};
}

Shape Convolution::output_shape(const Shape& input_shape) {
    check_input(input_shape);
    const Size2 out = output_size(input_shape[0], input_shape[1]);
    return {out[0], out[1], output_channels_};
}

}  // namespace xg
