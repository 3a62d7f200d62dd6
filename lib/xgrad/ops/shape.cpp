// Ops that move elements without changing them. Each backward routes the gradient
// back to where the element came from.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/axis_view.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/detail/slice_table.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// Copies a block of slices along an axis between two row-major buffers, as (outer, width)
// sub-matrices starting `from_start` and `to_start` elements in: the common core of slice,
// concat, pad and their grads.
void copy_blocks(const float* from, std::size_t from_start, std::size_t from_stride, float* to, std::size_t to_start,
                 std::size_t to_stride, std::size_t outer, std::size_t width) {
    // An empty array's data() may be null: neither an offset from it nor memcpy with it, even of
    // 0 bytes, is defined.
    if (width == 0 || outer == 0) return;
    from += from_start;
    to += to_start;
    for (std::size_t o = 0; o < outer; ++o) std::memcpy(to + o * to_stride, from + o * from_stride, width * sizeof(float));
}

// copy_blocks that adds into `to` instead of overwriting it: slice's gradient, added in place.
void add_blocks(const float* from, std::size_t from_start, std::size_t from_stride, float* to, std::size_t to_start,
                std::size_t to_stride, std::size_t outer, std::size_t width) {
    if (width == 0 || outer == 0) return;
    from += from_start;
    to += to_start;
    for (std::size_t o = 0; o < outer; ++o) {
        const float* row = from + o * from_stride;
        float* target = to + o * to_stride;
        for (std::size_t k = 0; k < width; ++k) target[k] += row[k];
    }
}

}  // namespace

Tensor reshape(const Tensor& x, const std::vector<long>& shape) {
    Shape target(shape.size());
    long inferred = -1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1 && inferred < 0) {
            inferred = static_cast<long>(i);
            target[i] = 1;
        } else if (shape[i] < 0) {
            throw ShapeError(fmt::format("reshape: extent {} at axis {} is invalid; expected >= 0, or -1 once", shape[i], i));
        } else {
            target[i] = static_cast<std::size_t>(shape[i]);
        }
    }
    // Checked: extents whose product wraps around to x.size() must not pass for a view of x.
    const std::size_t known = checked_element_count(target, "reshape");
    if (inferred >= 0) target[static_cast<std::size_t>(inferred)] = known == 0 ? 0 : x.size() / known;
    if (element_count(target) != x.size()) {
        throw ShapeError(fmt::format("reshape: cannot view {} ({} elements) as ({}); expected the same element count",
                                     format_shape(x.shape()), x.size(), fmt::join(shape, ", ")));
    }
    Array y = x.value();
    y.reshape(target);
    OpAttributes attributes{{"shape", target}};
    // Which extent was left to the element count: export_onnx writes -1 there, so that an extent
    // computed from the batch (batch * steps) follows another batch.
    if (inferred >= 0) attributes.add("inferred_axis", inferred);
    return record_op("reshape", {x}, std::move(y), [](GradientContext& ctx) {
        Array g = ctx.grad();
        g.reshape(ctx.input(0).shape());
        ctx.accumulate(0, std::move(g));
    }, [](TensorGradientContext& ctx) {
        const Shape& s = ctx.input(0).shape();
        ctx.accumulate(0, reshape(ctx.grad(), std::vector<long>(s.begin(), s.end())));
    }, std::move(attributes));
}

Tensor slice(const Tensor& x, long axis, std::size_t begin, std::size_t end) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "slice");
    const Shape& in = x.shape();
    if (begin > end || end > in[ax]) {
        throw ShapeError(fmt::format("slice: range [{}, {}) does not fit axis {} of {}; expected 0 <= begin <= end <= {}",
                                     begin, end, ax, format_shape(in), in[ax]));
    }
    Shape out_shape = in;
    out_shape[ax] = end - begin;
    const detail::AxisView view(in, ax);
    const std::size_t inner = view.inner, outer = view.outer;
    Array y = uninitialized(out_shape);
    copy_blocks(x.value().data(), begin * inner, in[ax] * inner, y.data(), 0, (end - begin) * inner, outer,
                (end - begin) * inner);
    return record_op("slice", {x}, std::move(y), [ax, begin, end, inner, outer](GradientContext& ctx) {
        const std::size_t extent = ctx.input(0).shape()[ax];
        ctx.accumulate_part(0, [&](float* g) {
            add_blocks(ctx.grad().data(), 0, (end - begin) * inner, g, begin * inner, extent * inner, outer,
                       (end - begin) * inner);
        });
    }, [ax, begin, end](TensorGradientContext& ctx) {
        ctx.accumulate(0, pad(ctx.grad(), static_cast<long>(ax), begin, ctx.input(0).shape()[ax] - end));
    }, OpAttributes{{"axis", ax}, {"begin", begin}, {"end", end}});
}

Tensor gather(const Tensor& x, const std::vector<std::size_t>& indices, long axis) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "gather");
    const Shape& in = x.shape();
    for (std::size_t i : indices) {
        if (i >= in[ax]) {
            throw ShapeError(fmt::format("gather: index {} is out of range for axis {} of {}; expected < {}", i, ax,
                                         format_shape(in), in[ax]));
        }
    }
    Shape out_shape = in;
    out_shape[ax] = indices.size();
    checked_element_count(out_shape, "gather");
    const detail::AxisView view(in, ax);
    const detail::SliceTable table{indices, in[ax], view.inner, view.outer};
    Array y = uninitialized(out_shape);
    table.gather(x.value().data(), y.data());
    return record_op("gather", {x}, std::move(y), [table](GradientContext& ctx) {
        ctx.accumulate_part(0, [&](float* g) { table.scatter_add(ctx.grad().data(), g); });
    }, [indices, ax](TensorGradientContext& ctx) {
        ctx.accumulate(0, scatter_add(ctx.grad(), indices, ctx.input(0).shape()[ax], static_cast<long>(ax)));
    }, OpAttributes{{"axis", ax}, {"indices", indices}});
}

Tensor concat(const std::vector<Tensor>& xs, long axis) {
    if (xs.empty()) throw ShapeError("concat: no tensors given; expected at least one");
    const Shape& first = xs[0].shape();
    const std::size_t ax = normalize_axis(axis, first.size(), "concat");
    Shape out_shape = first;
    out_shape[ax] = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const Shape& s = xs[i].shape();
        bool same = s.size() == first.size();
        for (std::size_t d = 0; same && d < s.size(); ++d) same = d == ax || s[d] == first[d];
        if (!same) {
            throw ShapeError(fmt::format("concat: tensor {} has shape {}, tensor 0 has {}; expected equal extents except on axis {}",
                                         i, format_shape(s), format_shape(first), ax));
        }
        out_shape[ax] += s[ax];
    }
    const detail::AxisView view(first, ax);
    const std::size_t inner = view.inner, outer = view.outer;
    const std::size_t out_width = out_shape[ax] * inner;
    Array y = uninitialized(out_shape);
    std::vector<std::size_t> offsets;  // start of each input along the axis
    std::size_t offset = 0;
    for (const Tensor& t : xs) {
        offsets.push_back(offset);
        const std::size_t width = t.shape()[ax] * inner;
        copy_blocks(t.value().data(), 0, width, y.data(), offset * inner, out_width, outer, width);
        offset += t.shape()[ax];
    }
    return record_op("concat", xs, std::move(y), [ax, inner, outer, out_width, offsets](GradientContext& ctx) {
        for (std::size_t i = 0; i < ctx.input_count(); ++i) {
            if (!ctx.wants(i)) continue;
            Array g = uninitialized(ctx.input(i).shape());
            const std::size_t width = g.shape(ax) * inner;
            copy_blocks(ctx.grad().data(), offsets[i] * inner, out_width, g.data(), 0, width, outer, width);
            ctx.accumulate(i, std::move(g));
        }
    }, [ax, offsets](TensorGradientContext& ctx) {
        for (std::size_t i = 0; i < ctx.input_count(); ++i) {
            if (!ctx.wants(i)) continue;
            ctx.accumulate(i, slice(ctx.grad(), static_cast<long>(ax), offsets[i], offsets[i] + ctx.input(i).shape()[ax]));
        }
    }, OpAttributes{{"axis", ax}});
}

Tensor pad(const Tensor& x, long axis, std::size_t before, std::size_t after) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "pad");
    const Shape& in = x.shape();
    Shape out_shape = in;
    out_shape[ax] = in[ax] + before + after;
    checked_element_count(out_shape, "pad");
    const detail::AxisView view(in, ax);
    const std::size_t inner = view.inner, outer = view.outer;
    Array y = xt::zeros<float>(out_shape);
    copy_blocks(x.value().data(), 0, in[ax] * inner, y.data(), before * inner, out_shape[ax] * inner, outer,
                in[ax] * inner);
    const std::size_t begin = before, end = before + in[ax];
    return record_op("pad", {x}, std::move(y), [ax, begin, end, inner, outer](GradientContext& ctx) {
        // dx = dy[begin:end] along the axis
        const Shape& padded = ctx.grad().shape();
        Array g = uninitialized(ctx.input(0).shape());
        copy_blocks(ctx.grad().data(), begin * inner, padded[ax] * inner, g.data(), 0, (end - begin) * inner, outer,
                    (end - begin) * inner);
        ctx.accumulate(0, std::move(g));
    }, [ax, begin, end](TensorGradientContext& ctx) {
        ctx.accumulate(0, slice(ctx.grad(), static_cast<long>(ax), begin, end));
    }, OpAttributes{{"axis", ax}, {"before", before}, {"after", after}});
}

Tensor scatter_add(const Tensor& x, const std::vector<std::size_t>& indices, std::size_t extent, long axis) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "scatter_add");
    const Shape& in = x.shape();
    if (in[ax] != indices.size()) {
        throw ShapeError(fmt::format("scatter_add: x has shape {} for {} indices; expected one slice along axis {} per "
                                     "index",
                                     format_shape(in), indices.size(), ax));
    }
    for (std::size_t i : indices) {
        if (i >= extent) {
            throw ShapeError(fmt::format("scatter_add: index {} is out of range; expected < {}, the extent", i, extent));
        }
    }
    Shape out_shape = in;
    out_shape[ax] = extent;
    checked_element_count(out_shape, "scatter_add");
    const detail::AxisView view(in, ax);
    const detail::SliceTable table{indices, extent, view.inner, view.outer};
    Array y = xt::zeros<float>(out_shape);
    table.scatter_add(x.value().data(), y.data());
    return record_op("scatter_add", {x}, std::move(y), [table](GradientContext& ctx) {
        Array g = uninitialized(ctx.input(0).shape());
        table.gather(ctx.grad().data(), g.data());
        ctx.accumulate(0, std::move(g));
    }, [indices, ax](TensorGradientContext& ctx) {
        ctx.accumulate(0, gather(ctx.grad(), indices, static_cast<long>(ax)));
    }, OpAttributes{{"axis", ax}, {"indices", indices}, {"extent", extent}});
}

}  // namespace xg
