#pragma once
// The check of one tensor of an initial state, which Recurrent and Bidirectional share: each
// counts the tensors as its caller gave them, so the message names the layer called and its index.
#include <cstddef>
#include <string>

#include <fmt/format.h>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/core/error.hpp"

namespace xg::detail {

/// A ValueError for an empty handle, a ShapeError for another shape than `expected` (batch, units)
/// for an input of shape `input`, naming `layer` and `initial_state[k]`.
inline void check_initial_state(const std::string& layer, std::size_t k, const Tensor& t, const Shape& expected,
                                const Shape& input) {
    if (!t.defined()) {
        throw ValueError(fmt::format("{}: initial_state[{}] is an empty handle; expected a tensor {}", layer, k,
                                     format_shape(expected)));
    }
    if (t.shape() != expected) {
        throw ShapeError(fmt::format("{}: initial_state[{}] has shape {}; expected {} for an input of {}", layer, k,
                                     format_shape(t.shape()), format_shape(expected), format_shape(input)));
    }
}

}  // namespace xg::detail
