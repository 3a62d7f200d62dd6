#pragma once
// The settings SimpleRNNOptions, LSTMOptions and GRUOptions share, taken out for Recurrent.
#include "xgrad/nn/recurrent.hpp"

namespace xg::detail {

template <class Options>
RecurrentSettings recurrent_settings(const Options& options) {
    return {.activation = options.activation,
            .use_bias = options.use_bias,
            .return_sequences = options.return_sequences,
            .go_backwards = options.go_backwards,
            .dropout = options.dropout,
            .recurrent_dropout = options.recurrent_dropout};
}

}  // namespace xg::detail
