#include "xgrad/nn/gru.hpp"

#include "xgrad/nn/detail/recurrent_options.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

namespace {

// Row `row` of a (2, 3 units) bias as a (3 units,) vector; undefined without a bias.
Tensor bias_row(const Tensor& bias, std::size_t row) {
    if (!bias.defined()) return {};
    return reshape(slice(bias, 0, row, row + 1), {static_cast<long>(bias.shape()[1])});
}

}  // namespace

GRU::GRU(std::size_t input_dim, std::size_t units, GRUOptions options)
    : Recurrent("GRU", std::move(options.name), input_dim, units, detail::recurrent_settings(options),
                {3, {2, 3 * units}, options.kernel_initializer, options.recurrent_initializer, options.bias_initializer}) {}

Tensor GRU::input_bias() const { return bias_row(bias(), 0); }

Tensor GRU::recurrent_bias() const { return bias_row(bias(), 1); }

void GRU::step(const Tensor& inputs, const Tensor& recurrent, State& state) {
    // `recurrent` is h R + b' (b' alone at the first step, where h = 0; nothing without a bias).
    // z and r are adjacent columns under one activation: one add and one sigmoid for both.
    Tensor update_reset = gates(inputs, 0, 2), inner_h;
    if (recurrent.defined()) {
        update_reset = update_reset + gates(recurrent, 0, 2);
        inner_h = gate(recurrent, 2);
    }
    update_reset = recurrent_activation_fn()(update_reset);
    const Tensor z = gate(update_reset, 0);
    const Tensor candidate =
        activation_fn()(inner_h.defined() ? gate(inputs, 2) + gate(update_reset, 1) * inner_h : gate(inputs, 2));
    // z h + (1 - z) candidate, in three ops rather than four.
    state.h = state.h.defined() ? candidate + z * (state.h - candidate) : candidate - z * candidate;
}

}  // namespace xg
