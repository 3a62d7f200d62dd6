#include "xgrad/nn/rescaling.hpp"

#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Rescaling::Rescaling(float scale, float offset, std::string name)
    : Module("Rescaling", std::move(name)), scale_(scale), offset_(offset) {
    if (!std::isfinite(scale) || !std::isfinite(offset)) {
        throw ValueError(fmt::format("Rescaling: scale {} and offset {}; expected finite numbers", scale, offset));
    }
}

std::optional<LayerConfig> Rescaling::config() const {
    return LayerConfig{{"scale", fmt::format("{}", scale_)}, {"offset", fmt::format("{}", offset_)}};
}

Tensor Rescaling::forward(const Tensor& x) {
    // An offset of 0 records no add, so the graph (and an ONNX export) holds only the product.
    Tensor y = x * scale_;
    return offset_ == 0.0f ? y : y + offset_;
}

}  // namespace xg
