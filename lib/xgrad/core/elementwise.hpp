#pragma once
// Elementwise kernels shared by the ops and their gradient rules: a plain loop over the
// contiguous buffers when the shapes agree (the compiler vectorizes it), xtensor's
// broadcasting when they do not. On small tensors the fixed cost of an xtensor expression
// (building and checking its shape, choosing a stepper) dwarfs the arithmetic: a scalar
// expression graph spends most of its time there without these loops. Large arrays are split
// between threads (the functions are pure, so the result is the same for any split).
#include <cstddef>
#include <utility>

#include <xtensor/xmath.hpp>

#include "xgrad/core/array.hpp"
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
// f over arrays that broadcast together: the plain loop when all shapes agree.
template <class F, class... Rest>
Array map_broadcast(F f, const Array& a, const Rest&... rest) {
    if (((a.shape() != rest.shape()) || ...)) return xt::make_lambda_xfunction(std::move(f), a, rest...);
    return map_same_shape(f, a, rest...);
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
