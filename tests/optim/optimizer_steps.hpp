#pragma once
// What the optimizer tests share: one weight vector stepped by an optimizer with gradients given
// step by step, and its values compared with a reference worked out in double.
#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xg::test {

/// Four weights and a different gradient for each of three steps. The last element's gradients
/// are tiny, so that an epsilon of 1e-7 is comparable to the root of their running squares:
/// adding it inside the square root instead of outside would be far off.
inline const std::vector<double> w0 = {0.5, -1.0, 2.0, 0.25};
inline const std::vector<std::vector<double>> grads = {
    {0.1, -0.2, 0.3, 1e-6}, {0.4, 0.1, -0.5, -2e-6}, {-0.3, 0.2, 0.05, 1.5e-6}};

inline Array to_array(const std::vector<double>& v) {
    Array a = uninitialized({v.size()});
    for (std::size_t i = 0; i < v.size(); ++i) a(i) = static_cast<float>(v[i]);
    return a;
}

/// One step of `opt` with gradient g, given through the loss sum(w * g).
inline void step_with(Optimizer& opt, Tensor& w, const std::vector<double>& g) {
    opt.zero_grad();
    sum(w * constant(to_array(g))).backward();
    REQUIRE(w.grad() == to_array(g));
    opt.step();
}

/// w's values against `expected`, element by element to a relative 1e-6.
inline void check_close(const Tensor& w, const std::vector<double>& expected) {
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(w.value()(i) == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

}  // namespace xg::test
