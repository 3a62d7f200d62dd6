// Selection by a mask: where(condition, a, b). The mask usually comes from a comparison (a
// padding mask, a threshold) and is not differentiated; a and b are, each on its own side.
#include <fmt/format.h>

#include "xgrad/autograd/creation.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/elementwise.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

bool holds(float condition) { return condition != 0.0f; }

// g where the condition is (Taken) or is not (!Taken) true, 0 elsewhere: selected rather than
// multiplied, so that a NaN or infinite g on the other side does not become NaN.
template <bool Taken>
Array side_of(const Array& g, const Array& condition) {
    return map_elements(g, condition, [](float dy, float c) { return holds(c) == Taken ? dy : 0.0f; });
}

}  // namespace

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
    if (!condition.defined() || !a.defined() || !b.defined()) {
        throw ValueError(fmt::format("where: {} is an empty handle; expected a tensor",
                                     !condition.defined() ? "condition" : !a.defined() ? "a" : "b"));
    }
    const Shape& c = condition.shape();
    if (c != a.shape() || c != b.shape()) {
        try {
            broadcast_shapes(broadcast_shapes(c, a.shape(), "where"), b.shape(), "where");
        } catch (const ShapeError&) {
            throw ShapeError(fmt::format("where: condition {}, a {} and b {} do not broadcast together", format_shape(c),
                                         format_shape(a.shape()), format_shape(b.shape())));
        }
    }
    Array y = map_elements(condition.value(), a.value(), b.value(),
                           [](float cond, float x, float z) { return holds(cond) ? x : z; });
    return record_op("where", {condition, a, b}, std::move(y), [](GradientContext& ctx) {
        if (ctx.wants(1)) ctx.accumulate(1, side_of<true>(ctx.grad(), ctx.input(0)));
        if (ctx.wants(2)) ctx.accumulate(2, side_of<false>(ctx.grad(), ctx.input(0)));
    }, [](TensorGradientContext& ctx) {
        // where itself, so that the rule is differentiable in g to any order.
        const Tensor zero = zeros({});
        if (ctx.wants(1)) ctx.accumulate(1, where(ctx.input(0), ctx.grad(), zero));
        if (ctx.wants(2)) ctx.accumulate(2, where(ctx.input(0), zero, ctx.grad()));
    });
}

}  // namespace xg
