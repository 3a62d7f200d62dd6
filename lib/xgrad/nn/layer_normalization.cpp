#include "xgrad/nn/layer_normalization.hpp"

#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/feature_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

LayerNormalization::LayerNormalization(std::size_t features, LayerNormalizationOptions options)
    : Module("LayerNormalization", std::move(options.name)),
      features_(features),
      epsilon_(options.epsilon),
      center_(options.center),
      scale_(options.scale) {
    if (features == 0) throw ValueError("LayerNormalization: features is 0; expected at least 1");
    if (!(epsilon_ > 0.0f) || std::isinf(epsilon_)) {
        throw ValueError(fmt::format("LayerNormalization: epsilon {}; expected a finite value > 0", epsilon_));
    }
    // Keras's order of weights: gamma, then beta. Without scale or center they are fixed
    // constants the optimizer never sees.
    gamma_ = options.scale ? register_parameter("gamma", Tensor(options.gamma_initializer({features})))
                           : constant(xt::ones<float>({features}));
    beta_ = options.center ? register_parameter("beta", Tensor(options.beta_initializer({features})))
                           : constant(xt::zeros<float>({features}));
}

std::optional<LayerConfig> LayerNormalization::config() const {
    return LayerConfig{{"features", std::to_string(features_)},
                       {"epsilon", fmt::format("{}", epsilon_)},
                       {"center", center_ ? "true" : "false"},
                       {"scale", scale_ ? "true" : "false"}};
}

Tensor LayerNormalization::forward(const Tensor& x) {
    check_feature_batch(x.shape(), features_, name());
    return layer_norm(x, gamma_, beta_, -1, epsilon_);
}

Shape LayerNormalization::output_shape(const Shape& input_shape) {
    check_feature_shape(input_shape, features_, name());
    return input_shape;
}

}  // namespace xg
