#pragma once
// What the tests of the two convolution families (conv2d, depthwise_conv2d) share: uniform
// random arrays, Keras's padding written out independently of the library, and a case of
// image, kernel, strides and padding that names itself.
#include <algorithm>
#include <string>

#include <xtensor/xrandom.hpp>

#include "xgrad/core/array.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/ops/window_attributes.hpp"

namespace xg::test {

inline Array uniform(const Shape& shape) { return xt::random::rand<float>(shape, -1.0f, 1.0f); }

/// Keras's padding before the first row for one axis; `out` gets the output extent.
inline long pad_before(long in, long k, long s, Padding padding, long& out) {
    if (padding == Padding::valid) {
        out = (in - k) / s + 1;
        return 0;
    }
    out = (in + s - 1) / s;
    return std::max((out - 1) * s + k - in, 0L) / 2;
}

/// An image batch x convolved by a kernel with strides and padding.
struct ConvolutionCase {
    Shape x;
    Shape kernel;
    Size2 strides;
    Padding padding;

    std::string describe() const {
        return format_shape(x) + " * " + format_shape(kernel) + " " + window_attributes(strides, padding).to_string();
    }
};

}  // namespace xg::test
