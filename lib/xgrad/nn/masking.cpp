#include "xgrad/nn/masking.hpp"

#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Masking::Masking(float mask_value, std::string name) : Module("Masking", std::move(name)), mask_value_(mask_value) {
    if (!std::isfinite(mask_value)) throw ValueError(fmt::format("Masking: mask_value {}; expected a finite number", mask_value));
}

Tensor Masking::forward(const Tensor& x) { return forward_masked(x, {}).output; }

Masked Masking::forward_masked(const Tensor& x, const Tensor&) {
    if (!x.defined()) throw ValueError(fmt::format("{}: input is an empty handle; expected (batch, steps, features)", name()));
    if (x.rank() != 3) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, steps, features)", name(),
                                     format_shape(x.shape())));
    }
    const Shape& s = x.shape();
    // No features: every step is padding (a reduction refuses an empty axis).
    if (s[2] == 0 || x.size() == 0) return {x, constant(xt::zeros<float>({s[0], s[1]}))};
    const Tensor mask = max(not_equal(x, mask_value_), -1);
    return {x * reshape(mask, {-1, static_cast<long>(s[1]), 1}), mask};
}

Shape Masking::output_shape(const Shape& input_shape) {
    if (input_shape.size() != 2) {
        throw ShapeError(fmt::format("{}: input shape {}; expected (steps, features)", name(), format_shape(input_shape)));
    }
    return input_shape;
}

std::optional<LayerConfig> Masking::config() const { return LayerConfig{{"mask_value", fmt::format("{}", mask_value_)}}; }

}  // namespace xg
