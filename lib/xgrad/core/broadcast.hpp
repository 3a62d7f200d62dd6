#pragma once
// How an elementwise kernel walks arrays that broadcast together (numpy's rules): the output as
// rows, along which each operand either runs (its next element is the next one in memory) or
// holds one value. Axes along which every operand moves alike are merged first, so that
// (128, 512) + (512,) is 128 rows of 512, (4, 512, 512) * () a single row of a million, and
// (64, 1) * (1, 64) 64 rows of 64 in which the first operand holds and the second runs.
#include <cstddef>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xg::detail {

/// The walk of an output of `shape` over operands of the shapes given to broadcast_walk.
struct BroadcastWalk {
    Shape shape;                 // the output's: the broadcast of all operands
    // Elements per row: the merged innermost axes (1 for a scalar output). An empty output may have
    // rows of 0 elements, or outer axes of 0: it has nothing to walk, and must not be walked.
    std::size_t row_length = 1;
    Shape outer;                 // the merged axes outside a row, outermost first (empty for one row)
    // strides[k][a]: how far operand k moves, in elements, for one step along outer axis a.
    std::vector<std::vector<std::size_t>> strides;
    std::vector<bool> runs;  // runs[k]: operand k steps by one element along a row; else it holds
    /// Elements of the output.
    std::size_t size() const { return element_count(shape); }
};

/// The walk for operands of `shapes`; throws ShapeError naming `op` and every shape if they do not broadcast.
BroadcastWalk broadcast_walk(const std::vector<Shape>& shapes, const char* op);

}  // namespace xg::detail
