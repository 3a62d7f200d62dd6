// The circular functions (sin, cos, tan), their inverses, and the hyperbolic functions and their
// inverses (tanh, an activation, is in activation.cpp). Each backward multiplies dL/dy by dy/dx,
// written from whichever of x and y is cheaper. Outside a function's domain the value is NaN, as
// in the C library, and so is the gradient (where PyTorch's formulas give acosh below -1 and
// atanh beyond 1 a finite one), so that a NaN check finds the step that left the domain. Near the
// ends 1 - x^2 is (1 - x)(1 + x): the square would cancel most of the digits of a float.
#include <xtensor/xmath.hpp>

#include <cmath>
#include <limits>

#include "xgrad/ops/elementwise_op.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

Tensor sin(const Tensor& x) {
    return detail::unary_elementwise("sin", x, [](float v) { return std::sin(v); },
                                     [](float g, float v, float) { return g * std::cos(v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g * cos(x); },
                                     [](const Array& a) { return Array(xt::sin(a)); });
}

Tensor cos(const Tensor& x) {
    return detail::unary_elementwise("cos", x, [](float v) { return std::cos(v); },
                                     [](float g, float v, float) { return -g * std::sin(v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return -(g * sin(x)); },
                                     [](const Array& a) { return Array(xt::cos(a)); });
}

Tensor tan(const Tensor& x) {
    // d tan x / dx = 1 + tan^2 x, from y
    return detail::unary_elementwise("tan", x, [](float v) { return std::tan(v); },
                                     [](float g, float, float y) { return g * (1.0f + y * y); },
                                     [](const Tensor& g, const Tensor&, const Tensor& y) { return g * (1.0f + square(y)); });
}

Tensor asin(const Tensor& x) {
    return detail::unary_elementwise("asin", x, [](float v) { return std::asin(v); },
                                     [](float g, float v, float) { return g / std::sqrt((1.0f - v) * (1.0f + v)); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         return g / sqrt((1.0f - x) * (1.0f + x));
                                     });
}

Tensor acos(const Tensor& x) {
    return detail::unary_elementwise("acos", x, [](float v) { return std::acos(v); },
                                     [](float g, float v, float) { return -g / std::sqrt((1.0f - v) * (1.0f + v)); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         return -(g / sqrt((1.0f - x) * (1.0f + x)));
                                     });
}

Tensor atan(const Tensor& x) {
    return detail::unary_elementwise("atan", x, [](float v) { return std::atan(v); },
                                     [](float g, float v, float) { return g / (1.0f + v * v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g / (1.0f + square(x)); });
}

Tensor sinh(const Tensor& x) {
    return detail::unary_elementwise("sinh", x, [](float v) { return std::sinh(v); },
                                     [](float g, float v, float) { return g * std::cosh(v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g * cosh(x); });
}

Tensor cosh(const Tensor& x) {
    return detail::unary_elementwise("cosh", x, [](float v) { return std::cosh(v); },
                                     [](float g, float v, float) { return g * std::sinh(v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g * sinh(x); });
}

Tensor asinh(const Tensor& x) {
    return detail::unary_elementwise("asinh", x, [](float v) { return std::asinh(v); },
                                     [](float g, float v, float) { return g / std::sqrt(v * v + 1.0f); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g / sqrt(square(x) + 1.0f); });
}

Tensor acosh(const Tensor& x) {
    return detail::unary_elementwise("acosh", x, [](float v) { return std::acosh(v); },
                                     // sqrt(x - 1) sqrt(x + 1), not sqrt(x^2 - 1): NaN below 1, as the value is
                                     [](float g, float v, float) { return g / (std::sqrt(v - 1.0f) * std::sqrt(v + 1.0f)); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         return g / (sqrt(x - 1.0f) * sqrt(x + 1.0f));
                                     });
}

Tensor atanh(const Tensor& x) {
    return detail::unary_elementwise("atanh", x, [](float v) { return std::atanh(v); },
                                     [](float g, float v, float) { return std::abs(v) <= 1.0f ? g / ((1.0f - v) * (1.0f + v)) : kNaN; },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         // 1 / (1 - x^2) is finite beyond 1; a constant factor makes it NaN there.
                                         return g / ((1.0f - x) * (1.0f + x)) *
                                                detail::constant_mask(x, [](float v) { return std::abs(v) <= 1.0f ? 1.0f : kNaN; });
                                     });
}

}  // namespace xg
