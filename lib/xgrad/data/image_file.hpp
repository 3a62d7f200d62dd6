#pragma once
// One image file as a grayscale (height, width) byte array, the form of an MNIST sample.
#include <string>

#include "xgrad/data/idx.hpp"

namespace xg {

/// A PNG file (any color type or bit depth, read with libpng) as 8-bit gray values of shape
/// (height, width); color is converted to luminance and transparency composited on black.
/// Throws IoError naming the file when it cannot be read or is not a PNG image.
ByteArray read_gray_image(const std::string& path);

}  // namespace xg
