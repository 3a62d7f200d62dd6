#include "xgrad/nn/pooling.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Pooling2D::Pooling2D(std::string kind, Size2 pool_size, Pooling2DOptions options)
    : Module(kind, std::move(options.name)),
      pool_size_(pool_size),
      strides_(options.strides == Size2{0, 0} ? pool_size : options.strides),
      padding_(parse_padding(options.padding, kind.c_str())) {
    if (pool_size[0] == 0 || pool_size[1] == 0 || strides_[0] == 0 || strides_[1] == 0) {
        throw ValueError(fmt::format("{}: pool_size ({}, {}) and strides ({}, {}); expected every extent > 0", kind,
                                     pool_size[0], pool_size[1], strides_[0], strides_[1]));
    }
}

std::optional<LayerConfig> Pooling2D::config() const {
    return LayerConfig{{"pool_size", fmt::format("{},{}", pool_size_[0], pool_size_[1])},
                       {"strides", fmt::format("{},{}", strides_[0], strides_[1])},
                       {"padding", std::string(padding_name(padding_))}};
}

Tensor Pooling2D::forward(const Tensor& x) {
    if (x.rank() != 4) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, height, width, channels)", name(),
                                     format_shape(x.shape())));
    }
    return pool(x);
}

Shape Pooling2D::output_shape(const Shape& input_shape) {
    if (input_shape.size() != 3) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (height, width, channels)",
                                     name(), format_shape(input_shape)));
    }
    const Window2d g = window_geometry({1, input_shape[0], input_shape[1], input_shape[2]}, pool_size_, strides_,
                                       padding_, name().c_str(), "pool_size");
    return {g.oh, g.ow, input_shape[2]};
}

Tensor MaxPooling2D::pool(const Tensor& x) const { return max_pool2d(x, pool_size(), strides(), padding()); }

Tensor AveragePooling2D::pool(const Tensor& x) const { return avg_pool2d(x, pool_size(), strides(), padding()); }

}  // namespace xg
