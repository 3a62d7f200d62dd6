// Activation functions; their gradients are written from the saved output.
#include <xtensor/xmath.hpp>

#include <cmath>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/elementwise.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor relu(const Tensor& x) {
    // v < 0 rather than v > 0: a NaN input stays NaN (anomaly mode must see it).
    return record_op("relu", {x}, map_elements(x.value(), [](float v) { return v < 0.0f ? 0.0f : v; }),
                     [](GradientContext& ctx) {
        // dy/dx = 1 where y > 0, else 0 (0 at x = 0, as in PyTorch and Keras)
        ctx.accumulate(0, map_elements(ctx.grad(), ctx.output(), [](float g, float y) { return y > 0.0f ? g : 0.0f; }));
    });
}

Tensor sigmoid(const Tensor& x) {
    // One element: skip the SIMD kernel's setup (which would compute the same scalar function).
    Array y = x.size() == 1 ? map_elements(x.value(), [](float v) { return 1.0f / (1.0f + std::exp(-v)); })
                            : Array(1.0f / (1.0f + xt::exp(-x.value())));
    return record_op("sigmoid", {x}, std::move(y), [](GradientContext& ctx) {
        // dy/dx = y (1 - y)
        ctx.accumulate(0, map_elements(ctx.grad(), ctx.output(), [](float g, float y) { return g * y * (1.0f - y); }));
    });
}

Tensor tanh(const Tensor& x) {
    Array y = x.size() == 1 ? map_elements(x.value(), [](float v) { return std::tanh(v); }) : Array(xt::tanh(x.value()));
    return record_op("tanh", {x}, std::move(y), [](GradientContext& ctx) {
        // dy/dx = 1 - y^2
        ctx.accumulate(0, map_elements(ctx.grad(), ctx.output(), [](float g, float y) { return g * (1.0f - y * y); }));
    });
}

}  // namespace xg
