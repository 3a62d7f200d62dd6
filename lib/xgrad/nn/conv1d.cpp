#include "xgrad/nn/conv1d.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Conv1D::Conv1D(std::size_t input_channels, std::size_t filters, std::size_t kernel_size, Conv1DOptions options)
    : Module("Conv1D", std::move(options.name)),
      input_channels_(input_channels),
      filters_(filters),
      kernel_size_(kernel_size),
      strides_(options.strides),
      dilation_rate_(options.dilation_rate),
      padding_(options.padding),
      activation_(options.activation.empty() ? "linear" : options.activation),
      activation_fn_(activation_by_name(options.activation)) {
    if (input_channels == 0 || filters == 0) {
        throw ValueError(fmt::format("Conv1D: input_channels {} and filters {}; expected both > 0", input_channels, filters));
    }
    if (kernel_size == 0 || strides_ == 0 || dilation_rate_ == 0) {
        throw ValueError(fmt::format("Conv1D: kernel_size {}, strides {} and dilation_rate {}; expected every one > 0",
                                     kernel_size, strides_, dilation_rate_));
    }
    if (padding_ != "valid" && padding_ != "same" && padding_ != "causal") {
        throw ValueError(fmt::format("Conv1D: padding '{}' is unknown; expected 'valid', 'same' or 'causal'", padding_));
    }
    if (window_too_long(kernel_size, dilation_rate_)) {
        throw ValueError(fmt::format("Conv1D: kernel_size {} with dilation_rate {} spans more than {} steps; expected a "
                                     "smaller dilation_rate",
                                     kernel_size, dilation_rate_, kMaxWindowSpan));
    }
    kernel_ = register_parameter("kernel", Tensor(options.kernel_initializer({kernel_size, input_channels, filters})));
    if (options.use_bias) bias_ = register_parameter("bias", Tensor(options.bias_initializer({filters})));
}

Conv1D::Conv1D(std::size_t input_channels, std::size_t filters, std::size_t kernel_size, const std::string& activation)
    : Conv1D(input_channels, filters, kernel_size, Conv1DOptions{.activation = activation}) {}

std::size_t Conv1D::output_steps(std::size_t steps) const {
    const std::size_t span = window_span(kernel_size_, dilation_rate_);
    if (steps == 0) throw ShapeError(fmt::format("{}: an input of 0 steps; expected at least one", name()));
    // Causal padding puts span - 1 zeros before the sequence: a valid window at every step.
    if (padding_ == "causal") return axis_windows(steps + span - 1, span, strides_, Padding::valid).count;
    if (padding_ == "valid" && steps < span) {
        throw ShapeError(fmt::format("{}: an input of {} steps is shorter than the kernel, which spans {} (kernel_size "
                                     "{}, dilation_rate {}), with padding 'valid'; expected at least {} steps",
                                     name(), steps, span, kernel_size_, dilation_rate_, span));
    }
    return axis_windows(steps, span, strides_, padding_ == "same" ? Padding::same : Padding::valid).count;
}

Activated Conv1D::forward_with_logits(const Tensor& x) {
    if (x.rank() != 3 || x.shape()[2] != input_channels_) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, steps, {})", name(), format_shape(x.shape()),
                                     input_channels_));
    }
    const long n = static_cast<long>(x.shape()[0]), c = static_cast<long>(input_channels_);
    const std::size_t steps = x.shape()[1], out_steps = output_steps(steps);
    Tensor row = x, kernel = kernel_;
    std::size_t taps = kernel_size_;
    if (padding_ == "causal") {
        // The first taps of a kernel that reaches further back than the sequence is long read
        // only the zeros before it: left out, so that the zeros padded stay fewer than the steps.
        const std::size_t reach = (steps - 1) / dilation_rate_ + 1;
        if (taps > reach) {
            kernel = slice(kernel_, 0, taps - reach, taps);
            taps = reach;
        }
        row = pad(x, 1, window_span(taps, dilation_rate_) - 1, 0);
    }
    // The sequence as an image of one row, and the kernel as a window one row high.
    const Tensor image = reshape(row, {n, 1, static_cast<long>(row.shape()[1]), c});
    const Tensor window = reshape(kernel, {1, static_cast<long>(taps), c, static_cast<long>(filters_)});
    const Padding padding = padding_ == "same" ? Padding::same : Padding::valid;
    const Size2 strides{1, strides_}, dilation{1, dilation_rate_};
    const Tensor y = bias_.defined() ? conv2d_with_bias(image, window, bias_, strides, padding, dilation)
                                     : conv2d(image, window, strides, padding, dilation);
    const Tensor z = reshape(y, {n, static_cast<long>(out_steps), static_cast<long>(filters_)});
    return {activation_fn_(z), z, activation_};
}

Shape Conv1D::output_shape(const Shape& input_shape) {
    if (input_shape.size() != 2 || input_shape[1] != input_channels_) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (steps, {})", name(),
                                     format_shape(input_shape), input_channels_));
    }
    return {output_steps(input_shape[0]), filters_};
}

std::optional<LayerConfig> Conv1D::config() const {
    return LayerConfig{{"input_channels", std::to_string(input_channels_)},
                       {"filters", std::to_string(filters_)},
                       {"kernel_size", std::to_string(kernel_size_)},
                       {"strides", std::to_string(strides_)},
                       {"dilation_rate", std::to_string(dilation_rate_)},
                       {"padding", padding_},
                       {"activation", activation_},
                       {"use_bias", bias_.defined() ? "true" : "false"}};
}

}  // namespace xg
