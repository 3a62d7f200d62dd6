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

// The larger (Larger) or the smaller of a and b, or NaN when either is (as numpy.maximum and
// torch.maximum): a NaN never disappears in a maximum or a minimum.
template <bool Larger>
float pick(float a, float b) {
    return (Larger ? a > b : a < b) || std::isnan(a) ? a : b;
}

// The share of the gradient that goes to `mine` against `other`: all of it where mine is picked,
// none where the other is, half at a tie (as PyTorch: the mean of the one-sided derivatives).
// Where either is NaN, both inputs get all of it, as in PyTorch (the max and min reductions
// instead send it to the first NaN alone: they pick one element).
template <bool Larger>
float share(float mine, float other) {
    const float winner = Larger ? mine : other, loser = Larger ? other : mine;
    return winner < loser ? 0.0f : winner == loser ? 0.5f : 1.0f;
}

// maximum and minimum: g times a constant share, so their second derivative is 0 away from ties.
template <bool Larger>
Tensor picked(const char* op, const Tensor& a, const Tensor& b) {
    return detail::binary_elementwise(op, a, b, [](float x, float y) { return pick<Larger>(x, y); },
                                      [](float g, float x, float y, float) { return g * share<Larger>(x, y); },
                                      [](float g, float x, float y, float) { return g * share<Larger>(y, x); },
                                      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                                          return g * detail::constant_mask(a, b, [](float x, float y) {
                                              return share<Larger>(x, y);
                                          });
                                      },
                                      [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
                                          return g * detail::constant_mask(b, a, [](float x, float y) {
                                              return share<Larger>(x, y);
                                          });
                                      });
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return picked<true>("maximum", a, b); }

Tensor minimum(const Tensor& a, const Tensor& b) { return picked<false>("minimum", a, b); }

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
