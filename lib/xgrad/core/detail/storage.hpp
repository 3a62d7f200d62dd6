#pragma once
// Storage: where a node keeps its value or its gradient. A 0-d value (one float, the whole
// content of a micrograd-style scalar graph) is held inline; anything else is an Array.
//
// Why: an xt::xarray costs several hundred instructions to build and destroy (shape, strides,
// a pooled buffer), twenty times the arithmetic of a scalar op. Scalar ops read and write the
// inline float; an Array for it is built only when something asks for one (an op without a
// scalar path, a user reading value()), and then kept alongside it.
#include <atomic>
#include <cstdint>

#include "xgrad/core/array.hpp"

// The engine's, not the API's: users see a Tensor's value and gradient, never how they are held.
namespace xg::detail {

class Storage {
public:
    /// Holds nothing (a gradient not yet computed).
    Storage() noexcept = default;
    /// Holds `value` as a 0-d value inline.
    explicit Storage(float value) noexcept : kind_(Kind::scalar), scalar_(value) {}
    ~Storage() { reset(); }
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    bool empty() const noexcept { return kind_ == Kind::empty; }
    /// Whether the content is one inline float (a 0-d array that has not been asked to change).
    bool is_scalar() const noexcept { return kind_ == Kind::scalar; }
    /// The inline float; only when is_scalar().
    float scalar() const noexcept { return scalar_; }
    /// The content as an Array; throws StateError when empty.
    /// An inline scalar's Array is built on the first call and kept, in step with the float.
    const Array& array() const;
    /// The content as an Array that may be changed: from now on the Array is the only copy.
    Array& mutable_array();
    /// The content's shape; () for an inline scalar.
    const Shape& shape() const;
    /// The content's element count.
    std::size_t size() const { return is_scalar() ? 1 : array().size(); }

    /// Changes an inline scalar to `value` in place (an Array handed out for it follows).
    void set_scalar(float value) noexcept {
        scalar_ = value;
        if (Array* held = array_.load(std::memory_order_relaxed)) *held->data() = value;
    }
    /// Replaces the content with a 0-d value held inline.
    void assign(float value) noexcept {
        reset();
        kind_ = Kind::scalar;
        scalar_ = value;
    }
    /// Replaces the content with `value`; a 0-d Array is kept as an inline float.
    void assign(Array value);
    /// Adds `value` to a content of one element (takes it as the content when empty); throws
    /// ShapeError for an Array of another size.
    void add(float value) {
        // The scalar graph's case inline: an empty or inline content with no Array built for it.
        if (kind_ != Kind::array && array_.load(std::memory_order_relaxed) == nullptr) {
            scalar_ = kind_ == Kind::empty ? value : scalar_ + value;
            kind_ = Kind::scalar;
            return;
        }
        add_to_array(value);
    }
    /// Drops the content.
    void reset() noexcept {
        // A plain load, not an exchange: changing storage is not safe alongside readers anyway,
        // so a locked instruction on every node's destruction would buy nothing.
        if (Array* held = array_.load(std::memory_order_relaxed)) release(held);
        kind_ = Kind::empty;
    }

private:
    void release(Array* held) noexcept;
    void add_to_array(float value);

    enum class Kind : std::uint8_t { empty, scalar, array };
    Kind kind_ = Kind::empty;
    float scalar_ = 0.0f;
    // For Kind::array, the content; for Kind::scalar, its Array once one was asked for (built
    // under a const read, so concurrent readers agree on one through the atomic).
    mutable std::atomic<Array*> array_{nullptr};
};

}  // namespace xg::detail
