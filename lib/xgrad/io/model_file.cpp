#include "xgrad/io/model_file.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/io/detail/manifest.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/detail/initializer_budget.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/nn/sequential.hpp"

namespace xg {
namespace {

using nlohmann::json;

constexpr const char* model_format = "xgrad-model";

// {"kind", "name", "config"} for a layer, {"kind": "Sequential", "name", "layers"} for a
// Sequential; null when some module in the tree has no config (its architecture is code).
// "trainable" is written where a module's flag differs from its parent's (a model's top
// from true); build() reads it back the same way.
json architecture_of(const Module& m, bool parent_trainable) {
    json entry;
    if (auto* seq = dynamic_cast<const Sequential*>(&m)) {
        json layers = json::array();
        for (auto& layer : seq->layers()) {
            json child = architecture_of(*layer, m.trainable());
            if (child.is_null()) return nullptr;
            layers.push_back(std::move(child));
        }
        entry = {{"kind", "Sequential"}, {"name", m.name()}, {"layers", std::move(layers)}};
    } else {
        const std::optional<LayerConfig> config = m.config();
        if (!config || (!m.children().empty() && !m.config_describes_children())) return nullptr;
        json settings = json::object();
        for (auto& [key, value] : *config) settings[key] = value;
        entry = {{"kind", m.kind()}, {"name", m.name()}, {"config", std::move(settings)}};
        // The children the settings describe come back with the layer's flag, unless written here
        // (one half of a Bidirectional frozen).
        for (const auto& child : m.children()) {
            if (child->trainable() != m.trainable()) entry["trainable_children"][child->name()] = child->trainable();
        }
    }
    if (m.trainable() != parent_trainable) entry["trainable"] = m.trainable();
    return entry;
}

std::string text_field(const json& entry, const char* key, const std::string& where) {
    if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string()) {
        throw ValueError(fmt::format("{}: '{}' is missing or not text; expected {{\"kind\", \"name\", ...}}", where, key));
    }
    return entry[key].get<std::string>();
}

std::shared_ptr<Module> build_layer(const json& entry, const std::string& kind, const std::string& name,
                                    const std::string& where) {
    LayerConfig config;
    if (!entry.contains("config") || !entry["config"].is_object()) {
        throw ValueError(fmt::format("{}: layer '{}' has no settings; expected \"config\": {{...}}", where, name));
    }
    for (auto& [key, value] : entry["config"].items()) {
        if (!value.is_string()) throw ValueError(fmt::format("{}: setting '{}' of '{}' is not text; expected text", where, key, name));
        config[key] = value.get<std::string>();
    }
    try {
        return make_layer(kind, config, name);
    } catch (const std::invalid_argument& e) {
        throw ValueError(fmt::format("{} ('{}'): {}", where, name, e.what()));
    }
}

// Builds the module of `entry` with its "trainable" flag where architecture_of wrote one,
// else its parent's: a Sequential takes its flag before its layers are added, and each layer
// then takes its own.
std::shared_ptr<Module> build(const json& entry, const std::string& where, int depth, bool parent_trainable) {
    if (depth > 64) throw ValueError(fmt::format("{}: Sequential models nested more than 64 deep; expected fewer", where));
    const std::string kind = text_field(entry, "kind", where);
    const std::string name = text_field(entry, "name", where);
    bool trainable = parent_trainable;
    if (entry.contains("trainable")) {
        if (!entry["trainable"].is_boolean()) {
            throw ValueError(fmt::format("{}: 'trainable' of '{}' is {}; expected true or false", where, name,
                                         entry["trainable"].dump()));
        }
        trainable = entry["trainable"].get<bool>();
    }
    if (kind == "Sequential") {
        if (!entry.contains("layers") || !entry["layers"].is_array()) {
            throw ValueError(fmt::format("{}: Sequential '{}' has no list of layers; expected \"layers\": [...]", where, name));
        }
        if (entry.contains("trainable_children")) {
            throw ValueError(fmt::format("{}: Sequential '{}' has 'trainable_children'; expected its layers' own "
                                         "\"trainable\" flags",
                                         where, name));
        }
        auto seq = std::make_shared<Sequential>(name);
        seq->set_trainable(trainable);
        std::size_t i = 0;
        for (const json& layer : entry["layers"]) {
            seq->add(build(layer, fmt::format("{} layer {}", where, i++), depth + 1, trainable));
        }
        return seq;
    }
    std::shared_ptr<Module> layer = build_layer(entry, kind, name, where);
    layer->set_trainable(trainable);
    if (entry.contains("trainable_children")) {
        const json& flags = entry["trainable_children"];
        if (!flags.is_object()) {
            throw ValueError(fmt::format("{}: 'trainable_children' of '{}' is {}; expected {{\"child\": true or false}}",
                                         where, name, flags.dump()));
        }
        for (const auto& item : flags.items()) {
            const std::string child_name = item.key();
            const json& flag = item.value();
            const auto& children = layer->children();
            auto child = std::find_if(children.begin(), children.end(), [&](auto& c) { return c->name() == child_name; });
            if (child == children.end() || !flag.is_boolean()) {
                throw ValueError(fmt::format("{}: 'trainable_children' of '{}' gives {} for '{}'; expected true or false "
                                             "for one of its layers",
                                             where, name, flag.dump(), child_name));
            }
            (*child)->set_trainable(flag.get<bool>());
        }
    }
    return layer;
}

}  // namespace

void save_model(const Module& model, const std::string& path) {
    json arch = architecture_of(model, true);
    json record = {{"format", model_format}, {"version", 1}};
    if (arch.is_null()) {
        record["architecture"] = "code";
        record["kind"] = model.kind();
        record["name"] = model.name();
    } else {
        record["architecture"] = std::move(arch);
    }
    detail::save_weights_json(model.named_state(), path, json{{"model", std::move(record)}});
}

std::shared_ptr<Module> load_model(const std::string& path) {
    // The manifest alone first (the arrays are not decoded), so that a weights file or a checkpoint
    // is refused before it is read whole.
    const json manifest = detail::read_manifest_json(path, "load_model", detail::Manifest::optional);
    const json* record = nullptr;
    if (manifest.is_object() && manifest["metadata"].contains("model")) record = &manifest["metadata"]["model"];
    if (record == nullptr || !record->is_object() || record->value("format", "") != model_format) {
        throw IoError(fmt::format("load_model: {}: holds weights but no model; expected a file written by save_model "
                                  "(build the model in code and call load_weights for a weights file)", path));
    }
    if (!record->contains("version") || !(*record)["version"].is_number_integer() || (*record)["version"] != 1) {
        throw IoError(fmt::format("load_model: {}: model record version {}; expected 1", path,
                                  record->contains("version") ? (*record)["version"].dump() : "missing"));
    }
    if (!record->contains("architecture")) {
        throw IoError(fmt::format("load_model: {}: the model record has no architecture; expected a file written by "
                                  "save_model",
                                  path));
    }
    const json& arch = (*record)["architecture"];
    if (arch.is_string() && arch == "code") {
        throw IoError(fmt::format("load_model: {}: the model {} '{}' keeps its architecture in its code; expected a "
                                  "Sequential of registered layers (build the {} in the program and call load_weights)",
                                  path, record->value("kind", "?"), record->value("name", "?"), record->value("kind", "module")));
    }
    // The layers are built from settings in the file before its weights go in; a layer can make no
    // more values than the file holds, so a corrupt size is an error here and not a huge allocation.
    const std::map<std::string, Array> arrays = detail::read_weights_file(path, "load_model");
    std::size_t values_in_file = 0;
    for (const auto& [name, array] : arrays) values_in_file += array.size();
    std::shared_ptr<Module> model;
    try {
        detail::InitializerBudget budget(values_in_file);
        model = build(arch, "architecture", 0, true);
    } catch (const std::invalid_argument& e) {
        throw IoError(fmt::format("load_model: {}: {}", path, e.what()));
    }
    detail::copy_weights(model->named_state(), arrays, fmt::format("load_model: {}", path));
    return model;
}

}  // namespace xg
