#include "xgrad/nn/prelu.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

PReLU::PReLU(Shape input_shape, PReLUOptions options)
    : Module("PReLU", std::move(options.name)), input_shape_(std::move(input_shape)), shared_axes_(std::move(options.shared_axes)) {
    if (input_shape_.empty() || checked_element_count(input_shape_, "PReLU") == 0) {
        throw ValueError(fmt::format("PReLU: input shape {}; expected at least one axis, none of extent 0",
                                     format_shape(input_shape_)));
    }
    Shape alpha_shape = input_shape_;
    for (std::size_t k = 0; k < shared_axes_.size(); ++k) {
        const std::size_t axis = shared_axes_[k];
        if (axis < 1 || axis > input_shape_.size() ||
            std::find(shared_axes_.begin(), shared_axes_.begin() + static_cast<long>(k), axis) != shared_axes_.begin() + static_cast<long>(k)) {
            throw ValueError(fmt::format("PReLU: shared_axes ({}) for input shape {}; expected distinct axes from 1 to {} "
                                         "(axis 0 is the batch)",
                                         fmt::join(shared_axes_, ", "), format_shape(input_shape_), input_shape_.size()));
        }
        alpha_shape[axis - 1] = 1;
    }
    alpha_ = register_parameter("alpha", Tensor(options.alpha_initializer(alpha_shape)));
}

Tensor PReLU::forward(const Tensor& x) {
    if (x.rank() != input_shape_.size() + 1 || !std::equal(input_shape_.begin(), input_shape_.end(), x.shape().begin() + 1)) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, {})", name(), format_shape(x.shape()),
                                     fmt::join(input_shape_, ", ")));
    }
    // Keras's form: the positive part plus alpha times the negative part.
    return relu(x) - alpha_ * relu(-x);
}

Shape PReLU::output_shape(const Shape& input_shape) {
    if (input_shape != input_shape_) {
        throw ShapeError(fmt::format("{}: input shape {}; expected {}", name(), format_shape(input_shape),
                                     format_shape(input_shape_)));
    }
    return input_shape;
}

std::optional<LayerConfig> PReLU::config() const {
    LayerConfig c{{"input_shape", fmt::format("{}", fmt::join(input_shape_, ","))}};
    if (!shared_axes_.empty()) c["shared_axes"] = fmt::format("{}", fmt::join(shared_axes_, ","));
    return c;
}

}  // namespace xg
