// Broadcasting as a pair of ops, each the other's gradient: broadcast_to repeats a tensor over
// new or stretched axes, sum_to sums them away. Differentiable gradient rules use them where
// array rules broadcast or unbroadcast in place (spread, GradientContext::accumulate).
#include <fmt/format.h>
#include <xtensor/xbroadcast.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
    if (broadcast_shapes(x.shape(), shape, "broadcast_to") != shape) {
        throw ShapeError(fmt::format("broadcast_to: cannot broadcast {} to {}; expected extents equal to the target's or 1",
                                     format_shape(x.shape()), format_shape(shape)));
    }
    checked_element_count(shape, "broadcast_to");
    return record_op("broadcast_to", {x}, Array(xt::broadcast(x.value(), shape)), [](GradientContext& ctx) {
        ctx.accumulate(0, Array(ctx.grad()));  // accumulate sums it back to the input's shape
    }, [](TensorGradientContext& ctx) {
        ctx.accumulate(0, sum_to(ctx.grad(), ctx.input(0).shape()));
    }, OpAttributes{{"shape", shape}});
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
    if (broadcast_shapes(x.shape(), shape, "sum_to") != x.shape()) {
        throw ShapeError(fmt::format("sum_to: cannot sum {} to {}; expected a shape that broadcasts to the tensor's",
                                     format_shape(x.shape()), format_shape(shape)));
    }
    return record_op("sum_to", {x}, sum_to(x.value(), shape), [](GradientContext& ctx) {
        ctx.accumulate(0, Array(xt::broadcast(ctx.grad(), ctx.input(0).shape())));
    }, [](TensorGradientContext& ctx) {
        ctx.accumulate(0, broadcast_to(ctx.grad(), ctx.input(0).shape()));
    }, OpAttributes{{"shape", shape}});
}

}  // namespace xg
