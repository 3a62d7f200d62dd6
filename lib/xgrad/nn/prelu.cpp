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
            std::find(shared_axes_.begin(), shared_axes_.begin() + static_cast<std::ptrdiff_t>(k), axis) !=
                shared_axes_.begin() + static_cast<std::ptrdiff_t>(k)) {
            throw ValueError(fmt::format("PReLU: shared_axes ({}) for input shape {}; expected distinct axes from 1 to {} "
                                         "(axis 0 is the batch)",
                                         fmt::join(shared_axes_, ", "), format_shape(input_shape_), input_shape_.size()));
        }
        alpha_shape[axis - 1] = 1;
    }
    alpha_ = register_parameter("alpha", Tensor(options.alpha_initializer(alpha_shape)));
}

bool PReLU::shared(std::size_t axis) const {
    return std::find(shared_axes_.begin(), shared_axes_.end(), axis + 1) != shared_axes_.end();
}

bool PReLU::fits(std::span<const std::size_t> extents) const {
    if (extents.size() != input_shape_.size()) return false;
    for (std::size_t a = 0; a < extents.size(); ++a) {
        // A shared axis has one slope for all its positions, so any extent.
        if (!shared(a) && extents[a] != input_shape_[a]) return false;
    }
    return true;
}

std::string PReLU::expected_extents() const {
    std::string out;
    for (std::size_t a = 0; a < input_shape_.size(); ++a) {
        out += (a ? ", " : "") + (shared(a) ? std::string("any") : std::to_string(input_shape_[a]));
    }
    return out;
}

Tensor PReLU::forward(const Tensor& x) {
    if (x.rank() == 0 || !fits(std::span(x.shape()).subspan(1))) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, {})", name(), format_shape(x.shape()),
                                     expected_extents()));
    }
    // Keras's form: the positive part plus alpha times the negative part.
    return relu(x) - alpha_ * relu(-x);
}

Shape PReLU::output_shape(const Shape& input_shape) {
    if (!fits(input_shape)) {
        throw ShapeError(fmt::format("{}: input shape {}; expected ({}{})", name(), format_shape(input_shape),
                                     expected_extents(), input_shape_.size() == 1 ? "," : ""));
    }
    return input_shape;
}

std::optional<LayerConfig> PReLU::config() const {
    LayerConfig c{{"input_shape", fmt::format("{}", fmt::join(input_shape_, ","))}};
    if (!shared_axes_.empty()) c["shared_axes"] = fmt::format("{}", fmt::join(shared_axes_, ","));
    return c;
}

}  // namespace xg
