#include "xgrad/nn/image_input.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

void check_image_batch(const Shape& x, const std::string& layer) {
    if (x.size() != 4 || x[1] == 0 || x[2] == 0) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, height, width, channels) with at least "
                                     "one pixel",
                                     layer, format_shape(x)));
    }
}

void check_image_shape(const Shape& input_shape, const std::string& layer) {
    if (input_shape.size() != 3 || input_shape[0] == 0 || input_shape[1] == 0) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (height, width, channels) "
                                     "with at least one pixel",
                                     layer, format_shape(input_shape)));
    }
}

void check_image_size(std::size_t height, std::size_t width, const char* kind) {
    if (height == 0 || width == 0) {
        throw ValueError(fmt::format("{}: height {} and width {}; expected both >= 1", kind, height, width));
    }
}

}  // namespace xg
