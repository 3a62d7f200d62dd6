#include "xgrad/core/window.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {
namespace {

}  // namespace

// Keras's rules:
//   valid: floor((in - k) / s) + 1, no padding;
//   same:  ceil(in / s), total padding max((out - 1) * s + k - in, 0) split with the odd one after.
AxisWindows axis_windows(std::size_t extent, std::size_t span, std::size_t stride, Padding padding) {
    if (padding == Padding::valid) return {(extent - span) / stride + 1, 0, 0};
    const std::size_t count = (extent + stride - 1) / stride;
    const std::size_t needed = count == 0 ? 0 : (count - 1) * stride + span;
    const std::size_t total = needed > extent ? needed - extent : 0;
    return {count, total / 2, total};
}

std::string_view padding_name(Padding padding) { return padding == Padding::valid ? "valid" : "same"; }

Padding parse_padding(std::string_view name, const char* op) {
    if (name == "valid") return Padding::valid;
    if (name == "same") return Padding::same;
    throw ValueError(fmt::format("{}: padding '{}' is unknown; expected 'valid' or 'same'", op, name));
}

void check_window_span(Size2 size, Size2 dilation, const char* op, const char* window, const char* dilation_name) {
    if (dilation[0] == 0 || dilation[1] == 0) {
        throw ValueError(
            fmt::format("{}: {} is ({}, {}); expected both >= 1", op, dilation_name, dilation[0], dilation[1]));
    }
    for (int a = 0; a < 2; ++a) {
        if (window_too_long(size[a], dilation[a])) {
            throw ValueError(fmt::format("{}: {} ({}, {}) with {} ({}, {}) spans more than {} pixels; expected a "
                                         "smaller {}",
                                         op, window, size[0], size[1], dilation_name, dilation[0], dilation[1], kMaxWindowSpan,
                                         dilation_name));
        }
    }
}

Window2d window_geometry(const Shape& x_shape, Size2 size, Size2 strides, Padding padding, const char* op,
                         const char* window, Size2 dilation, const char* dilation_name) {
    if (x_shape.size() != 4) {
        throw ShapeError(fmt::format("{}: x has shape {} (rank {}); expected rank 4, (batch, rows, columns, channels)", op,
                                     format_shape(x_shape), x_shape.size()));
    }
    if (size[0] == 0 || size[1] == 0) {
        throw ValueError(fmt::format("{}: {} is ({}, {}); expected both extents >= 1", op, window, size[0], size[1]));
    }
    if (strides[0] == 0 || strides[1] == 0) {
        throw ValueError(fmt::format("{}: strides are ({}, {}); expected both >= 1", op, strides[0], strides[1]));
    }
    check_window_span(size, dilation, op, window, dilation_name);
    Window2d g;
    g.n = x_shape[0];
    g.h = x_shape[1];
    g.w = x_shape[2];
    g.c = x_shape[3];
    g.kh = size[0];
    g.kw = size[1];
    g.sh = strides[0];
    g.sw = strides[1];
    g.dilation_h = dilation[0];
    g.dilation_w = dilation[1];
    // `same` pads up to the window, so only `valid` can leave a window with no room.
    if (padding == Padding::valid && (g.span_h() > g.h || g.span_w() > g.w)) {
        const std::string spans = dilation == Size2{1, 1} ? std::string()
                                                          : fmt::format(" (spanning ({}, {}) with {} ({}, {}))",
                                                                        g.span_h(), g.span_w(), dilation_name,
                                                                        dilation[0], dilation[1]);
        throw ShapeError(fmt::format("{}: {} ({}, {}){} is larger than the input's rows and columns ({}, {}) of x {} with "
                                     "padding 'valid'; expected a window that fits",
                                     op, window, g.kh, g.kw, spans, g.h, g.w, format_shape(x_shape)));
    }
    const AxisWindows rows = axis_windows(g.h, g.span_h(), g.sh, padding);
    const AxisWindows columns = axis_windows(g.w, g.span_w(), g.sw, padding);
    g.oh = rows.count;
    g.pad_top = rows.pad_before;
    g.ow = columns.count;
    g.pad_left = columns.pad_before;
    return g;
}

// Floats of windows read (patches copied, pooling windows scanned) worth a thread's wake-up.
constexpr std::size_t kWindowGrain = std::size_t{1} << 15;

void check_window_output_gradient(const Shape& dy, const Window2d& g, std::size_t channels, const Shape& x,
                                  const Shape& kernel, const char* op) {
    const Shape expected{g.n, g.oh, g.ow, channels};
    if (dy != expected) {
        throw ShapeError(fmt::format("{}: dy has shape {}; expected {}, the output of x {} convolved by kernel {}", op,
                                     format_shape(dy), format_shape(expected), format_shape(x), format_shape(kernel)));
    }
}

std::size_t window_rows_per_split(const Window2d& g, std::size_t uses) {
    // An output row reads ow windows of kh * kw * c floats each, `uses` times.
    return rows_per_split(g.ow * g.kh * g.kw * g.c * std::max<std::size_t>(uses, 1), kWindowGrain);
}

std::size_t window_images_per_split(const Window2d& g, std::size_t uses) {
    return std::max<std::size_t>(1, window_rows_per_split(g, uses) / std::max<std::size_t>(1, g.oh));
}

}  // namespace xg
