#pragma once
// What the tests of the two convolution families (conv2d, depthwise_conv2d) share: Keras's
// padding written out independently of the library, and a case of image, kernel, strides,
// padding and dilation that names itself.
#include <algorithm>
#include <string>

#include "xgrad/core/array.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/ops/window_attributes.hpp"

namespace xg::test {

/// Keras's padding before the first row for one axis of a window spanning `span` pixels (k
/// taps d apart span (k - 1) * d + 1); `out` gets the output extent.
inline long pad_before(long in, long span, long s, Padding padding, long& out) {
    if (padding == Padding::valid) {
        out = (in - span) / s + 1;
        return 0;
    }
    out = (in + s - 1) / s;
    return std::max((out - 1) * s + span - in, 0L) / 2;
}

/// An image batch x convolved by a kernel with strides, padding and dilation.
struct ConvolutionCase {
    Shape x;
    Shape kernel;
    Size2 strides;
    Padding padding;
    Size2 dilation = {1, 1};

    std::string describe() const {
        return format_shape(x) + " * " + format_shape(kernel) + " " +
               window_attributes(strides, padding, dilation).to_string();
    }
};

}  // namespace xg::test
