#pragma once
// The settings SimpleRNNOptions, LSTMOptions and GRUOptions share, taken out for Recurrent. Each
// options struct lists them itself, rather than deriving from RecurrentSettings, so that users
// set them by name as Keras's keyword arguments: C++20's designated initializers reach no base's
// fields.
#include "xgrad/nn/recurrent.hpp"

namespace xg::detail {

template <class Options>
RecurrentSettings recurrent_settings(const Options& options) {
    RecurrentSettings settings{.activation = options.activation,
                               .use_bias = options.use_bias,
                               .return_sequences = options.return_sequences,
                               .go_backwards = options.go_backwards,
                               .dropout = options.dropout,
                               .recurrent_dropout = options.recurrent_dropout};
    if constexpr (requires { options.recurrent_activation; }) settings.recurrent_activation = options.recurrent_activation;
    return settings;
}

}  // namespace xg::detail
