#pragma once
// Conv2D: y = activation(conv2d(x, kernel) + bias) on channels-last images, like
// keras.layers.Conv2D.
#include <optional>
#include <string>

#include "xgrad/core/window.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

struct Conv2DOptions {
    std::string activation = "linear";
    Size2 strides = {1, 1};
    /// "valid" (no padding) or "same" (output size ceil(input / stride)).
    std::string padding = "valid";
    Initializer kernel_initializer = initializers::glorot_uniform;
    Initializer bias_initializer = initializers::zeros;
    bool use_bias = true;
    std::string name;  // "" -> conv2d_N
};

class Conv2D : public Module {
public:
    /// `filters` output channels from `input_channels`: kernel (KH, KW, input_channels, filters), bias (filters,).
    Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, Conv2DOptions options = {});
    /// Shorthand: Conv2D(1, 32, {3, 3}, "relu").
    Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, const std::string& activation);

    /// (n, H, W, input_channels) -> (n, OH, OW, filters)
    Tensor forward(const Tensor& x) override { return forward_with_logits(x).output; }
    /// (H, W, input_channels) -> (OH, OW, filters)
    Shape output_shape(const Shape& input_shape) override;
    /// input_channels, filters, kernel_size, strides, padding, activation, use_bias.
    std::optional<LayerConfig> config() const override;

    const Tensor& kernel() const { return kernel_; }
    const Tensor& bias() const { return bias_; }
    std::size_t input_channels() const { return input_channels_; }
    std::size_t filters() const { return filters_; }
    Size2 kernel_size() const { return kernel_size_; }
    Size2 strides() const { return strides_; }
    Padding padding() const { return padding_; }
    /// The activation's name ("linear" for none).
    const std::string& activation() const { return activation_; }

protected:
    /// activation(conv2d(x, kernel) + bias) with the pre-activation values as logits.
    Activated forward_with_logits(const Tensor& x) override;

private:
    void check_input(const Shape& shape_without_batch) const;

    std::size_t input_channels_, filters_;
    Size2 kernel_size_, strides_;
    Padding padding_;
    std::string activation_;
    ActivationFn activation_fn_;
    Tensor kernel_, bias_;
};

}  // namespace xg
