// Broadcasting binary arithmetic. Backward rules return gradients in the broadcast
// shape; GradientContext::accumulate sums them back to each input's shape.
#include <cmath>

#include "xgrad/autograd/creation.hpp"
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

Tensor pow(const Tensor& x, const Tensor& p) {
    // d(x^p)/dx = p x^(p-1), taken as 0 where p = 0 (x^0 is 1 for every x, but 0 * 0^-1 is NaN);
    // d(x^p)/dp = x^p ln x, taken as 0 where x = 0 and p >= 0 (0 * ln 0 is NaN), as PyTorch takes
    // them (exactly 0, whatever the incoming gradient, as pow(x, float) at p = 0). The
    // differentiable rules evaluate p - 1 and ln x at a stand-in there, so that those points add
    // no 0 times an infinity to the derivatives of higher order either (which are 0 there, as
    // PyTorch's; where the derivative itself is infinite, at x = 0 for 0 < p < 1, so is theirs).
    return detail::binary_elementwise(
        "power", x, p, [](float a, float b) { return std::pow(a, b); },
        [](float g, float a, float b, float) { return b == 0.0f ? 0.0f : g * b * std::pow(a, b - 1.0f); },
        [](float g, float a, float b, float y) { return a == 0.0f && b >= 0.0f ? 0.0f : g * y * std::log(a); },
        [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor&) {
            const Tensor zero_exponent = detail::constant_mask(b, [](float v) { return v == 0.0f ? 1.0f : 0.0f; });
            const Tensor exponent = where(zero_exponent, ones({}), b);
            return where(zero_exponent, zeros({}), g * b * pow(a, exponent - 1.0f));
        },
        [](const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& y) {
            const Tensor flat_at_zero =
                detail::constant_mask(a, b, [](float u, float v) { return u == 0.0f && v >= 0.0f ? 1.0f : 0.0f; });
            return g * y * log(where(flat_at_zero, ones({}), a));
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
