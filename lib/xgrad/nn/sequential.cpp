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
    return logits_masked(x, {});
}

Activated Sequential::logits_masked(const Tensor& x, const Tensor& mask) {
    Masked h{x, mask};
    for (std::size_t i = 0; i + 1 < layers().size(); ++i) h = layers()[i]->call_masked(h.output, h.mask);
    Module& last = *layers().back();
    if (!h.mask.defined()) return last.call_with_logits(h.output);
    // A layer that passes the mask computes its output without it: its logits are its own, and
    // the mask goes on with them (a loss then counts the kept steps alone).
    if (last.passes_mask()) {
        Activated out = last.call_with_logits(h.output);
        out.mask = h.mask;
        return out;
    }
    if (auto* nested = dynamic_cast<Sequential*>(&last); nested != nullptr && !nested->layers().empty()) {
        Activated out;
        nested->call_in_scope([&] {
            out = nested->logits_masked(h.output, h.mask);
            return out.output;
        });
        return out;
    }
    // A layer that uses the mask (a recurrent one): its masked call, its output as the logits.
    Masked y = last.call_masked(h.output, h.mask);
    return {y.output, y.output, "linear", y.mask};
}

Shape Sequential::output_shape(const Shape& input_shape) {
    Shape s = input_shape;
    for (auto& layer : layers()) s = layer->output_shape(s);
    return s;
}

}  // namespace xg
