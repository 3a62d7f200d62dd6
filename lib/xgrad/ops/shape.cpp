// Ops that move elements without changing them. Each backward routes the gradient
// back to where the element came from.
#include <cstring>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// Elements of one "row" along `axis`: the product of the extents after it.
std::size_t inner_size(const Shape& s, std::size_t axis) {
    std::size_t n = 1;
    for (std::size_t i = axis + 1; i < s.size(); ++i) n *= s[i];
    return n;
}

std::size_t outer_size(const Shape& s, std::size_t axis) {
    std::size_t n = 1;
    for (std::size_t i = 0; i < axis; ++i) n *= s[i];
    return n;
}

// Copies a block of `extent` slices along an axis between two row-major buffers, as
// (outer, extent * inner) sub-matrices: the common core of slice, concat and their grads.
void copy_blocks(const float* from, std::size_t from_stride, float* to, std::size_t to_stride, std::size_t outer,
                 std::size_t width) {
    // An empty array's data() may be null, and memcpy with a null pointer is undefined even for 0 bytes.
    if (width == 0) return;
    for (std::size_t o = 0; o < outer; ++o) std::memcpy(to + o * to_stride, from + o * from_stride, width * sizeof(float));
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
    return record_op("reshape", {x}, std::move(y), [](GradientContext& ctx) {
        Array g = ctx.grad();
        g.reshape(ctx.input(0).shape());
        ctx.accumulate(0, std::move(g));
    }, [](TensorGradientContext& ctx) {
        const Shape& s = ctx.input(0).shape();
        ctx.accumulate(0, reshape(ctx.grad(), std::vector<long>(s.begin(), s.end())));
    }, OpAttributes{{"shape", target}});
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
    const std::size_t inner = inner_size(in, ax), outer = outer_size(in, ax);
    Array y = uninitialized(out_shape);
    copy_blocks(x.value().data() + begin * inner, in[ax] * inner, y.data(), (end - begin) * inner, outer,
                (end - begin) * inner);
    return record_op("slice", {x}, std::move(y), [ax, begin, end, inner, outer](GradientContext& ctx) {
        const Shape& full = ctx.input(0).shape();
        Array g = xt::zeros<float>(full);
        copy_blocks(ctx.grad().data(), (end - begin) * inner, g.data() + begin * inner, full[ax] * inner, outer,
                    (end - begin) * inner);
        ctx.accumulate(0, std::move(g));
    }, [ax, begin, end](TensorGradientContext& ctx) {
        ctx.accumulate(0, pad(ctx.grad(), static_cast<long>(ax), begin, ctx.input(0).shape()[ax] - end));
    }, OpAttributes{{"axis", ax}, {"begin", begin}, {"end", end}});
}

Tensor gather_rows(const Tensor& x, const std::vector<std::size_t>& indices) {
    if (x.rank() == 0) throw ShapeError("gather_rows: tensor is a scalar (); expected at least one axis");
    const Shape& in = x.shape();
    for (std::size_t i : indices) {
        if (i >= in[0]) {
            throw ShapeError(fmt::format("gather_rows: index {} is out of range for {}; expected < {}", i,
                                         format_shape(in), in[0]));
        }
    }
    Shape out_shape = in;
    out_shape[0] = indices.size();
    const std::size_t row = inner_size(in, 0);
    Array y = uninitialized(out_shape);
    for (std::size_t r = 0; r < indices.size() && row > 0; ++r) {
        std::memcpy(y.data() + r * row, x.value().data() + indices[r] * row, row * sizeof(float));
    }
    return record_op("gather_rows", {x}, std::move(y), [indices, row](GradientContext& ctx) {
        // Scatter-add: a row gathered twice receives both gradients.
        Array g = xt::zeros<float>(ctx.input(0).shape());
        const float* dy = ctx.grad().data();
        for (std::size_t r = 0; r < indices.size(); ++r) {
            float* target = g.data() + indices[r] * row;
            for (std::size_t c = 0; c < row; ++c) target[c] += dy[r * row + c];
        }
        ctx.accumulate(0, std::move(g));
    }, [indices](TensorGradientContext& ctx) {
        ctx.accumulate(0, scatter_rows(ctx.grad(), indices, ctx.input(0).shape()[0]));
    }, OpAttributes{{"rows", indices.size()}});
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
    const std::size_t inner = inner_size(first, ax), outer = outer_size(first, ax);
    const std::size_t out_width = out_shape[ax] * inner;
    Array y = uninitialized(out_shape);
    std::vector<std::size_t> offsets;  // start of each input along the axis
    std::size_t offset = 0;
    for (const Tensor& t : xs) {
        offsets.push_back(offset);
        const std::size_t width = t.shape()[ax] * inner;
        copy_blocks(t.value().data(), width, y.data() + offset * inner, out_width, outer, width);
        offset += t.shape()[ax];
    }
    return record_op("concat", xs, std::move(y), [ax, inner, outer, out_width, offsets](GradientContext& ctx) {
        for (std::size_t i = 0; i < ctx.input_count(); ++i) {
            if (!ctx.wants(i)) continue;
            Array g = uninitialized(ctx.input(i).shape());
            const std::size_t width = g.shape(ax) * inner;
            copy_blocks(ctx.grad().data() + offsets[i] * inner, out_width, g.data(), width, outer, width);
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
    const std::size_t inner = inner_size(in, ax), outer = outer_size(in, ax);
    Array y = xt::zeros<float>(out_shape);
    copy_blocks(x.value().data(), in[ax] * inner, y.data() + before * inner, out_shape[ax] * inner, outer, in[ax] * inner);
    const std::size_t begin = before, end = before + in[ax];
    return record_op("pad", {x}, std::move(y), [ax, begin, end, inner, outer](GradientContext& ctx) {
        // dx = dy[begin:end] along the axis
        const Shape& padded = ctx.grad().shape();
        Array g = uninitialized(ctx.input(0).shape());
        copy_blocks(ctx.grad().data() + begin * inner, padded[ax] * inner, g.data(), (end - begin) * inner, outer,
                    (end - begin) * inner);
        ctx.accumulate(0, std::move(g));
    }, [ax, begin, end](TensorGradientContext& ctx) {
        ctx.accumulate(0, slice(ctx.grad(), static_cast<long>(ax), begin, end));
    }, OpAttributes{{"axis", ax}, {"before", before}, {"after", after}});
}

Tensor scatter_rows(const Tensor& x, const std::vector<std::size_t>& indices, std::size_t rows) {
    if (x.rank() == 0 || x.shape()[0] != indices.size()) {
        throw ShapeError(fmt::format("scatter_rows: tensor has shape {} for {} indices; expected one row per index",
                                     format_shape(x.shape()), indices.size()));
    }
    for (std::size_t i : indices) {
        if (i >= rows) {
            throw ShapeError(fmt::format("scatter_rows: index {} is out of range; expected < {} rows", i, rows));
        }
    }
    Shape out_shape = x.shape();
    out_shape[0] = rows;
    checked_element_count(out_shape, "scatter_rows");
    const std::size_t row = inner_size(out_shape, 0);
    // Sums: a row named twice receives both.
    Array y = xt::zeros<float>(out_shape);
    const float* v = x.value().data();
    for (std::size_t r = 0; r < indices.size(); ++r) {
        float* target = y.data() + indices[r] * row;
        for (std::size_t c = 0; c < row; ++c) target[c] += v[r * row + c];
    }
    return record_op("scatter_rows", {x}, std::move(y), [indices, row](GradientContext& ctx) {
        // dx[r] = dy[indices[r]]: a gather
        Array g = uninitialized(ctx.input(0).shape());
        for (std::size_t r = 0; r < indices.size() && row > 0; ++r) {
            std::memcpy(g.data() + r * row, ctx.grad().data() + indices[r] * row, row * sizeof(float));
        }
        ctx.accumulate(0, std::move(g));
    }, [indices](TensorGradientContext& ctx) {
        ctx.accumulate(0, gather_rows(ctx.grad(), indices));
    }, OpAttributes{{"rows", rows}});
}

}  // namespace xg
