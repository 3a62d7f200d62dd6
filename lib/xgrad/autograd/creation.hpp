#pragma once
// Making tensors: the creation calls of numpy and PyTorch (zeros, ones, full, array, and
// random draws from the engine that manual_seed seeds). Each returns a leaf.
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// A tensor of `shape` filled with 0: xg::zeros({3, 4}) is (3, 4), like torch.zeros(3, 4).
Tensor zeros(const Shape& shape, bool requires_grad = false);
/// A tensor of `shape` filled with 1.
Tensor ones(const Shape& shape, bool requires_grad = false);
/// A tensor of `shape` filled with `value`.
Tensor full(const Shape& shape, float value, bool requires_grad = false);
/// A tensor of `shape` holding `values` in row-major order: array({2, 2}, {1, 2, 3, 4});
/// throws ShapeError unless there are exactly as many values as the shape has elements.
Tensor array(const Shape& shape, const std::vector<float>& values, bool requires_grad = false);
/// Draws from N(mean, stddev) with xg::random_engine(), so manual_seed fixes them.
Tensor random_normal(const Shape& shape, float mean = 0.0f, float stddev = 1.0f, bool requires_grad = false);
/// Draws from U(low, high) with xg::random_engine(); throws ValueError unless low < high.
Tensor random_uniform(const Shape& shape, float low = 0.0f, float high = 1.0f, bool requires_grad = false);

}  // namespace xg
