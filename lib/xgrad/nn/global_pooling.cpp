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

}  // namespace xg
