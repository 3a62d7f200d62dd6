#pragma once
// The settings a windowed op (convolution, pooling) records: strides and padding.
#include "xgrad/autograd/op_attributes.hpp"
#include "xgrad/core/window.hpp"

namespace xg {

inline OpAttributes window_attributes(Size2 strides, Padding padding) {
    return {{"strides", strides}, {"padding", padding_name(padding)}};
}

}  // namespace xg
