#pragma once
// BatchNormalization: normalizes each feature (the last axis) to zero mean and unit variance,
// then scales by gamma and shifts by beta, like keras.layers.BatchNormalization. Training mode
// uses the batch's statistics and updates the moving ones; inference mode uses the moving ones.
#include <optional>
#include <string>

#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct BatchNormalizationOptions {
    /// moving = moving * momentum + batch * (1 - momentum).
    float momentum = 0.99f;
    /// Added to the variance before its square root.
    float epsilon = 1e-3f;
    /// Whether beta (the shift) and gamma (the scale) exist; without them they are 0 and 1.
    bool center = true;
    bool scale = true;
    Initializer beta_initializer = initializers::zeros;
    Initializer gamma_initializer = initializers::ones;
    Initializer moving_mean_initializer = initializers::zeros;
    Initializer moving_variance_initializer = initializers::ones;
    std::string name;  // "" -> batch_normalization_N
};

class BatchNormalization : public Module {
public:
    /// Normalizes `features` channels (the last axis): trainable gamma and beta (features,),
    /// non-trainable moving_mean and moving_variance (features,) as buffers.
    explicit BatchNormalization(std::size_t features, BatchNormalizationOptions options = {});

    /// (n, ..., features) -> the same shape: normalized with the batch's statistics, which move
    /// the moving ones, in training mode; with the moving statistics, left alone, in evaluation
    /// mode or when frozen by set_trainable(false) (as Keras runs a frozen BatchNormalization).
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override;
    /// features, momentum, epsilon, center, scale.
    std::optional<LayerConfig> config() const override;

    /// The trainable scale and shift: gamma() is an empty handle when `scale` is false, beta() when
    /// `center` is false (they are then a fixed 1 and 0).
    const Tensor& gamma() const { return gamma_; }
    const Tensor& beta() const { return beta_; }
    const Tensor& moving_mean() const { return moving_mean_; }
    const Tensor& moving_variance() const { return moving_variance_; }
    std::size_t features() const { return features_; }
    float momentum() const { return momentum_; }
    float epsilon() const { return epsilon_; }

private:
    std::size_t features_;
    float momentum_, epsilon_;
    bool center_, scale_;
    Tensor gamma_, beta_, moving_mean_, moving_variance_;
};

}  // namespace xg
