// Elementwise functions of one tensor. Each backward multiplies dL/dy by dy/dx,
// written from whichever of x and y is cheaper.
#include <fmt/format.h>
#include <xtensor/xmath.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
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
    }, fmt::format("p={}", p));
}

Tensor square(const Tensor& x) {
    return record_op("square", {x}, x.value() * x.value(),
                     [](GradientContext& ctx) { ctx.accumulate(0, 2.0f * ctx.grad() * ctx.input(0)); });
}

Tensor sqrt(const Tensor& x) {
    return record_op("sqrt", {x}, xt::sqrt(x.value()),
                     [](GradientContext& ctx) { ctx.accumulate(0, ctx.grad() / (2.0f * ctx.output())); });
}

Tensor exp(const Tensor& x) {
    return record_op("exp", {x}, xt::exp(x.value()),
                     [](GradientContext& ctx) { ctx.accumulate(0, ctx.grad() * ctx.output()); });
}

Tensor log(const Tensor& x) {
    return record_op("log", {x}, xt::log(x.value()),
                     [](GradientContext& ctx) { ctx.accumulate(0, ctx.grad() / ctx.input(0)); });
}

Tensor abs(const Tensor& x) {
    return record_op("abs", {x}, xt::abs(x.value()),
                     [](GradientContext& ctx) { ctx.accumulate(0, ctx.grad() * xt::sign(ctx.input(0))); });
}

Tensor clip(const Tensor& x, float low, float high) {
    if (!(low <= high)) throw ValueError(fmt::format("clip: low {} > high {}; expected low <= high", low, high));
    return record_op("clip", {x}, xt::clip(x.value(), low, high), [low, high](GradientContext& ctx) {
        const Array& v = ctx.input(0);
        ctx.accumulate(0, xt::where(v >= low && v <= high, ctx.grad(), 0.0f));
    }, fmt::format("range=[{}, {}]", low, high));
}

}  // namespace xg
