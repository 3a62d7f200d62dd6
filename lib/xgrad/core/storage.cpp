#include "xgrad/core/detail/storage.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg::detail {

const Array& Storage::array() const {
    Array* held = array_.load(std::memory_order_acquire);
    if (held) return *held;
    if (kind_ != Kind::scalar) throw StateError("Storage: read an Array from empty storage; expected a value");
    PooledPtr<Array> built = make_pooled<Array>(scalar_array(scalar_));
    // Two threads reading the same scalar may both build one: the first to publish wins.
    if (array_.compare_exchange_strong(held, built.get(), std::memory_order_acq_rel)) return *built.release();
    return *held;
}

Array& Storage::mutable_array() {
    Array& content = const_cast<Array&>(array());
    kind_ = Kind::array;
    return content;
}

const Shape& Storage::shape() const {
    static const Shape scalar_shape{};
    return is_scalar() ? scalar_shape : array().shape();
}

void Storage::assign(Array value) {
    if (value.dimension() == 0) {
        assign(*value.data());
        return;
    }
    if (kind_ == Kind::array) {
        // Same Array object: references handed out earlier see the new content.
        *array_.load(std::memory_order_relaxed) = std::move(value);
        return;
    }
    reset();
    array_.store(make_pooled<Array>(std::move(value)).release(), std::memory_order_release);
    kind_ = Kind::array;
}

void Storage::add_to_array(float value) {
    Array& content = *array_.load(std::memory_order_relaxed);
    if (kind_ == Kind::scalar) {
        // An inline scalar with an Array handed out: keep the Array in step (references to it stay valid).
        scalar_ += value;
        *content.data() = scalar_;
        return;
    }
    if (content.size() != 1) {
        throw ShapeError(fmt::format("Storage: added a scalar to an array of shape {}; expected one element",
                                     format_shape(content.shape())));
    }
    *content.data() += value;
}

void Storage::release(Array* held) noexcept {
    array_.store(nullptr, std::memory_order_relaxed);
    PoolDelete{}(held);
}

}  // namespace xg::detail
