#pragma once
// SeparableConv2D: a depthwise convolution (each channel with its own filters) followed by a
// pointwise one (1x1, mixing the channels), then bias and activation, like
// keras.layers.SeparableConv2D: the building block of Xception-style convnets, with about
// KH KW C + C F weights where Conv2D has KH KW C F.
#include <string>

#include "xgrad/nn/convolution.hpp"
#include "xgrad/nn/initializer.hpp"

namespace xg {

struct SeparableConv2DOptions {
    std::string activation = "linear";
    /// The depthwise step's strides, dilation and padding; the pointwise step is 1x1 with stride 1.
    Size2 strides = {1, 1};
    /// How far apart the kernel's taps are: (2, 2) spreads a 3x3 kernel over 5x5 pixels (an atrous
    /// convolution, Keras's dilation_rate); (1, 1) is an ordinary convolution.
    Size2 dilation_rate = {1, 1};
    std::string padding = "valid";
    /// Filters per input channel in the depthwise step, M.
    std::size_t depth_multiplier = 1;
    Initializer depthwise_initializer = initializers::glorot_uniform;
    Initializer pointwise_initializer = initializers::glorot_uniform;
    Initializer bias_initializer = initializers::zeros;
    bool use_bias = true;
    std::string name;  // "" -> separable_conv2d_N
};

class SeparableConv2D : public Convolution {
public:
    /// depthwise_kernel (KH, KW, input_channels, M), pointwise_kernel (1, 1, input_channels * M, filters), bias (filters,).
    SeparableConv2D(std::size_t input_channels, std::size_t filters, Size2 kernel_size,
                    SeparableConv2DOptions options = {});

    const Tensor& depthwise_kernel() const { return depthwise_kernel_; }
    const Tensor& pointwise_kernel() const { return pointwise_kernel_; }
    std::size_t filters() const { return output_channels(); }
    std::size_t depth_multiplier() const { return depth_multiplier_; }

protected:
    /// conv2d(depthwise_conv2d(x, depthwise_kernel), pointwise_kernel) + bias.
    Tensor convolve(const Tensor& x) const override;
    /// filters, depth_multiplier.
    LayerConfig layer_config() const override;

private:
    std::size_t depth_multiplier_;
    Tensor depthwise_kernel_, pointwise_kernel_;
};

}  // namespace xg
