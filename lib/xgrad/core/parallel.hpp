#pragma once
// The library's one parallel loop, on the one pool of threads that also runs the matrix
// products (blas.hpp splits them into parts; OpenBLAS itself runs on one thread). Ranges are
// split only when each piece holds at least `grain` units of work, across num_threads()
// threads (threads.hpp), the caller included, so the threads never outnumber the cores they
// were given. Between loops a worker polls for the next one for a short while and then blocks:
// a training step hands out a loop every few microseconds, faster than a blocked thread wakes.
// Work handed to a loop must touch only its own part of the output: no tape, no allocation
// from the per-thread buffer pool, no shared accumulator. A sum that must not depend on the
// thread count is split into fixed blocks (for_each_block) whose partial results the caller
// combines in block order. A loop started inside another loop's range, or while another
// thread's loop holds the pool, runs on its own thread, so nested loops cannot deadlock.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "xgrad/core/threads.hpp"

namespace xg {

/// Elements of a simple loop (a few flops, a load and a store each) below which a range is not
/// handed to another thread: waking a worker costs more than a smaller range (docs/performance.md).
inline constexpr std::size_t kParallelGrain = std::size_t{1} << 16;

namespace detail {
using RangeFn = void (*)(const void* context, std::size_t lo, std::size_t hi);
void run_parallel(std::size_t begin, std::size_t end, std::size_t grain, const void* context, RangeFn fn);
}  // namespace detail

/// Calls (a copy of) fn(lo, hi) on ranges of at least `grain` covering [begin, end) once, in
/// parallel from 2 * grain; the first range's exception is rethrown once every range has ended.
template <class F>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, const F& fn) {
    static_assert(std::is_invocable_v<const F&, std::size_t, std::size_t>, "parallel_for: fn(lo, hi)");
    detail::run_parallel(begin, end, grain, std::addressof(fn), [](const void* context, std::size_t lo, std::size_t hi) {
        // Called on a local copy: the caller's closure is reached through a pointer, so the
        // compiler would have to assume that every store in the loop may change the values
        // it captured, and would not vectorize. Captures meant to stay fixed are best by value.
        const F local = *static_cast<const F*>(context);
        local(lo, hi);
    });
}

/// fn(block, lo, hi) for the blocks [block * size, min(n, (block + 1) * size)) of [0, n), in
/// parallel: the split depends on n and size alone, never on the threads.
template <class F>
void for_each_block(std::size_t n, std::size_t size, const F& fn) {
    const std::size_t blocks = size == 0 ? 0 : (n + size - 1) / size;
    parallel_for(0, blocks, 1, [&](std::size_t b0, std::size_t b1) {
        for (std::size_t b = b0; b < b1; ++b) fn(b, b * size, b + 1 == blocks ? n : (b + 1) * size);
    });
}

/// Blocks of `size` in [0, n): how many for_each_block makes.
constexpr std::size_t block_count(std::size_t n, std::size_t size) { return size == 0 ? 0 : (n + size - 1) / size; }

/// Rows of a (rows, cols) layout worth one split: about `grain` elements, at least one row.
constexpr std::size_t rows_per_split(std::size_t cols, std::size_t grain = kParallelGrain) {
    return std::max<std::size_t>(1, grain / std::max<std::size_t>(cols, 1));
}

/// The per-column sums of term(r, i) over the rows r of a (rows, cols) layout, accumulated in
/// Acc: blocks of rows_per_split(cols) rows summed apart (in parallel), then added in block
/// order, a split fixed by the shape, so the sums do not depend on the thread count.
template <class Acc, class Term>
std::vector<Acc> column_sums(std::size_t rows, std::size_t cols, const Term& term) {
    const std::size_t block = rows_per_split(cols);
    std::vector<Acc> partial(block_count(rows, block) * cols, Acc{0});
    for_each_block(rows, block, [&](std::size_t b, std::size_t lo, std::size_t hi) {
        Acc* out = partial.data() + b * cols;
        for (std::size_t r = lo; r < hi; ++r) {
            for (std::size_t i = 0; i < cols; ++i) out[i] += term(r, i);
        }
    });
    std::vector<Acc> sums(cols, Acc{0});
    for (std::size_t b = 0; b < block_count(rows, block); ++b) {
        for (std::size_t i = 0; i < cols; ++i) sums[i] += partial[b * cols + i];
    }
    return sums;
}

}  // namespace xg
