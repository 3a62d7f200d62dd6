#pragma once
// The input checks of the layers that take batches of channels-last images and need at least
// one pixel of each (global pooling, the image preprocessing layers), and of their target sizes.
#include <string>

#include "xgrad/core/array.hpp"

namespace xg {

/// Throws ShapeError naming `layer` unless `x` is (batch, height, width, channels) with height and width >= 1.
void check_image_batch(const Shape& x, const std::string& layer);
/// The same for output_shape's input shape, without the batch axis: (height, width, channels).
void check_image_shape(const Shape& input_shape, const std::string& layer);
/// Throws ValueError naming `kind` unless a target size's height and width are >= 1.
void check_image_size(std::size_t height, std::size_t width, const char* kind);

}  // namespace xg
