#pragma once
// DepthwiseConv2D: y = activation(depthwise_conv2d(x, depthwise_kernel) + bias) on channels-last
// images, like keras.layers.DepthwiseConv2D: each input channel convolved with its own
// depth_multiplier filters, no sum over channels (KH KW C M weights against Conv2D's KH KW C F).
#include <string>

#include "xgrad/nn/convolution.hpp"
#include "xgrad/nn/initializer.hpp"

namespace xg {

struct DepthwiseConv2DOptions {
    std::string activation = "linear";
    Size2 strides = {1, 1};
    /// How far apart the kernel's taps are: (2, 2) spreads a 3x3 kernel over 5x5 pixels (an atrous
    /// convolution, Keras's dilation_rate); (1, 1) is an ordinary convolution.
    Size2 dilation_rate = {1, 1};
    /// "valid" (no padding) or "same" (output size ceil(input / stride)).
    std::string padding = "valid";
    /// Filters per input channel, M: the output has input_channels * M channels.
    std::size_t depth_multiplier = 1;
    Initializer depthwise_initializer = initializers::glorot_uniform;
    Initializer bias_initializer = initializers::zeros;
    bool use_bias = true;
    std::string name;  // "" -> depthwise_conv2d_N
};

class DepthwiseConv2D : public Convolution {
public:
    /// depthwise_kernel (KH, KW, input_channels, depth_multiplier), bias (input_channels * depth_multiplier,).
    DepthwiseConv2D(std::size_t input_channels, Size2 kernel_size, DepthwiseConv2DOptions options = {});

    const Tensor& depthwise_kernel() const { return depthwise_kernel_; }
    std::size_t depth_multiplier() const { return depthwise_kernel_.shape()[3]; }

protected:
    /// depthwise_conv2d(x, depthwise_kernel) + bias, fused.
    Tensor convolve(const Tensor& x) const override;
    /// depth_multiplier.
    LayerConfig layer_config() const override;

private:
    Tensor depthwise_kernel_;
};

}  // namespace xg
