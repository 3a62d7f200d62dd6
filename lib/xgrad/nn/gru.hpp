#pragma once
// GRU: gated recurrent unit (Cho et al. 2014) as keras.layers.GRU computes it by default
// (reset_after, the form cuDNN and PyTorch use), gates in Keras's order z, r, h:
//   z = sigma(x W_z + b_z + h R_z + b'_z)   r = sigma(x W_r + b_r + h R_r + b'_r)
//   g = tanh(x W_h + b_h + r (h R_h + b'_h))   h_t = z h_{t-1} + (1 - z) g
// with sigma the recurrent_activation, tanh the activation, b the input bias and b' the
// recurrent one. Keras's reset_after=False form (the reset applied before R_h) is not built.
#include <string>

#include "xgrad/nn/recurrent.hpp"

namespace xg {

struct GRUOptions {
    std::string activation = "tanh";
    /// The gates' function (Keras's default since TF 2: sigmoid, not hard_sigmoid).
    std::string recurrent_activation = "sigmoid";
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
    std::string name;  // "" -> gru_N
};

class GRU : public Recurrent {
public:
    /// units outputs from input_dim features a step: kernel (input_dim, 3 units), recurrent_kernel
    /// (units, 3 units), bias (2, 3 units): the input bias above the recurrent one, each the gates
    /// z, r, h side by side.
    GRU(std::size_t input_dim, std::size_t units, GRUOptions options = {});

protected:
    void step(const Tensor& inputs, const Tensor& recurrent, State& state) override;
    /// The bias's first row.
    Tensor input_bias() const override;
    /// The bias's second row.
    Tensor recurrent_bias() const override;
};

}  // namespace xg
