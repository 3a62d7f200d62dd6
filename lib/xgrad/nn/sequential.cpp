#include "xgrad/nn/sequential.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// "407050" -> "407,050"
std::string with_commas(std::size_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string batch_shape(const Shape& s) {
    std::string out = "(None";
    for (auto e : s) out += fmt::format(", {}", e);
    return out + ")";
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
    if (layers().empty()) throw StateError(fmt::format("{}: has no layers; expected add() before use", name()));
    Tensor h = x;
    for (auto& layer : layers()) h = (*layer)(h);
    return h;
}

Shape Sequential::output_shape(const Shape& input_shape) {
    Shape s = input_shape;
    for (auto& layer : layers()) s = layer->output_shape(s);
    return s;
}

std::string Sequential::summary(const Shape& input_shape) {
    // Keras's 65 columns, the first widened when a "name (Kind)" needs it
    // ("max_pooling2d_1 (MaxPooling2D)"), so that columns never run together.
    std::size_t name_width = 29;
    for (auto& layer : layers()) name_width = std::max(name_width, layer->name().size() + layer->kind().size() + 4);
    const std::string rule(name_width + 36, '_'), double_rule(name_width + 36, '=');
    std::string out = fmt::format("Model: \"{}\"\n{}\n{:<{}}{:<26}{}\n{}\n", name(), rule, "Layer (type)", name_width,
                                  "Output Shape", "Param #", double_rule);
    Shape s = input_shape;
    std::size_t total = 0, trainable = 0;
    for (std::size_t i = 0; i < layers().size(); ++i) {
        auto& layer = *layers()[i];
        s = layer.output_shape(s);
        std::size_t count = layer.buffer_count();
        for (auto& t : layer.parameters()) {
            count += t.size();
            if (t.requires_grad()) trainable += t.size();
        }
        total += count;
        out += fmt::format("{:<{}}{:<26}{}\n", fmt::format("{} ({})", layer.name(), layer.kind()), name_width,
                           batch_shape(s), with_commas(count));
        out += (i + 1 < layers().size() ? rule : double_rule) + "\n";
    }
    if (layers().empty()) out += double_rule + "\n";
    out += fmt::format("Total params: {}\nTrainable params: {}\nNon-trainable params: {}\n{}\n", with_commas(total),
                       with_commas(trainable), with_commas(total - trainable), rule);
    return out;
}

}  // namespace xg
