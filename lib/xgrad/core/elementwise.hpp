#pragma once
// Elementwise kernels shared by the ops and their gradient rules: a plain loop over the
// contiguous buffers when the shapes agree (the compiler vectorizes it), and when they broadcast,
// the same loop along each row of the output (broadcast.hpp), an operand that does not run along
// the row (holds, cycles, repeats) read from a short run of its values laid out. xtensor's broadcasting steps an index per element
// through a function it cannot vectorize, several times slower; on small tensors the fixed cost
// of its expressions (building and checking a shape, choosing a stepper) dwarfs the arithmetic.
// Large arrays are split between threads (the functions are pure, so the result is the same for
// any split).
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include <xtensor/xmath.hpp>

#include "xgrad/core/array.hpp"
#include "xgrad/core/broadcast.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {

namespace detail {
// out[i] = f(a[i], rest[i]...) over arrays of one shape: contiguous buffers, one plain loop.
template <class F, class... Rest>
Array map_same_shape(const F& f, const Array& a, const Rest&... rest) {
    Array out = uninitialized(a.shape());
    float* z = out.data();
    const std::size_t n = a.size();
    if (n < 2 * kParallelGrain) {
        for (std::size_t i = 0; i < n; ++i) z[i] = f(a.data()[i], rest.data()[i]...);
        return out;
    }
    parallel_for(0, n, kParallelGrain, [&](std::size_t lo, std::size_t hi) {
        // A local copy of f: stores to z could otherwise alias the floats f captured.
        const F fn = f;
        float* out = z;
        for (std::size_t i = lo; i < hi; ++i) out[i] = fn(a.data()[i], rest.data()[i]...);
    });
    return out;
}
// Values of an operand that does not run, laid out for one stretch of a row: 1 KiB per operand,
// on the stack.
inline constexpr std::size_t kHeldCopies = 256;

// The values operand k (at `from`) takes at columns [c, c + n) of a row, into `to`.
inline void lay_out(Along along, std::size_t period, const float* from, std::size_t c, std::size_t n, float* to) {
    if (along == Along::holds) {
        std::fill_n(to, n, from[0]);
        return;
    }
    std::size_t value = along == Along::repeats ? c / period : c % period;
    std::size_t count = along == Along::repeats ? c % period : 0;
    for (std::size_t i = 0; i < n; ++i) {
        to[i] = from[value];
        if (along == Along::cycles) {
            if (++value == period) value = 0;
        } else if (++count == period) {
            count = 0;
            ++value;
        }
    }
}

// z[i] = f(p[0][i], p[1][i], ...) for i < n.
template <class F, std::size_t N, std::size_t... I>
void map_stretch(const F& f, float* z, std::size_t n, const std::array<const float*, N>& p,
                 std::index_sequence<I...>) {
    // Local copies: stores to z could otherwise alias what f captured and the pointers.
    const F fn = f;
    const std::array<const float*, N> q = p;
    for (std::size_t i = 0; i < n; ++i) z[i] = fn(q[I][i]...);
}

// Output elements [lo, hi) of the walk w over the operands at `base`, into z.
template <class F, std::size_t N>
void map_walk_range(const F& f, const BroadcastWalk& w, const std::array<const float*, N>& base, float* z,
                    std::size_t lo, std::size_t hi) {
    const std::size_t length = w.row_length;
    const std::size_t axes = w.outer.size();
    // The row lo falls in, as an index along each outer axis, and each operand's offset there.
    std::vector<std::size_t> index(axes, 0);
    std::array<std::size_t, N> offset{};
    for (std::size_t a = axes, row = lo / length; a-- > 0;) {
        index[a] = row % w.outer[a];
        row /= w.outer[a];
        for (std::size_t k = 0; k < N; ++k) offset[k] += index[a] * w.strides[k][a];
    }
    alignas(64) float held[N][kHeldCopies];
    std::size_t column = lo % length;
    while (lo < hi) {
        const std::size_t end = std::min(length, column + (hi - lo));
        // A held value is laid out once a row; cycling and repeating ones change along it.
        for (std::size_t k = 0; k < N; ++k) {
            if (w.along[k] == Along::holds) {
                lay_out(Along::holds, 1, base[k] + offset[k], 0, std::min(kHeldCopies, end - column), held[k]);
            }
        }
        for (std::size_t c = column; c < end; c += kHeldCopies) {
            const std::size_t n = std::min(kHeldCopies, end - c);
            std::array<const float*, N> p;
            for (std::size_t k = 0; k < N; ++k) {
                if (w.along[k] == Along::runs) {
                    p[k] = base[k] + offset[k] + c;
                    continue;
                }
                if (w.along[k] != Along::holds) lay_out(w.along[k], w.period, base[k] + offset[k], c, n, held[k]);
                p[k] = held[k];
            }
            map_stretch(f, z + lo + (c - column), n, p, std::make_index_sequence<N>{});
        }
        lo += end - column;
        column = 0;
        // The next row: the odometer over the outer axes.
        for (std::size_t a = axes; a-- > 0;) {
            for (std::size_t k = 0; k < N; ++k) offset[k] += w.strides[k][a];
            if (++index[a] < w.outer[a]) break;
            for (std::size_t k = 0; k < N; ++k) offset[k] -= w.outer[a] * w.strides[k][a];
            index[a] = 0;
        }
    }
}

// f over arrays that broadcast together: the plain loop when all shapes agree, else along the rows
// of the broadcast.
template <class F, class... Rest>
Array map_broadcast(F f, const Array& a, const Rest&... rest) {
    if (!((a.shape() != rest.shape()) || ...)) return map_same_shape(f, a, rest...);
    const BroadcastWalk w = broadcast_walk({a.shape(), rest.shape()...}, "map_elements");
    if (w.row_length < kShortestRow) return xt::make_lambda_xfunction(std::move(f), a, rest...);
    Array out = uninitialized(w.shape);
    const std::size_t n = w.size();
    const std::array<const float*, 1 + sizeof...(Rest)> base{a.data(), rest.data()...};
    float* z = out.data();
    if (n == 0) return out;
    if (n < 2 * kParallelGrain) {
        map_walk_range(f, w, base, z, 0, n);
    } else {
        parallel_for(0, n, kParallelGrain, [&](std::size_t lo, std::size_t hi) { map_walk_range(f, w, base, z, lo, hi); });
    }
    return out;
}
}  // namespace detail

/// f(x) for every element x of a; same shape as a.
template <class F>
Array map_elements(const Array& a, F f) {
    return detail::map_same_shape(f, a);
}

/// f(x, y) for the elements of a and b, numpy broadcasting (f takes two floats).
template <class F>
Array map_elements(const Array& a, const Array& b, F f) {
    return detail::map_broadcast(std::move(f), a, b);
}

/// f(x, y, z) for the elements of a, b and c, numpy broadcasting (f takes three floats).
template <class F>
Array map_elements(const Array& a, const Array& b, const Array& c, F f) {
    return detail::map_broadcast(std::move(f), a, b, c);
}

/// f(w, x, y, z) for the elements of a, b, c and d, numpy broadcasting (f takes four floats).
template <class F>
Array map_elements(const Array& a, const Array& b, const Array& c, const Array& d, F f) {
    return detail::map_broadcast(std::move(f), a, b, c, d);
}

}  // namespace xg
