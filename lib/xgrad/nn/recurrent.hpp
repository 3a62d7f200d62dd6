#pragma once
// Recurrent: what SimpleRNN, LSTM and GRU share, as Keras's RNN base does: a sequence
// (batch, steps, features) read one step at a time, a state carried from step to step, the last
// state or every step's as output. The steps are ops on the tape (backpropagation through time is
// the tape's ordinary backward), so every gradient order comes with them.
//
// The input's part of every step is one matrix product for the whole sequence (x . kernel +
// bias); a step adds the state's part (h . recurrent_kernel) and applies the cell's gates. The
// state starts at zero unless a call gives one. Without one, the first step has no state's part at
// all, so nothing in the graph depends on the batch size.
//
// Dropout as Keras applies it in training: one mask per sequence on the inputs (`dropout`) and one
// on the state entering the recurrent product (`recurrent_dropout`), the same at every step
// (Gal and Ghahramani 2016); with recurrent_dropout, an LSTM's or a GRU's gates each have masks of
// their own, as Keras's gate-by-gate implementation draws them.
//
// Keras's return_state and initial_state are call_with_state: the state a call ends in, and a
// state to start from (an encoder's last state handed to a decoder). A mask (an Embedding's
// mask_zero, a Masking layer) skips steps as Keras's does: a masked step keeps the state and
// repeats the last output, h_new m + h (1 - m) with m its 1 or 0; with return_sequences the mask
// passes on. Unlike Keras's: no stateful mode.
#include <optional>
#include <string>
#include <vector>

#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// The settings every recurrent layer has (each layer's options list them with its own).
struct RecurrentSettings {
    std::string activation = "tanh";
    /// The gates' function, for the layers that have gates (LSTM, GRU); none for SimpleRNN.
    std::optional<std::string> recurrent_activation;
    bool use_bias = true;
    /// Every step's output (batch, steps, units), not only the last (batch, units).
    bool return_sequences = false;
    /// Reads the sequence from its last step; the outputs are then in that order, as Keras's.
    bool go_backwards = false;
    /// Fractions of the inputs and of the state dropped in training, 0 <= rate < 1.
    float dropout = 0.0f;
    float recurrent_dropout = 0.0f;
};

/// A call's output with the state the layer ended in (Keras's return_state).
struct RecurrentOutput {
    /// What forward returns.
    Tensor output;
    /// The state after the last step read, (batch, units) each: h, and for an LSTM h then c.
    std::vector<Tensor> state;
};

class Recurrent : public Module {
public:
    /// (batch, steps, input_dim) -> (batch, units), or (batch, steps, units) with return_sequences.
    Tensor forward(const Tensor& x) override;
    /// forward(x) in the layer's scope, starting from `initial_state` rather than zeros (Keras's
    /// initial_state: state_size() tensors of (batch, units), h first), and returning the state
    /// the layer ends in with its output. An empty initial_state starts from zeros, as forward.
    /// Gradients flow into the initial state, so an encoder's weights learn from its decoder's loss.
    /// With a `mask` (batch, steps), a masked step leaves the state as it was, and its output is
    /// the state carried (Keras's masking).
    RecurrentOutput call_with_state(const Tensor& x, const std::vector<Tensor>& initial_state = {},
                                    const Tensor& mask = {});
    /// How many tensors a state holds: 1 (h), or 2 for an LSTM (h, c). A layer of a user's own
    /// whose step keeps a cell state returns 2.
    virtual std::size_t state_size() const { return 1; }
    /// (steps, input_dim) -> (units,) or (steps, units).
    Shape output_shape(const Shape& input_shape) override;
    /// input_dim, units and the shared settings (recurrent_activation for a gated layer).
    std::optional<LayerConfig> config() const override;

    const Tensor& kernel() const { return kernel_; }
    const Tensor& recurrent_kernel() const { return recurrent_kernel_; }
    const Tensor& bias() const { return bias_; }
    std::size_t input_dim() const { return input_dim_; }
    std::size_t units() const { return units_; }
    const RecurrentSettings& settings() const { return settings_; }
    /// The gates' function's name ("" for SimpleRNN, which has none).
    std::string recurrent_activation() const { return settings_.recurrent_activation.value_or(""); }
    /// The functions the layer applies, as its activation names found them.
    const ActivationFn& activation_fn() const { return activation_fn_; }
    const ActivationFn& recurrent_activation_fn() const { return recurrent_activation_fn_; }

protected:
    /// forward with the mask's steps skipped; the mask passes on with return_sequences.
    Masked forward_masked(const Tensor& x, const Tensor& mask) override;
    /// The weights a layer of `gates` gates has: kernel (input_dim, gates * units), recurrent_kernel
    /// (units, gates * units), and with use_bias a bias of `bias_shape`, drawn by the initializers.
    struct Weights {
        std::size_t gates;
        Shape bias_shape;
        Initializer kernel_initializer, recurrent_initializer, bias_initializer;
    };
    Recurrent(const char* kind, std::string name, std::size_t input_dim, std::size_t units, RecurrentSettings settings,
              const Weights& weights);

    /// The state a step reads and writes: h (batch, units), and the cell state c for an LSTM.
    /// Undefined before the first step (zero).
    struct State {
        Tensor h, c;
    };
    /// One step: `inputs` the input's part (x_t . kernel + input_bias()), `recurrent` the state's
    /// (h . recurrent_kernel + recurrent_bias()): at the first step the recurrent bias alone, or
    /// undefined without one. Updates `state`.
    virtual void step(const Tensor& inputs, const Tensor& recurrent, State& state) = 0;
    /// The bias added to the inputs' product; the whole bias unless a layer splits it (GRU).
    virtual Tensor input_bias() const { return bias_; }
    /// The bias added to the state's product; none unless a layer splits it (GRU).
    virtual Tensor recurrent_bias() const { return {}; }

    /// Columns [gate * units, (gate + 1) * units) of a (batch, gates * units) product or a bias row.
    Tensor gate(const Tensor& product, std::size_t gate) const { return gates(product, gate, gate + 1); }
    /// Gates [first, last) at once: adjacent gates under one activation make one op, not several.
    Tensor gates(const Tensor& product, std::size_t first, std::size_t last) const;
    /// a + b, or a alone when b is undefined (the first step's absent state).
    static Tensor plus(const Tensor& a, const Tensor& b);

private:
    /// The shapes an input may have, for errors: "(batch, steps, 3)".
    std::string expected_input() const;
    /// The computation of forward and call_with_state.
    RecurrentOutput run(const Tensor& x, const std::vector<Tensor>& initial_state, const Tensor& mask);
    /// The state a run starts from: `initial_state` checked against x's batch, or none (zeros).
    State starting_state(const Tensor& x, const std::vector<Tensor>& initial_state) const;

    std::size_t input_dim_, units_, gates_;
    RecurrentSettings settings_;
    ActivationFn activation_fn_, recurrent_activation_fn_;
    Tensor kernel_, recurrent_kernel_, bias_;
};

}  // namespace xg
