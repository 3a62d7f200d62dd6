// Activation functions; their gradients are written from the saved output.
#include <xtensor/xmath.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor relu(const Tensor& x) {
    // Not xt::maximum: its SIMD max turns NaN into 0, which would hide a diverging layer.
    return record_op("relu", {x}, xt::where(x.value() < 0.0f, 0.0f, x.value()), [](GradientContext& ctx) {
        // dy/dx = 1 where y > 0, else 0 (0 at x = 0, as in PyTorch and Keras)
        ctx.accumulate(0, xt::where(ctx.output() > 0.0f, ctx.grad(), 0.0f));
    });
}

Tensor sigmoid(const Tensor& x) {
    return record_op("sigmoid", {x}, 1.0f / (1.0f + xt::exp(-x.value())), [](GradientContext& ctx) {
        // dy/dx = y (1 - y)
        const Array& y = ctx.output();
        ctx.accumulate(0, ctx.grad() * y * (1.0f - y));
    });
}

Tensor tanh(const Tensor& x) {
    return record_op("tanh", {x}, xt::tanh(x.value()), [](GradientContext& ctx) {
        // dy/dx = 1 - y^2
        const Array& y = ctx.output();
        ctx.accumulate(0, ctx.grad() * (1.0f - y * y));
    });
}

}  // namespace xg
