#include "xgrad/core/conv_kernels.hpp"

#include <algorithm>
#include <cstring>

#include "xgrad/core/blas.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {
namespace {

// Patch rows are made for a few images at a time, so that the patch matrix (up to KH*KW
// times the size of the images) stays small and is still in cache when sgemm reads it.
// The budget is about a core's L2 cache per thread, each thread multiplying its share of
// the rows (see docs/performance.md for the sizes tried).
constexpr std::size_t kPatchBudget = std::size_t{1} << 17;  // floats (512 KiB) per thread
// Floats of bias rows copied into the output worth handing to another thread.
constexpr std::size_t kCopyGrain = std::size_t{1} << 15;

std::size_t images_per_chunk(const Window2d& g) {
    const std::size_t per_image = g.oh * g.ow * g.kh * g.kw * g.c;
    const std::size_t budget = kPatchBudget * static_cast<std::size_t>(num_threads());
    return per_image == 0 ? std::max<std::size_t>(g.n, 1) : std::max<std::size_t>(1, budget / per_image);
}

// A 1x1 window with stride 1 and no padding reads each pixel once, in order: x is its own patch matrix.
bool is_pointwise(const Window2d& g) {
    return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pad_top == 0 && g.pad_left == 0;
}

// Calls copy(row_of_patch, image_pixel, floats) for every in-bounds run of the windows of output
// rows [first_row, end_row) (row r = image r / OH, output row r % OH) and pad(row_of_patch,
// floats) for each run that lies in the padding; patch rows are counted from first_row's first
// pixel. A run is a whole window row (KW*C contiguous floats) when the window's taps are adjacent
// and it is inside the image horizontally; one tap's C floats otherwise.
template <typename Copy, typename Pad>
void for_each_run(const Window2d& g, std::size_t first_row, std::size_t end_row, Copy copy, Pad pad) {
    const std::size_t k = g.kh * g.kw * g.c, run = g.kw * g.c;
    const long h = static_cast<long>(g.h), w = static_cast<long>(g.w);
    const long step_y = static_cast<long>(g.dilation_h), step_x = static_cast<long>(g.dilation_w);
    std::size_t row = 0;
    for (std::size_t r = first_row; r < end_row; ++r) {
        const std::size_t n = r / g.oh, oy = r % g.oh;
        const std::size_t image = n * g.h * g.w * g.c;
        const long iy0 = static_cast<long>(oy * g.sh) - static_cast<long>(g.pad_top);
        for (std::size_t ox = 0; ox < g.ow; ++ox, ++row) {
            const long ix0 = static_cast<long>(ox * g.sw) - static_cast<long>(g.pad_left);
            const bool whole_rows = step_x == 1 && ix0 >= 0 && ix0 + static_cast<long>(g.kw) <= w;
            std::size_t at = row * k;
            for (std::size_t ky = 0; ky < g.kh; ++ky, at += run) {
                const long iy = iy0 + static_cast<long>(ky) * step_y;
                if (iy < 0 || iy >= h) {
                    pad(at, run);
                    continue;
                }
                const std::size_t line = image + static_cast<std::size_t>(iy) * g.w * g.c;
                if (whole_rows) {
                    copy(at, line + static_cast<std::size_t>(ix0) * g.c, run);
                    continue;
                }
                for (std::size_t kx = 0; kx < g.kw; ++kx) {
                    const long ix = ix0 + static_cast<long>(kx) * step_x;
                    if (ix < 0 || ix >= w) {
                        pad(at + kx * g.c, g.c);
                    } else {
                        copy(at + kx * g.c, line + static_cast<std::size_t>(ix) * g.c, g.c);
                    }
                }
            }
        }
    }
}

}  // namespace

void im2col(const float* x, const Window2d& g, std::size_t first, std::size_t count, float* col) {
    // Each output row fills its own patch rows: split by rows.
    const std::size_t row_floats = g.ow * g.kh * g.kw * g.c;
    parallel_for(first * g.oh, (first + count) * g.oh, window_rows_per_split(g), [&](std::size_t lo, std::size_t hi) {
        float* out = col + (lo - first * g.oh) * row_floats;
        for_each_run(
            g, lo, hi,
            [&](std::size_t at, std::size_t from, std::size_t len) { std::memcpy(out + at, x + from, len * sizeof(float)); },
            [&](std::size_t at, std::size_t len) { std::fill_n(out + at, len, 0.0f); });
    });
}

void col2im(const float* col, const Window2d& g, std::size_t first, std::size_t count, float* x) {
    // Overlapping windows add onto the same pixels, but only within one image: split by images,
    // each image summed in the same order whatever the split.
    const std::size_t row_floats = g.ow * g.kh * g.kw * g.c;
    parallel_for(first, first + count, window_images_per_split(g), [&](std::size_t lo, std::size_t hi) {
        const float* in = col + (lo - first) * g.oh * row_floats;
        for_each_run(
            g, lo * g.oh, hi * g.oh,
            [&](std::size_t at, std::size_t to, std::size_t len) {
                const float* from = in + at;
                float* into = x + to;
                for (std::size_t i = 0; i < len; ++i) into[i] += from[i];
            },
            [](std::size_t, std::size_t) {});
    });
}

Array conv2d_forward(const float* x, const float* w, const float* bias, const Window2d& g, std::size_t c_out) {
    Array y = uninitialized({g.n, g.oh, g.ow, c_out});
    const std::size_t k = g.kh * g.kw * g.c, pixels = g.oh * g.ow;
    if (y.size() == 0) return y;
    if (bias != nullptr) {
        // sgemm adds the product onto the bias already in every row (beta = 1).
        parallel_for(0, g.n * pixels, std::max<std::size_t>(1, kCopyGrain / c_out), [&](std::size_t lo, std::size_t hi) {
            for (std::size_t r = lo; r < hi; ++r) std::copy(bias, bias + c_out, y.data() + r * c_out);
        });
    }
    const float beta = bias != nullptr ? 1.0f : 0.0f;
    if (k == 0) {
        if (bias == nullptr) std::fill(y.begin(), y.end(), 0.0f);
        return y;
    }
    if (is_pointwise(g)) {
        gemm(x, w, y.data(), g.n * pixels, c_out, k, false, false, 1.0f, beta);
        return y;
    }
    const std::size_t chunk = images_per_chunk(g);
    Array col = uninitialized({std::min(chunk, g.n) * pixels, k});
    for (std::size_t first = 0; first < g.n; first += chunk) {
        const std::size_t count = std::min(chunk, g.n - first);
        im2col(x, g, first, count, col.data());
        gemm(col.data(), w, y.data() + first * pixels * c_out, count * pixels, c_out, k, false, false, 1.0f, beta);
    }
    return y;
}

Array conv2d_input_grad(const float* dy, const float* w, const Window2d& g, std::size_t c_out) {
    const std::size_t k = g.kh * g.kw * g.c, pixels = g.oh * g.ow;
    if (is_pointwise(g)) {
        Array dx = uninitialized({g.n, g.h, g.w, g.c});
        if (dx.size() == 0) return dx;
        if (c_out == 0) {
            std::fill(dx.begin(), dx.end(), 0.0f);
            return dx;
        }
        gemm(dy, w, dx.data(), g.n * pixels, k, c_out, false, true);
        return dx;
    }
    Array dx = xt::zeros<float>({g.n, g.h, g.w, g.c});
    if (dx.size() == 0 || k == 0 || c_out == 0 || pixels == 0) return dx;
    const std::size_t chunk = images_per_chunk(g);
    Array col = uninitialized({std::min(chunk, g.n) * pixels, k});
    for (std::size_t first = 0; first < g.n; first += chunk) {
        const std::size_t count = std::min(chunk, g.n - first);
        // dpatches (count*OH*OW, K) = dy (count*OH*OW, C_out) . w^T (C_out, K)
        gemm(dy + first * pixels * c_out, w, col.data(), count * pixels, k, c_out, false, true);
        col2im(col.data(), g, first, count, dx.data());
    }
    return dx;
}

Array conv2d_kernel_grad(const float* x, const float* dy, const Window2d& g, std::size_t c_out) {
    const std::size_t k = g.kh * g.kw * g.c, pixels = g.oh * g.ow;
    Array dw = xt::zeros<float>({g.kh, g.kw, g.c, c_out});
    if (dw.size() == 0 || g.n * pixels == 0) return dw;
    if (is_pointwise(g)) {
        gemm(x, dy, dw.data(), k, c_out, g.n * pixels, true, false);
        return dw;
    }
    const std::size_t chunk = images_per_chunk(g);
    Array col = uninitialized({std::min(chunk, g.n) * pixels, k});
    for (std::size_t first = 0; first < g.n; first += chunk) {
        const std::size_t count = std::min(chunk, g.n - first);
        im2col(x, g, first, count, col.data());
        // dw (K, C_out) += patches^T (K, count*OH*OW) . dy (count*OH*OW, C_out)
        gemm(col.data(), dy + first * pixels * c_out, dw.data(), k, c_out, count * pixels, true, false, 1.0f, 1.0f);
    }
    return dw;
}

}  // namespace xg
