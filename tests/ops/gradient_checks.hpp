#pragma once
// What the op tests share to check values and first derivatives: gradcheck of an op of one tensor
// or of several, and an elementwise comparison of arrays.
#include <functional>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"

namespace xg::test {

using Unary = std::function<Tensor(const Tensor&)>;

/// gradcheck of `op` at x.
inline void check_unary(const Unary& op, const Array& x) {
    const auto result = gradcheck([&op](const std::vector<Tensor>& in) { return op(in[0]); }, {x});
    CHECK_MESSAGE(result.passed, result.report());
}

/// gradcheck of f at `inputs`.
template <class F>
void check_gradients(F f, const std::vector<Array>& inputs) {
    const auto result = gradcheck(f, inputs);
    CHECK_MESSAGE(result.passed, result.report());
}

/// actual and expected of the same shape, equal element by element to a relative `epsilon`.
inline void check_close(const Array& actual, const Array& expected, double epsilon = 1e-6) {
    REQUIRE(actual.shape() == expected.shape());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        CHECK(actual.data()[i] == doctest::Approx(expected.data()[i]).epsilon(epsilon));
    }
}

}  // namespace xg::test
