#pragma once
// The settings a windowed op (convolution, pooling) records: strides, padding, and a
// convolution's dilation when its taps are spread (undilated ops record none, as before it existed).
#include "xgrad/autograd/op_attributes.hpp"
#include "xgrad/core/window.hpp"

namespace xg {

inline OpAttributes window_attributes(Size2 strides, Padding padding, Size2 dilation = {1, 1}) {
    OpAttributes attributes{{"strides", strides}, {"padding", padding_name(padding)}};
    if (dilation != Size2{1, 1}) attributes.add("dilation", dilation);
    return attributes;
}

}  // namespace xg
