#include "xgrad/nn/gru.hpp"

#include "xgrad/nn/detail/recurrent_options.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

GRU::GRU(std::size_t input_dim, std::size_t units, GRUOptions options)
    : Recurrent("GRU", std::move(options.name), input_dim, units, detail::recurrent_settings(options),
                {3, {2, 3 * units}, options.kernel_initializer, options.recurrent_initializer, options.bias_initializer}),
      recurrent_activation_(options.recurrent_activation.empty() ? "linear" : options.recurrent_activation),
      recurrent_activation_fn_(activation_by_name(options.recurrent_activation)) {}

Tensor GRU::input_bias() const {
    if (!bias().defined()) return {};
    return reshape(slice(bias(), 0, 0, 1), {static_cast<long>(3 * units())});
}

void GRU::step(const Tensor& inputs, const Tensor& recurrent, State& state) {
    // The state's part with its own bias; at the first step (h = 0) the bias alone.
    Tensor inner = recurrent;
    if (bias().defined()) {
        const Tensor recurrent_bias = reshape(slice(bias(), 0, 1, 2), {static_cast<long>(3 * units())});
        inner = inner.defined() ? inner + recurrent_bias : recurrent_bias;
    }
    const auto part = [&](std::size_t g) { return inner.defined() ? gate(inner, g) : Tensor(); };
    const Tensor z = recurrent_activation_fn_(plus(gate(inputs, 0), part(0)));
    const Tensor r = recurrent_activation_fn_(plus(gate(inputs, 1), part(1)));
    const Tensor inner_h = part(2);
    const Tensor candidate = activation_fn()(inner_h.defined() ? gate(inputs, 2) + r * inner_h : gate(inputs, 2));
    state.h = state.h.defined() ? z * state.h + (1.0f - z) * candidate : (1.0f - z) * candidate;
}

std::optional<LayerConfig> GRU::config() const {
    LayerConfig c = *Recurrent::config();
    c["recurrent_activation"] = recurrent_activation_;
    return c;
}

}  // namespace xg
