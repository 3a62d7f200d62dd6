#include "xgrad/nn/global_pooling.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/image_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

GlobalPooling2D::GlobalPooling2D(std::string kind, GlobalPooling2DOptions options)
    : Module(std::move(kind), std::move(options.name)), keepdims_(options.keepdims) {}

std::optional<LayerConfig> GlobalPooling2D::config() const {
    return LayerConfig{{"keepdims", keepdims_ ? "true" : "false"}};
}

Tensor GlobalPooling2D::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_image_batch(s, name());
    const long n = static_cast<long>(s[0]), c = static_cast<long>(s[3]);
    // No images or no channels: nothing to reduce (a reduction refuses an empty tensor), an empty result.
    if (n == 0 || c == 0) return reshape(x, keepdims_ ? std::vector<long>{n, 1, 1, c} : std::vector<long>{n, c});
    // The pixels as the rows of one matrix per image, so one reduction over one axis does it.
    Tensor y = reduce_pixels(reshape(x, {n, static_cast<long>(s[1] * s[2]), c}));
    return keepdims_ ? reshape(y, {n, 1, 1, c}) : y;
}

Shape GlobalPooling2D::output_shape(const Shape& input_shape) {
    check_image_shape(input_shape, name());
    return keepdims_ ? Shape{1, 1, input_shape[2]} : Shape{input_shape[2]};
}

Tensor GlobalAveragePooling2D::reduce_pixels(const Tensor& pixels) const { return mean(pixels, 1); }

Tensor GlobalMaxPooling2D::reduce_pixels(const Tensor& pixels) const { return max(pixels, 1); }

GlobalPooling1D::GlobalPooling1D(std::string kind, GlobalPooling1DOptions options)
    : Module(std::move(kind), std::move(options.name)), keepdims_(options.keepdims) {}

std::optional<LayerConfig> GlobalPooling1D::config() const {
    return LayerConfig{{"keepdims", keepdims_ ? "true" : "false"}};
}

Tensor GlobalPooling1D::forward(const Tensor& x) {
    const Shape& s = x.shape();
    if (s.size() != 3 || s[1] == 0) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, steps, channels) with at least one step",
                                     name(), format_shape(s)));
    }
    const long n = static_cast<long>(s[0]), c = static_cast<long>(s[2]);
    // No sequences or no channels: nothing to reduce (a reduction refuses an empty tensor), an empty result.
    if (n == 0 || c == 0) return reshape(x, keepdims_ ? std::vector<long>{n, 1, c} : std::vector<long>{n, c});
    const Tensor y = reduce_steps(x);
    return keepdims_ ? reshape(y, {n, 1, c}) : y;
}

Shape GlobalPooling1D::output_shape(const Shape& input_shape) {
    if (input_shape.size() != 2 || input_shape[0] == 0) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (steps, channels) with at "
                                     "least one step",
                                     name(), format_shape(input_shape)));
    }
    return keepdims_ ? Shape{1, input_shape[1]} : Shape{input_shape[1]};
}

Tensor GlobalAveragePooling1D::reduce_steps(const Tensor& x) const { return mean(x, 1); }

Tensor GlobalMaxPooling1D::reduce_steps(const Tensor& x) const { return max(x, 1); }

}  // namespace xg
