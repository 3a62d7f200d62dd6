#pragma once
// The copying loops of gather and scatter_add, which embedding_lookup runs too (its ids picking
// rows of a table: one block of `extent` rows of `inner` elements).
#include <algorithm>
#include <cstddef>
#include <vector>

namespace xg::detail {

// gather and scatter_add along one axis: slices indices[0], indices[1], ... of a tensor with
// `extent` slices along the axis, each `inner` elements, `outer` times over.
struct SliceTable {
    std::vector<std::size_t> indices;
    std::size_t extent, inner, outer;

    // to[o, r] = from[o, indices[r]]
    void gather(const float* from, float* to) const {
        if (inner == 0) return;
        for (std::size_t o = 0; o < outer; ++o) {
            const float* block = from + o * extent * inner;
            for (std::size_t i : indices) {
                to = std::copy_n(block + i * inner, inner, to);
            }
        }
    }
    // to[o, indices[r]] += from[o, r]: a slice named twice receives both.
    void scatter_add(const float* from, float* to) const {
        if (inner == 0) return;
        for (std::size_t o = 0; o < outer; ++o) {
            float* block = to + o * extent * inner;
            for (std::size_t i : indices) {
                float* target = block + i * inner;
                for (std::size_t k = 0; k < inner; ++k) target[k] += from[k];
                from += inner;
            }
        }
    }
};

}  // namespace xg::detail
