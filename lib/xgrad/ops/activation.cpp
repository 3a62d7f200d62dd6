// Activation functions; their gradients are written from the saved output.
#include <xtensor/xmath.hpp>

#include <cmath>

#include "xgrad/ops/elementwise_op.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor relu(const Tensor& x) {
    // v < 0 rather than v > 0: a NaN input stays NaN (anomaly mode must see it).
    // dy/dx = 1 where y > 0, else 0 (0 at x = 0, as in PyTorch and Keras)
    return detail::unary_elementwise("relu", x, [](float v) { return v < 0.0f ? 0.0f : v; },
                                     [](float g, float, float y) { return y > 0.0f ? g : 0.0f; },
                                     // g times a constant mask: relu' is piecewise constant, relu'' = 0
                                     [](const Tensor& g, const Tensor&, const Tensor& y) {
                                         return g * detail::constant_mask(y, [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
                                     });
}

Tensor sigmoid(const Tensor& x) {
    // dy/dx = y (1 - y)
    return detail::unary_elementwise("sigmoid", x, [](float v) { return 1.0f / (1.0f + std::exp(-v)); },
                                     [](float g, float, float y) { return g * y * (1.0f - y); },
                                     [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y * (1.0f - y); },
                                     [](const Array& a) { return Array(1.0f / (1.0f + xt::exp(-a))); });
}

Tensor tanh(const Tensor& x) {
    // dy/dx = 1 - y^2
    return detail::unary_elementwise("tanh", x, [](float v) { return std::tanh(v); },
                                     [](float g, float, float y) { return g * (1.0f - y * y); },
                                     [](const Tensor& g, const Tensor&, const Tensor& y) { return g * (1.0f - y * y); },
                                     [](const Array& a) { return Array(xt::tanh(a)); });
}

}  // namespace xg
