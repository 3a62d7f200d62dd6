#include "xgrad/nn/activation.hpp"

#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

struct ActivationTable {
    std::mutex mutex;
    std::vector<std::pair<std::string, ActivationFn>> entries = {
        {"linear", [](const Tensor& x) { return x; }},
        {"relu", [](const Tensor& x) { return relu(x); }},
        {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
        {"tanh", [](const Tensor& x) { return tanh(x); }},
        {"softmax", [](const Tensor& x) { return softmax(x, -1); }},
    };
};

ActivationTable& table() {
    static ActivationTable t;
    return t;
}

}  // namespace

void register_activation(const std::string& name, ActivationFn fn) {
    if (name.empty() || !fn) {
        throw ValueError(fmt::format("register_activation: name '{}' and a {} function; expected a name and a function",
                                     name, fn ? "non-empty" : "empty"));
    }
    ActivationTable& t = table();
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
    ActivationTable& t = table();
    std::lock_guard lock(t.mutex);
    for (auto& [existing, f] : t.entries) {
        if (existing == key) return f;
    }
    std::string known;
    for (auto& [existing, f] : t.entries) known += (known.empty() ? "" : ", ") + existing;
    throw ValueError(fmt::format("activation: unknown activation '{}'; expected one of {} (or register_activation)", name, known));
}

std::vector<std::string> activation_names() {
    ActivationTable& t = table();
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

Tensor Softmax::forward(const Tensor& x) { return softmax(x, -1); }

}  // namespace xg
