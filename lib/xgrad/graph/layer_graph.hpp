#pragma once
// The layer view: a model as one box per layer with its name, kind, and input and output
// shapes with the batch axis as "None", like keras.utils.plot_model(show_shapes=True).
#include <string>

#include "xgrad/core/array.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// What the layer view draws besides names, kinds and shapes.
struct LayerGraphOptions {
    /// Draws a layer that has layers of its own (a nested Sequential) as a cluster of them instead of one box.
    bool expand_nested = false;
    /// Adds the activation of Dense, Conv2D and Activation layers ("relu").
    bool show_activations = false;
    /// Layout direction: "TB" (top to bottom), "LR", "BT" or "RL".
    std::string rankdir = "TB";
};

/// DOT text of an input box and `model`'s children applied one after another (or `model` itself if it has none), for samples of `input_shape` (no batch axis).
std::string layers_to_dot(Module& model, const Shape& input_shape, const LayerGraphOptions& options = {});

}  // namespace xg
