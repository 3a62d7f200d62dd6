#include "xgrad/nn/conv2d_transpose.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Conv2DTranspose::Conv2DTranspose(std::size_t input_channels, std::size_t filters, Size2 kernel_size,
                                 Conv2DTransposeOptions options)
    : Convolution("Conv2DTranspose", convolution_settings(input_channels, filters, kernel_size, options)) {
    if (input_channels == 0 || filters == 0) {
        throw ValueError(fmt::format("Conv2DTranspose: input_channels {} and filters {}; expected both > 0",
                                     input_channels, filters));
    }
    kernel_ = register_parameter(
        "kernel", Tensor(options.kernel_initializer({kernel_size[0], kernel_size[1], filters, input_channels})));
    add_bias(options.use_bias, options.bias_initializer);
}

Size2 Conv2DTranspose::output_size(std::size_t h, std::size_t w) const {
    // The sizes whose convolution by the same window comes back to h x w, as Keras picks them;
    // a dilated window reaches as far as its span.
    auto length = [&](std::size_t in, std::size_t k, std::size_t s, std::size_t d) {
        const std::size_t span = window_span(k, d);
        const std::size_t extra = padding() == Padding::valid ? std::max(span, s) - s : 0;
        std::size_t out = 0;
        if (__builtin_mul_overflow(in, s, &out) || __builtin_add_overflow(out, extra, &out)) {
            throw ShapeError(fmt::format("{}: an input of extent {} at stride {} gives an output larger than any "
                                         "array; expected a smaller input or stride",
                                         name(), in, s));
        }
        return out;
    };
    return {length(h, kernel_size()[0], strides()[0], dilation_rate()[0]),
            length(w, kernel_size()[1], strides()[1], dilation_rate()[1])};
}

Tensor Conv2DTranspose::convolve(const Tensor& x) const {
    const Size2 out = output_size(x.shape()[1], x.shape()[2]);
    const Tensor y = conv2d_backward_input(x, kernel_, {x.shape()[0], out[0], out[1], filters()}, strides(), padding(),
                                           dilation_rate());
    return bias().defined() ? y + bias() : y;
}

LayerConfig Conv2DTranspose::layer_config() const { return {{"filters", std::to_string(filters())}}; }

}  // namespace xg
