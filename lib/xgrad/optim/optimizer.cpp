#include "xgrad/optim/optimizer.hpp"

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"

namespace xg {

Optimizer::Optimizer(std::string kind, std::vector<Tensor> parameters, float learning_rate)
    : kind_(std::move(kind)), parameters_(std::move(parameters)) {
    if (parameters_.empty()) {
        throw ValueError(fmt::format("{}: no parameters given; expected at least one trainable tensor", kind_));
    }
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
        if (!parameters_[i].defined() || !parameters_[i].requires_grad()) {
            throw ValueError(fmt::format("{}: parameter {} ('{}') does not require a gradient; expected trainable tensors "
                                         "(a frozen module's are not: pass Module::trainable_parameters())",
                                         kind_, i, parameters_[i].defined() ? parameters_[i].name() : ""));
        }
    }
    set_learning_rate(learning_rate);
}

void Optimizer::set_learning_rate(float lr) {
    if (!accepts_learning_rate(lr)) {
        throw ValueError(fmt::format("{}: learning rate {}; expected a finite value > 0", kind_, lr));
    }
    learning_rate_ = lr;
}

void Optimizer::zero_grad() {
    for (auto& p : parameters_) p.zero_grad();
}

void Optimizer::step() {
    NoGradGuard no_grad;
    ++iterations_;
    begin_step();
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
        Tensor& p = parameters_[i];
        if (!p.has_grad()) continue;
        if (p.rank() == 0) {
            // Read and written as floats: a 0-d parameter stays inline, so the ops using it keep their scalar path.
            float value = p.item();
            const float grad = p.grad_item();
            update(i, &value, &grad, 1);
            p.set_item(value);
            continue;
        }
        Array& value = p.mutable_value();
        const Array& grad = p.grad();
        if (grad.shape() != value.shape()) {
            throw ShapeError(fmt::format("{}: gradient of '{}' has shape {}; expected the parameter's {}", kind_, p.name(),
                                         format_shape(grad.shape()), format_shape(value.shape())));
        }
        update(i, value.data(), grad.data(), value.size());
    }
}

void Optimizer::add_slot(const std::string& slot_name) {
    std::vector<Array> arrays;
    for (auto& p : parameters_) arrays.push_back(xt::zeros<float>(p.shape()));
    slots_.emplace_back(slot_name, std::move(arrays));
}

std::vector<std::pair<std::string, Array*>> Optimizer::state() {
    std::vector<std::pair<std::string, Array*>> out;
    for (auto& [slot_name, arrays] : slots_) {
        for (std::size_t i = 0; i < arrays.size(); ++i) {
            out.emplace_back(fmt::format("{}/{}", slot_name, parameters_[i].name().empty() ? fmt::format("param_{}", i)
                                                                                           : parameters_[i].name()),
                             &arrays[i]);
        }
    }
    return out;
}

}  // namespace xg
