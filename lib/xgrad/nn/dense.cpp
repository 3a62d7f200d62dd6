#include "xgrad/nn/dense.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Dense::Dense(std::size_t input_dim, std::size_t units, DenseOptions options)
    : Module("Dense", std::move(options.name)),
      input_dim_(input_dim),
      units_(units),
      activation_(options.activation.empty() ? "linear" : options.activation),
      activation_fn_(activation_by_name(options.activation)) {
    if (input_dim == 0 || units == 0) {
        throw ValueError(fmt::format("Dense: input_dim {} and units {}; expected both > 0", input_dim, units));
    }
    kernel_ = register_parameter("kernel", Tensor(options.kernel_initializer({input_dim, units})));
    if (options.use_bias) bias_ = register_parameter("bias", Tensor(options.bias_initializer({units})));
}

Dense::Dense(std::size_t input_dim, std::size_t units, const std::string& activation)
    : Dense(input_dim, units, DenseOptions{.activation = activation}) {}

Activated Dense::forward_with_logits(const Tensor& x) {
    if (x.rank() < 2 || x.shape().back() != input_dim_) {
        throw ShapeError(fmt::format("{}: input has shape {}; expected (batch, {}) or (batch, ..., {})", name(),
                                     format_shape(x.shape()), input_dim_, input_dim_));
    }
    // A longer input (a sequence's steps) maps its last axis, each position a row, as Keras's
    // Dense: one product over all rows, the bias added after it (exported as MatMul and Add,
    // which take any batch and steps); a matrix takes the fused op.
    Tensor z;
    if (!bias_.defined()) {
        z = matmul(x, kernel_);
    } else if (x.rank() == 2) {
        z = linear(x, kernel_, bias_);
    } else {
        z = matmul(x, kernel_) + bias_;
    }
    return {activation_fn_(z), z, activation_};
}

std::optional<LayerConfig> Dense::config() const {
    return LayerConfig{{"input_dim", std::to_string(input_dim_)},
                       {"units", std::to_string(units_)},
                       {"activation", activation_},
                       {"use_bias", bias_.defined() ? "true" : "false"}};
}

Shape Dense::output_shape(const Shape& input_shape) {
    if (input_shape.empty() || input_shape.back() != input_dim_) {
        throw ShapeError(fmt::format("{}: input shape {}; expected ({},) or (..., {})", name(), format_shape(input_shape),
                                     input_dim_, input_dim_));
    }
    Shape out = input_shape;
    out.back() = units_;
    return out;
}

}  // namespace xg
