#pragma once
// Dense: y = activation(x . kernel + bias), like keras.layers.Dense.
#include <optional>
#include <string>

#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct DenseOptions {
    std::string activation = "linear";
    Initializer kernel_initializer = initializers::glorot_uniform;
    Initializer bias_initializer = initializers::zeros;
    bool use_bias = true;
    std::string name;  // "" -> dense_N
};

class Dense : public Module {
public:
    /// units outputs from input_dim inputs: kernel (input_dim, units), bias (units,).
    Dense(std::size_t input_dim, std::size_t units, DenseOptions options = {});
    /// Shorthand: Dense(784, 512, "relu").
    Dense(std::size_t input_dim, std::size_t units, const std::string& activation);

    /// (n, input_dim) -> (n, units); (n, ..., input_dim) -> (n, ..., units), each position on its own.
    Tensor forward(const Tensor& x) override { return forward_with_logits(x).output; }
    Shape output_shape(const Shape& input_shape) override;
    /// True: each step of a sequence is mapped on its own, so its mask passes on (Keras's).
    bool passes_mask() const override { return true; }
    /// input_dim, units, activation, use_bias.
    std::optional<LayerConfig> config() const override;

    const Tensor& kernel() const { return kernel_; }
    const Tensor& bias() const { return bias_; }
    std::size_t input_dim() const { return input_dim_; }
    std::size_t units() const { return units_; }
    /// The activation's name ("linear" for none).
    const std::string& activation() const { return activation_; }

protected:
    /// activation(x . kernel + bias) with the pre-activation values as logits.
    Activated forward_with_logits(const Tensor& x) override;

private:
    std::size_t input_dim_, units_;
    std::string activation_;
    ActivationFn activation_fn_;
    Tensor kernel_, bias_;
};

}  // namespace xg
