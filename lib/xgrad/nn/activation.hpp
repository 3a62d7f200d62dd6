#pragma once
// Activation functions by name, and the layers that apply them.
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

/// The activations a layer can name.
enum class ActivationKind { linear, relu, sigmoid, tanh, softmax };

/// "relu" -> ActivationKind::relu; throws ValueError naming the accepted names.
ActivationKind activation_by_name(const std::string& name);
const char* activation_name(ActivationKind kind);
/// Applies the activation as tape ops (softmax along the last axis).
Tensor apply_activation(ActivationKind kind, const Tensor& x);

/// A layer that applies an activation, like keras.layers.Activation.
class Activation : public Module {
public:
    explicit Activation(ActivationKind kind, std::string name = {});
    explicit Activation(const std::string& kind, std::string name = {}) : Activation(activation_by_name(kind), std::move(name)) {}
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    ActivationKind activation() const { return kind_; }

private:
    ActivationKind kind_;
};

/// Softmax along the last axis, like keras.layers.Softmax.
class Softmax : public Module {
public:
    explicit Softmax(std::string name = {}) : Module("Softmax", std::move(name)) {}
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
};

}  // namespace xg
