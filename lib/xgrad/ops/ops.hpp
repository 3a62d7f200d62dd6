#pragma once
// Every differentiable op xgrad provides. Each is defined, forward and backward side by
// side, in the .cpp of its family: arithmetic, math, linalg, shape, broadcast, reduction,
// activation, softmax, conv, pooling, image_transform, dropout, batch_norm, layer_norm.
// Binary arithmetic broadcasts like numpy; gradients are summed back to each input's shape by
// the tape (GradientContext::accumulate). Every op also has a differentiable rule, so its
// gradient can be differentiated again (tensor_rule.hpp).
#include <cstdint>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/core/image_transform.hpp"
#include "xgrad/core/window.hpp"

namespace xg {

// ---- arithmetic.cpp: broadcasting binary ops ---------------------------------------
/// a + b, numpy broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
/// a - b, numpy broadcasting.
Tensor sub(const Tensor& a, const Tensor& b);
/// a * b elementwise, numpy broadcasting.
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b elementwise, numpy broadcasting.
Tensor div(const Tensor& a, const Tensor& b);
/// x^p elementwise with a tensor of exponents, numpy broadcasting (pow(x, 2.0f) below for one
/// exponent). Negative x with a non-whole p gives NaN. As in PyTorch, the gradient for x is 0
/// where p = 0 and the one for p is 0 where x = 0 and p >= 0.
Tensor pow(const Tensor& x, const Tensor& p);
/// -a.
Tensor neg(const Tensor& a);
/// The larger of a and b elementwise (NaN where either is), numpy broadcasting; at a tie each
/// input gets half the gradient, and where either is NaN both get all of it, as in PyTorch.
Tensor maximum(const Tensor& a, const Tensor& b);
/// The smaller of a and b elementwise (NaN where either is), numpy broadcasting; ties as maximum.
Tensor minimum(const Tensor& a, const Tensor& b);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(const Tensor& a, float b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(const Tensor& a, float b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(const Tensor& a, float b);
Tensor operator/(float a, const Tensor& b);

// ---- math.cpp: elementwise functions -------------------------------------------------
/// x^p elementwise for a scalar exponent p.
Tensor pow(const Tensor& x, float p);
/// x^2 elementwise.
Tensor square(const Tensor& x);
/// sqrt(x) elementwise.
Tensor sqrt(const Tensor& x);
/// e^x elementwise.
Tensor exp(const Tensor& x);
/// ln(x) elementwise.
Tensor log(const Tensor& x);
/// |x| elementwise (gradient 0 at 0).
Tensor abs(const Tensor& x);
/// The error function erf(x) elementwise.
Tensor erf(const Tensor& x);
/// x limited to [low, high] elementwise (NaN stays NaN); the gradient passes only where x is inside.
Tensor clip(const Tensor& x, float low, float high);

// ---- trigonometric.cpp: circular and hyperbolic functions, elementwise --------------
/// sin(x) and cos(x) elementwise, x in radians (a transformer's positional encoding, a periodic feature).
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
/// tan(x) elementwise, x in radians.
Tensor tan(const Tensor& x);
/// The inverse circular functions elementwise: asin and acos on [-1, 1] (NaN outside, the gradient
/// too, and an infinite gradient at -1 and 1), atan on every number.
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
/// sinh(x) and cosh(x) elementwise (tanh is with the activations).
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
/// The inverse hyperbolic functions elementwise: asinh on every number, acosh on [1, inf), atanh on
/// (-1, 1) (+-inf at -1 and 1); NaN outside, the gradient too.
Tensor asinh(const Tensor& x);
Tensor acosh(const Tensor& x);
Tensor atanh(const Tensor& x);

// ---- rounding.cpp: piecewise-constant functions, their gradient 0 ------------------------
/// The largest whole number <= x and the smallest >= x, elementwise.
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
/// x to the nearest whole number elementwise, halves to the even one (numpy, PyTorch and ONNX).
Tensor round(const Tensor& x);
/// -1, 0 or 1 by the sign of x elementwise; NaN stays NaN (numpy's; PyTorch and ONNX Runtime give 0).
Tensor sign(const Tensor& x);

// ---- activation.cpp -------------------------------------------------------------------
/// max(x, 0) elementwise, NaN passed through (gradient 0 at 0).
Tensor relu(const Tensor& x);
/// 1 / (1 + e^-x) elementwise.
Tensor sigmoid(const Tensor& x);
/// tanh(x) elementwise.
Tensor tanh(const Tensor& x);
/// x for x > 0, alpha (e^x - 1) otherwise (Keras's elu); alpha must be finite.
Tensor elu(const Tensor& x, float alpha = 1.0f);
/// SELU: elu with the self-normalizing constants (alpha 1.6733, scaled by 1.0507).
Tensor selu(const Tensor& x);
/// log(1 + e^x), without overflow for large x.
Tensor softplus(const Tensor& x);
/// x sigmoid(x) (also called SiLU).
Tensor swish(const Tensor& x);
/// x Phi(x), Phi the standard normal CDF; with `approximate`, the tanh form
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) (Keras's and PyTorch's two GELUs).
Tensor gelu(const Tensor& x, bool approximate = false);
/// x tanh(softplus(x)).
Tensor mish(const Tensor& x);
/// x for x > 0, alpha x otherwise (gradient alpha at 0); alpha must be finite. The default 0.2 is
/// Keras's leaky_relu activation's and tf.nn's; Keras's LeakyReLU layer takes 0.3, PyTorch and ONNX 0.01.
Tensor leaky_relu(const Tensor& x, float alpha = 0.2f);
/// x for x > theta, 0 otherwise (ONNX's ThresholdedRelu, Keras 2's ThresholdedReLU; theta 1 by
/// default); theta must be finite. The gradient is 1 above theta, else 0.
Tensor thresholded_relu(const Tensor& x, float theta = 1.0f);
/// min(max(x, 0), 6), NaN passed through (gradient 0 at 0 and 6).
Tensor relu6(const Tensor& x);
/// clip(alpha x + beta, 0, 1): by default Keras 2's hard_sigmoid and ONNX's HardSigmoid (Keras 3's
/// is alpha 1/6, beta 1/2, PyTorch's hardsigmoid).
Tensor hard_sigmoid(const Tensor& x, float alpha = 0.2f, float beta = 0.5f);
/// x relu6(x + 3) / 6 (MobileNetV3's hard swish, PyTorch's hardswish).
Tensor hard_swish(const Tensor& x);

// ---- linalg.cpp ----------------------------------------------------------------------
/// (m, k) . (k, n) -> (m, n), through BLAS sgemm; (..., k) . (k, n) -> (..., n), every leading
/// position a row (numpy's and ONNX MatMul's product of a stack of rows with a matrix); and
/// (..., m, k) . (..., k, n) -> (..., m, n), stacks of matrices multiplied pairwise, their stack
/// axes broadcast (torch.matmul, bmm; attention's scores and weighted values).
Tensor matmul(const Tensor& a, const Tensor& b);
/// x . w + b for x (n, k), w (k, m), b (m,): a dense layer's affine map in one op.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);
/// Reverses the axes ((m, n) -> (n, m) for a matrix).
Tensor transpose(const Tensor& x);
/// Permutes the axes: output axis i is input axis perm[i].
Tensor transpose(const Tensor& x, const std::vector<std::size_t>& perm);

// ---- shape.cpp -----------------------------------------------------------------------
/// Same elements in a new shape; one extent may be -1 (inferred).
Tensor reshape(const Tensor& x, const std::vector<long>& shape);
/// Elements [begin, end) along `axis`.
Tensor slice(const Tensor& x, long axis, std::size_t begin, std::size_t end);
/// Slices x[indices[0]], x[indices[1]], ... along `axis` (numpy.take, torch.index_select, ONNX Gather);
/// repeats are allowed. Along axis 0 it picks rows: a batch.
Tensor gather(const Tensor& x, const std::vector<std::size_t>& indices, long axis = 0);
/// The rows of `table` (rows, width) that `ids` (any shape, whole numbers from 0 to rows - 1, held
/// as floats like all data) pick -> (*ids.shape, width): an embedding lookup, exported as ONNX's
/// Cast and Gather. The gradient goes to the table's rows (added where an id repeats); the ids
/// are data and get none.
Tensor embedding_lookup(const Tensor& table, const Tensor& ids);
/// Joins tensors along `axis`; all other extents must agree.
Tensor concat(const std::vector<Tensor>& xs, long axis);
/// x with `before` and `after` zero slices added along `axis` (slice's gradient).
Tensor pad(const Tensor& x, long axis, std::size_t before, std::size_t after);
/// Slice r of x along `axis` added into slice indices[r] of zeros with `extent` slices along it
/// (torch.index_add onto zeros; gather's gradient, as gather is its own).
Tensor scatter_add(const Tensor& x, const std::vector<std::size_t>& indices, std::size_t extent, long axis = 0);

// ---- broadcast.cpp -------------------------------------------------------------------
/// x repeated to `shape` by numpy broadcasting (sum_to's gradient).
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// x summed over the axes broadcasting would add or stretch, down to `shape` (broadcast_to's gradient).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- reduction.cpp -------------------------------------------------------------------
/// Sum of all elements (0-d), accumulated in double (sum along an axis accumulates in float).
Tensor sum(const Tensor& x);
/// Sum along `axis`, keeping it as extent 1 when keepdims.
Tensor sum(const Tensor& x, long axis, bool keepdims = false);
/// Mean of all elements (0-d), accumulated in double as sum(x).
Tensor mean(const Tensor& x);
/// Mean along `axis`.
Tensor mean(const Tensor& x, long axis, bool keepdims = false);
/// Maximum along `axis` (NaN if any element is); the gradient goes to the first maximal element.
Tensor max(const Tensor& x, long axis, bool keepdims = false);
/// Minimum along `axis` (NaN if any element is); the gradient goes to the first minimal element.
Tensor min(const Tensor& x, long axis, bool keepdims = false);
/// Index along `axis` of the first maximal element (of the first NaN, if any: numpy's and
/// PyTorch's argmax), as a float: an axis of more than 2^24 elements, whose indices a float cannot
/// hold, is a ShapeError. An op of x with no gradient, of any order.
Tensor argmax(const Tensor& x, long axis = -1, bool keepdims = false);
/// Index along `axis` of the first minimal element (of the first NaN, if any), as argmax.
Tensor argmin(const Tensor& x, long axis = -1, bool keepdims = false);

// ---- top_k.cpp -----------------------------------------------------------------------
/// What top_k found: the values, and their indices along the axis as floats (like argmax's).
struct TopK {
    Tensor values;
    Tensor indices;
};
/// The k largest (or smallest) elements along `axis` and their indices (torch.topk, ONNX TopK),
/// the most extreme first; of equal elements the one of lower index comes first, and NaN counts
/// as larger than any number, as in PyTorch. The values' gradient goes to the elements picked;
/// the indices have none. k below 0 or larger than the axis, or an axis of more than 2^24 elements (whose
/// indices a float cannot hold), is a ShapeError.
TopK top_k(const Tensor& x, long k, long axis = -1, bool largest = true);

// ---- softmax.cpp ---------------------------------------------------------------------
/// e^x / sum(e^x) along `axis`, computed stably (the max is subtracted first).
Tensor softmax(const Tensor& x, long axis = -1);
/// x - log(sum(e^x)) along `axis`, computed stably.
Tensor log_softmax(const Tensor& x, long axis = -1);
/// mean over rows of -sum(y * log_softmax(logits)) for logits and targets (n, c); the
/// gradient is (softmax(logits) - y) / n for rows of y that sum to 1.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets);
/// softmax_cross_entropy with integer class labels (n,) instead of one-hot targets.
Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels);
/// (n,) integer labels -> (n, classes) one-hot rows (not differentiable).
Tensor one_hot(const Tensor& labels, std::size_t classes);

// ---- conv.cpp: 2-D convolution, channels last (images (N, H, W, C), kernels (KH, KW, C_in, C_out)) ----
// `dilation` spreads a kernel's taps that many pixels apart (Keras's dilation_rate, an atrous
// convolution); padding and the window's fit count the pixels the spread taps span.
/// x (N, H, W, C_in) cross-correlated with kernel (KH, KW, C_in, C_out) -> (N, OH, OW, C_out), as Keras's Conv2D.
Tensor conv2d(const Tensor& x, const Tensor& kernel, Size2 strides = {1, 1}, Padding padding = Padding::valid,
              Size2 dilation = {1, 1});
/// conv2d(x, kernel) + bias (C_out,) in one op (faster than the two).
Tensor conv2d_with_bias(const Tensor& x, const Tensor& kernel, const Tensor& bias, Size2 strides = {1, 1},
                        Padding padding = Padding::valid, Size2 dilation = {1, 1});
/// The gradient of conv2d for x of shape x_shape: dy (N, OH, OW, C_out), kernel -> dx (N, H, W, C_in).
Tensor conv2d_backward_input(const Tensor& dy, const Tensor& kernel, const Shape& x_shape, Size2 strides = {1, 1},
                             Padding padding = Padding::valid, Size2 dilation = {1, 1});
/// The gradient of conv2d for a kernel of shape kernel_shape: x, dy (N, OH, OW, C_out) -> dkernel (KH, KW, C_in, C_out).
Tensor conv2d_backward_kernel(const Tensor& x, const Tensor& dy, const Shape& kernel_shape, Size2 strides = {1, 1},
                              Padding padding = Padding::valid, Size2 dilation = {1, 1});

// ---- depthwise_conv.cpp: depthwise 2-D convolution, channels last (kernels (KH, KW, C, M), M the depth multiplier) ----
/// Each channel c of x (N, H, W, C) cross-correlated with its own M filters kernel[:, :, c, :] -> (N, OH, OW, C*M),
/// channel c*M + m from filter m of channel c, as Keras's DepthwiseConv2D (ONNX's Conv with group = C).
Tensor depthwise_conv2d(const Tensor& x, const Tensor& kernel, Size2 strides = {1, 1}, Padding padding = Padding::valid,
                        Size2 dilation = {1, 1});
/// depthwise_conv2d(x, kernel) + bias (C*M,) in one op.
Tensor depthwise_conv2d_with_bias(const Tensor& x, const Tensor& kernel, const Tensor& bias, Size2 strides = {1, 1},
                                  Padding padding = Padding::valid, Size2 dilation = {1, 1});
/// The gradient of depthwise_conv2d for x of shape x_shape: dy (N, OH, OW, C*M), kernel -> dx (N, H, W, C).
Tensor depthwise_conv2d_backward_input(const Tensor& dy, const Tensor& kernel, const Shape& x_shape,
                                       Size2 strides = {1, 1}, Padding padding = Padding::valid,
                                       Size2 dilation = {1, 1});
/// The gradient of depthwise_conv2d for a kernel of shape kernel_shape: x, dy (N, OH, OW, C*M) -> dkernel (KH, KW, C, M).
Tensor depthwise_conv2d_backward_kernel(const Tensor& x, const Tensor& dy, const Shape& kernel_shape,
                                        Size2 strides = {1, 1}, Padding padding = Padding::valid,
                                        Size2 dilation = {1, 1});

// ---- pooling.cpp: 2-D pooling, channels last; strides (0, 0) mean pool_size (Keras's None) ----
/// Maximum of each pool_size window of x (N, H, W, C) -> (N, OH, OW, C); NaN wins; the gradient goes to
/// one maximal element per window (the first).
Tensor max_pool2d(const Tensor& x, Size2 pool_size = {2, 2}, Size2 strides = {0, 0}, Padding padding = Padding::valid);
/// The gradient of max_pool2d: dy (N, OH, OW, C) added at each window's maximum of x -> (N, H, W, C).
Tensor max_pool2d_backward(const Tensor& x, const Tensor& dy, Size2 pool_size = {2, 2}, Size2 strides = {0, 0},
                           Padding padding = Padding::valid);
/// source (x's shape) read at each window's maximum of x -> (N, OH, OW, C): the gradient of max_pool2d_backward.
Tensor max_pool2d_gather(const Tensor& x, const Tensor& source, Size2 pool_size = {2, 2}, Size2 strides = {0, 0},
                         Padding padding = Padding::valid);
/// Mean of each pool_size window of x (N, H, W, C) over the image elements it covers -> (N, OH, OW, C).
Tensor avg_pool2d(const Tensor& x, Size2 pool_size = {2, 2}, Size2 strides = {0, 0}, Padding padding = Padding::valid);
/// The gradient of avg_pool2d for x of shape x_shape: each window's dy / count spread over it -> x_shape.
Tensor avg_pool2d_backward(const Tensor& dy, const Shape& x_shape, Size2 pool_size = {2, 2}, Size2 strides = {0, 0},
                           Padding padding = Padding::valid);

// ---- image_transform.cpp: projective transforms of channels-last images (the random image layers) ----
/// images (N, H, W, C) resampled through constant transforms ((N, 8), one row per image, or (1, 8) for all):
/// output pixel (x, y) reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1,
/// for the row [a0, a1, a2, b0, b1, b2, c0, c1], as Keras's image transforms (TensorFlow's
/// ImageProjectiveTransformV3) -> (N, OH, OW, C); output_size (OH, OW), {0, 0} for (H, W).
/// Differentiable with respect to the images.
Tensor transform_images(const Tensor& images, const Array& transforms, const ImageSampling& sampling = {},
                        Size2 output_size = {0, 0});
/// The gradient of transform_images for images of shape images_shape: dy (N, OH, OW, C) -> (N, H, W, C), each output
/// value's interpolation weights added back onto the pixels it read.
Tensor transform_images_backward(const Tensor& dy, const Array& transforms, const Shape& images_shape,
                                 Interpolation interpolation = Interpolation::bilinear,
                                 FillMode fill_mode = FillMode::constant);
/// images (N, H, W, C) resized to size (OH, OW) as tf.image.resize (keras.layers.Resizing) does without
/// antialiasing: the output's pixel centres spread evenly over the image's (half-pixel centres), a point past
/// the outermost centres reading the edge pixels. Differentiable with respect to the images; the images
/// themselves when size is their own.
Tensor resize_images(const Tensor& images, Size2 size, Interpolation interpolation = Interpolation::bilinear);
/// The gradient of resize_images for images of shape images_shape: dy (N, OH, OW, C) -> images_shape, each output
/// value's weights added back onto the pixels it read.
Tensor resize_images_backward(const Tensor& dy, const Shape& images_shape,
                              Interpolation interpolation = Interpolation::bilinear);
/// Rows [top, top + size[0]) and columns [left, left + size[1]) of images (N, H, W, C)
/// (tf.image.crop_to_bounding_box): two slices, the images themselves when the window is all of them.
Tensor crop_images(const Tensor& images, std::size_t top, std::size_t left, Size2 size);

// ---- comparison.cpp --------------------------------------------------------------------
/// 1 where x != value, 0 where x == value (NaN differs from every value), as an op of x with no
/// gradient: Keras's masks of padding (an Embedding's mask_zero, a Masking layer).
Tensor not_equal(const Tensor& x, float value);
/// a == b, a > b, a >= b, a < b, a <= b elementwise (numpy broadcasting) as 1 and 0; a NaN on
/// either side compares false. Ops of a and b with no gradient (a comparison is piecewise
/// constant), of any order: a mask computed from data stays an op of the data (exported, it is
/// computed from the graph's input).
Tensor equal(const Tensor& a, const Tensor& b);
Tensor greater(const Tensor& a, const Tensor& b);
Tensor greater_equal(const Tensor& a, const Tensor& b);
Tensor less(const Tensor& a, const Tensor& b);
Tensor less_equal(const Tensor& a, const Tensor& b);

// ---- where.cpp -------------------------------------------------------------------------
/// a where condition is not 0 (NaN counts as true, as a cast to bool), b elsewhere, elementwise
/// with numpy broadcasting of all three (numpy.where, torch.where, ONNX's Where). The gradient
/// goes to a where the condition holds and to b where it does not, exactly 0 on the other side;
/// the condition gets none. As in PyTorch, a side that is NaN or infinite where it is not picked
/// still makes its own op's gradient NaN there (0 times an infinite derivative):
/// where(greater(x, zero), sqrt(x), zero) has a NaN gradient where x < 0; with
/// sqrt(where(greater(x, zero), x, one)) in place of sqrt(x) it has 0 there.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

// ---- dropout.cpp -----------------------------------------------------------------------
/// Inverted dropout: in training, each element zeroed with probability rate and the rest scaled by
/// 1 / (1 - rate), the mask drawn from random_engine(); x itself at inference or rate 0. rate in [0, 1).
Tensor dropout(const Tensor& x, float rate, bool training);

// ---- batch_norm.cpp --------------------------------------------------------------------
/// Batch normalization over all axes but the last (C channels): gamma * (x - mean) / sqrt(var + epsilon) + beta.
/// Training uses the batch's mean and (biased) variance and updates moving_mean and moving_variance (C,) in place,
/// moving = moving * momentum + batch * (1 - momentum); inference uses the moving statistics.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& moving_mean,
                  const Tensor& moving_variance, bool training, float momentum = 0.99f, float epsilon = 1e-3f);

// ---- layer_norm.cpp --------------------------------------------------------------------
/// Layer normalization over the axes from `axis` to the last (all of one example's features, as
/// torch's normalized_shape and ONNX's LayerNormalization count them): (x - mean) / sqrt(var + epsilon)
/// with the mean and (biased) variance of each example over those axes, times gamma plus beta, both of
/// those axes' shape. Composed of ops: differentiable to any order.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, long axis = -1, float epsilon = 1e-3f);
/// layer_norm's statistics: each example's mean and 1 / sqrt(variance + epsilon) over the axes from `axis` to the
/// last, those axes kept as extents of 1 (ONNX's LayerNormalization outputs them).
struct LayerNormStatistics {
    Tensor mean, inv_std;
};
LayerNormStatistics layer_norm_statistics(const Tensor& x, long axis = -1, float epsilon = 1e-3f);

}  // namespace xg
