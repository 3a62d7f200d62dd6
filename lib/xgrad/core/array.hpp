#pragma once
// The numeric container under every tensor, and the shape arithmetic shared by all ops.
#include <cstddef>
#include <cstdint>
#include <string>

#include <xtensor/xarray.hpp>

#include "xgrad/core/detail/buffer_pool.hpp"

namespace xg {

/// Dense row-major float32 array of any rank (rank 0 is a scalar); its buffer comes from the
/// per-thread pool, so the buffers of one training step are reused by the next.
using Array = xt::xarray<float, xt::layout_type::row_major, detail::PoolAllocator<float>>;
/// A shape: one extent per axis.
using Shape = Array::shape_type;

/// "(128, 784)" for {128, 784}, "()" for a scalar.
std::string format_shape(const Shape& shape);
/// A sample's shape behind Keras's batch axis, as its summaries print it: (784,) -> "(None, 784)",
/// () -> "(None,)".
std::string format_batch_shape(const Shape& sample_shape);

/// Number of elements a shape holds (1 for a scalar).
std::size_t element_count(const Shape& shape);

/// Most elements one array may hold: its size in bytes must fit in a ptrdiff_t.
inline constexpr std::size_t max_array_elements = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(float);

/// element_count(shape), after checking that the extents other than 0 multiply to at most max_array_elements
/// (so that neither the count nor any shape derived from an empty array overflows); throws ShapeError naming `op`.
std::size_t checked_element_count(const Shape& shape, const char* op);

/// Shape of the numpy broadcast of a and b; throws ShapeError naming `op` if they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

/// Sum of `a` along `axis`, kept as extent 1.
Array sum_axis(const Array& a, std::size_t axis);

/// Sums `grad` over the axes that broadcasting added or stretched so that it has `shape`
/// (the reverse of numpy broadcasting); throws ShapeError if `shape` does not broadcast to grad's.
Array sum_to(const Array& grad, const Shape& shape);

/// Normalises a possibly negative axis for an array of `rank`; throws ShapeError naming `op`.
std::size_t normalize_axis(long axis, std::size_t rank, const char* op);

/// Throws ShapeError naming `op` if `axis` of `shape` has extent 0: a softmax, a mean or a max along
/// it has no element to take (numpy and PyTorch make NaN of a mean, and refuse a max).
void check_axis_not_empty(const Shape& shape, std::size_t axis, const char* op);

/// Throws ShapeError naming `op` if `axis` of `shape` holds more than 2^24 elements: past that, some
/// positions along it have no float of their own, and xgrad's indices are floats.
void check_float_indices(const Shape& shape, std::size_t axis, const char* op);

/// An array of `shape` with unspecified contents, for outputs that are fully overwritten.
Array uninitialized(const Shape& shape);

/// A 0-d array holding `value`.
Array scalar_array(float value);

}  // namespace xg
