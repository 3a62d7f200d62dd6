#include "xgrad/nn/global_pooling.hpp"

#include <limits>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/image_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

GlobalPooling::GlobalPooling(std::string kind, std::size_t spatial_axes, Reduction reduction, GlobalPoolingOptions options)
    : Module(std::move(kind), std::move(options.name)),
      spatial_axes_(spatial_axes),
      reduction_(reduction),
      keepdims_(options.keepdims) {}

std::optional<LayerConfig> GlobalPooling::config() const {
    return LayerConfig{{"keepdims", keepdims_ ? "true" : "false"}};
}

void GlobalPooling::check_positions(const Shape& shape, bool with_batch) const {
    if (spatial_axes_ == 2) {
        with_batch ? check_image_batch(shape, name()) : check_image_shape(shape, name());
        return;
    }
    const std::size_t steps_axis = with_batch ? 1 : 0;
    if (shape.size() == steps_axis + 2 && shape[steps_axis] > 0) return;
    if (with_batch) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, steps, channels) with at least one step",
                                     name(), format_shape(shape)));
    }
    throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (steps, channels) with at least "
                                 "one step",
                                 name(), format_shape(shape)));
}

Tensor GlobalPooling::forward(const Tensor& x) {
    const Shape& s = x.shape();
    check_positions(s, true);
    const long n = static_cast<long>(s[0]), c = static_cast<long>(s.back());
    std::vector<long> kept(spatial_axes_ + 2, 1);
    kept.front() = n;
    kept.back() = c;
    // No examples or no channels: nothing to reduce (a reduction refuses an empty tensor), an empty result.
    if (n == 0 || c == 0) return reshape(x, keepdims_ ? kept : std::vector<long>{n, c});
    // The positions (pixels, steps) as the rows of one matrix per example: one reduction over one
    // axis. Their count is left to reshape (-1), so that an exported graph takes images of any size.
    const Tensor positions = spatial_axes_ == 1 ? x : reshape(x, {n, -1, c});
    const Tensor y = reduction_ == Reduction::max ? max(positions, 1) : mean(positions, 1);
    return keepdims_ ? reshape(y, kept) : y;
}

Masked GlobalAveragePooling1D::forward_masked(const Tensor& x, const Tensor& mask) {
    if (!mask.defined()) return {forward(x), {}};
    const Shape& s = x.shape();
    check_positions(s, true);
    if (s[0] == 0 || s[2] == 0) return {forward(x), {}};
    const long n = static_cast<long>(s[0]), c = static_cast<long>(s[2]);
    const Tensor m = reshape(mask, {n, -1, 1});
    // At least one step counted: a sequence of padding alone averages to zero.
    const Tensor steps = clip(sum(m, 1), 1.0f, std::numeric_limits<float>::max());
    const Tensor y = sum(x * m, 1) / steps;
    return {keepdims() ? reshape(y, {n, 1, c}) : y, {}};
}

Shape GlobalPooling::output_shape(const Shape& input_shape) {
    check_positions(input_shape, false);
    Shape out(keepdims_ ? spatial_axes_ + 1 : 1, 1);
    out.back() = input_shape.back();
    return out;
}

}  // namespace xg
