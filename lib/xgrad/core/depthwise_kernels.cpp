#include "xgrad/core/depthwise_kernels.hpp"

#include <algorithm>
#include <vector>

#include "xgrad/core/parallel.hpp"

namespace xg {
namespace {

// The images the kernel gradient's sums are split into at most, so that more threads than
// blocks of channels find work; a fixed count, so that the split depends on the shapes alone.
constexpr std::size_t kDepthwiseImageChunks = 8;

// Calls fn(p, q, tap) for each output pixel p of output rows [first_row, end_row) (row r being
// image r / OH, output row r % OH; pixels counted over the whole batch) and each tap (ky * KW +
// kx) of its window that lands on input pixel q (taps a dilation apart); taps over the padding
// are skipped (they read zeros).
template <class Fn>
void for_each_tap(const Window2d& g, std::size_t first_row, std::size_t end_row, const Fn& fn) {
    const long h = static_cast<long>(g.h), w = static_cast<long>(g.w);
    for (std::size_t r = first_row; r < end_row; ++r) {
        const std::size_t n = r / g.oh, oy = r % g.oh;
        const long iy0 = static_cast<long>(oy * g.sh) - static_cast<long>(g.pad_top);
        for (std::size_t ox = 0; ox < g.ow; ++ox) {
            const std::size_t p = r * g.ow + ox;
            const long ix0 = static_cast<long>(ox * g.sw) - static_cast<long>(g.pad_left);
            for (std::size_t ky = 0; ky < g.kh; ++ky) {
                const long iy = iy0 + static_cast<long>(ky * g.dilation_h);
                if (iy < 0 || iy >= h) continue;
                for (std::size_t kx = 0; kx < g.kw; ++kx) {
                    const long ix = ix0 + static_cast<long>(kx * g.dilation_w);
                    if (ix < 0 || ix >= w) continue;
                    fn(p, (n * g.h + static_cast<std::size_t>(iy)) * g.w + static_cast<std::size_t>(ix), ky * g.kw + kx);
                }
            }
        }
    }
}

}  // namespace

Array depthwise_forward(const float* x, const float* w, const float* bias, const Window2d& g, std::size_t m) {
    const std::size_t c = g.c, cm = g.c * m;
    Array y = uninitialized({g.n, g.oh, g.ow, cm});
    if (y.size() == 0) return y;
    float* out = y.data();
    parallel_for(0, g.n * g.oh, window_rows_per_split(g, m), [=](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo * g.ow; p < hi * g.ow; ++p) {
            if (bias != nullptr) std::copy(bias, bias + cm, out + p * cm);
            else std::fill_n(out + p * cm, cm, 0.0f);
        }
        for_each_tap(g, lo, hi, [=](std::size_t p, std::size_t q, std::size_t tap) {
            float* yp = out + p * cm;
            const float* xq = x + q * c;
            const float* wt = w + tap * cm;
            if (m == 1) {
                for (std::size_t i = 0; i < c; ++i) yp[i] += xq[i] * wt[i];
            } else {
                for (std::size_t i = 0; i < c; ++i)
                    for (std::size_t k = 0; k < m; ++k) yp[i * m + k] += xq[i] * wt[i * m + k];
            }
        });
    });
    return y;
}

Array depthwise_input_grad(const float* dy, const float* w, const Window2d& g, std::size_t m) {
    const std::size_t c = g.c, cm = g.c * m;
    Array dx = xt::zeros<float>({g.n, g.h, g.w, c});
    if (dx.size() == 0 || g.oh * g.ow == 0 || m == 0) return dx;
    float* into = dx.data();
    // Overlapping windows add onto the same pixels, but only within one image: split by images,
    // each image summed in the same order whatever the split.
    parallel_for(0, g.n, window_images_per_split(g, m), [=](std::size_t lo, std::size_t hi) {
        for_each_tap(g, lo * g.oh, hi * g.oh, [=](std::size_t p, std::size_t q, std::size_t tap) {
            const float* dyp = dy + p * cm;
            const float* wt = w + tap * cm;
            float* dxq = into + q * c;
            if (m == 1) {
                for (std::size_t i = 0; i < c; ++i) dxq[i] += dyp[i] * wt[i];
            } else {
                for (std::size_t i = 0; i < c; ++i) {
                    float sum = 0.0f;
                    for (std::size_t k = 0; k < m; ++k) sum += dyp[i * m + k] * wt[i * m + k];
                    dxq[i] += sum;
                }
            }
        });
    });
    return dx;
}

Array depthwise_kernel_grad(const float* x, const float* dy, const Window2d& g, std::size_t m) {
    const std::size_t c = g.c, cm = g.c * m, taps = g.kh * g.kw;
    Array dw = xt::zeros<float>({g.kh, g.kw, c, m});
    if (dw.size() == 0 || g.n * g.oh * g.ow == 0) return dw;
    // A task sums a block of channels over a chunk of the images, in one pass over their pixels
    // that adds every tap's products into the block's sums (in cache), so x and dy are read from
    // memory once. The chunks' sums are then added in chunk order: blocks and chunks depend on the
    // shapes alone, so no thread count changes a bit.
    const std::size_t lanes = std::clamp<std::size_t>(cm / 2, 8, 64);  // output channels per task
    const std::size_t block = std::max<std::size_t>(1, lanes / m);     // input channels per task
    const std::size_t blocks = block_count(c, block);
    const std::size_t per_chunk = block_count(g.n, kDepthwiseImageChunks), chunks = block_count(g.n, per_chunk);
    std::vector<float> partial(chunks * taps * cm, 0.0f);
    float* sums = partial.data();
    parallel_for(0, blocks * chunks, 1, [=](std::size_t lo, std::size_t hi) {
        for (std::size_t task = lo; task < hi; ++task) {
            const std::size_t b = task % blocks, chunk = task / blocks;
            const std::size_t c0 = b * block, c1 = std::min(c, c0 + block);
            const std::size_t first = chunk * per_chunk, last = std::min(g.n, first + per_chunk);
            float* acc = sums + chunk * taps * cm;
            for_each_tap(g, first * g.oh, last * g.oh, [=](std::size_t p, std::size_t q, std::size_t tap) {
                const float* dyp = dy + p * cm + c0 * m;
                const float* xq = x + q * c + c0;
                float* at = acc + tap * cm + c0 * m;
                if (m == 1) {
                    for (std::size_t i = 0; i < c1 - c0; ++i) at[i] += xq[i] * dyp[i];
                } else {
                    for (std::size_t i = 0; i < c1 - c0; ++i)
                        for (std::size_t k = 0; k < m; ++k) at[i * m + k] += xq[i] * dyp[i * m + k];
                }
            });
        }
    });
    float* into = dw.data();
    for (std::size_t chunk = 0; chunk < chunks; ++chunk)
        for (std::size_t i = 0; i < taps * cm; ++i) into[i] += sums[chunk * taps * cm + i];
    return dw;
}

}  // namespace xg
