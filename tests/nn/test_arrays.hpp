#pragma once
// What the layer tests share: reproducible random inputs, an elementwise comparison that names
// the shape first, and the logistic function for the recurrent layers' references.
#include <cmath>
#include <random>

#include <doctest/doctest.h>

#include "xgrad/core/array.hpp"

namespace xg::test {

/// `shape` filled from U(low, high) by a Mersenne Twister seeded with `seed`.
inline Array random_array(const Shape& shape, unsigned seed, float low = -1.0f, float high = 1.0f) {
    std::mt19937 engine(seed);
    std::uniform_real_distribution<float> uniform(low, high);
    Array a = uninitialized(shape);
    for (float& v : a) v = uniform(engine);
    return a;
}

/// a and b of the same shape, equal element by element to a relative 1e-5.
inline void check_close(const Array& a, const Array& b) {
    REQUIRE(a.shape() == b.shape());
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a.data()[i] == doctest::Approx(b.data()[i]).epsilon(1e-5));
}

/// The logistic function, in double.
inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace xg::test
