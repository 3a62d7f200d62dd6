// Functions that round (floor, ceil, round) or keep only the sign: piecewise constant, so their
// gradient is 0 everywhere, as in PyTorch (where they jump it does not exist; 0 keeps a model that
// uses them trainable through its other paths). NaN stays NaN.
#include <cmath>

#include "xgrad/ops/elementwise_op.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// The gradient of a piecewise-constant function, and its own (also 0).
struct ZeroRule {
    float operator()(float, float, float) const { return 0.0f; }
};
struct ZeroTensorRule {
    Tensor operator()(const Tensor&, const Tensor& x, const Tensor&) const {
        return detail::constant_mask(x, [](float) { return 0.0f; });
    }
};

}  // namespace

// floor and ceil map std::floor and std::ceil over the elements, which the compiler turns into
// vector rounding instructions where the target has them. xtensor's own xt::floor and xt::ceil
// fall back, on a target without them (x86-64 before SSE4.1), to a truncation through integers
// that loses the sign of a zero result: ceil(-0.5) came out +0 instead of -0.
Tensor floor(const Tensor& x) {
    return detail::unary_elementwise("floor", x, [](float v) { return std::floor(v); }, ZeroRule{}, ZeroTensorRule{});
}

Tensor ceil(const Tensor& x) {
    return detail::unary_elementwise("ceil", x, [](float v) { return std::ceil(v); }, ZeroRule{}, ZeroTensorRule{});
}

Tensor round(const Tensor& x) {
    // Halves to the even neighbour (numpy, PyTorch and ONNX), whatever the floating-point
    // environment's rounding mode: std::round takes halves away from zero, and v / 2 is exact.
    return detail::unary_elementwise("round", x, [](float v) {
        const float away = std::round(v);
        return std::abs(v - std::trunc(v)) == 0.5f ? 2.0f * std::round(0.5f * v) : away;
    }, ZeroRule{}, ZeroTensorRule{});
}

Tensor sign(const Tensor& x) {
    return detail::unary_elementwise("sign", x, [](float v) {
        return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v == 0.0f ? 0.0f : v;
    }, ZeroRule{}, ZeroTensorRule{});
}

}  // namespace xg
