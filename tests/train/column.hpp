#pragma once
// An (n, 1) column of given values, for the tests of losses and metrics.
#include <algorithm>
#include <initializer_list>

#include "xgrad/core/array.hpp"

namespace xg::test {

/// An (n, 1) column: brace lists of one-element rows are ambiguous to xtensor.
inline Array column(std::initializer_list<float> values) {
    Array a = uninitialized({values.size(), 1});
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

}  // namespace xg::test
