#include "xgrad/core/array.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "xgrad/core/axis_view.hpp"
#include "xgrad/core/error.hpp"

namespace xg {

std::string format_shape(const Shape& shape) {
    if (shape.size() == 1) return fmt::format("({},)", shape[0]);
    return fmt::format("({})", fmt::join(shape, ", "));
}

std::string format_batch_shape(const Shape& sample_shape) {
    if (sample_shape.empty()) return "(None,)";
    return fmt::format("(None, {})", fmt::join(sample_shape, ", "));
}

std::size_t element_count(const Shape& shape) {
    std::size_t n = 1;
    for (auto extent : shape) n *= extent;
    return n;
}

std::size_t checked_element_count(const Shape& shape, const char* op) {
    std::size_t nonzero = 1;
    bool empty = false;
    for (auto extent : shape) {
        if (extent == 0) {
            empty = true;
            continue;
        }
        if (nonzero > max_array_elements / extent) {
            throw ShapeError(fmt::format("{}: shape {} has more elements than an array can hold; expected at most {} "
                                         "(counting the extents other than 0)",
                                         op, format_shape(shape), max_array_elements));
        }
        nonzero *= extent;
    }
    return empty ? 0 : nonzero;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    const std::size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        // Align from the trailing axis, as numpy does.
        const std::size_t ea = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const std::size_t eb = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (ea != eb && ea != 1 && eb != 1) {
            throw ShapeError(fmt::format("{}: shapes {} and {} do not broadcast; expected equal extents or 1 on each axis",
                                         op, format_shape(a), format_shape(b)));
        }
        out[i] = ea == 1 ? eb : ea;
    }
    checked_element_count(out, op);  // (n, 0) + (1, m) must not yield an (n, m) past memory
    return out;
}

Array sum_axis(const Array& a, std::size_t axis) {
    const Shape& in = a.shape();
    const detail::AxisView view(in, axis);
    const std::size_t outer = view.outer, extent = view.extent, inner = view.inner;
    Shape out_shape = in;
    out_shape[axis] = 1;
    Array out = xt::zeros<float>(out_shape);
    const float* src = a.data();
    float* dst = out.data();
    // (outer, extent, inner) -> (outer, 1, inner); the inner loop runs over contiguous memory.
    for (std::size_t o = 0; o < outer; ++o) {
        float* row = dst + o * inner;
        for (std::size_t e = 0; e < extent; ++e) {
            const float* line = src + (o * extent + e) * inner;
            for (std::size_t i = 0; i < inner; ++i) row[i] += line[i];
        }
    }
    return out;
}

namespace {

// The sum of n contiguous floats: sixteen running sums side by side (one vector's worth of
// independent additions, which the compiler vectorizes, where one running sum waits on the last
// addition at every element), each 256 values' total added into a double. Closer to the exact sum
// than a single float running sum, whose error grows with n.
float sum_contiguous(const float* p, std::size_t n) {
    constexpr std::size_t lanes = 16, block = 256;
    if (n < lanes) {  // a few values (a row of two or three columns): the lanes would cost more than they save
        float sum = 0.0f;
        for (std::size_t i = 0; i < n; ++i) sum += p[i];
        return sum;
    }
    double total = 0.0;
    for (std::size_t start = 0; start < n; start += block) {
        const std::size_t end = std::min(n, start + block);
        float lane[lanes] = {};
        std::size_t i = start;
        for (; i + lanes <= end; i += lanes) {
            for (std::size_t j = 0; j < lanes; ++j) lane[j] += p[i + j];
        }
        float part = 0.0f;
        for (std::size_t j = 0; j < lanes; ++j) part += lane[j];
        for (; i < end; ++i) part += p[i];
        total += part;
    }
    return static_cast<float>(total);
}

}  // namespace

Array sum_to(const Array& grad, const Shape& shape) {
    const Shape& from = grad.shape();
    if (from == shape) return grad;
    if (shape.size() > from.size()) {
        throw ShapeError(fmt::format("sum_to: gradient {} has fewer axes than its tensor {}",
                                     format_shape(from), format_shape(shape)));
    }
    const std::size_t lead = from.size() - shape.size();
    for (std::size_t i = lead; i < from.size(); ++i) {
        if (shape[i - lead] != from[i] && shape[i - lead] != 1) {
            throw ShapeError(fmt::format("sum_to: gradient {} cannot be reduced to tensor shape {}",
                                         format_shape(from), format_shape(shape)));
        }
    }
    Array out = xt::zeros<float>(shape);
    if (grad.size() == 0) return out;
    // The gradient's axes merged into runs that are all kept or all summed away (axes of extent 1
    // dropped), innermost first, with the output's stride for each kept run.
    struct Run {
        std::size_t extent;
        bool summed;
        std::size_t out_stride = 0;
    };
    std::vector<Run> runs;
    for (std::size_t a = from.size(); a-- > 0;) {
        if (from[a] == 1) continue;
        const bool summed = a < lead || shape[a - lead] == 1;
        if (!runs.empty() && runs.back().summed == summed) {
            runs.back().extent *= from[a];
        } else {
            runs.push_back({from[a], summed});
        }
    }
    std::size_t kept = 1;
    for (Run& r : runs) {
        if (r.summed) continue;
        r.out_stride = kept;
        kept *= r.extent;
    }
    if (runs.empty()) {  // one element, (1, 1) to (1,)
        out.data()[0] = grad.data()[0];
        return out;
    }
    const Run inner = runs.front();
    const std::vector<Run> outer(runs.rbegin(), runs.rend() - 1);  // outermost first
    std::vector<std::size_t> index(outer.size(), 0);
    const float* in = grad.data();
    float* dst = out.data();
    std::size_t out_offset = 0;
    // Each step of the outer runs: one inner run of the gradient, added onto the output's run of the
    // same extent (kept) or summed into one of its values (summed).
    for (std::size_t at = 0; at < grad.size(); at += inner.extent) {
        if (inner.summed) {
            dst[out_offset] += sum_contiguous(in + at, inner.extent);
        } else {
            float* row = dst + out_offset;
            const float* line = in + at;
            for (std::size_t i = 0; i < inner.extent; ++i) row[i] += line[i];
        }
        for (std::size_t a = outer.size(); a-- > 0;) {
            out_offset += outer[a].out_stride;
            if (++index[a] < outer[a].extent) break;
            out_offset -= outer[a].extent * outer[a].out_stride;
            index[a] = 0;
        }
    }
    return out;
}

std::size_t normalize_axis(long axis, std::size_t rank, const char* op) {
    const long r = static_cast<long>(rank);
    if (rank == 0) {
        throw ShapeError(fmt::format("{}: axis {} is out of range for a tensor of rank 0; expected a tensor with at "
                                     "least one axis",
                                     op, axis));
    }
    if (axis < -r || axis >= r) {
        throw ShapeError(fmt::format("{}: axis {} is out of range for a tensor of rank {}; expected {} <= axis < {}",
                                     op, axis, rank, -r, r));
    }
    return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

void check_axis_not_empty(const Shape& shape, std::size_t axis, const char* op) {
    if (shape[axis] == 0) {
        throw ShapeError(fmt::format("{}: axis {} of tensor {} is empty; expected at least one element", op, axis,
                                     format_shape(shape)));
    }
}

void check_float_indices(const Shape& shape, std::size_t axis, const char* op) {
    if (shape[axis] > (std::size_t{1} << 24)) {
        throw ShapeError(fmt::format("{}: axis {} of {} holds {} elements; expected at most 2^24, the indices a float "
                                     "holds exactly",
                                     op, axis, format_shape(shape), shape[axis]));
    }
}

Array uninitialized(const Shape& shape) {
    // xtensor multiplies the extents unchecked: a product that wraps would allocate too little.
    checked_element_count(shape, "uninitialized");
    return Array::from_shape(shape);
}

Array scalar_array(float value) {
    Array a = Array::from_shape({});
    a() = value;
    return a;
}

}  // namespace xg
