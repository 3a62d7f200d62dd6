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

Pooling1D::Pooling1D(std::string kind, std::size_t pool_size, Pooling1DOptions options)
    : Module(kind, std::move(options.name)),
      pool_size_(pool_size),
      strides_(options.strides == 0 ? pool_size : options.strides),
      padding_(parse_padding(options.padding, kind.c_str())) {
    if (pool_size == 0) throw ValueError(fmt::format("{}: pool_size 0; expected at least 1", kind));
}

std::optional<LayerConfig> Pooling1D::config() const {
    return LayerConfig{{"pool_size", std::to_string(pool_size_)},
                       {"strides", std::to_string(strides_)},
                       {"padding", std::string(padding_name(padding_))}};
}

std::size_t Pooling1D::output_steps(std::size_t steps) const {
    if (steps == 0) throw ShapeError(fmt::format("{}: an input of 0 steps; expected at least one", name()));
    if (padding_ == Padding::valid && steps < pool_size_) {
        throw ShapeError(fmt::format("{}: an input of {} steps is shorter than pool_size {} with padding 'valid'; "
                                     "expected at least {} steps",
                                     name(), steps, pool_size_, pool_size_));
    }
    return axis_windows(steps, pool_size_, strides_, padding_).count;
}

Tensor Pooling1D::forward(const Tensor& x) {
    if (x.rank() != 3) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, steps, channels)", name(),
                                     format_shape(x.shape())));
    }
    const long n = static_cast<long>(x.shape()[0]), c = static_cast<long>(x.shape()[2]);
    const long steps = static_cast<long>(output_steps(x.shape()[1]));
    const Tensor y = pool_row(reshape(x, {n, 1, static_cast<long>(x.shape()[1]), c}));
    return reshape(y, {n, steps, c});
}

Shape Pooling1D::output_shape(const Shape& input_shape) {
    if (input_shape.size() != 2) {
        throw ShapeError(fmt::format("{}: input shape {} without the batch axis; expected (steps, channels)", name(),
                                     format_shape(input_shape)));
    }
    return {output_steps(input_shape[0]), input_shape[1]};
}

Tensor MaxPooling1D::pool_row(const Tensor& image) const {
    return max_pool2d(image, {1, pool_size()}, {1, strides()}, padding());
}

Tensor AveragePooling1D::pool_row(const Tensor& image) const {
    return avg_pool2d(image, {1, pool_size()}, {1, strides()}, padding());
}

}  // namespace xg
