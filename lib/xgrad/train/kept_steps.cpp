#include "xgrad/train/kept_steps.hpp"

#include <vector>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor kept_steps(const Tensor& values, const Tensor& mask, const char* what) {
    if (!values.defined() || !mask.defined()) {
        throw ValueError(fmt::format("kept_steps: {} is an empty handle; expected a tensor", values.defined() ? "mask" : what));
    }
    const Shape& m = mask.shape();
    const Shape& v = values.shape();
    if (m.size() != 2) {
        throw ShapeError(fmt::format("kept_steps: mask has shape {}; expected (batch, steps)", format_shape(m)));
    }
    if (v.size() < 2 || v[0] != m[0] || v[1] != m[1]) {
        throw ShapeError(fmt::format("kept_steps: {} have shape {} for a mask {}; expected ({}, {}, ...), a value per step",
                                     what, format_shape(v), format_shape(m), m[0], m[1]));
    }
    std::vector<std::size_t> kept;
    const float* flags = mask.value().data();
    for (std::size_t i = 0; i < m[0] * m[1]; ++i) {
        if (flags[i] != 0.0f) kept.push_back(i);
    }
    // Every extent given outright: an inferred one (-1) is lost when another is 0.
    std::vector<long> rows{static_cast<long>(m[0] * m[1])};
    for (std::size_t axis = 2; axis < v.size(); ++axis) rows.push_back(static_cast<long>(v[axis]));
    return gather(reshape(values, rows), kept);
}

}  // namespace xg
