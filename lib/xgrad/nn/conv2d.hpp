#pragma once
// Conv2D: y = activation(conv2d(x, kernel) + bias) on channels-last images, like
// keras.layers.Conv2D.
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
    Initializer kernel_initializer = glorot_uniform;
    Initializer bias_initializer = zeros;
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
    Tensor forward(const Tensor& x) override;
    /// (H, W, input_channels) -> (OH, OW, filters)
    Shape output_shape(const Shape& input_shape) override;

    const Tensor& kernel() const { return kernel_; }
    const Tensor& bias() const { return bias_; }
    std::size_t input_channels() const { return input_channels_; }
    std::size_t filters() const { return filters_; }
    Size2 kernel_size() const { return kernel_size_; }
    Size2 strides() const { return strides_; }
    Padding padding() const { return padding_; }
    ActivationKind activation() const { return activation_; }

private:
    void check_input(const Shape& shape_without_batch) const;

    std::size_t input_channels_, filters_;
    Size2 kernel_size_, strides_;
    Padding padding_;
    ActivationKind activation_;
    Tensor kernel_, bias_;
};

}  // namespace xg
