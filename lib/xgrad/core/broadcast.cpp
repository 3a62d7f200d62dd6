#include "xgrad/core/broadcast.hpp"

#include <string>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg::detail {

BroadcastWalk broadcast_walk(const std::vector<Shape>& shapes, const char* op) {
    BroadcastWalk w;
    if (!shapes.empty()) w.shape = shapes.front();
    try {
        for (std::size_t k = 1; k < shapes.size(); ++k) w.shape = broadcast_shapes(w.shape, shapes[k], op);
    } catch (const ShapeError&) {
        std::vector<std::string> all;
        for (const Shape& s : shapes) all.push_back(format_shape(s));
        throw ShapeError(fmt::format("{}: shapes {} do not broadcast together; expected each axis, counted from the "
                                     "last, to be 1 or one common extent",
                                     op, fmt::join(all, ", ")));
    }
    const std::size_t rank = w.shape.size();
    const std::size_t n = shapes.size();
    // Each operand's stride along each output axis: 0 where it is broadcast (extent 1 or absent).
    std::vector<std::vector<std::size_t>> stride(n, std::vector<std::size_t>(rank, 0));
    for (std::size_t k = 0; k < n; ++k) {
        const Shape& s = shapes[k];
        std::size_t step = 1;
        for (std::size_t i = s.size(); i-- > 0;) {
            const std::size_t a = rank - s.size() + i;
            if (s[i] != 1) stride[k][a] = step;
            step *= s[i];
        }
    }
    // Merged axes, innermost first: an axis joins the one inside it when every operand's stride
    // along it is the inner one's times the inner extent (all run on, or all that held still hold).
    std::vector<std::size_t> extent;
    std::vector<std::vector<std::size_t>> merged(n);
    for (std::size_t a = rank; a-- > 0;) {
        if (w.shape[a] == 1) continue;
        bool joins = !extent.empty();
        for (std::size_t k = 0; k < n && joins; ++k) joins = stride[k][a] == merged[k].back() * extent.back();
        if (joins) {
            extent.back() *= w.shape[a];
            continue;
        }
        extent.push_back(w.shape[a]);
        for (std::size_t k = 0; k < n; ++k) merged[k].push_back(stride[k][a]);
    }
    w.along.assign(n, Along::holds);
    w.strides.assign(n, {});
    if (extent.empty()) return w;  // every extent is 1: one row of one element
    for (std::size_t k = 0; k < n; ++k) w.along[k] = merged[k].front() != 0 ? Along::runs : Along::holds;
    // A short row takes in the axis outside it. Along the wider row an operand that ran on across
    // that axis still runs; one that ran and started over cycles; one that held and moved on by one
    // value repeats; one that held still holds. (Those are the only patterns: a row is whole axes.)
    if (extent.size() >= 2 && extent[0] > 0 && extent[0] < kShortestRow) {
        const std::size_t length = extent[0];
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t across = merged[k][1];
            const bool ran = w.along[k] == Along::runs;
            w.along[k] = ran ? (across == 0 ? Along::cycles : Along::runs) : (across == 0 ? Along::holds : Along::repeats);
            merged[k].erase(merged[k].begin());
            merged[k].front() = w.along[k] == Along::runs ? 1 : 0;
        }
        w.period = length;
        extent[1] *= length;
        extent.erase(extent.begin());
    }
    w.row_length = extent.front();
    for (std::size_t k = 0; k < n; ++k) w.strides[k].assign(merged[k].rbegin(), merged[k].rend() - 1);
    w.outer.assign(extent.rbegin(), extent.rend() - 1);
    return w;
}

}  // namespace xg::detail
