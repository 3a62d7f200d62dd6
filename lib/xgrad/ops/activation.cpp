// Activation functions: relu, sigmoid and tanh, and the rest of Keras's that are ops of their
// own (elu, selu, softplus, swish, gelu, mish, leaky_relu, thresholded_relu, relu6, hard_sigmoid,
// hard_swish).
// Each gradient is written from whichever of x and y is cheaper; each differentiable rule is
// made of ops, so that it is differentiated again for higher orders. Every activation passes a
// NaN through (anomaly mode looks for it); std::clamp does.
#include <fmt/format.h>
#include <xtensor/xmath.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/elementwise_op.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// SELU's constants (Klambauer et al. 2017), as Keras and PyTorch give them.
constexpr float selu_alpha = 1.6732632423543772f;
constexpr float selu_scale = 1.0507009873554805f;
// The tanh approximation of GELU: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
constexpr float gelu_tanh_c = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float gelu_tanh_k = 0.044715f;

float sigmoid_of(float v) { return 1.0f / (1.0f + std::exp(-v)); }
// Beyond +-sigmoid_limit, sigmoid(x) is exactly 0 or 1 in float, so s (1 - s) is 0.
constexpr float sigmoid_limit = 200.0f;
// Beyond +-phi_limit the normal density e^(-x^2 / 2) / sqrt(2 pi) is exactly 0 in float.
constexpr float phi_limit = 20.0f;
// From mish_limit on, 1 - tanh(softplus(x))^2 is exactly 0 in float.
constexpr float mish_limit = 20.0f;

// The tanh GELU's u = sqrt(2 / pi) (x + 0.044715 x^3), with x limited to [-10, 10]: tanh(u) is
// exactly +-1 in float from |x| = 5.4 on, and the cube of a large x would overflow (0 * inf
// making the gradient NaN).
constexpr float gelu_tanh_limit = 10.0f;
float gelu_tanh_u(float v) {
    const float c = std::clamp(v, -gelu_tanh_limit, gelu_tanh_limit);
    return gelu_tanh_c * (c + gelu_tanh_k * c * c * c);
}

// log(1 + e^v) without overflow for large v; NaN stays NaN.
float softplus_of(float v) { return v > 0.0f ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }

Tensor positive_mask(const Tensor& x) {
    return detail::constant_mask(x, [](float v) { return v > 0.0f ? 1.0f : 0.0f; });
}

Tensor non_positive_mask(const Tensor& x) {
    return detail::constant_mask(x, [](float v) { return v > 0.0f ? 0.0f : 1.0f; });
}

void check_finite(const char* op, const char* setting, float value) {
    if (!std::isfinite(value)) throw ValueError(fmt::format("{}: {} {}; expected a finite number", op, setting, value));
}

}  // namespace

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
    return detail::unary_elementwise("sigmoid", x, [](float v) { return sigmoid_of(v); },
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

Tensor elu(const Tensor& x, float alpha) {
    check_finite("elu", "alpha", alpha);
    // y = x for x > 0, alpha (e^x - 1) otherwise; dy/dx = 1, or y + alpha = alpha e^x.
    return detail::unary_elementwise_with(
        "elu", x, [alpha](float v) { return v > 0.0f ? v : alpha * std::expm1(v); },
        [alpha](float g, float v, float y) { return v > 0.0f ? g : g * (y + alpha); },
        [alpha](const Tensor& g, const Tensor& x, const Tensor&) {
            // alpha e^min(x, 0) rather than y + alpha: finite at x = inf, where the mask is 0.
            return g * (positive_mask(x) + non_positive_mask(x) * (alpha * exp(-relu(-x))));
        },
        OpAttributes{{"alpha", alpha}});
}

Tensor selu(const Tensor& x) {
    // scale * elu(x, alpha) with SELU's constants; dy/dx = scale, or y + scale alpha.
    return detail::unary_elementwise(
        "selu", x, [](float v) { return v > 0.0f ? selu_scale * v : selu_scale * selu_alpha * std::expm1(v); },
        [](float g, float v, float y) { return v > 0.0f ? g * selu_scale : g * (y + selu_scale * selu_alpha); },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            return g * (positive_mask(x) * selu_scale + non_positive_mask(x) * (selu_scale * selu_alpha * exp(-relu(-x))));
        });
}

Tensor softplus(const Tensor& x) {
    // log(1 + e^x); dy/dx = sigmoid(x).
    return detail::unary_elementwise("softplus", x, [](float v) { return softplus_of(v); },
                                     [](float g, float v, float) { return g * sigmoid_of(v); },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) { return g * sigmoid(x); });
}

Tensor swish(const Tensor& x) {
    // x sigmoid(x); dy/dx = s + x s (1 - s), with x limited to +-sigmoid_limit in the second term
    // (s (1 - s) is exactly 0 there already; an infinite x would make it inf * 0).
    // The value's x is limited below as well: -inf / inf would be NaN.
    return detail::unary_elementwise("swish", x, [](float v) { return std::max(v, -sigmoid_limit) / (1.0f + std::exp(-v)); },
                                     [](float g, float v, float) {
                                         const float s = sigmoid_of(v);
                                         return g * (s + std::clamp(v, -sigmoid_limit, sigmoid_limit) * s * (1.0f - s));
                                     },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         const Tensor s = sigmoid(x);
                                         return g * (s + clip(x, -sigmoid_limit, sigmoid_limit) * s * (1.0f - s));
                                     });
}

Tensor gelu(const Tensor& x, bool approximate) {
    if (approximate) {
        // 0.5 x (1 + t), t = tanh(u), u = c (x + k x^3): x sigmoid(2u), which keeps its precision
        // where 1 + t cancels. dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) u'.
        return detail::unary_elementwise(
            "gelu_tanh", x,
            // Below the limit the value is under 1e-37 in size: 0, as the formula rounds.
            [](float v) { return v < -gelu_tanh_limit ? -0.0f : v / (1.0f + std::exp(-2.0f * gelu_tanh_u(v))); },
            [](float g, float v, float) {
                const float t = std::tanh(gelu_tanh_u(v)), c = std::clamp(v, -gelu_tanh_limit, gelu_tanh_limit);
                return g * (0.5f * (1.0f + t) + 0.5f * c * (1.0f - t * t) * gelu_tanh_c * (1.0f + 3.0f * gelu_tanh_k * c * c));
            },
            [](const Tensor& g, const Tensor& x, const Tensor&) {
                // The limited x in the second term too: 1 - t^2 is 0 beyond the limit, and x there
                // would make the next derivative inf * 0.
                const Tensor c = clip(x, -gelu_tanh_limit, gelu_tanh_limit);
                const Tensor c2 = square(c);
                const Tensor t = tanh(gelu_tanh_c * (c + gelu_tanh_k * c2 * c));
                return g * (0.5f * (1.0f + t) + 0.5f * c * (1.0f - square(t)) * gelu_tanh_c * (1.0f + 3.0f * gelu_tanh_k * c2));
            });
    }
    // x Phi(x) with Phi the normal distribution's CDF, 0.5 (1 + erf(x / sqrt 2)), computed as
    // 0.5 erfc(-x / sqrt 2), which keeps its precision where 1 + erf cancels; dy/dx = Phi(x) +
    // x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi). In the second term x is limited to +-phi_limit
    // (an infinite x would make it inf * 0).
    constexpr float inv_sqrt2 = 1.0f / std::numbers::sqrt2_v<float>;
    constexpr float inv_sqrt_2pi = 0.5f * std::numbers::inv_sqrtpi_v<float> * std::numbers::sqrt2_v<float>;
    return detail::unary_elementwise(
        // Below -phi_limit, erfc is 0 too: limiting x there keeps -inf * 0 from making NaN.
        "gelu", x, [](float v) { return 0.5f * std::max(v, -phi_limit) * std::erfc(-v * inv_sqrt2); },
        [](float g, float v, float) {
            const float c = std::clamp(v, -phi_limit, phi_limit);
            return g * (0.5f * std::erfc(-v * inv_sqrt2) + c * std::exp(-0.5f * c * c) * inv_sqrt_2pi);
        },
        [](const Tensor& g, const Tensor& x, const Tensor&) {
            const Tensor c = clip(x, -phi_limit, phi_limit);
            return g * (0.5f * (1.0f + erf(x * inv_sqrt2)) + c * exp(-0.5f * square(c)) * inv_sqrt_2pi);
        });
}

Tensor mish(const Tensor& x) {
    // x tanh(softplus(x)); dy/dx = t + x (1 - t^2) sigmoid(x), t = tanh(softplus(x)). In the second
    // term x is limited to [-sigmoid_limit, mish_limit]: 1 - t^2 is 0 from about x = 9 on and sigmoid(x)
    // below -sigmoid_limit, and beyond them x would make the term (or the next derivative) inf * 0.
    // The value's x is limited too: below -sigmoid_limit, tanh(softplus(x)) is 0 and -inf * 0 NaN.
    return detail::unary_elementwise("mish", x, [](float v) { return std::max(v, -sigmoid_limit) * std::tanh(softplus_of(v)); },
                                     [](float g, float v, float) {
                                         const float t = std::tanh(softplus_of(v));
                                         return g * (t + std::clamp(v, -sigmoid_limit, mish_limit) * (1.0f - t * t) * sigmoid_of(v));
                                     },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         const Tensor t = tanh(softplus(x));
                                         return g * (t + clip(x, -sigmoid_limit, mish_limit) * (1.0f - square(t)) * sigmoid(x));
                                     });
}

Tensor leaky_relu(const Tensor& x, float alpha) {
    check_finite("leaky_relu", "alpha", alpha);
    // x for x > 0, alpha x otherwise (NaN stays NaN); dy/dx = 1 or alpha (alpha at 0, as in
    // PyTorch and TensorFlow).
    return detail::unary_elementwise_with(
        "leaky_relu", x, [alpha](float v) { return v > 0.0f ? v : alpha * v; },
        [alpha](float g, float v, float) { return v > 0.0f ? g : g * alpha; },
        [alpha](const Tensor& g, const Tensor& x, const Tensor&) {
            return g * detail::constant_mask(x, [alpha](float v) { return v > 0.0f ? 1.0f : alpha; });
        },
        OpAttributes{{"alpha", alpha}});
}

Tensor thresholded_relu(const Tensor& x, float theta) {
    check_finite("thresholded_relu", "theta", theta);
    // x for x > theta, else 0 (NaN stays NaN); dy/dx = 1 above theta, else 0 (0 at theta, where
    // the function jumps unless theta is 0).
    return detail::unary_elementwise_with(
        "thresholded_relu", x, [theta](float v) { return v > theta || std::isnan(v) ? v : 0.0f; },
        [theta](float g, float v, float) { return v > theta ? g : 0.0f; },
        [theta](const Tensor& g, const Tensor& x, const Tensor&) {
            return g * detail::constant_mask(x, [theta](float v) { return v > theta ? 1.0f : 0.0f; });
        },
        OpAttributes{{"theta", theta}});
}

Tensor relu6(const Tensor& x) {
    // min(max(x, 0), 6), NaN passed through; dy/dx = 1 strictly inside (0, 6), else 0.
    return detail::unary_elementwise("relu6", x, [](float v) { return std::clamp(v, 0.0f, 6.0f); },
                                     [](float g, float v, float) { return v > 0.0f && v < 6.0f ? g : 0.0f; },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         return g * detail::constant_mask(x, [](float v) { return v > 0.0f && v < 6.0f ? 1.0f : 0.0f; });
                                     });
}

Tensor hard_sigmoid(const Tensor& x, float alpha, float beta) {
    check_finite("hard_sigmoid", "alpha", alpha);
    check_finite("hard_sigmoid", "beta", beta);
    // clip(alpha x + beta, 0, 1), NaN passed through; dy/dx = alpha strictly inside, else 0
    // (0 at the bounds, as PyTorch's hardsigmoid and relu6 everywhere).
    return detail::unary_elementwise_with(
        "hard_sigmoid", x,
        [alpha, beta](float v) { return std::clamp(alpha * v + beta, 0.0f, 1.0f); },
        [alpha, beta](float g, float v, float) {
            const float u = alpha * v + beta;
            return u > 0.0f && u < 1.0f ? g * alpha : 0.0f;
        },
        [alpha, beta](const Tensor& g, const Tensor& x, const Tensor&) {
            return g * detail::constant_mask(x, [alpha, beta](float v) {
                const float u = alpha * v + beta;
                return u > 0.0f && u < 1.0f ? alpha : 0.0f;
            });
        },
        OpAttributes{{"alpha", alpha}, {"beta", beta}});
}

Tensor hard_swish(const Tensor& x) {
    // x relu6(x + 3) / 6; dy/dx = 0 below -3, x / 3 + 1/2 inside (-3, 3), 1 above (0 at -3 and 1
    // at 3, as TensorFlow's relu6 gives them).
    // At and below -3 the value is 0 (-inf * 0 would be NaN); in the gradient's middle term x is
    // limited to [-3, 3] for the same reason.
    return detail::unary_elementwise("hard_swish", x,
                                     [](float v) { return v <= -3.0f ? -0.0f : v * std::clamp(v * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f); },
                                     [](float g, float v, float) {
                                         return v <= -3.0f ? 0.0f : v >= 3.0f ? g : g * (v * (1.0f / 3.0f) + 0.5f);
                                     },
                                     [](const Tensor& g, const Tensor& x, const Tensor&) {
                                         const Tensor above = detail::constant_mask(x, [](float v) { return v >= 3.0f ? 1.0f : 0.0f; });
                                         const Tensor inside = detail::constant_mask(x, [](float v) { return v > -3.0f && v < 3.0f ? 1.0f : 0.0f; });
                                         return g * (above + inside * (clip(x, -3.0f, 3.0f) * (1.0f / 3.0f) + 0.5f));
                                     });
}

}  // namespace xg
