#include "xgrad/nn/module.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xg {
namespace {
std::mutex names_mutex;
std::map<std::string, int> name_counters;

// "Dense" -> "dense", "BatchNorm" -> "batch_norm", "Conv2D" -> "conv2d" (as Keras names them:
// a capital after a digit starts no new word)
std::string snake_case(const std::string& kind) {
    std::string out;
    for (std::size_t i = 0; i < kind.size(); ++i) {
        const auto c = static_cast<unsigned char>(kind[i]);
        if (std::isupper(c) && i > 0 && std::islower(static_cast<unsigned char>(kind[i - 1]))) out += '_';
        out += static_cast<char>(std::tolower(c));
    }
    return out;
}
}  // namespace

std::string unique_layer_name(const std::string& kind) {
    std::lock_guard lock(names_mutex);
    const std::string base = snake_case(kind);
    return fmt::format("{}_{}", base, ++name_counters[base]);
}

void reset_layer_names() {
    std::lock_guard lock(names_mutex);
    name_counters.clear();
}

Module::Module(std::string kind, std::string name)
    : kind_(std::move(kind)), name_(name.empty() ? unique_layer_name(kind_) : std::move(name)) {}

Tensor Module::operator()(const Tensor& x) {
    ScopeGuard scope(name_);
    return forward(x);
}

Shape Module::output_shape(const Shape& input_shape) {
    Shape batch_shape{1};
    batch_shape.insert(batch_shape.end(), input_shape.begin(), input_shape.end());
    NoGradGuard no_grad;
    Tensor y = (*this)(input(xt::zeros<float>(batch_shape)));
    const Shape& s = y.shape();
    return Shape(s.begin() + 1, s.end());
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect("", out);
    return out;
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
    for (auto& [local, t] : parameters_) out.emplace_back(prefix + local, t);
    for (auto& child : children_) child->collect(prefix + child->name() + "/", out);
}

std::size_t Module::parameter_count() const {
    std::size_t n = 0;
    for (auto& t : parameters()) n += t.size();
    return n;
}

std::vector<Tensor> Module::buffers() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_buffers()) out.push_back(t);
    return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect_buffers("", out);
    return out;
}

void Module::collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
    for (auto& [local, t] : buffers_) out.emplace_back(prefix + local, t);
    for (auto& child : children_) child->collect_buffers(prefix + child->name() + "/", out);
}

std::size_t Module::buffer_count() const {
    std::size_t n = 0;
    for (auto& t : buffers()) n += t.size();
    return n;
}

std::vector<std::pair<std::string, Tensor>> Module::named_state() const {
    auto out = named_parameters();
    for (auto& entry : named_buffers()) out.push_back(std::move(entry));
    return out;
}

void Module::train(bool on) {
    training_ = on;
    for (auto& child : children_) child->train(on);
}

Tensor& Module::register_parameter(const std::string& local_name, Tensor t) {
    for (auto& [existing, _] : parameters_) {
        if (existing == local_name) {
            throw ValueError(fmt::format("{}: parameter '{}' is registered twice; expected unique names", name_, local_name));
        }
    }
    t.set_requires_grad(true);
    t.set_name(name_ + "/" + local_name);
    parameters_.emplace_back(local_name, std::move(t));
    return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& local_name, Tensor t) {
    if (!t.defined()) {
        throw ValueError(fmt::format("{}: buffer '{}' is an empty handle; expected a tensor", name_, local_name));
    }
    auto taken = [&](const auto& list) {
        return std::any_of(list.begin(), list.end(), [&](const auto& entry) { return entry.first == local_name; });
    };
    if (taken(buffers_) || taken(parameters_)) {
        throw ValueError(fmt::format("{}: buffer '{}' is registered twice or shares a parameter's name; expected unique "
                                     "names", name_, local_name));
    }
    t.set_requires_grad(false);
    t.set_name(name_ + "/" + local_name);
    buffers_.emplace_back(local_name, std::move(t));
    return buffers_.back().second;
}

}  // namespace xg
