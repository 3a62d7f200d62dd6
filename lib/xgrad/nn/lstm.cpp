#include "xgrad/nn/lstm.hpp"

#include <xtensor/xview.hpp>

#include "xgrad/nn/detail/recurrent_options.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// Keras's unit_forget_bias: the initializer's values for i, then ones for f, then c and o.
Initializer forget_bias_one(Initializer initializer) {
    return [initializer = std::move(initializer)](const Shape& shape) {
        Array bias = initializer(shape);
        if (bias.dimension() == 1 && bias.size() % 4 == 0) {
            const std::size_t units = bias.size() / 4;
            xt::view(bias, xt::range(units, 2 * units)) = 1.0f;
        }
        return bias;
    };
}

}  // namespace

LSTM::LSTM(std::size_t input_dim, std::size_t units, LSTMOptions options)
    : Recurrent("LSTM", std::move(options.name), input_dim, units, detail::recurrent_settings(options),
                {4, {4 * units}, options.kernel_initializer, options.recurrent_initializer,
                 options.unit_forget_bias ? forget_bias_one(options.bias_initializer) : options.bias_initializer}),
      unit_forget_bias_(options.unit_forget_bias) {}

void LSTM::step(const Tensor& inputs, const Tensor& recurrent, State& state) {
    const Tensor z = plus(inputs, recurrent);
    const Tensor i = recurrent_activation_fn()(gate(z, 0));
    const Tensor candidate = i * activation_fn()(gate(z, 2));
    // The first step's cell state is zero, so f has nothing to keep.
    state.c = state.c.defined() ? recurrent_activation_fn()(gate(z, 1)) * state.c + candidate : candidate;
    state.h = recurrent_activation_fn()(gate(z, 3)) * activation_fn()(state.c);
}

std::optional<LayerConfig> LSTM::config() const {
    // Kept for the copies made from it (Bidirectional's backward layer), which draw new weights.
    LayerConfig c = *Recurrent::config();
    c["unit_forget_bias"] = unit_forget_bias_ ? "true" : "false";
    return c;
}

}  // namespace xg
