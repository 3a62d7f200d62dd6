// Elementwise functions of one tensor. Each backward multiplies dL/dy by dy/dx,
// written from whichever of x and y is cheaper.
#include <fmt/format.h>
#include <xtensor/xmath.hpp>

#include <cmath>
#include <numbers>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/elementwise_op.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor pow(const Tensor& x, float p) {
    return record_op("pow", {x}, xt::pow(x.value(), p), [p](GradientContext& ctx) {
        // d(x^p)/dx = p x^(p-1); for p = 0 that is 0 everywhere, but 0 * x^-1 is NaN at x = 0.
        if (p == 0.0f) {
            ctx.accumulate(0, xt::zeros_like(ctx.grad()));
            return;
        }
        ctx.accumulate(0, ctx.grad() * p * xt::pow(ctx.input(0), p - 1.0f));
    }, [p](TensorGradientContext& ctx) {
        if (p == 0.0f) {
            ctx.accumulate(0, constant(xt::zeros<float>(ctx.input(0).shape())));
            return;
        }
        ctx.accumulate(0, ctx.grad() * p * pow(ctx.input(0), p - 1.0f));
    }, OpAttributes{{"p", p}});
}

Tensor square(const Tensor& x) {
    return detail::unary_elementwise("square", x, [](float v) { return v * v; },
                                     [](float g, float v, float) { return 2.0f * g * v; },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return 2.0f * g * x; });
}

Tensor sqrt(const Tensor& x) {
    return detail::unary_elementwise("sqrt", x, [](float v) { return std::sqrt(v); },
                                     [](float g, float, float y) { return g / (2.0f * y); },
                                     [](const Tensor& g, const Tensor&, const Tensor& y) { return g / (2.0f * y); },
                                     [](const Array& a) { return Array(xt::sqrt(a)); });
}

Tensor exp(const Tensor& x) {
    return detail::unary_elementwise("exp", x, [](float v) { return std::exp(v); },
                                     [](float g, float, float y) { return g * y; },
                                     [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y; },
                                     [](const Array& a) { return Array(xt::exp(a)); });
}

Tensor log(const Tensor& x) {
    return detail::unary_elementwise("log", x, [](float v) { return std::log(v); },
                                     [](float g, float v, float) { return g / v; },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g / x; },
                                     [](const Array& a) { return Array(xt::log(a)); });
}

Tensor abs(const Tensor& x) {
    // g * sign(x): 0 at 0 (as in PyTorch), and a NaN x or g stays NaN (anomaly mode must see it).
    return detail::unary_elementwise("abs", x, [](float v) { return std::abs(v); },
                                     [](float g, float v, float) { return v > 0.0f ? g : v < 0.0f ? -g : v == 0.0f ? 0.0f * g : v; },
                                     // g times sign(x), a constant: abs'' = 0 away from 0
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         return g * detail::constant_mask(x, [](float v) {
                                             return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v == 0.0f ? 0.0f : v;
                                         });
                                     },
                                     [](const Array& a) { return Array(xt::abs(a)); });
}

Tensor erf(const Tensor& x) {
    // d erf(x)/dx = 2 / sqrt(pi) e^(-x^2)
    constexpr float two_over_sqrtpi = 2.0f * std::numbers::inv_sqrtpi_v<float>;
    return detail::unary_elementwise("erf", x, [](float v) { return std::erf(v); },
                                     [](float g, float v, float) { return g * two_over_sqrtpi * std::exp(-v * v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         return g * two_over_sqrtpi * exp(-square(x));
                                     });
}

Tensor clip(const Tensor& x, float low, float high) {
    if (!(low <= high)) throw ValueError(fmt::format("clip: low {} > high {}; expected low <= high", low, high));
    return record_op("clip", {x}, xt::clip(x.value(), low, high), [low, high](GradientContext& ctx) {
        const Array& v = ctx.input(0);
        ctx.accumulate(0, xt::where(v >= low && v <= high, ctx.grad(), 0.0f));
    }, [low, high](TensorGradientContext& ctx) {
        // g times a constant mask: clip'' = 0 away from the bounds
        ctx.accumulate(0, ctx.grad() * detail::constant_mask(ctx.input(0), [low, high](float v) {
            return v >= low && v <= high ? 1.0f : 0.0f;
        }));
    }, OpAttributes{{"min", low}, {"max", high}});
}

}  // namespace xg
