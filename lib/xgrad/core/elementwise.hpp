#pragma once
// Elementwise kernels shared by the ops and their gradient rules: a plain loop over the
// contiguous buffers when the shapes agree (the compiler vectorizes it), xtensor's
// broadcasting when they do not. On small tensors the fixed cost of an xtensor expression
// (building and checking its shape, choosing a stepper) dwarfs the arithmetic: a scalar
// expression graph spends most of its time there without these loops.
#include <cstddef>
#include <utility>

#include <xtensor/xmath.hpp>

#include "xgrad/core/array.hpp"

namespace xg {

/// f(x) for every element x of a; same shape as a.
template <class F>
Array map_elements(const Array& a, F f) {
    Array out = uninitialized(a.shape());
    const float* x = a.data();
    float* y = out.data();
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; ++i) y[i] = f(x[i]);
    return out;
}

/// f(x, y) for the elements of a and b, numpy broadcasting (f takes two floats).
template <class F>
Array map_elements(const Array& a, const Array& b, F f) {
    if (a.shape() != b.shape()) return xt::make_lambda_xfunction(std::move(f), a, b);
    Array out = uninitialized(a.shape());
    const float* x = a.data();
    const float* y = b.data();
    float* z = out.data();
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
    return out;
}

/// f(x, y, z) for the elements of a, b and c, numpy broadcasting (f takes three floats).
template <class F>
Array map_elements(const Array& a, const Array& b, const Array& c, F f) {
    if (a.shape() != b.shape() || a.shape() != c.shape()) return xt::make_lambda_xfunction(std::move(f), a, b, c);
    Array out = uninitialized(a.shape());
    const float* x = a.data();
    const float* y = b.data();
    const float* w = c.data();
    float* z = out.data();
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; ++i) z[i] = f(x[i], y[i], w[i]);
    return out;
}

}  // namespace xg
