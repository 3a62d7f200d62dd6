#pragma once
// Conv2DTranspose: y = activation(conv2d_transpose(x, kernel) + bias) on channels-last images,
// like keras.layers.Conv2DTranspose: the adjoint of a convolution, which spreads each input
// pixel over a window of the output, so strides enlarge the image (the decoder of a
// segmentation network or an autoencoder). It is conv2d_backward_input, the gradient of the
// convolution that would map the output back to the input.
#include <string>

#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/convolution.hpp"

namespace xg {

/// Keras's Conv2DTranspose takes Conv2D's settings; with "valid" padding the output is
/// (H - 1) * stride + span (at least H * stride), the span being the kernel's rows (KH - 1) *
/// dilation + 1, with "same" H * stride; the default name is conv2d_transpose_N.
using Conv2DTransposeOptions = Conv2DOptions;

class Conv2DTranspose : public Convolution {
public:
    /// `filters` output channels from `input_channels`: kernel (KH, KW, filters, input_channels) as in Keras,
    /// bias (filters,).
    Conv2DTranspose(std::size_t input_channels, std::size_t filters, Size2 kernel_size,
                    Conv2DTransposeOptions options = {});

    const Tensor& kernel() const { return kernel_; }
    std::size_t filters() const { return output_channels(); }

protected:
    /// conv2d_backward_input(x, kernel, output shape) + bias.
    Tensor convolve(const Tensor& x) const override;
    /// filters.
    LayerConfig layer_config() const override;
    /// Keras's lengths: H * stride, plus max(span - stride, 0) with valid padding.
    Size2 output_size(std::size_t h, std::size_t w) const override;

private:
    Tensor kernel_;
};

}  // namespace xg
