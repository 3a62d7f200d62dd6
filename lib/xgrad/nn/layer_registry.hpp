#pragma once
// The layer registry: kind -> a factory that rebuilds a layer from its config(), so a saved
// model's architecture can be read back by a program that never built it (load_model).
// A new layer type is one register_layer entry.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/core/window.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// Rebuilds a layer named `name` from its settings; throws ValueError for bad settings.
using LayerFactory = std::function<std::shared_ptr<Module>(const LayerConfig& config, const std::string& name)>;

/// Adds the factory for layers of `kind` (replacing one of that kind). load_model calls factories
/// with the values of the file it reads as a budget: the built-in initializers (xg::initializers)
/// may make no more values in all than the file holds, so a factory should use them only for the
/// layer's saved parameters and buffers.
void register_layer(const std::string& kind, LayerFactory factory);
/// A new layer of `kind` from `config`; throws ValueError for an unknown kind (naming the
/// registered ones) or bad settings. Every layer of xgrad is registered from the start (layer_kinds()
/// lists them: Dense, Embedding, the activation layers, the convolutions and poolings, the recurrent
/// layers and Bidirectional, Flatten, Dropout, the normalizations, Rescaling, Resizing, the crops and
/// the augmentation layers).
std::shared_ptr<Module> make_layer(const std::string& kind, const LayerConfig& config, const std::string& name);
/// The registered kinds.
std::vector<std::string> layer_kinds();

/// The setting `key` of a `kind` layer; throws ValueError when it is missing.
const std::string& config_text(const LayerConfig& config, const std::string& key, const std::string& kind);
/// The setting `key` as a count >= 1; throws ValueError when it is missing or not one.
std::size_t config_count(const LayerConfig& config, const std::string& key, const std::string& kind);
/// The setting `key` as "true" or "false"; throws ValueError otherwise.
bool config_flag(const LayerConfig& config, const std::string& key, const std::string& kind);
/// The setting `key` as a finite number; throws ValueError when it is missing or not one.
float config_number(const LayerConfig& config, const std::string& key, const std::string& kind);
/// The setting `key` as two counts >= 1 written "3,3"; throws ValueError when it is missing or not that.
Size2 config_size2(const LayerConfig& config, const std::string& key, const std::string& kind);

}  // namespace xg
