#include "xgrad/nn/layer_registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/bidirectional.hpp"
#include "xgrad/nn/layer_normalization.hpp"
#include "xgrad/nn/prelu.hpp"
#include "xgrad/nn/conv1d.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/conv2d_transpose.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/depthwise_conv2d.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/image_augmentation.hpp"
#include "xgrad/nn/image_crop.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/masking.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/rescaling.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/nn/separable_conv2d.hpp"
#include "xgrad/nn/simple_rnn.hpp"

namespace xg {
namespace {

// The settings every convolution layer's options have (the Convolution base's), read from its config.
template <class Options>
Options convolution_options(const LayerConfig& c, const std::string& kind, const std::string& name) {
    Options options;
    options.activation = config_text(c, "activation", kind);
    options.strides = config_size2(c, "strides", kind);
    // Files saved before convolutions had a dilation have none: their taps are adjacent.
    if (c.contains("dilation_rate")) options.dilation_rate = config_size2(c, "dilation_rate", kind);
    options.padding = config_text(c, "padding", kind);
    options.use_bias = config_flag(c, "use_bias", kind);
    options.name = name;
    return options;
}

// Conv2D and Conv2DTranspose: input channels, filters, a window and Conv2D's options.
template <class Layer>
std::shared_ptr<Module> layer_with_filters(const LayerConfig& c, const std::string& kind, const std::string& name) {
    return std::make_shared<Layer>(config_count(c, "input_channels", kind), config_count(c, "filters", kind),
                                   config_size2(c, "kernel_size", kind), convolution_options<Conv2DOptions>(c, kind, name));
}

// A MaxPooling1D or AveragePooling1D from its settings.
template <class Layer>
std::shared_ptr<Module> pooling1d(const LayerConfig& c, const std::string& kind, const std::string& name) {
    return std::make_shared<Layer>(config_count(c, "pool_size", kind),
                                   Pooling1DOptions{.strides = config_count(c, "strides", kind),
                                                    .padding = config_text(c, "padding", kind),
                                                    .name = name});
}

// A SimpleRNN, LSTM or GRU from its settings; the gated ones have a recurrent_activation.
template <class Layer, class Options>
std::shared_ptr<Module> recurrent(const LayerConfig& c, const std::string& kind, const std::string& name) {
    Options options;
    options.activation = config_text(c, "activation", kind);
    options.use_bias = config_flag(c, "use_bias", kind);
    options.return_sequences = config_flag(c, "return_sequences", kind);
    options.go_backwards = config_flag(c, "go_backwards", kind);
    options.dropout = config_number(c, "dropout", kind);
    options.recurrent_dropout = config_number(c, "recurrent_dropout", kind);
    if constexpr (requires { options.recurrent_activation; }) {
        options.recurrent_activation = config_text(c, "recurrent_activation", kind);
    }
    // Only the initial bias depends on it: files without it keep Keras's default.
    if constexpr (requires { options.unit_forget_bias; }) {
        if (c.contains("unit_forget_bias")) options.unit_forget_bias = config_flag(c, "unit_forget_bias", kind);
    }
    options.name = name;
    return std::make_shared<Layer>(config_count(c, "input_dim", kind), config_count(c, "units", kind), std::move(options));
}

// A Bidirectional from its settings: the wrapped layer's kind, and each layer's settings under
// "forward." and "backward.".
std::shared_ptr<Module> bidirectional(const LayerConfig& c, const std::string& name) {
    const std::string kind = "Bidirectional";
    const std::string& layer_kind = config_text(c, "layer", kind);
    const std::string& layer_name = config_text(c, "layer_name", kind);
    // Checked before anything is built: a file naming Bidirectional inside Bidirectional would
    // otherwise recurse as deep as its keys go.
    if (layer_kind == kind) {
        throw ValueError(fmt::format("{}: setting 'layer' is '{}'; expected SimpleRNN, LSTM or GRU", kind, layer_kind));
    }
    const auto part = [&](const std::string& prefix) {
        LayerConfig settings;
        for (const auto& [key, value] : c) {
            if (key.starts_with(prefix)) settings[key.substr(prefix.size())] = value;
        }
        auto layer = std::dynamic_pointer_cast<Recurrent>(make_layer(layer_kind, settings, layer_name));
        if (!layer) {
            throw ValueError(fmt::format("{}: setting 'layer' is '{}'; expected SimpleRNN, LSTM or GRU", kind, layer_kind));
        }
        return layer;
    };
    auto forward = part("forward.");
    return std::make_shared<Bidirectional>(
        std::move(forward),
        BidirectionalOptions{.merge_mode = config_text(c, "merge_mode", kind), .backward_layer = part("backward."), .name = name});
}

// Reads all of [first, last) as one T; false when the text is not exactly one.
template <class T>
bool read_whole(const char* first, const char* last, T& value) {
    const auto [end, error] = std::from_chars(first, last, value);
    return error == std::errc() && end == last;
}

// "4,4,3": whole numbers >= 1 separated by commas, at most `most` of them; nothing otherwise.
std::optional<Shape> read_extents(const std::string& text, std::size_t most) {
    Shape out;
    for (std::size_t start = 0; out.size() < most;) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        std::size_t extent = 0;
        if (!read_whole(text.data() + start, text.data() + comma, extent) || extent == 0) break;
        out.push_back(extent);
        if (comma == text.size()) return out;
        start = comma + 1;
    }
    return std::nullopt;
}

Shape config_extents(const LayerConfig& c, const std::string& key, const std::string& kind) {
    const std::string& text = config_text(c, key, kind);
    if (auto extents = read_extents(text, 8)) return *extents;
    throw ValueError(fmt::format("{}: setting '{}' is '{}'; expected 1 to 8 whole numbers >= 1 as \"4,4,3\"", kind, key,
                                 text));
}

// A random factor's range, written "lower,upper" (factor_range_text), or one number f for [-f, f]
// as Keras takes it. The layer itself checks the bounds.
FactorRange config_range(const LayerConfig& c, const std::string& key, const std::string& kind) {
    const std::string& text = config_text(c, key, kind);
    const char* first = text.data();
    const char* last = first + text.size();
    const std::size_t comma = text.find(',');
    float lower = 0.0f, upper = 0.0f;
    if (comma == std::string::npos) {
        if (read_whole(first, last, lower)) return FactorRange(lower);
    } else if (read_whole(first, first + comma, lower) && read_whole(first + comma + 1, last, upper)) {
        return {lower, upper};
    }
    throw ValueError(fmt::format("{}: setting '{}' is '{}'; expected two numbers as \"-0.1,0.1\", or one", kind, key,
                                 text));
}

// The sampling settings of the geometric augmentation layers, read from their config into their
// options (ImageAugmentationOptions, RandomZoomOptions).
template <class Options>
Options augmentation_options(const LayerConfig& c, const std::string& kind, const std::string& name) {
    Options options;
    options.fill_mode = parse_fill_mode(config_text(c, "fill_mode", kind), kind.c_str());
    options.interpolation = parse_interpolation(config_text(c, "interpolation", kind), kind.c_str());
    options.fill_value = config_number(c, "fill_value", kind);
    options.name = name;
    return options;
}

// The value range of RandomBrightness and RandomContrast ("0,255").
ValueRange value_range(const LayerConfig& c, const std::string& kind) {
    if (const std::string& text = config_text(c, "value_range", kind); text.find(',') == std::string::npos) {
        throw ValueError(fmt::format("{}: setting 'value_range' is '{}'; expected two numbers as \"0,255\"", kind,
                                     text));
    }
    const FactorRange r = config_range(c, "value_range", kind);
    return {r.lower, r.upper};
}

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
        {"LeakyReLU",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<LeakyReLU>(config_number(c, "alpha", "LeakyReLU"), name);
         }},
        {"ELU",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<ELU>(config_number(c, "alpha", "ELU"), name);
         }},
        {"ReLU",
         [](const LayerConfig& c, const std::string& name) {
             const std::optional<float> max_value =
                 c.contains("max_value") ? std::optional(config_number(c, "max_value", "ReLU")) : std::nullopt;
             return std::make_shared<ReLU>(max_value, config_number(c, "negative_slope", "ReLU"),
                                           config_number(c, "threshold", "ReLU"), name);
         }},
        {"PReLU",
         [](const LayerConfig& c, const std::string& name) {
             PReLUOptions options{.name = name};
             if (c.contains("shared_axes")) {
                 const Shape axes = config_extents(c, "shared_axes", "PReLU");
                 options.shared_axes.assign(axes.begin(), axes.end());
             }
             return std::make_shared<PReLU>(config_extents(c, "input_shape", "PReLU"), std::move(options));
         }},
        {"Embedding",
         [](const LayerConfig& c, const std::string& name) {
             // Files written before mask_zero have none: the default, false.
             const bool mask_zero = c.contains("mask_zero") && config_flag(c, "mask_zero", "Embedding");
             return std::make_shared<Embedding>(config_count(c, "input_dim", "Embedding"),
                                                config_count(c, "output_dim", "Embedding"),
                                                EmbeddingOptions{.mask_zero = mask_zero, .name = name});
         }},
        {"SimpleRNN",
         [](const LayerConfig& c, const std::string& name) {
             return recurrent<SimpleRNN, SimpleRNNOptions>(c, "SimpleRNN", name);
         }},
        {"LSTM",
         [](const LayerConfig& c, const std::string& name) { return recurrent<LSTM, LSTMOptions>(c, "LSTM", name); }},
        {"GRU", [](const LayerConfig& c, const std::string& name) { return recurrent<GRU, GRUOptions>(c, "GRU", name); }},
        {"Bidirectional", bidirectional},
        {"Conv1D",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "Conv1D";
             return std::make_shared<Conv1D>(config_count(c, "input_channels", kind), config_count(c, "filters", kind),
                                             config_count(c, "kernel_size", kind),
                                             Conv1DOptions{.activation = config_text(c, "activation", kind),
                                                           .strides = config_count(c, "strides", kind),
                                                           .dilation_rate = config_count(c, "dilation_rate", kind),
                                                           .padding = config_text(c, "padding", kind),
                                                           .use_bias = config_flag(c, "use_bias", kind),
                                                           .name = name});
         }},
        {"MaxPooling1D",
         [](const LayerConfig& c, const std::string& name) { return pooling1d<MaxPooling1D>(c, "MaxPooling1D", name); }},
        {"AveragePooling1D",
         [](const LayerConfig& c, const std::string& name) {
             return pooling1d<AveragePooling1D>(c, "AveragePooling1D", name);
         }},
        {"GlobalAveragePooling1D",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<GlobalAveragePooling1D>(
                 GlobalPooling1DOptions{.keepdims = config_flag(c, "keepdims", "GlobalAveragePooling1D"), .name = name});
         }},
        {"GlobalMaxPooling1D",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<GlobalMaxPooling1D>(
                 GlobalPooling1DOptions{.keepdims = config_flag(c, "keepdims", "GlobalMaxPooling1D"), .name = name});
         }},
        {"Conv2D",
         [](const LayerConfig& c, const std::string& name) { return layer_with_filters<Conv2D>(c, "Conv2D", name); }},
        {"Conv2DTranspose",
         [](const LayerConfig& c, const std::string& name) {
             return layer_with_filters<Conv2DTranspose>(c, "Conv2DTranspose", name);
         }},
        {"DepthwiseConv2D",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "DepthwiseConv2D";
             auto options = convolution_options<DepthwiseConv2DOptions>(c, kind, name);
             options.depth_multiplier = config_count(c, "depth_multiplier", kind);
             return std::make_shared<DepthwiseConv2D>(config_count(c, "input_channels", kind),
                                                      config_size2(c, "kernel_size", kind), std::move(options));
         }},
        {"SeparableConv2D",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "SeparableConv2D";
             auto options = convolution_options<SeparableConv2DOptions>(c, kind, name);
             options.depth_multiplier = config_count(c, "depth_multiplier", kind);
             return std::make_shared<SeparableConv2D>(config_count(c, "input_channels", kind),
                                                      config_count(c, "filters", kind),
                                                      config_size2(c, "kernel_size", kind), std::move(options));
         }},
        {"MaxPooling2D",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<MaxPooling2D>(config_size2(c, "pool_size", "MaxPooling2D"),
                                                   Pooling2DOptions{.strides = config_size2(c, "strides", "MaxPooling2D"),
                                                                    .padding = config_text(c, "padding", "MaxPooling2D"),
                                                                    .name = name});
         }},
        {"AveragePooling2D",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<AveragePooling2D>(
                 config_size2(c, "pool_size", "AveragePooling2D"),
                 Pooling2DOptions{.strides = config_size2(c, "strides", "AveragePooling2D"),
                                  .padding = config_text(c, "padding", "AveragePooling2D"),
                                  .name = name});
         }},
        {"GlobalAveragePooling2D",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<GlobalAveragePooling2D>(
                 GlobalPooling2DOptions{.keepdims = config_flag(c, "keepdims", "GlobalAveragePooling2D"), .name = name});
         }},
        {"GlobalMaxPooling2D",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<GlobalMaxPooling2D>(
                 GlobalPooling2DOptions{.keepdims = config_flag(c, "keepdims", "GlobalMaxPooling2D"), .name = name});
         }},
        {"Flatten", [](const LayerConfig&, const std::string& name) { return std::make_shared<Flatten>(name); }},
        {"Dropout",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<Dropout>(config_number(c, "rate", "Dropout"), name);
         }},
        {"Masking",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<Masking>(config_number(c, "mask_value", "Masking"), name);
         }},
        {"Rescaling",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<Rescaling>(config_number(c, "scale", "Rescaling"),
                                                config_number(c, "offset", "Rescaling"), name);
         }},
        {"RandomFlip",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<RandomFlip>(parse_flip_mode(config_text(c, "mode", "RandomFlip")), name);
         }},
        {"RandomTranslation",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "RandomTranslation";
             return std::make_shared<RandomTranslation>(config_range(c, "height_factor", kind),
                                                        config_range(c, "width_factor", kind),
                                                        augmentation_options<ImageAugmentationOptions>(c, kind, name));
         }},
        {"RandomRotation",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "RandomRotation";
             return std::make_shared<RandomRotation>(config_range(c, "factor", kind),
                                                     augmentation_options<ImageAugmentationOptions>(c, kind, name));
         }},
        {"RandomZoom",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "RandomZoom";
             auto options = augmentation_options<RandomZoomOptions>(c, kind, name);
             if (c.count("width_factor")) options.width_factor = config_range(c, "width_factor", kind);
             return std::make_shared<RandomZoom>(config_range(c, "height_factor", kind), std::move(options));
         }},
        {"RandomBrightness",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "RandomBrightness";
             return std::make_shared<RandomBrightness>(
                 config_range(c, "factor", kind),
                 ImageAdjustmentOptions{.value_range = value_range(c, kind), .name = name});
         }},
        {"RandomContrast",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "RandomContrast";
             return std::make_shared<RandomContrast>(
                 config_number(c, "lower", kind), config_number(c, "upper", kind),
                 ImageAdjustmentOptions{.value_range = value_range(c, kind), .name = name});
         }},
        {"Resizing",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "Resizing";
             return std::make_shared<Resizing>(
                 config_count(c, "height", kind), config_count(c, "width", kind),
                 ResizingOptions{.interpolation = parse_interpolation(config_text(c, "interpolation", kind), kind.c_str()),
                                 .crop_to_aspect_ratio = config_flag(c, "crop_to_aspect_ratio", kind),
                                 .name = name});
         }},
        {"CenterCrop",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<CenterCrop>(config_count(c, "height", "CenterCrop"),
                                                 config_count(c, "width", "CenterCrop"), name);
         }},
        {"RandomCrop",
         [](const LayerConfig& c, const std::string& name) {
             return std::make_shared<RandomCrop>(config_count(c, "height", "RandomCrop"),
                                                 config_count(c, "width", "RandomCrop"), name);
         }},
        {"BatchNormalization",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "BatchNormalization";
             return std::make_shared<BatchNormalization>(
                 config_count(c, "features", kind),
                 BatchNormalizationOptions{.momentum = config_number(c, "momentum", kind),
                                           .epsilon = config_number(c, "epsilon", kind),
                                           .center = config_flag(c, "center", kind),
                                           .scale = config_flag(c, "scale", kind),
                                           .name = name});
         }},
        {"LayerNormalization",
         [](const LayerConfig& c, const std::string& name) {
             const std::string kind = "LayerNormalization";
             // One axis is "features"; more are "normalized_shape".
             if (c.contains("features") && c.contains("normalized_shape")) {
                 throw ValueError("LayerNormalization: settings 'features' and 'normalized_shape' both given; "
                                  "expected one of them");
             }
             return std::make_shared<LayerNormalization>(
                 c.contains("normalized_shape") ? config_extents(c, "normalized_shape", kind)
                                                : Shape{config_count(c, "features", kind)},
                 LayerNormalizationOptions{.epsilon = config_number(c, "epsilon", kind),
                                           .center = config_flag(c, "center", kind),
                                           .scale = config_flag(c, "scale", kind),
                                           .name = name});
         }},
    };
};

LayerTable& layer_table() {
    static LayerTable t;
    return t;
}

}  // namespace

void register_layer(const std::string& kind, LayerFactory factory) {
    if (kind.empty() || !factory) throw ValueError("register_layer: empty kind or factory; expected both");
    LayerTable& t = layer_table();
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
        LayerTable& t = layer_table();
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
    LayerTable& t = layer_table();
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
    if (!read_whole(text.data(), text.data() + text.size(), value) || value == 0) {
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

float config_number(const LayerConfig& config, const std::string& key, const std::string& kind) {
    const std::string& text = config_text(config, key, kind);
    float value = 0.0f;
    if (!read_whole(text.data(), text.data() + text.size(), value) || !std::isfinite(value)) {
        throw ValueError(fmt::format("{}: setting '{}' is '{}'; expected a finite number", kind, key, text));
    }
    return value;
}

Size2 config_size2(const LayerConfig& config, const std::string& key, const std::string& kind) {
    const std::string& text = config_text(config, key, kind);
    const std::optional<Shape> extents = read_extents(text, 2);
    if (!extents || extents->size() != 2) {
        throw ValueError(fmt::format("{}: setting '{}' is '{}'; expected two whole numbers >= 1 as \"3,3\"", kind, key,
                                     text));
    }
    return {(*extents)[0], (*extents)[1]};
}

}  // namespace xg
