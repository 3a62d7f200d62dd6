#pragma once
// Weight initializers, drawing from xg::random_engine() so that a seed fixes them.
#include <functional>
#include <string>

#include "xgrad/core/array.hpp"

namespace xg {

/// Makes an array of a shape; fan_in/fan_out are read from a (in, out) or (KH, KW, in, out) kernel shape.
using Initializer = std::function<Array(const Shape&)>;

// Keras's keras.initializers: a namespace of their own, so that xg::zeros and
// xg::random_normal are the tensor creation calls users reach for first.
namespace initializers {

/// U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) (Keras's Dense default).
Array glorot_uniform(const Shape& shape);
/// N(0, sqrt(2 / fan_in)) truncated at two standard deviations, as Keras does.
Array he_normal(const Shape& shape);
/// U(-l, l) with l = sqrt(6 / fan_in).
Array he_uniform(const Shape& shape);
/// A random orthogonal matrix (Saxe et al. 2014), as Keras's Orthogonal(gain=1): the Q of a
/// normal matrix's QR decomposition, its columns' signs set by R's diagonal. A shape of more than
/// two axes is read as (product of all but the last, last). Orthonormal rows or columns,
/// whichever are fewer (Keras's recurrent_kernel default).
Array orthogonal(const Shape& shape);
/// All zeros (Keras's bias default).
Array zeros(const Shape& shape);
/// All ones (BatchNormalization's gamma and moving variance).
Array ones(const Shape& shape);
/// N(mean, stddev).
Initializer random_normal(float mean = 0.0f, float stddev = 0.05f);
/// U(low, high).
Initializer random_uniform(float low = -0.05f, float high = 0.05f);
}  // namespace initializers

/// The initializer called `name` ("glorot_uniform", "he_normal", "he_uniform", "orthogonal",
/// "zeros", "ones", "random_normal", "random_uniform"); throws ValueError for others.
Initializer initializer_by_name(const std::string& name);

}  // namespace xg
