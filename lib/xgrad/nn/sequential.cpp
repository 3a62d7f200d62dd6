#include "xgrad/nn/sequential.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

Tensor Sequential::forward(const Tensor& x) { return forward_masked(x, {}).output; }

Masked Sequential::forward_masked(const Tensor& x, const Tensor& mask) {
    if (layers().empty()) throw StateError(fmt::format("{}: has no layers; expected add() before use", name()));
    Masked h{x, mask};
    for (auto& layer : layers()) h = layer->call_masked(h.output, h.mask);
    return h;
}

Activated Sequential::forward_with_logits(const Tensor& x) {
    if (layers().empty()) throw StateError(fmt::format("{}: has no layers; expected add() before use", name()));
    Masked h{x, {}};
    for (std::size_t i = 0; i + 1 < layers().size(); ++i) h = layers()[i]->call_masked(h.output, h.mask);
    if (h.mask.defined()) {
        // The mask reaches the last layer (a recurrent one): its call uses it, its output is the logits.
        const Tensor y = layers().back()->call_masked(h.output, h.mask).output;
        return {y, y, "linear"};
    }
    return layers().back()->call_with_logits(h.output);
}

Shape Sequential::output_shape(const Shape& input_shape) {
    Shape s = input_shape;
    for (auto& layer : layers()) s = layer->output_shape(s);
    return s;
}

}  // namespace xg
