#pragma once
// An elementwise comparison of arrays for the autograd tests.
#include <doctest/doctest.h>

#include "xgrad/core/array.hpp"

namespace xg::test {

/// actual and expected of the same shape, equal element by element to a relative `epsilon`.
inline void check_close(const Array& actual, const Array& expected, double epsilon = 1e-5) {
    REQUIRE(actual.shape() == expected.shape());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        CHECK(actual.data()[i] == doctest::Approx(expected.data()[i]).epsilon(epsilon));
    }
}

}  // namespace xg::test
