#pragma once
// LayerNormalization: normalizes each example's features (the last axis, or the trailing axes of a
// normalized shape) to zero mean and unit variance, then scales by gamma and shifts by beta, like
// keras.layers.LayerNormalization (axis -1, or a list of the last axes such as [1, 2, 3]) and
// torch.nn.LayerNorm(normalized_shape). Its statistics are the example's own, so training and
// inference compute the same and there is no state besides gamma and beta (the normalization
// transformers use).
#include <optional>
#include <string>

#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct LayerNormalizationOptions {
    /// Added to the variance before its square root.
    float epsilon = 1e-3f;
    /// Whether beta (the shift) and gamma (the scale) exist; without them they are 0 and 1.
    bool center = true;
    bool scale = true;
    Initializer beta_initializer = initializers::zeros;
    Initializer gamma_initializer = initializers::ones;
    std::string name;  // "" -> layer_normalization_N
};

class LayerNormalization : public Module {
public:
    /// Normalizes `features` values (the last axis) of each example: trainable gamma and beta
    /// (features,).
    explicit LayerNormalization(std::size_t features, LayerNormalizationOptions options = {});
    /// Normalizes the trailing axes of this shape together, e.g. (h, w, c) for each whole image:
    /// gamma and beta of that shape.
    explicit LayerNormalization(Shape normalized_shape, LayerNormalizationOptions options = {});

    /// (n, ..., *normalized_shape) -> the same shape, each normalized_shape block normalized by its
    /// own mean and variance.
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override;
    /// normalized_shape (features when it is one axis), epsilon, center, scale.
    std::optional<LayerConfig> config() const override;

    /// The trainable scale and shift: gamma() is an empty handle when `scale` is false, beta() when
    /// `center` is false (they are then a fixed 1 and 0).
    const Tensor& gamma() const { return gamma_; }
    const Tensor& beta() const { return beta_; }
    const Shape& normalized_shape() const { return normalized_shape_; }
    /// True when it normalizes the last axis alone (each step's features on their own).
    bool passes_mask() const override { return normalized_shape_.size() == 1; }
    /// The last normalized axis's extent: the features of a one-axis layer.
    std::size_t features() const { return normalized_shape_.back(); }
    float epsilon() const { return epsilon_; }

private:
    Shape normalized_shape_;
    float epsilon_;
    bool center_, scale_;
    Tensor gamma_, beta_;
};

}  // namespace xg
