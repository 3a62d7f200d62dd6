#pragma once
// Whether a layer's activation is xgrad's own: what ONNX export needs before it writes a layer's
// function by its name (a node's "Tanh") rather than as the ops the function recorded.
#include <string>

#include "xgrad/nn/activation.hpp"

namespace xg::detail {

/// Whether `fn` is xgrad's own relu, sigmoid or tanh, the one called `name`: false for another
/// name, and for a function register_activation put in its place.
bool is_builtin_activation(const ActivationFn& fn, const std::string& name);

}  // namespace xg::detail
