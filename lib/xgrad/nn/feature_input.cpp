#include "xgrad/nn/feature_input.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "xgrad/core/error.hpp"

namespace xg {

namespace {

// "4, 4, 3" for (4, 4, 3): the trailing extents inside "(batch, ..., 4, 4, 3)".
std::string extents(const Shape& s) { return fmt::format("{}", fmt::join(s, ", ")); }

}  // namespace

void check_feature_batch(const Shape& x, std::size_t features, const std::string& layer) {
    check_trailing_batch(x, {features}, layer);
}

void check_feature_shape(const Shape& input_shape, std::size_t features, const std::string& layer) {
    check_trailing_shape(input_shape, {features}, layer);
}

void check_trailing_batch(const Shape& x, const Shape& trailing, const std::string& layer) {
    if (x.size() < trailing.size() + 1) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, ..., {})", layer, format_shape(x),
                                     extents(trailing)));
    }
    check_trailing_shape(Shape(x.begin() + 1, x.end()), trailing, layer);
}

void check_trailing_shape(const Shape& input_shape, const Shape& trailing, const std::string& layer) {
    if (input_shape.size() < trailing.size() ||
        !std::equal(trailing.begin(), trailing.end(), input_shape.end() - static_cast<long>(trailing.size()))) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (..., {})", layer,
                                     format_shape(input_shape), extents(trailing)));
    }
}

}  // namespace xg
