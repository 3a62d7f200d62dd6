#include "xgrad/nn/activation.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

ActivationKind activation_by_name(const std::string& name) {
    if (name == "linear" || name.empty()) return ActivationKind::linear;
    if (name == "relu") return ActivationKind::relu;
    if (name == "sigmoid") return ActivationKind::sigmoid;
    if (name == "tanh") return ActivationKind::tanh;
    if (name == "softmax") return ActivationKind::softmax;
    throw ValueError(fmt::format("activation: unknown activation '{}'; expected linear, relu, sigmoid, tanh or softmax", name));
}

const char* activation_name(ActivationKind kind) {
    switch (kind) {
        case ActivationKind::linear: return "linear";
        case ActivationKind::relu: return "relu";
        case ActivationKind::sigmoid: return "sigmoid";
        case ActivationKind::tanh: return "tanh";
        case ActivationKind::softmax: return "softmax";
    }
    return "linear";
}

Tensor apply_activation(ActivationKind kind, const Tensor& x) {
    switch (kind) {
        case ActivationKind::linear: return x;
        case ActivationKind::relu: return relu(x);
        case ActivationKind::sigmoid: return sigmoid(x);
        case ActivationKind::tanh: return tanh(x);
        case ActivationKind::softmax: return softmax(x, -1);
    }
    return x;
}

Activation::Activation(ActivationKind kind, std::string name) : Module("Activation", std::move(name)), kind_(kind) {}

Tensor Activation::forward(const Tensor& x) { return apply_activation(kind_, x); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, -1); }

}  // namespace xg
