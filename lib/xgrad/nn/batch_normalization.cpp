#include "xgrad/nn/batch_normalization.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/feature_input.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

BatchNormalization::BatchNormalization(std::size_t features, BatchNormalizationOptions options)
    : Module("BatchNormalization", std::move(options.name)),
      features_(features),
      momentum_(options.momentum),
      epsilon_(options.epsilon),
      center_(options.center),
      scale_(options.scale) {
    if (features == 0) throw ValueError("BatchNormalization: features is 0; expected at least 1");
    if (!(momentum_ >= 0.0f && momentum_ <= 1.0f)) {
        throw ValueError(fmt::format("BatchNormalization: momentum {}; expected 0 <= momentum <= 1", momentum_));
    }
    if (!(epsilon_ > 0.0f)) throw ValueError(fmt::format("BatchNormalization: epsilon {}; expected > 0", epsilon_));
    // Keras's order of weights: gamma, beta, moving_mean, moving_variance.
    if (options.scale) gamma_ = register_parameter("gamma", Tensor(options.gamma_initializer({features})));
    if (options.center) beta_ = register_parameter("beta", Tensor(options.beta_initializer({features})));
    moving_mean_ = register_buffer("moving_mean", Tensor(options.moving_mean_initializer({features})));
    moving_variance_ = register_buffer("moving_variance", Tensor(options.moving_variance_initializer({features})));
}

std::optional<LayerConfig> BatchNormalization::config() const {
    return LayerConfig{{"features", std::to_string(features_)},
                       {"momentum", fmt::format("{}", momentum_)},
                       {"epsilon", fmt::format("{}", epsilon_)},
                       {"center", center_ ? "true" : "false"},
                       {"scale", scale_ ? "true" : "false"}};
}

Tensor BatchNormalization::forward(const Tensor& x) {
    check_feature_batch(x.shape(), features_, name());
    // Frozen, it runs as in inference even in training mode, as Keras (TF 2) does: fine-tuning a
    // model around a frozen base must not move the base's statistics under its frozen weights.
    // Without scale or center, gamma and beta are a fixed 1 and 0, made for each call rather than kept:
    // what a layer allocates when it is built is then only its saved state, which load_model bounds
    // by the file it reads.
    const Tensor gamma = gamma_.defined() ? gamma_ : constant(xt::ones<float>({features_}));
    const Tensor beta = beta_.defined() ? beta_ : constant(xt::zeros<float>({features_}));
    return batch_norm(x, gamma, beta, moving_mean_, moving_variance_, training() && trainable(), momentum_, epsilon_);
}

Shape BatchNormalization::output_shape(const Shape& input_shape) {
    check_feature_shape(input_shape, features_, name());
    return input_shape;
}

}  // namespace xg
