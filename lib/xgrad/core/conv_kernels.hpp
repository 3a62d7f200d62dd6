#pragma once
// 2-D convolution of channels-last images lowered onto sgemm (im2col): every output pixel's
// window, (KH, KW, C_in) values contiguous in NHWC, becomes one row of a patch matrix, and
//   y  (N*OH*OW, C_out) = patches (N*OH*OW, KH*KW*C_in) . w (KH*KW*C_in, C_out)
//   dw (KH*KW*C_in, C_out) = patches^T . dy
//   dpatches = dy . w^T, added back onto the image by col2im (the adjoint of im2col).
// Kernels are (KH, KW, C_in, C_out) as in Keras, which is already the (K, C_out) matrix.
#include <cstddef>

#include "xgrad/core/array.hpp"
#include "xgrad/core/window.hpp"

namespace xg {

/// Copies the windows of images [first, first + count) of x (N, H, W, C) into the rows of
/// col (count*OH*OW, KH*KW*C), zeros where a window covers padding.
void im2col(const float* x, const Window2d& g, std::size_t first, std::size_t count, float* col);
/// The adjoint of im2col: adds each row of col back onto the positions of images
/// [first, first + count) of x it was read from.
void col2im(const float* col, const Window2d& g, std::size_t first, std::size_t count, float* x);

/// y (N, OH, OW, C_out) = x (N, H, W, C) convolved (cross-correlated, as in Keras) with
/// w (KH, KW, C, C_out), plus bias (C_out,) when it is not null.
Array conv2d_forward(const float* x, const float* w, const float* bias, const Window2d& g, std::size_t c_out);
/// dx (N, H, W, C) from dy (N, OH, OW, C_out) and w: the gradient of conv2d_forward with respect to x.
Array conv2d_input_grad(const float* dy, const float* w, const Window2d& g, std::size_t c_out);
/// dw (KH, KW, C, C_out) from x and dy: the gradient of conv2d_forward with respect to w.
Array conv2d_kernel_grad(const float* x, const float* dy, const Window2d& g, std::size_t c_out);

}  // namespace xg
