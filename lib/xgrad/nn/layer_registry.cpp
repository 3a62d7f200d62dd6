#include "xgrad/nn/layer_registry.hpp"

#include <charconv>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/dense.hpp"

namespace xg {
namespace {

struct LayerTable {
    std::mutex mutex;
    std::vector<std::pair<std::string, LayerFactory>> entries = {
        {"Dense",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<Dense>(config_count(c, "input_dim", "Dense"), config_count(c, "units", "Dense"),
                                            DenseOptions{.activation = config_text(c, "activation", "Dense"),
                                                         .use_bias = config_flag(c, "use_bias", "Dense"),
                                                         .name = name});
         }},
        {"Activation",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<Activation>(config_text(c, "activation", "Activation"), name);
         }},
        {"Softmax", [](const LayerConfig&, const std::string& name) { return std::make_shared<Softmax>(name); }},
    };
};

LayerTable& table() {
    static LayerTable t;
    return t;
}

}  // namespace

void register_layer(const std::string& kind, LayerFactory factory) {
    if (kind.empty() || !factory) throw ValueError("register_layer: empty kind or factory; expected both");
    LayerTable& t = table();
    std::lock_guard lock(t.mutex);
    for (auto& [existing, f] : t.entries) {
        if (existing == kind) {
            f = std::move(factory);
            return;
        }
    }
    t.entries.emplace_back(kind, std::move(factory));
}

std::shared_ptr<Module> make_layer(const std::string& kind, const LayerConfig& config, const std::string& name) {
    LayerFactory factory;
    {
        LayerTable& t = table();
        std::lock_guard lock(t.mutex);
        for (auto& [existing, f] : t.entries) {
            if (existing == kind) factory = f;
        }
    }
    if (!factory) {
        std::string known;
        for (auto& k : layer_kinds()) known += (known.empty() ? "" : ", ") + k;
        throw ValueError(fmt::format("make_layer: unknown layer kind '{}'; expected one of {} (or register_layer)", kind, known));
    }
    return factory(config, name);
}

std::vector<std::string> layer_kinds() {
    LayerTable& t = table();
    std::lock_guard lock(t.mutex);
    std::vector<std::string> out;
    for (auto& [kind, f] : t.entries) out.push_back(kind);
    return out;
}

const std::string& config_text(const LayerConfig& config, const std::string& key, const std::string& kind) {
    const auto it = config.find(key);
    if (it == config.end()) throw ValueError(fmt::format("{}: setting '{}' is missing; expected it in the layer's config", kind, key));
    return it->second;
}

std::size_t config_count(const LayerConfig& config, const std::string& key, const std::string& kind) {
    const std::string& text = config_text(config, key, kind);
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value == 0) {
        throw ValueError(fmt::format("{}: setting '{}' is '{}'; expected a whole number >= 1", kind, key, text));
    }
    return value;
}

bool config_flag(const LayerConfig& config, const std::string& key, const std::string& kind) {
    const std::string& text = config_text(config, key, kind);
    if (text == "true") return true;
    if (text == "false") return false;
    throw ValueError(fmt::format("{}: setting '{}' is '{}'; expected true or false", kind, key, text));
}

}  // namespace xg
