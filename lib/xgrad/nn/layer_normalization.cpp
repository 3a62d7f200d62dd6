#include "xgrad/nn/layer_normalization.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/feature_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

LayerNormalization::LayerNormalization(std::size_t features, LayerNormalizationOptions options)
    : LayerNormalization(Shape{features}, std::move(options)) {}

LayerNormalization::LayerNormalization(Shape normalized_shape, LayerNormalizationOptions options)
    : Module("LayerNormalization", std::move(options.name)),
      normalized_shape_(std::move(normalized_shape)),
      epsilon_(options.epsilon),
      center_(options.center),
      scale_(options.scale) {
    if (normalized_shape_.empty() || checked_element_count(normalized_shape_, "LayerNormalization") == 0) {
        throw ValueError(fmt::format("LayerNormalization: normalized shape {}; expected at least one axis, none of "
                                     "extent 0",
                                     format_shape(normalized_shape_)));
    }
    if (!(epsilon_ > 0.0f) || std::isinf(epsilon_)) {
        throw ValueError(fmt::format("LayerNormalization: epsilon {}; expected a finite value > 0", epsilon_));
    }
    // Keras's order of weights: gamma, then beta.
    if (options.scale) gamma_ = register_parameter("gamma", Tensor(options.gamma_initializer(normalized_shape_)));
    if (options.center) beta_ = register_parameter("beta", Tensor(options.beta_initializer(normalized_shape_)));
}

std::optional<LayerConfig> LayerNormalization::config() const {
    LayerConfig c{{"epsilon", fmt::format("{}", epsilon_)},
                  {"center", center_ ? "true" : "false"},
                  {"scale", scale_ ? "true" : "false"}};
    // One axis keeps the setting of the files saved before normalized shapes.
    if (normalized_shape_.size() == 1) {
        c["features"] = std::to_string(normalized_shape_[0]);
    } else {
        c["normalized_shape"] = fmt::format("{}", fmt::join(normalized_shape_, ","));
    }
    return c;
}

Tensor LayerNormalization::forward(const Tensor& x) {
    check_trailing_batch(x.shape(), normalized_shape_, name());
    // Without scale or center, gamma and beta are a fixed 1 and 0, made for each call at the input's
    // size rather than kept: what a layer allocates when it is built is then only its saved state,
    // which load_model bounds by the file it reads.
    const Tensor gamma = gamma_.defined() ? gamma_ : constant(xt::ones<float>(normalized_shape_));
    const Tensor beta = beta_.defined() ? beta_ : constant(xt::zeros<float>(normalized_shape_));
    return layer_norm(x, gamma, beta, -static_cast<long>(normalized_shape_.size()), epsilon_);
}

Shape LayerNormalization::output_shape(const Shape& input_shape) {
    check_trailing_shape(input_shape, normalized_shape_, name());
    return input_shape;
}

}  // namespace xg
