#pragma once
// Dataset: a sized collection of (x, y) samples that training reads in batches.
// Implementations copy the requested rows into caller-owned arrays, so one pair of
// batch buffers serves a whole run.
#include <cstddef>
#include <span>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xg {

class Dataset {
public:
    virtual ~Dataset() = default;
    /// Number of samples.
    virtual std::size_t size() const = 0;
    /// Shape of one sample's x and y (without the batch axis).
    virtual Shape x_shape() const = 0;
    virtual Shape y_shape() const = 0;
    /// Writes samples rows[0], rows[1], ... into x (rows.size(), x_shape...) and y likewise,
    /// resizing them only when their shapes differ (their memory is reused otherwise).
    virtual void gather(std::span<const std::size_t> rows, Array& x, Array& y) const = 0;
};

/// A Dataset over two arrays with the same first extent; it refers to them (they must outlive it).
class ArrayDataset : public Dataset {
public:
    /// Throws ShapeError if x and y have no axes or different first extents.
    ArrayDataset(const Array& x, const Array& y);
    // A temporary would be gone before the first gather: refused where it is written. The
    // const&& overloads catch const temporaries (a function returning const Array) as well.
    ArrayDataset(const Array&&, const Array&) = delete;
    ArrayDataset(const Array&, const Array&&) = delete;
    ArrayDataset(const Array&&, const Array&&) = delete;
    std::size_t size() const override { return x_.shape()[0]; }
    Shape x_shape() const override;
    Shape y_shape() const override;
    void gather(std::span<const std::size_t> rows, Array& x, Array& y) const override;

private:
    const Array& x_;
    const Array& y_;
};

/// Samples [begin, end) of another dataset (which must outlive it), e.g. a validation split.
class SubsetDataset : public Dataset {
public:
    SubsetDataset(const Dataset& base, std::size_t begin, std::size_t end);
    SubsetDataset(const Dataset&&, std::size_t, std::size_t) = delete;  // a temporary base: refused, as ArrayDataset's
    std::size_t size() const override { return end_ - begin_; }
    Shape x_shape() const override { return base_.x_shape(); }
    Shape y_shape() const override { return base_.y_shape(); }
    void gather(std::span<const std::size_t> rows, Array& x, Array& y) const override;

private:
    const Dataset& base_;
    std::size_t begin_, end_;
};

/// The sample order for one epoch: 0..n-1, shuffled with xg::random_engine() when asked.
std::vector<std::size_t> epoch_order(std::size_t n, bool shuffle);

/// Copies rows of a (n, ...) float array into out (rows.size(), ...), reusing out's memory.
void gather_rows_into(const Array& from, std::span<const std::size_t> rows, Array& out);

}  // namespace xg
