#pragma once
// The input checks of the layers that act on a fixed number of features on the last axis
// (BatchNormalization, LayerNormalization), or on fixed trailing axes (LayerNormalization of a
// normalized shape).
#include <string>

#include "xgrad/core/array.hpp"

namespace xg {

/// Throws ShapeError naming `layer` unless `x` is (batch, ..., features).
void check_feature_batch(const Shape& x, std::size_t features, const std::string& layer);
/// The same for output_shape's input shape, without the batch axis: (..., features).
void check_feature_shape(const Shape& input_shape, std::size_t features, const std::string& layer);
/// Throws ShapeError naming `layer` unless `x` is (batch, ..., *trailing).
void check_trailing_batch(const Shape& x, const Shape& trailing, const std::string& layer);
/// The same for output_shape's input shape, without the batch axis: (..., *trailing).
void check_trailing_shape(const Shape& input_shape, const Shape& trailing, const std::string& layer);

}  // namespace xg
