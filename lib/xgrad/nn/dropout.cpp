#include "xgrad/nn/dropout.hpp"

#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Dropout::Dropout(float rate, std::string name) : Module("Dropout", std::move(name)), rate_(rate) {
    if (!(rate >= 0.0f && rate < 1.0f)) throw ValueError(fmt::format("Dropout: rate {}; expected 0 <= rate < 1", rate));
}

std::optional<LayerConfig> Dropout::config() const { return LayerConfig{{"rate", fmt::format("{}", rate_)}}; }

Tensor Dropout::forward(const Tensor& x) { return dropout(x, rate_, training()); }

}  // namespace xg
