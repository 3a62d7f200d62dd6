#include "xgrad/data/image_file.hpp"

#include <png.h>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

ByteArray read_gray_image(const std::string& path) {
    // libpng's simplified API: it validates the file and converts any PNG to 8-bit gray.
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_file(&image, path.c_str()) == 0) {
        const std::string why = image.message;
        png_image_free(&image);
        throw IoError(fmt::format("read_gray_image: {}: cannot read it as a PNG image ({}); expected a PNG file", path, why));
    }
    image.format = PNG_FORMAT_GRAY;
    // A bound well above any digit image keeps a hostile header from asking for gigabytes.
    constexpr png_uint_32 max_side = 1 << 14;
    if (image.width == 0 || image.height == 0 || image.width > max_side || image.height > max_side) {
        const auto w = image.width, h = image.height;
        png_image_free(&image);
        throw IoError(fmt::format("read_gray_image: {}: image is {}x{}; expected sides from 1 to {}", path, w, h, max_side));
    }
    ByteArray out = ByteArray::from_shape({image.height, image.width});
    // Transparent pixels are composited on black, MNIST's background.
    png_color background{0, 0, 0};
    if (png_image_finish_read(&image, &background, out.data(), 0, nullptr) == 0) {
        const std::string why = image.message;
        png_image_free(&image);
        throw IoError(fmt::format("read_gray_image: {}: the PNG data is damaged ({}); expected a complete PNG file", path, why));
    }
    return out;
}

}  // namespace xg
