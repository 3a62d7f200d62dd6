// The k most extreme elements along an axis and where they are (torch.topk, ONNX TopK). Both
// results are ops of x: the values send their gradient back to the elements picked, the indices
// (floats, like argmax's) have none.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/axis_view.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// Whether u goes before v: the larger (or smaller) first, NaN above every number as in PyTorch
// (first among the largest, last among the smallest).
bool goes_before(float u, float v, bool largest) {
    const bool u_nan = std::isnan(u), v_nan = std::isnan(v);
    if (u_nan || v_nan) return largest ? u_nan && !v_nan : !u_nan && v_nan;
    return largest ? u > v : u < v;
}

}  // namespace

TopK top_k(const Tensor& x, long k, long axis, bool largest) {
    if (!x.defined()) throw ValueError("top_k: x is an empty handle; expected a tensor");
    if (x.rank() == 0) throw ShapeError("top_k: x is a scalar; expected at least one axis");
    const std::size_t ax = normalize_axis(axis, x.rank(), "top_k");
    const Shape& shape = x.shape();
    const std::size_t n = shape[ax];
    if (k < 0 || static_cast<std::size_t>(k) > n) {
        throw ShapeError(fmt::format("top_k: k = {} for axis {} of {}, which holds {}; expected 0 to {}", k, ax,
                                     format_shape(shape), n, n));
    }
    const std::size_t kept = static_cast<std::size_t>(k);
    check_float_indices(shape, ax, "top_k");
    const detail::AxisView view(shape, ax);
    const std::size_t outer = view.outer, inner = view.inner;
    Shape out_shape = shape;
    out_shape[ax] = kept;
    Array values = uninitialized(out_shape), indices = uninitialized(out_shape);
    // Where each value came from in x, for the gradient.
    std::vector<std::size_t> source(values.size());
    const float* data = x.value().data();
    std::vector<std::size_t> order(n);
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t i = 0; i < inner; ++i) {
            const float* line = data + o * n * inner + i;
            std::iota(order.begin(), order.end(), std::size_t{0});
            // Ties keep the lower index first, as ONNX asks and PyTorch does.
            std::partial_sort(order.begin(), order.begin() + k, order.end(),
                              [&](std::size_t a, std::size_t b) {
                                  const float u = line[a * inner], v = line[b * inner];
                                  return goes_before(u, v, largest) || (!goes_before(v, u, largest) && a < b);
                              });
            for (std::size_t r = 0; r < kept; ++r) {
                const std::size_t out = (o * kept + r) * inner + i;
                source[out] = o * n * inner + order[r] * inner + i;
                values.data()[out] = line[order[r] * inner];
                indices.data()[out] = static_cast<float>(order[r]);
            }
        }
    }
    const OpAttributes attributes{{"k", k}, {"axis", ax}, {"largest", largest}};
    Tensor picked = record_op("top_k", {x}, std::move(values), [source](GradientContext& ctx) {
        const float* g = ctx.grad().data();
        ctx.accumulate_part(0, [&](float* dx) {
            for (std::size_t e = 0; e < source.size(); ++e) dx[source[e]] += g[e];
        });
    }, [source](TensorGradientContext& ctx) {
        // The same routing as ops: the gradient's elements added into zeros at their sources.
        const Tensor& g = ctx.grad();
        const Shape& in = ctx.input(0).shape();
        const Tensor flat = scatter_add(reshape(g, {static_cast<long>(g.size())}), source,
                                        static_cast<std::size_t>(ctx.input(0).size()), 0);
        ctx.accumulate(0, reshape(flat, std::vector<long>(in.begin(), in.end())));
    }, attributes);
    Tensor where_from = record_op("top_k_indices", {x}, std::move(indices), [](GradientContext&) {},
                                  [](TensorGradientContext&) {}, attributes);
    return {std::move(picked), std::move(where_from)};
}

}  // namespace xg
