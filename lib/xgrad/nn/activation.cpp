#include "xgrad/nn/activation.hpp"

#include <cmath>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/detail/builtin_activation.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// Plain functions, not lambdas: detail::is_builtin_activation knows them by address.
Tensor builtin_relu(const Tensor& x) { return relu(x); }
Tensor builtin_sigmoid(const Tensor& x) { return sigmoid(x); }
Tensor builtin_tanh(const Tensor& x) { return tanh(x); }

struct ActivationTable {
    std::mutex mutex;
    std::vector<std::pair<std::string, ActivationFn>> entries = {
        {"linear", [](const Tensor& x) { return x; }},
        {"relu", builtin_relu},
        {"sigmoid", builtin_sigmoid},
        {"tanh", builtin_tanh},
        {"softmax", [](const Tensor& x) { return softmax(x, -1); }},
        // The rest of Keras's, with its defaults (hard_sigmoid is Keras 2's, 0.2 x + 0.5).
        {"elu", [](const Tensor& x) { return elu(x); }},
        {"selu", [](const Tensor& x) { return selu(x); }},
        {"softplus", [](const Tensor& x) { return softplus(x); }},
        {"softsign", [](const Tensor& x) { return x / (1.0f + abs(x)); }},
        {"swish", [](const Tensor& x) { return swish(x); }},
        {"silu", [](const Tensor& x) { return swish(x); }},
        {"gelu", [](const Tensor& x) { return gelu(x); }},
        {"mish", [](const Tensor& x) { return mish(x); }},
        {"leaky_relu", [](const Tensor& x) { return leaky_relu(x); }},
        {"relu6", [](const Tensor& x) { return relu6(x); }},
        {"hard_sigmoid", [](const Tensor& x) { return hard_sigmoid(x); }},
        {"hard_swish", [](const Tensor& x) { return hard_swish(x); }},
        {"exponential", [](const Tensor& x) { return exp(x); }},
        {"log_softmax", [](const Tensor& x) { return log_softmax(x, -1); }},
    };
};

ActivationTable& activation_table() {
    static ActivationTable t;
    return t;
}

}  // namespace

namespace detail {

bool is_builtin_activation(const ActivationFn& fn, const std::string& name) {
    using Plain = Tensor (*)(const Tensor&);
    const Plain* target = fn.target<Plain>();
    if (target == nullptr) return false;
    if (name == "relu") return *target == builtin_relu;
    if (name == "sigmoid") return *target == builtin_sigmoid;
    return name == "tanh" && *target == builtin_tanh;
}

}  // namespace detail

void register_activation(const std::string& name, ActivationFn fn) {
    if (name.empty() || !fn) {
        throw ValueError(fmt::format("register_activation: name '{}' and a {} function; expected a name and a function",
                                     name, fn ? "non-empty" : "empty"));
    }
    ActivationTable& t = activation_table();
    std::lock_guard lock(t.mutex);
    for (auto& [existing, f] : t.entries) {
        if (existing == name) {
            f = std::move(fn);
            return;
        }
    }
    t.entries.emplace_back(name, std::move(fn));
}

ActivationFn activation_by_name(const std::string& name) {
    const std::string key = name.empty() ? "linear" : name;
    ActivationTable& t = activation_table();
    std::lock_guard lock(t.mutex);
    for (auto& [existing, f] : t.entries) {
        if (existing == key) return f;
    }
    std::string known;
    for (auto& [existing, f] : t.entries) known += (known.empty() ? "" : ", ") + existing;
    throw ValueError(fmt::format("activation: unknown activation '{}'; expected one of {} (or register_activation)", name, known));
}

std::vector<std::string> activation_names() {
    ActivationTable& t = activation_table();
    std::lock_guard lock(t.mutex);
    std::vector<std::string> out;
    for (auto& [name, f] : t.entries) out.push_back(name);
    return out;
}

Tensor apply_activation(const std::string& name, const Tensor& x) { return activation_by_name(name)(x); }

Activation::Activation(const std::string& activation, std::string name)
    : Module("Activation", std::move(name)),
      activation_(activation.empty() ? "linear" : activation),
      fn_(activation_by_name(activation)) {}

AlphaActivation::AlphaActivation(const char* kind, float alpha, std::string name)
    : Module(kind, std::move(name)), alpha_(alpha) {
    if (!std::isfinite(alpha)) throw ValueError(fmt::format("{}: alpha {}; expected a finite number", kind, alpha));
}

std::optional<LayerConfig> AlphaActivation::config() const { return LayerConfig{{"alpha", fmt::format("{}", alpha_)}}; }

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, alpha()); }

Tensor ELU::forward(const Tensor& x) { return elu(x, alpha()); }

ReLU::ReLU(std::optional<float> max_value, float negative_slope, float threshold, std::string name)
    : Module("ReLU", std::move(name)), max_value_(max_value), negative_slope_(negative_slope), threshold_(threshold) {
    auto check = [](const char* setting, float value) {
        if (!(value >= 0.0f) || std::isinf(value)) {
            throw ValueError(fmt::format("ReLU: {} {}; expected a finite number >= 0", setting, value));
        }
    };
    if (max_value) check("max_value", *max_value);
    check("negative_slope", negative_slope);
    check("threshold", threshold);
}

Tensor ReLU::forward(const Tensor& x) {
    // Keras's steps, op for op, so that the gradient at the kinks is Keras's too: leaky_relu when
    // it is one; else x where x > threshold (relu, or relu6 for a max_value of 6 with no
    // threshold), clipped at max_value, minus negative_slope (threshold - x) below the threshold.
    if (threshold_ == 0.0f && !max_value_ && negative_slope_ > 0.0f) return leaky_relu(x, negative_slope_);
    const bool relu6_clips = threshold_ == 0.0f && max_value_ == 6.0f;
    Tensor y = threshold_ > 0.0f ? thresholded_relu(x, threshold_) : relu6_clips ? relu6(x) : relu(x);
    if (max_value_ && !relu6_clips) y = clip(y, 0.0f, *max_value_);
    if (negative_slope_ > 0.0f) y = y - negative_slope_ * relu(threshold_ - x);
    return y;
}

std::optional<LayerConfig> ReLU::config() const {
    LayerConfig c{{"negative_slope", fmt::format("{}", negative_slope_)}, {"threshold", fmt::format("{}", threshold_)}};
    if (max_value_) c["max_value"] = fmt::format("{}", *max_value_);
    return c;
}

Tensor Softmax::forward(const Tensor& x) { return softmax(x, -1); }

}  // namespace xg
