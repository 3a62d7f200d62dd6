#include "xgrad/nn/simple_rnn.hpp"

#include "xgrad/nn/detail/recurrent_options.hpp"

namespace xg {

SimpleRNN::SimpleRNN(std::size_t input_dim, std::size_t units, SimpleRNNOptions options)
    : Recurrent("SimpleRNN", std::move(options.name), input_dim, units, detail::recurrent_settings(options),
                {1, {units}, options.kernel_initializer, options.recurrent_initializer, options.bias_initializer}) {}

void SimpleRNN::step(const Tensor& inputs, const Tensor& recurrent, State& state) {
    state.h = activation_fn()(plus(inputs, recurrent));
}

}  // namespace xg
