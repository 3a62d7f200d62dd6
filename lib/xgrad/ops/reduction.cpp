// Reductions. Their gradients broadcast dL/dy back over the reduced axis.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xreducer.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/axis_view.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

Shape kept_shape(const Shape& in, std::size_t axis) {
    Shape s = in;
    s[axis] = 1;
    return s;
}

Shape reduced_shape(const Shape& in, std::size_t axis, bool keepdims) {
    if (keepdims) return kept_shape(in, axis);
    Shape s;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (i != axis) s.push_back(in[i]);
    }
    return s;
}

OpAttributes axis_attributes(std::size_t axis, bool keepdims) { return {{"axis", axis}, {"keepdims", keepdims}}; }

// dL/dx for y = scale * sum(x, axis): every element of a reduced line gets its line's gradient.
Array spread(const Array& grad, const Shape& input_shape, std::size_t axis, float scale) {
    Array g = grad;
    g.reshape(kept_shape(input_shape, axis));
    return Array(xt::broadcast(g * scale, input_shape));
}

// spread() as ops: dL/dy (reduced along `axis`) broadcast back over the input's shape.
Tensor spread(const Tensor& grad, const Shape& input_shape, std::size_t axis) {
    std::vector<long> kept;
    for (std::size_t e : kept_shape(input_shape, axis)) kept.push_back(static_cast<long>(e));
    return broadcast_to(reshape(grad, kept), input_shape);
}

void check_not_empty(const Tensor& x, const char* op) {
    if (x.size() == 0) {
        throw ShapeError(fmt::format("{}: tensor {} is empty; expected at least one element", op, format_shape(x.shape())));
    }
}

// The sum of all of a's elements, accumulated in double: a loss summed over thousands of
// elements keeps float's precision (a float accumulator drifts by about one part in 1e5 at ten
// thousand). Eight independent lanes, each added in order, so that the loop vectorises without
// reassociation and the result does not depend on the compiler's choices.
float total(const Array& a) {
    constexpr std::size_t lanes = 8;
    double partial[lanes] = {};
    const float* v = a.data();
    const std::size_t n = a.size(), whole = n - n % lanes;
    for (std::size_t i = 0; i < whole; i += lanes) {
        for (std::size_t j = 0; j < lanes; ++j) partial[j] += static_cast<double>(v[i + j]);
    }
    double sum = 0.0;
    for (double p : partial) sum += p;
    for (std::size_t i = whole; i < n; ++i) sum += static_cast<double>(v[i]);
    return static_cast<float>(sum);
}

}  // namespace

Tensor sum(const Tensor& x) {
    return record_op("sum", {x}, scalar_array(total(x.value())), [](GradientContext& ctx) {
        ctx.accumulate(0, xt::full_like(ctx.input(0), ctx.grad()()));
    }, [](TensorGradientContext& ctx) {
        ctx.accumulate(0, broadcast_to(ctx.grad(), ctx.input(0).shape()));
    });
}

Tensor sum(const Tensor& x, long axis, bool keepdims) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "sum");
    Array y = sum_axis(x.value(), ax);
    y.reshape(reduced_shape(x.shape(), ax, keepdims));
    return record_op("sum", {x}, std::move(y), [ax](GradientContext& ctx) {
        ctx.accumulate(0, spread(ctx.grad(), ctx.input(0).shape(), ax, 1.0f));
    }, [ax](TensorGradientContext& ctx) {
        ctx.accumulate(0, spread(ctx.grad(), ctx.input(0).shape(), ax));
    }, axis_attributes(ax, keepdims));
}

Tensor mean(const Tensor& x) {
    check_not_empty(x, "mean");
    const float n = static_cast<float>(x.size());
    return record_op("mean", {x}, scalar_array(total(x.value()) / n), [n](GradientContext& ctx) {
        ctx.accumulate(0, xt::full_like(ctx.input(0), ctx.grad()() / n));
    }, [n](TensorGradientContext& ctx) {
        ctx.accumulate(0, broadcast_to(ctx.grad() / n, ctx.input(0).shape()));
    });
}

Tensor mean(const Tensor& x, long axis, bool keepdims) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "mean");
    check_axis_not_empty(x.shape(), ax, "mean");
    const float n = static_cast<float>(x.shape()[ax]);
    Array y = sum_axis(x.value(), ax);
    y /= n;
    y.reshape(reduced_shape(x.shape(), ax, keepdims));
    return record_op("mean", {x}, std::move(y), [ax, n](GradientContext& ctx) {
        ctx.accumulate(0, spread(ctx.grad(), ctx.input(0).shape(), ax, 1.0f / n));
    }, [ax, n](TensorGradientContext& ctx) {
        ctx.accumulate(0, spread(ctx.grad() / n, ctx.input(0).shape(), ax));
    }, axis_attributes(ax, keepdims));
}

namespace {

// Where the max or min of each line along an axis is: `better(a, b)` says a beats b. The first
// extremal element of a line is chosen; the first NaN counts as the extremum, as in numpy: a NaN
// never disappears in a max or min.
struct Extrema {
    std::size_t axis, extent, inner;
    std::vector<std::size_t> chosen;  // per line (outer * inner of them), its index along the axis
};

template <class Better>
Extrema find_extrema(const char* op, const Tensor& x, long axis, Better better) {
    if (!x.defined()) throw ValueError(fmt::format("{}: x is an empty handle; expected a tensor", op));
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    check_axis_not_empty(x.shape(), ax, op);
    const Shape& in = x.shape();
    // View x as (outer, extent, inner) so that one pass serves any axis.
    const detail::AxisView view(in, ax);
    const std::size_t outer = view.outer, extent = view.extent, inner = view.inner;
    std::vector<std::size_t> chosen(outer * inner, 0);
    const float* v = x.value().data();
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t i = 0; i < inner; ++i) {
            std::size_t best = 0;
            for (std::size_t e = 1; e < extent && !std::isnan(v[(o * extent + best) * inner + i]); ++e) {
                const float candidate = v[(o * extent + e) * inner + i];
                if (better(candidate, v[(o * extent + best) * inner + i]) || std::isnan(candidate)) best = e;
            }
            chosen[o * inner + i] = best;
        }
    }
    return {ax, extent, inner, std::move(chosen)};
}

// max or min along an axis. The gradient goes to the chosen element of each line.
template <class Better>
Tensor extremum(const char* op, const Tensor& x, long axis, bool keepdims, Better better) {
    Extrema found = find_extrema(op, x, axis, better);
    const std::size_t ax = found.axis, extent = found.extent, inner = found.inner;
    Array y = uninitialized(reduced_shape(x.shape(), ax, keepdims));
    const float* v = x.value().data();
    for (std::size_t j = 0; j < found.chosen.size(); ++j) {
        const std::size_t o = j / inner, i = j % inner;
        y.data()[j] = v[(o * extent + found.chosen[j]) * inner + i];
    }
    auto where = std::make_shared<const std::vector<std::size_t>>(std::move(found.chosen));
    return record_op(op, {x}, std::move(y), [where, extent, inner](GradientContext& ctx) {
        const std::vector<std::size_t>& chosen = *where;
        Array g = xt::zeros<float>(ctx.input(0).shape());
        const float* dy = ctx.grad().data();
        for (std::size_t j = 0; j < chosen.size(); ++j) {
            const std::size_t o = j / inner, i = j % inner;
            g.data()[(o * extent + chosen[j]) * inner + i] = dy[j];
        }
        ctx.accumulate(0, std::move(g));
    }, [where, extent, inner, ax](TensorGradientContext& ctx) {
        // dL/dy spread over the axis times a constant one-hot mask of the extrema: the second
        // derivative is 0 wherever the extremum is unique.
        const std::vector<std::size_t>& chosen = *where;
        Array mask = xt::zeros<float>(ctx.input(0).shape());
        for (std::size_t j = 0; j < chosen.size(); ++j) {
            const std::size_t o = j / inner, i = j % inner;
            mask.data()[(o * extent + chosen[j]) * inner + i] = 1.0f;
        }
        ctx.accumulate(0, spread(ctx.grad(), ctx.input(0).shape(), ax) * constant(std::move(mask)));
    }, axis_attributes(ax, keepdims));
}

// argmax or argmin: the chosen indices as floats. An index is piecewise constant in x, so no
// gradient flows through it, of any order.
template <class Better>
Tensor arg_extremum(const char* op, const Tensor& x, long axis, bool keepdims, Better better) {
    const Extrema found = find_extrema(op, x, axis, better);
    check_float_indices(x.shape(), found.axis, op);
    Array y = uninitialized(reduced_shape(x.shape(), found.axis, keepdims));
    std::copy(found.chosen.begin(), found.chosen.end(), y.begin());
    return record_op(op, {x}, std::move(y), [](GradientContext&) {}, [](TensorGradientContext&) {},
                     axis_attributes(found.axis, keepdims));
}

}  // namespace

Tensor max(const Tensor& x, long axis, bool keepdims) {
    return extremum("max", x, axis, keepdims, [](float a, float b) { return a > b; });
}

Tensor min(const Tensor& x, long axis, bool keepdims) {
    return extremum("min", x, axis, keepdims, [](float a, float b) { return a < b; });
}

Tensor argmax(const Tensor& x, long axis, bool keepdims) {
    return arg_extremum("argmax", x, axis, keepdims, [](float a, float b) { return a > b; });
}

Tensor argmin(const Tensor& x, long axis, bool keepdims) {
    return arg_extremum("argmin", x, axis, keepdims, [](float a, float b) { return a < b; });
}

}  // namespace xg
