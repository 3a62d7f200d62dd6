#include "xgrad/nn/sequential.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {

Tensor Sequential::forward(const Tensor& x) {
    if (layers().empty()) throw StateError(fmt::format("{}: has no layers; expected add() before use", name()));
    Tensor h = x;
    for (auto& layer : layers()) h = (*layer)(h);
    return h;
}

Activated Sequential::forward_with_logits(const Tensor& x) {
    if (layers().empty()) throw StateError(fmt::format("{}: has no layers; expected add() before use", name()));
    Tensor h = x;
    for (std::size_t i = 0; i + 1 < layers().size(); ++i) h = (*layers()[i])(h);
    return layers().back()->call_with_logits(h);
}

Shape Sequential::output_shape(const Shape& input_shape) {
    Shape s = input_shape;
    for (auto& layer : layers()) s = layer->output_shape(s);
    return s;
}

}  // namespace xg
