#pragma once
// Whole models in one file, like Keras's model.save / load_model: a weights archive
// (weights.hpp) whose manifest also holds the architecture, so a program that never built
// the model can rebuild it and predict. Sequential models of registered layers
// (layer_registry.hpp) travel whole; a custom module saves its weights and records that its
// architecture lives in its code.
#include <memory>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

/// Writes `model`'s weights and, when every layer has a config(), its architecture (frozen
/// layers marked, Module::set_trainable) to `path` atomically; np.load reads the weights as
/// from save_weights.
void save_model(const Module& model, const std::string& path);
/// Rebuilds the model saved at `path` with its weights; throws IoError naming the file and
/// what is wrong (not a model file, an architecture that lives in code, an unknown layer kind,
/// bad settings, layers larger than the weights the file holds, weights that do not fit).
std::shared_ptr<Module> load_model(const std::string& path);

}  // namespace xg
