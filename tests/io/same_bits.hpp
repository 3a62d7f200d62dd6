#pragma once
// Bit-for-bit equality of arrays, for the tests of files that must give back what they were given.
#include <cstring>

#include "xgrad/core/array.hpp"

namespace xg::test {

/// a and b have the same shape and the same bytes (NaN payloads and signed zeros included).
inline bool same_bits(const Array& a, const Array& b) {
    return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace xg::test
