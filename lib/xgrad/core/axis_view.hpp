#pragma once
// An array seen around one of its axes as (outer, extent, inner): element (o, e, i) is at
// (o * extent + e) * inner + i, so one loop over the lines along the axis serves any axis
// (softmax's normalisation, a reduction, a sort along it).
#include <cstddef>

#include "xgrad/core/array.hpp"

namespace xg::detail {

struct AxisView {
    std::size_t outer = 1, extent = 1, inner = 1;
    AxisView(const Shape& s, std::size_t axis) : extent(s[axis]) {
        for (std::size_t i = 0; i < axis; ++i) outer *= s[i];
        for (std::size_t i = axis + 1; i < s.size(); ++i) inner *= s[i];
    }
    /// f(offset of the line's first element, stride between its elements) for each line, in order.
    template <class F>
    void for_each_line(F&& f) const {
        for (std::size_t o = 0; o < outer; ++o) {
            for (std::size_t i = 0; i < inner; ++i) f(o * extent * inner + i, inner);
        }
    }
};

}  // namespace xg::detail
