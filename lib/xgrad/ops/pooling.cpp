// 2-D max and average pooling, channels last: x (N, H, W, C) -> (N, OH, OW, C), each output
// the max or mean of one window of one channel. Padding is never a value: `same` windows
// only look at the image elements they cover (max ignores the padding as if it were -inf,
// the average divides by the number of image elements, as Keras does).
//
// The gradients are ops themselves, closed under differentiation:
//   max_pool2d(x)                 dx = max_pool2d_backward(x, dy): dy scattered to each window's maximum
//   max_pool2d_backward(x, dy)    linear in dy, piecewise constant in x:
//                                 d(dy) = max_pool2d_gather(x, G), dx = 0
//   max_pool2d_gather(x, s)       s read at each window's maximum of x (max_pool2d(x) = gather(x, x)):
//                                 ds = max_pool2d_backward(x, G), dx = 0
//   avg_pool2d(x)                 dx = avg_pool2d_backward(dy): each window's dy / count spread over it
//   avg_pool2d_backward(dy)       linear, the adjoint of avg_pool2d: d(dy) = avg_pool2d(G)
// max_pool2d's own rule reuses the maxima found by the forward pass instead of searching again.
// The differentiable rules call the gradient ops themselves, with x detached: it only chooses
// the windows' maxima, so the second derivative through that choice is 0 (almost everywhere).
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/ops/window_attributes.hpp"

namespace xg {
namespace {

Size2 resolve_strides(Size2 pool_size, Size2 strides) {
    return strides == Size2{0, 0} ? pool_size : strides;
}

// The image rows [lo, hi) a window starting at output index o covers along one axis.
void covered(std::size_t o, std::size_t stride, std::size_t pad, std::size_t k, std::size_t in, std::size_t& lo,
             std::size_t& hi) {
    const long start = static_cast<long>(o * stride) - static_cast<long>(pad);
    lo = static_cast<std::size_t>(std::max(start, 0L));
    hi = static_cast<std::size_t>(std::min(start + static_cast<long>(k), static_cast<long>(in)));
}

// Calls f(j, lo_y, hi_y, lo_x, hi_x, image) for every output pixel j = (n, oy, ox) of the output
// rows [first_row, end_row) (row r = image r / OH, output row r % OH): the window's rows and
// columns inside the image, and the offset of image n in x.
template <typename F>
void for_each_window(const Window2d& g, std::size_t first_row, std::size_t end_row, F f) {
    std::size_t j = first_row * g.ow;
    for (std::size_t r = first_row; r < end_row; ++r) {
        const std::size_t n = r / g.oh, oy = r % g.oh;
        std::size_t y0, y1;
        covered(oy, g.sh, g.pad_top, g.kh, g.h, y0, y1);
        for (std::size_t ox = 0; ox < g.ow; ++ox, ++j) {
            std::size_t x0, x1;
            covered(ox, g.sw, g.pad_left, g.kw, g.w, x0, x1);
            f(j, y0, y1, x0, x1, n * g.h * g.w * g.c);
        }
    }
}

// Elements gathered by index (random reads) worth one thread.
constexpr std::size_t kGatherGrain = std::size_t{1} << 15;

// for_each_window over all output pixels, ranges of output rows in parallel: f must write
// only output j's values.
template <typename F>
void for_each_window_parallel(const Window2d& g, const F& f) {
    parallel_for(0, g.n * g.oh, window_rows_per_split(g),
                 [&](std::size_t first_row, std::size_t end_row) { for_each_window(g, first_row, end_row, f); });
}

// Calls f(first_image, end_image) on ranges of whole images, in parallel: what adds onto x
// (windows may overlap) is split only between images, so each pixel sums in one fixed order.
template <typename F>
void for_images(const Window2d& g, const F& f) {
    parallel_for(0, g.n, window_images_per_split(g), f);
}

// For every output element, its window's maximum (into y when not null) and the flat index
// of that maximum in x: the first NaN if the window holds one (a NaN never disappears in a
// max), else the first maximal element. The running maxima are kept beside the indices so
// that each comparison reads x once, in order.
std::vector<std::size_t> window_argmax(const float* x, const Window2d& g, float* y = nullptr) {
    std::vector<std::size_t> index(g.n * g.oh * g.ow * g.c);
    std::vector<float> scratch(y == nullptr ? index.size() : 0);
    float* maxima = y != nullptr ? y : scratch.data();
    for_each_window_parallel(g, [&](std::size_t j, std::size_t y0, std::size_t y1, std::size_t x0, std::size_t x1,
                                    std::size_t image) {
        // A local copy: the stores to best[] could otherwise alias a captured size_t and stop
        // the channel loop from being vectorized.
        const std::size_t c = g.c;
        std::size_t* best = index.data() + j * c;
        float* value = maxima + j * c;
        bool first = true;
        for (std::size_t iy = y0; iy < y1; ++iy) {
            for (std::size_t ix = x0; ix < x1; ++ix) {
                const std::size_t base = image + (iy * g.w + ix) * c;
                const float* in = x + base;
                if (first) {
                    for (std::size_t ch = 0; ch < c; ++ch) {
                        best[ch] = base + ch;
                        value[ch] = in[ch];
                    }
                    first = false;
                    continue;
                }
                // Branch-free, so that the channels are compared in SIMD lanes.
                for (std::size_t ch = 0; ch < c; ++ch) {
                    const float v = in[ch], b = value[ch];
                    const bool take = (v > b) | ((v != v) & (b == b));
                    best[ch] = take ? base + ch : best[ch];
                    value[ch] = take ? v : b;
                }
            }
        }
    });
    return index;
}

Array gather(const float* source, const std::vector<std::size_t>& index, const Shape& shape) {
    Array y = uninitialized(shape);
    parallel_for(0, index.size(), kGatherGrain, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t j = lo; j < hi; ++j) y.data()[j] = source[index[j]];
    });
    return y;
}

// dx (shape, of g's input) with dy added at each index: the outputs of image n point into
// image n only, so each range of images zeroes and fills its own part of dx.
Array scatter(const float* dy, const std::vector<std::size_t>& index, const Window2d& g, const Shape& shape) {
    Array dx = uninitialized(shape);
    const std::size_t in_image = g.h * g.w * g.c, out_image = g.oh * g.ow * g.c;
    for_images(g, [&](std::size_t first, std::size_t end) {
        std::fill(dx.data() + first * in_image, dx.data() + end * in_image, 0.0f);
        for (std::size_t j = first * out_image; j < end * out_image; ++j) dx.data()[index[j]] += dy[j];
    });
    return dx;
}

Array average(const float* x, const Window2d& g) {
    Array y = uninitialized({g.n, g.oh, g.ow, g.c});
    for_each_window_parallel(g, [&](std::size_t j, std::size_t y0, std::size_t y1, std::size_t x0, std::size_t x1,
                                    std::size_t image) {
        const std::size_t c = g.c;
        float* out = y.data() + j * c;
        std::fill_n(out, c, 0.0f);
        for (std::size_t iy = y0; iy < y1; ++iy) {
            for (std::size_t ix = x0; ix < x1; ++ix) {
                const float* in = x + image + (iy * g.w + ix) * c;
                for (std::size_t ch = 0; ch < c; ++ch) out[ch] += in[ch];
            }
        }
        const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
        for (std::size_t ch = 0; ch < c; ++ch) out[ch] *= inv;
    });
    return y;
}

Array average_backward(const float* dy, const Window2d& g) {
    Array dx = uninitialized({g.n, g.h, g.w, g.c});
    const std::size_t in_image = g.h * g.w * g.c;
    const auto spread = [&](std::size_t j, std::size_t y0, std::size_t y1, std::size_t x0, std::size_t x1,
                            std::size_t image) {
        const std::size_t c = g.c;
        const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
        const float* in = dy + j * c;
        for (std::size_t iy = y0; iy < y1; ++iy) {
            for (std::size_t ix = x0; ix < x1; ++ix) {
                float* out = dx.data() + image + (iy * g.w + ix) * c;
                for (std::size_t ch = 0; ch < c; ++ch) out[ch] += in[ch] * inv;
            }
        }
    };
    for_images(g, [&](std::size_t first, std::size_t end) {
        std::fill(dx.data() + first * in_image, dx.data() + end * in_image, 0.0f);
        for_each_window(g, first * g.oh, end * g.oh, spread);
    });
    return dx;
}

// Checks that t has the pooled shape of x: the output of the pooling, or a gradient of it.
void check_pooled(const Shape& t, const Window2d& g, const Shape& x, const char* op, const char* what) {
    const Shape expected{g.n, g.oh, g.ow, g.c};
    if (t != expected) {
        throw ShapeError(fmt::format("{}: {} has shape {}; expected {}, the pooled shape of x {}", op, what, format_shape(t),
                                     format_shape(expected), format_shape(x)));
    }
}

// The window too, which ONNX export reads back.
OpAttributes pool_attributes(Size2 pool_size, Size2 strides, Padding padding) {
    return OpAttributes{{"pool_size", pool_size}}.add(window_attributes(strides, padding));
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Size2 pool_size, Size2 strides, Padding padding) {
    strides = resolve_strides(pool_size, strides);
    const Window2d g = window_geometry(x.shape(), pool_size, strides, padding, "max_pool2d", "pool_size");
    Array y = uninitialized({g.n, g.oh, g.ow, g.c});
    std::vector<std::size_t> index = window_argmax(x.value().data(), g, y.data());
    return record_op("max_pool2d", {x}, std::move(y), [index = std::move(index), g](GradientContext& ctx) {
        // dx = max_pool2d_backward(x, dy)
        ctx.accumulate(0, scatter(ctx.grad().data(), index, g, ctx.input(0).shape()));
    }, [pool_size, strides, padding](TensorGradientContext& ctx) {
        ctx.accumulate(0, max_pool2d_backward(ctx.input(0).detach(), ctx.grad(), pool_size, strides, padding));
    }, pool_attributes(pool_size, strides, padding));
}

Tensor max_pool2d_backward(const Tensor& x, const Tensor& dy, Size2 pool_size, Size2 strides, Padding padding) {
    const char* op = "max_pool2d_backward";
    strides = resolve_strides(pool_size, strides);
    const Window2d g = window_geometry(x.shape(), pool_size, strides, padding, op, "pool_size");
    check_pooled(dy.shape(), g, x.shape(), op, "dy");
    std::vector<std::size_t> index = window_argmax(x.value().data(), g);
    Array dx = scatter(dy.value().data(), index, g, x.shape());
    return record_op(op, {x, dy}, std::move(dx), [index = std::move(index), g](GradientContext& ctx) {
        // d(dy) = max_pool2d_gather(x, G); x only chooses where dy goes, so dx = 0.
        if (ctx.wants(1)) ctx.accumulate(1, gather(ctx.grad().data(), index, {g.n, g.oh, g.ow, g.c}));
    }, [pool_size, strides, padding](TensorGradientContext& ctx) {
        if (ctx.wants(1)) {
            ctx.accumulate(1, max_pool2d_gather(ctx.input(0).detach(), ctx.grad(), pool_size, strides, padding));
        }
    }, window_attributes(strides, padding));
}

Tensor max_pool2d_gather(const Tensor& x, const Tensor& source, Size2 pool_size, Size2 strides, Padding padding) {
    const char* op = "max_pool2d_gather";
    strides = resolve_strides(pool_size, strides);
    const Window2d g = window_geometry(x.shape(), pool_size, strides, padding, op, "pool_size");
    if (source.shape() != x.shape()) {
        throw ShapeError(fmt::format("{}: source has shape {}; expected x's shape {}", op, format_shape(source.shape()),
                                     format_shape(x.shape())));
    }
    std::vector<std::size_t> index = window_argmax(x.value().data(), g);
    Array y = gather(source.value().data(), index, {g.n, g.oh, g.ow, g.c});
    return record_op(op, {x, source}, std::move(y), [index = std::move(index), g](GradientContext& ctx) {
        // dsource = max_pool2d_backward(x, G); dx = 0 as above.
        if (ctx.wants(1)) ctx.accumulate(1, scatter(ctx.grad().data(), index, g, ctx.input(1).shape()));
    }, [pool_size, strides, padding](TensorGradientContext& ctx) {
        if (ctx.wants(1)) {
            ctx.accumulate(1, max_pool2d_backward(ctx.input(0).detach(), ctx.grad(), pool_size, strides, padding));
        }
    }, window_attributes(strides, padding));
}

Tensor avg_pool2d(const Tensor& x, Size2 pool_size, Size2 strides, Padding padding) {
    strides = resolve_strides(pool_size, strides);
    const Window2d g = window_geometry(x.shape(), pool_size, strides, padding, "avg_pool2d", "pool_size");
    return record_op("avg_pool2d", {x}, average(x.value().data(), g), [g](GradientContext& ctx) {
        // dx = avg_pool2d_backward(dy, x.shape())
        ctx.accumulate(0, average_backward(ctx.grad().data(), g));
    }, [pool_size, strides, padding](TensorGradientContext& ctx) {
        ctx.accumulate(0, avg_pool2d_backward(ctx.grad(), ctx.input(0).shape(), pool_size, strides, padding));
    }, pool_attributes(pool_size, strides, padding));
}

Tensor avg_pool2d_backward(const Tensor& dy, const Shape& x_shape, Size2 pool_size, Size2 strides, Padding padding) {
    const char* op = "avg_pool2d_backward";
    strides = resolve_strides(pool_size, strides);
    const Window2d g = window_geometry(x_shape, pool_size, strides, padding, op, "pool_size");
    check_pooled(dy.shape(), g, x_shape, op, "dy");
    return record_op(op, {dy}, average_backward(dy.value().data(), g), [g](GradientContext& ctx) {
        // d(dy) = avg_pool2d(G)
        ctx.accumulate(0, average(ctx.grad().data(), g));
    }, [pool_size, strides, padding](TensorGradientContext& ctx) {
        ctx.accumulate(0, avg_pool2d(ctx.grad(), pool_size, strides, padding));
    }, window_attributes(strides, padding));
}

}  // namespace xg
