#pragma once
// Random inputs for the op tests: uniform floats drawn from xtensor's global engine (a test that
// needs the same values on every run seeds it, xt::random::seed), and shuffled values without ties.
#include <algorithm>
#include <random>

#include <xtensor/xrandom.hpp>

#include "xgrad/core/array.hpp"

namespace xg::test {

/// `shape` filled from U(low, high).
inline Array uniform(const Shape& shape, float low = -1.0f, float high = 1.0f) {
    return xt::random::rand<float>(shape, low, high);
}

/// -1, -0.9, -0.8, ... shuffled into `shape` by a Mersenne Twister seeded with `seed`: values at
/// least 0.1 apart, so a max or min has no ties, even after gradcheck's perturbation of 0.01.
inline Array distinct(const Shape& shape, unsigned seed) {
    Array a = uninitialized(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = -1.0f + 0.1f * static_cast<float>(i);
    std::shuffle(a.data(), a.data() + a.size(), std::mt19937(seed));
    return a;
}

}  // namespace xg::test
