#pragma once
// LSTM: long short-term memory (Hochreiter and Schmidhuber 1997) as keras.layers.LSTM computes
// it, gates in Keras's order i, f, c, o (PyTorch's i, f, g, o):
//   i = sigma(x W_i + h R_i + b_i)   f = sigma(x W_f + h R_f + b_f)   o = sigma(x W_o + h R_o + b_o)
//   c_t = f c_{t-1} + i tanh(x W_c + h R_c + b_c)   h_t = o tanh(c_t)
// with sigma the recurrent_activation and tanh the activation.
#include <optional>
#include <string>

#include "xgrad/nn/recurrent.hpp"

namespace xg {

struct LSTMOptions {
    std::string activation = "tanh";
    /// The gates' function (Keras's default since TF 2: sigmoid, not hard_sigmoid).
    std::string recurrent_activation = "sigmoid";
    /// The forget gate's bias starts at 1 (Jozefowicz et al. 2015), the rest from bias_initializer.
    bool unit_forget_bias = true;
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
    std::string name;  // "" -> lstm_N
};

class LSTM : public Recurrent {
public:
    /// units outputs from input_dim features a step: kernel (input_dim, 4 units), recurrent_kernel
    /// (units, 4 units), bias (4 units,), each the gates i, f, c, o side by side.
    LSTM(std::size_t input_dim, std::size_t units, LSTMOptions options = {});

    /// The shared settings and unit_forget_bias.
    std::optional<LayerConfig> config() const override;
    bool unit_forget_bias() const { return unit_forget_bias_; }
    /// h and the cell state c.
    std::size_t state_size() const override { return 2; }

protected:
    void step(const Tensor& inputs, const Tensor& recurrent, State& state) override;

private:
    bool unit_forget_bias_;
};

}  // namespace xg
