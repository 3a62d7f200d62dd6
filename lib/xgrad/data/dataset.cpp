#include "xgrad/data/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"

namespace xg {
namespace {

Shape without_batch(const Shape& s) { return Shape(s.begin() + 1, s.end()); }

Shape with_batch(std::size_t n, const Shape& sample) {
    Shape s{n};
    s.insert(s.end(), sample.begin(), sample.end());
    return s;
}

}  // namespace

void gather_rows_into(const Array& from, std::span<const std::size_t> rows, Array& out) {
    const Shape target = with_batch(rows.size(), without_batch(from.shape()));
    if (out.shape() != target) out.resize(target);
    const std::size_t width = element_count(without_batch(from.shape()));
    const std::size_t n = from.shape()[0];
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r] >= n) {
            throw ShapeError(fmt::format("gather: row {} is out of range for {}; expected < {}", rows[r],
                                         format_shape(from.shape()), n));
        }
        std::memcpy(out.data() + r * width, from.data() + rows[r] * width, width * sizeof(float));
    }
}

ArrayDataset::ArrayDataset(const Array& x, const Array& y) : x_(x), y_(y) {
    if (x.dimension() == 0 || y.dimension() == 0 || x.shape()[0] != y.shape()[0]) {
        throw ShapeError(fmt::format("ArrayDataset: x has shape {} and y {}; expected the same number of samples "
                                     "along axis 0",
                                     format_shape(x.shape()), format_shape(y.shape())));
    }
}

Shape ArrayDataset::x_shape() const { return without_batch(x_.shape()); }
Shape ArrayDataset::y_shape() const { return without_batch(y_.shape()); }

void ArrayDataset::gather(std::span<const std::size_t> rows, Array& x, Array& y) const {
    gather_rows_into(x_, rows, x);
    gather_rows_into(y_, rows, y);
}

SubsetDataset::SubsetDataset(const Dataset& base, std::size_t begin, std::size_t end)
    : base_(base), begin_(begin), end_(end) {
    if (begin > end || end > base.size()) {
        throw ShapeError(fmt::format("SubsetDataset: range [{}, {}) does not fit {} samples", begin, end, base.size()));
    }
}

void SubsetDataset::gather(std::span<const std::size_t> rows, Array& x, Array& y) const {
    std::vector<std::size_t> shifted(rows.begin(), rows.end());
    for (auto& r : shifted) {
        if (r >= size()) throw ShapeError(fmt::format("SubsetDataset: row {} out of range; expected < {}", r, size()));
        r += begin_;
    }
    base_.gather(shifted, x, y);
}

std::vector<std::size_t> epoch_order(std::size_t n, bool shuffle) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (shuffle) std::shuffle(order.begin(), order.end(), random_engine());
    return order;
}

}  // namespace xg
