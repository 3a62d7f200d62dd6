#pragma once
// SimpleRNN: h_t = activation(x_t . kernel + h_{t-1} . recurrent_kernel + bias), like
// keras.layers.SimpleRNN (Elman's network), the first recurrent layer of the book's chapter 6.
#include <optional>
#include <string>

#include "xgrad/nn/recurrent.hpp"

namespace xg {

struct SimpleRNNOptions {
    std::string activation = "tanh";
    bool use_bias = true;
    /// Every step's output (batch, steps, units), not only the last (batch, units).
    bool return_sequences = false;
    /// Reads the sequence from its last step (outputs in that order).
    bool go_backwards = false;
    /// Fractions of the inputs and of the state dropped in training: masks drawn once per sequence
    /// (with recurrent_dropout, a gated layer's gates each draw their own, as Keras's).
    float dropout = 0.0f;
    float recurrent_dropout = 0.0f;
    Initializer kernel_initializer = initializers::glorot_uniform;
    Initializer recurrent_initializer = initializers::orthogonal;
    Initializer bias_initializer = initializers::zeros;
    std::string name;  // "" -> simple_rnn_N
};

class SimpleRNN : public Recurrent {
public:
    /// units outputs from input_dim features a step: kernel (input_dim, units), recurrent_kernel
    /// (units, units), bias (units,).
    SimpleRNN(std::size_t input_dim, std::size_t units, SimpleRNNOptions options = {});

protected:
    void step(const Tensor& inputs, const Tensor& recurrent, State& state) override;
};

}  // namespace xg
