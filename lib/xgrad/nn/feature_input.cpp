#include "xgrad/nn/feature_input.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

void check_feature_batch(const Shape& x, std::size_t features, const std::string& layer) {
    if (x.size() < 2) {
        throw ShapeError(
            fmt::format("{}: input has shape {}; expected (batch, ..., {})", layer, format_shape(x), features));
    }
    check_feature_shape(Shape(x.begin() + 1, x.end()), features, layer);
}

void check_feature_shape(const Shape& input_shape, std::size_t features, const std::string& layer) {
    if (input_shape.empty() || input_shape.back() != features) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (..., {})", layer,
                                     format_shape(input_shape), features));
    }
}

}  // namespace xg
