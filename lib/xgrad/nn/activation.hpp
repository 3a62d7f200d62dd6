#pragma once
// Activation functions by name, in one table, and the layers that apply them (Activation by
// name; LeakyReLU and ELU with their alpha; ReLU with Keras's three settings; Softmax). Dense,
// Activation, graph export and saved models all read the table, so a new activation is one
// register_activation call.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/nn/module.hpp"

namespace xg {

/// An activation as tape ops: the ops it records carry its gradient.
using ActivationFn = std::function<Tensor(const Tensor&)>;

/// Adds the activation called `name` to the table (replacing one of that name); throws
/// ValueError for an empty name or function.
void register_activation(const std::string& name, ActivationFn fn);
/// The activation called `name` ("" is "linear"); throws ValueError naming the registered ones.
ActivationFn activation_by_name(const std::string& name);
/// The registered names: linear, relu, sigmoid, tanh, softmax, elu, selu, softplus, softsign,
/// swish, silu, gelu, mish, leaky_relu, relu6, hard_sigmoid, hard_swish, exponential,
/// log_softmax, then any added.
std::vector<std::string> activation_names();
/// Applies the activation called `name` (softmax and log_softmax along the last axis).
Tensor apply_activation(const std::string& name, const Tensor& x);

/// A layer that applies an activation, like keras.layers.Activation.
class Activation : public Module {
public:
    explicit Activation(const std::string& activation, std::string name = {});
    Tensor forward(const Tensor& x) override { return fn_(x); }
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    /// True: a function of each element (softmax's is the last axis, the features of one step).
    bool passes_mask() const override { return true; }
    std::optional<LayerConfig> config() const override { return LayerConfig{{"activation", activation_}}; }
    /// The activation's name ("linear" for an empty one).
    const std::string& activation() const { return activation_; }

protected:
    Activated forward_with_logits(const Tensor& x) override { return {fn_(x), x, activation_}; }

private:
    std::string activation_;
    ActivationFn fn_;
};

/// What LeakyReLU and ELU share: one setting, alpha (finite, checked when made), kept in the
/// config; the shape passes through.
class AlphaActivation : public Module {
public:
    /// True: a function of each element.
    bool passes_mask() const override { return true; }
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    std::optional<LayerConfig> config() const override;
    float alpha() const { return alpha_; }

protected:
    AlphaActivation(const char* kind, float alpha, std::string name);

private:
    float alpha_;
};

/// x for x > 0, alpha x otherwise, like keras.layers.LeakyReLU (alpha 0.3, Keras's layer
/// default; the "leaky_relu" activation by name takes 0.2).
class LeakyReLU : public AlphaActivation {
public:
    explicit LeakyReLU(float alpha = 0.3f, std::string name = {}) : AlphaActivation("LeakyReLU", alpha, std::move(name)) {}
    Tensor forward(const Tensor& x) override;
};

/// x for x > 0, alpha (e^x - 1) otherwise, like keras.layers.ELU (alpha 1).
class ELU : public AlphaActivation {
public:
    explicit ELU(float alpha = 1.0f, std::string name = {}) : AlphaActivation("ELU", alpha, std::move(name)) {}
    Tensor forward(const Tensor& x) override;
};

/// Keras's ReLU layer: x clipped at max_value (none by default) from `threshold` up, and
/// negative_slope (x - threshold) below it: ReLU() is relu, ReLU(6) relu6 (MobileNet's),
/// ReLU(std::nullopt, 0.1) a leaky relu. All three settings must be >= 0, as Keras requires, and
/// finite (no max_value is std::nullopt). As Keras's, the function jumps at a threshold above 0:
/// from 0 to the threshold.
class ReLU : public Module {
public:
    explicit ReLU(std::optional<float> max_value = std::nullopt, float negative_slope = 0.0f, float threshold = 0.0f,
                  std::string name = {});
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    /// True: a function of each element.
    bool passes_mask() const override { return true; }
    /// negative_slope and threshold, and max_value when there is one.
    std::optional<LayerConfig> config() const override;
    const std::optional<float>& max_value() const { return max_value_; }
    float negative_slope() const { return negative_slope_; }
    float threshold() const { return threshold_; }

private:
    std::optional<float> max_value_;
    float negative_slope_, threshold_;
};

/// Softmax along the last axis, like keras.layers.Softmax.
class Softmax : public Module {
public:
    /// True: each step's features alone (the last axis).
    bool passes_mask() const override { return true; }
    explicit Softmax(std::string name = {}) : Module("Softmax", std::move(name)) {}
    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override { return input_shape; }
    std::optional<LayerConfig> config() const override { return LayerConfig{}; }

protected:
    Activated forward_with_logits(const Tensor& x) override { return {forward(x), x, "softmax"}; }
};

}  // namespace xg
