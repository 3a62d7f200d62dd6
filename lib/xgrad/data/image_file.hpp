#pragma once
// One image file as a grayscale (height, width) byte array, the form of an MNIST sample.
#include <string>

#include "xgrad/data/idx.hpp"

namespace xg {

/// A PNG file (any color type or bit depth, read with libpng) or a PGM file (plain or raw, any
/// maxval, read with libnetpbm) as 8-bit gray values of shape (height, width); color is converted
/// to luminance, transparency composited on black, samples scaled to 0..255. Throws IoError naming
/// the file when it cannot be read or is not such an image.
ByteArray read_gray_image(const std::string& path);

}  // namespace xg
