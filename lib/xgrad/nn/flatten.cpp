#include "xgrad/nn/flatten.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor Flatten::forward(const Tensor& x) {
    if (x.rank() < 1) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, ...)", name(), format_shape(x.shape())));
    }
    if (x.rank() == 2) return x;
    const Shape& s = x.shape();
    const std::size_t features = element_count(Shape(s.begin() + 1, s.end()));
    return reshape(x, {static_cast<long>(s[0]), static_cast<long>(features)});
}

Shape Flatten::output_shape(const Shape& input_shape) { return {element_count(input_shape)}; }

}  // namespace xg
