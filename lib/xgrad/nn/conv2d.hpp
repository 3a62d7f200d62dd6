#pragma once
// Conv2D: y = activation(conv2d(x, kernel) + bias) on channels-last images, like
// keras.layers.Conv2D.
#include <string>

#include "xgrad/nn/convolution.hpp"
#include "xgrad/nn/initializer.hpp"

namespace xg {

struct Conv2DOptions {
    std::string activation = "linear";
    Size2 strides = {1, 1};
    /// How far apart the kernel's taps are: (2, 2) spreads a 3x3 kernel over 5x5 pixels (an atrous
    /// convolution, Keras's dilation_rate); (1, 1) is an ordinary convolution.
    Size2 dilation_rate = {1, 1};
    /// "valid" (no padding) or "same" (output size ceil(input / stride)).
    std::string padding = "valid";
    Initializer kernel_initializer = initializers::glorot_uniform;
    Initializer bias_initializer = initializers::zeros;
    bool use_bias = true;
    std::string name;  // "" -> conv2d_N
};

class Conv2D : public Convolution {
public:
    /// `filters` output channels from `input_channels`: kernel (KH, KW, input_channels, filters), bias (filters,).
    Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, Conv2DOptions options = {});
    /// Shorthand: Conv2D(1, 32, {3, 3}, "relu").
    Conv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size, const std::string& activation);

    const Tensor& kernel() const { return kernel_; }
    std::size_t filters() const { return output_channels(); }

protected:
    /// conv2d(x, kernel) + bias, fused.
    Tensor convolve(const Tensor& x) const override;
    /// filters.
    LayerConfig layer_config() const override;

private:
    Tensor kernel_;
};

}  // namespace xg
