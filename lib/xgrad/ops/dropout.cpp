// Inverted dropout: y = x * mask, the mask holding 0 (probability rate) or 1 / (1 - rate), so
// that inference needs no rescaling. The mask is a constant and the product goes through mul,
// so dropout is differentiable to any order with no rule of its own.
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

Tensor dropout(const Tensor& x, float rate, bool training) {
    if (!(rate >= 0.0f && rate < 1.0f)) {
        throw ValueError(fmt::format("dropout: rate is {} for x {}; expected 0 <= rate < 1", rate, format_shape(x.shape())));
    }
    if (!training || rate == 0.0f) return x;
    // Each element is kept when a uniform 32-bit draw is at least rate * 2^32; one 64-bit draw
    // of the engine serves two elements, so a seed fixes every mask.
    const auto threshold = static_cast<std::uint64_t>(std::ldexp(static_cast<double>(rate), 32));
    const float scale = 1.0f / (1.0f - rate);
    Array mask = uninitialized(x.shape());
    float* m = mask.data();
    const std::size_t n = mask.size();
    RandomEngine& engine = random_engine();
    for (std::size_t i = 0; i < n; i += 2) {
        const std::uint64_t bits = engine();
        m[i] = (bits & 0xffffffffu) >= threshold ? scale : 0.0f;
        if (i + 1 < n) m[i + 1] = (bits >> 32) >= threshold ? scale : 0.0f;
    }
    return mul(x, constant(std::move(mask)));
}

}  // namespace xg
