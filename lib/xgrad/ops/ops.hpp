#pragma once
// Every differentiable op xgrad provides. Each is defined, forward and backward side by
// side, in the .cpp of its family: arithmetic, math, linalg, shape, broadcast, reduction,
// activation, softmax. Binary arithmetic broadcasts like numpy; gradients are summed back to
// each input's shape by the tape (GradientContext::accumulate). Every op also has a
// differentiable rule, so its gradient can be differentiated again (tensor_rule.hpp).
#include <cstdint>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

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
/// -a.
Tensor neg(const Tensor& a);

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
/// x limited to [low, high] elementwise (NaN stays NaN); the gradient passes only where x is inside.
Tensor clip(const Tensor& x, float low, float high);

// ---- activation.cpp -------------------------------------------------------------------
/// max(x, 0) elementwise, NaN passed through (gradient 0 at 0).
Tensor relu(const Tensor& x);
/// 1 / (1 + e^-x) elementwise.
Tensor sigmoid(const Tensor& x);
/// tanh(x) elementwise.
Tensor tanh(const Tensor& x);

// ---- linalg.cpp ----------------------------------------------------------------------
/// (m, k) . (k, n) -> (m, n), through BLAS sgemm.
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
/// Rows x[indices[0]], x[indices[1]], ... along axis 0 (a batch); repeats are allowed.
Tensor gather_rows(const Tensor& x, const std::vector<std::size_t>& indices);
/// Joins tensors along `axis`; all other extents must agree.
Tensor concat(const std::vector<Tensor>& xs, long axis);
/// x with `before` and `after` zero slices added along `axis` (slice's gradient).
Tensor pad(const Tensor& x, long axis, std::size_t before, std::size_t after);
/// (n, ...) -> (rows, ...): row r of x added into row indices[r] of zeros (gather_rows' gradient).
Tensor scatter_rows(const Tensor& x, const std::vector<std::size_t>& indices, std::size_t rows);

// ---- broadcast.cpp -------------------------------------------------------------------
/// x repeated to `shape` by numpy broadcasting (sum_to's gradient).
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// x summed over the axes broadcasting would add or stretch, down to `shape` (broadcast_to's gradient).
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- reduction.cpp -------------------------------------------------------------------
/// Sum of all elements (0-d).
Tensor sum(const Tensor& x);
/// Sum along `axis`, keeping it as extent 1 when keepdims.
Tensor sum(const Tensor& x, long axis, bool keepdims = false);
/// Mean of all elements (0-d).
Tensor mean(const Tensor& x);
/// Mean along `axis`.
Tensor mean(const Tensor& x, long axis, bool keepdims = false);
/// Maximum along `axis` (NaN if any element is); the gradient goes to the first maximal element.
Tensor max(const Tensor& x, long axis, bool keepdims = false);

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

}  // namespace xg
