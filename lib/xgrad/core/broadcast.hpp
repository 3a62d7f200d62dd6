#pragma once
// How an elementwise kernel walks arrays that broadcast together (numpy's rules): the output as
// rows, along which each operand either runs (its next element is the next one in memory) or
// holds one value. Axes along which every operand moves alike are merged first, so that
// (128, 512) + (512,) is 128 rows of 512, (4, 512, 512) * () a single row of a million, and
// (64, 1) * (1, 64) 64 rows of 64 in which the first operand holds and the second runs. Rows
// that would be shorter than kShortestRow (three channels last) are widened by the next axis:
// (64, 26, 26, 3) + (3,) is one row of 129,792 along which the (3,) operand cycles, and
// (5, 1) * (5, 3) one row of 15 along which the column repeats each value three times.
#include <cstddef>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xg::detail {

/// Rows shorter than this are widened by the axis outside them (see above).
inline constexpr std::size_t kShortestRow = 8;

/// How an operand moves along a row.
enum class Along : unsigned char {
    runs,     // its next element is the next in memory
    holds,    // one value for the whole row
    cycles,   // through `period` values in memory, then from the first again
    repeats,  // each value in memory `period` times, then the next
};

/// The walk of an output of `shape` over operands of the shapes given to broadcast_walk.
struct BroadcastWalk {
    Shape shape;                 // the output's: the broadcast of all operands
    // Elements per row: the merged innermost axes (1 for a scalar output). An empty output may have
    // rows of 0 elements, or outer axes of 0: it has nothing to walk, and must not be walked.
    std::size_t row_length = 1;
    Shape outer;                 // the merged axes outside a row, outermost first (empty for one row)
    // strides[k][a]: how far operand k moves, in elements, for one step along outer axis a.
    std::vector<std::vector<std::size_t>> strides;
    std::vector<Along> along;  // along[k]: how operand k moves along a row
    std::size_t period = 1;    // of the operands that cycle or repeat
    /// Elements of the output.
    std::size_t size() const { return element_count(shape); }
};

/// The walk for operands of `shapes`; throws ShapeError naming `op` and every shape if they do not broadcast.
BroadcastWalk broadcast_walk(const std::vector<Shape>& shapes, const char* op);

}  // namespace xg::detail
