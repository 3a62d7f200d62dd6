#pragma once
// Depthwise 2-D convolution of channels-last images: each input channel convolved with its own
// M filters (M the depth multiplier), no sum over channels, as keras.layers.DepthwiseConv2D:
//   y (N, OH, OW, C*M)[n, i, j, c*M + m] = sum over (a, b) of x[n, i*SH + a - top, j*SW + b - left, c] w[a, b, c, m]
// with w (KH, KW, C, M). A direct loop, not sgemm: each output value takes KH*KW products,
// too few for a matrix product to pay, and the channels, contiguous in both x and y, are
// what the compiler vectorizes.
#include <cstddef>

#include "xgrad/core/array.hpp"
#include "xgrad/core/window.hpp"

namespace xg {

/// y (N, OH, OW, C*M) = x (N, H, W, C) convolved channel by channel with w (KH, KW, C, M),
/// plus bias (C*M,) when it is not null.
Array depthwise_forward(const float* x, const float* w, const float* bias, const Window2d& g, std::size_t m);
/// dx (N, H, W, C) from dy (N, OH, OW, C*M) and w: the gradient of depthwise_forward with respect to x.
Array depthwise_input_grad(const float* dy, const float* w, const Window2d& g, std::size_t m);
/// dw (KH, KW, C, M) from x and dy: the gradient of depthwise_forward with respect to w. Each
/// value is summed over the output pixels in an order fixed by the shapes, whatever the threads.
Array depthwise_kernel_grad(const float* x, const float* dy, const Window2d& g, std::size_t m);

}  // namespace xg
