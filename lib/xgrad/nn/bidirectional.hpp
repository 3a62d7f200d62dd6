#pragma once
// Bidirectional: a recurrent layer and a copy reading the sequence the other way, their outputs
// merged, like keras.layers.Bidirectional (Schuster and Paliwal 1997). With return_sequences the
// backward layer's outputs are put back in the sequence's order first, so that step t of the
// output sees the whole sequence.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/nn/recurrent.hpp"

namespace xg {

struct BidirectionalOptions {
    /// How the two outputs are merged: "concat" (along the last axis), "sum", "mul" or "ave".
    std::string merge_mode = "concat";
    /// The layer reading the other way; when null, one is made from `layer`'s settings with
    /// go_backwards flipped and its weights drawn by the default initializers (Keras copies the
    /// layer's initializers too: pass a backward_layer to choose them).
    std::shared_ptr<Recurrent> backward_layer;
    std::string name;  // "" -> bidirectional_N
};

class Bidirectional : public Module {
public:
    /// Wraps `layer`; its children are named forward_<layer's name> and backward_<layer's name>.
    /// Throws ValueError for a null layer, a backward_layer of another kind, input_dim or
    /// return_sequences, or one that reads the same way as `layer`, an unknown merge_mode, or,
    /// without a backward_layer, a layer that cannot be rebuilt from its settings.
    explicit Bidirectional(std::shared_ptr<Recurrent> layer, BidirectionalOptions options = {});

    /// (batch, steps, input_dim) -> the two layers' outputs merged: (batch, 2 units) with "concat".
    Tensor forward(const Tensor& x) override;
    /// forward(x) in the layer's scope with both layers' last states, as Keras's return_state: the
    /// forward layer's (h, and c for an LSTM) then the backward layer's. `initial_state`, when
    /// given, is in the same order: the first half starts the forward layer, the rest the backward.
    /// With a `mask`, both layers skip its steps, and with return_sequences the masked steps'
    /// outputs are zeros (as Keras's Bidirectional makes them).
    RecurrentOutput call_with_state(const Tensor& x, const std::vector<Tensor>& initial_state = {},
                                    const Tensor& mask = {});
    Shape output_shape(const Shape& input_shape) override;
    /// merge_mode, the layer's kind and name, and both layers' settings ("forward.units",
    /// "backward.units"); nullopt when either layer has none.
    std::optional<LayerConfig> config() const override;
    /// True: config() describes both layers.
    bool config_describes_children() const override { return true; }

    Recurrent& forward_layer() { return *forward_; }
    Recurrent& backward_layer() { return *backward_; }
    const Recurrent& forward_layer() const { return *forward_; }
    const Recurrent& backward_layer() const { return *backward_; }
    const std::string& merge_mode() const { return merge_mode_; }

protected:
    /// Both layers with the mask; it passes on with return_sequences.
    Masked forward_masked(const Tensor& x, const Tensor& mask) override;

private:
    /// The two layers' outputs merged (the backward one's steps put back in order first), the
    /// masked steps zero with return_sequences.
    Tensor merged(const Tensor& y, Tensor y_reversed, const Tensor& mask) const;

    std::string merge_mode_;
    std::string layer_name_;
    std::shared_ptr<Recurrent> forward_, backward_;
};

}  // namespace xg
