// Broadcasting binary arithmetic. Backward rules return gradients in the broadcast
// shape; GradientContext::accumulate sums them back to each input's shape.
#include <cmath>

#include "xgrad/ops/elementwise_op.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

using detail::make_node;

namespace {

Tensor wrap(float v) { return Tensor(make_node(v, Role::constant, false)); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    return detail::binary_elementwise("add", a, b, [](float x, float y) { return x + y; },
                                      [](float g, float, float, float) { return g; },
                                      [](float g, float, float, float) { return g; },
                                      [](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) { return g; },
                                      [](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) { return g; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
    return detail::binary_elementwise("sub", a, b, [](float x, float y) { return x - y; },
                                      [](float g, float, float, float) { return g; },
                                      [](float g, float, float, float) { return -g; },
                                      [](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) { return g; },
                                      [](const Tensor& g, const Tensor&, const Tensor&, const Tensor&) { return -g; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
    return detail::binary_elementwise("mul", a, b, [](float x, float y) { return x * y; },
                                      [](float g, float, float y, float) { return g * y; },
                                      [](float g, float x, float, float) { return g * x; },
                                      [](const Tensor& g, const Tensor&, const Tensor& b, const Tensor&) { return g * b; },
                                      [](const Tensor& g, const Tensor& a, const Tensor&, const Tensor&) { return g * a; });
}

Tensor div(const Tensor& a, const Tensor& b) {
    // d(a/b)/da = 1/b;  d(a/b)/db = -a/b^2 = -out/b
    return detail::binary_elementwise("div", a, b, [](float x, float y) { return x / y; },
                                      [](float g, float, float y, float) { return g / y; },
                                      [](float g, float, float y, float q) { return -g * q / y; },
                                      [](const Tensor& g, const Tensor&, const Tensor& b, const Tensor&) { return g / b; },
                                      [](const Tensor& g, const Tensor&, const Tensor& b, const Tensor& q) {
                                          return -(g * q) / b;
                                      });
}

namespace {

// The larger of a and b, or NaN when either is (as numpy.maximum and torch.maximum): a NaN
// never disappears in a maximum.
float larger(float a, float b) { return a > b || std::isnan(a) ? a : b; }
float smaller(float a, float b) { return a < b || std::isnan(a) ? a : b; }

// The share of maximum's gradient that goes to `mine` against `other`: all of it where mine is
// the larger, none where it is the smaller, half at a tie (as PyTorch: the mean of the one-sided
// derivatives). Where either is NaN, both inputs get all of it, as in PyTorch (the max reduction
// instead sends it to the first NaN alone: it picks one element).
float larger_share(float mine, float other) { return mine < other ? 0.0f : mine == other ? 0.5f : 1.0f; }
float smaller_share(float mine, float other) { return mine > other ? 0.0f : mine == other ? 0.5f : 1.0f; }

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
    // g times a constant share: maximum'' = 0 away from ties.
    return detail::binary_elementwise("maximum", a, b, [](float x, float y) { return larger(x, y); },
                                      [](float g, float x, float y, float) { return g * larger_share(x, y); },
                                      [](float g, float x, float y, float) { return g * larger_share(y, x); },
                                      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                                          return g * detail::constant_mask(a, b, [](float x, float y) { return larger_share(x, y); });
                                      },
                                      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                                          return g * detail::constant_mask(b, a, [](float x, float y) { return larger_share(x, y); });
                                      });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
    return detail::binary_elementwise("minimum", a, b, [](float x, float y) { return smaller(x, y); },
                                      [](float g, float x, float y, float) { return g * smaller_share(x, y); },
                                      [](float g, float x, float y, float) { return g * smaller_share(y, x); },
                                      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                                          return g * detail::constant_mask(a, b, [](float x, float y) { return smaller_share(x, y); });
                                      },
                                      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                                          return g * detail::constant_mask(b, a, [](float x, float y) { return smaller_share(x, y); });
                                      });
}

Tensor neg(const Tensor& a) {
    return detail::unary_elementwise("neg", a, [](float v) { return -v; }, [](float g, float, float) { return -g; },
                                     [](const Tensor& g, const Tensor&, const Tensor&) { return -g; });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, float b) { return add(a, wrap(b)); }
Tensor operator+(float a, const Tensor& b) { return add(wrap(a), b); }
Tensor operator-(const Tensor& a, float b) { return sub(a, wrap(b)); }
Tensor operator-(float a, const Tensor& b) { return sub(wrap(a), b); }
Tensor operator*(const Tensor& a, float b) { return mul(a, wrap(b)); }
Tensor operator*(float a, const Tensor& b) { return mul(wrap(a), b); }
Tensor operator/(const Tensor& a, float b) { return div(a, wrap(b)); }
Tensor operator/(float a, const Tensor& b) { return div(wrap(a), b); }

}  // namespace xg
