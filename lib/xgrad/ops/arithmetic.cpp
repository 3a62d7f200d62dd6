// Broadcasting binary arithmetic. Backward rules return gradients in the broadcast
// shape; GradientContext::accumulate sums them back to each input's shape.
#include <fmt/format.h>
#include <xtensor/xmath.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/elementwise.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

void check_broadcast(const Tensor& a, const Tensor& b, const char* op) {
    if (a.shape() != b.shape()) broadcast_shapes(a.shape(), b.shape(), op);
}

Tensor wrap(float v) { return constant(scalar_array(v)); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    check_broadcast(a, b, "add");
    return record_op("add", {a, b}, map_elements(a.value(), b.value(), [](float x, float y) { return x + y; }), [](GradientContext& ctx) {
        if (ctx.wants(0)) ctx.accumulate(0, ctx.grad());
        if (ctx.wants(1)) ctx.accumulate(1, ctx.grad());
    });
}

Tensor sub(const Tensor& a, const Tensor& b) {
    check_broadcast(a, b, "sub");
    return record_op("sub", {a, b}, map_elements(a.value(), b.value(), [](float x, float y) { return x - y; }),
                     [](GradientContext& ctx) {
        if (ctx.wants(0)) ctx.accumulate(0, ctx.grad());
        if (ctx.wants(1)) ctx.accumulate(1, map_elements(ctx.grad(), [](float g) { return -g; }));
    });
}

Tensor mul(const Tensor& a, const Tensor& b) {
    check_broadcast(a, b, "mul");
    return record_op("mul", {a, b}, map_elements(a.value(), b.value(), [](float x, float y) { return x * y; }),
                     [](GradientContext& ctx) {
        constexpr auto times = [](float g, float v) { return g * v; };
        if (ctx.wants(0)) ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(1), times));
        if (ctx.wants(1)) ctx.accumulate(1, map_elements(ctx.grad(), ctx.input(0), times));
    });
}

Tensor div(const Tensor& a, const Tensor& b) {
    check_broadcast(a, b, "div");
    return record_op("div", {a, b}, map_elements(a.value(), b.value(), [](float x, float y) { return x / y; }),
                     [](GradientContext& ctx) {
        // d(a/b)/da = 1/b;  d(a/b)/db = -a/b^2 = -out/b
        if (ctx.wants(0)) ctx.accumulate(0, map_elements(ctx.grad(), ctx.input(1), [](float g, float y) { return g / y; }));
        if (ctx.wants(1)) {
            ctx.accumulate(1, map_elements(ctx.grad(), ctx.output(), ctx.input(1),
                                           [](float g, float q, float y) { return -g * q / y; }));
        }
    });
}

Tensor neg(const Tensor& a) {
    constexpr auto negate = [](float v) { return -v; };
    return record_op("neg", {a}, map_elements(a.value(), negate),
                     [negate](GradientContext& ctx) { ctx.accumulate(0, map_elements(ctx.grad(), negate)); });
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
