// Layer normalization: each example normalized over its own trailing axes, with statistics that
// do not depend on the batch (Ba et al. 2016; keras.layers.LayerNormalization, torch's
// layer_norm, ONNX's LayerNormalization). Composed of ops, so its gradient is derived by the
// tape and is differentiable again; the mean and variance are those of the example itself.
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

namespace {

// The mean over the axes from `first` to the last, kept as extents of 1.
Tensor mean_over(const Tensor& x, std::size_t first) {
    const Shape& s = x.shape();
    if (first + 1 == s.size()) return mean(x, -1, true);
    std::vector<long> rows(s.begin(), s.begin() + static_cast<long>(first));
    rows.push_back(-1);
    std::vector<long> kept(s.begin(), s.begin() + static_cast<long>(first));
    kept.resize(s.size(), 1);
    return reshape(mean(reshape(x, rows), -1, true), kept);
}

}  // namespace

LayerNormStatistics layer_norm_statistics(const Tensor& x, long axis, float epsilon) {
    const char* op = "layer_norm";
    const std::size_t first = normalize_axis(axis, x.rank(), op);
    if (!(epsilon >= 0.0f) || std::isinf(epsilon)) {
        throw ValueError(fmt::format("{}: epsilon {}; expected a finite value >= 0", op, epsilon));
    }
    if (x.size() == 0) {
        // No example, or examples of no values: NaN statistics (the mean of nothing), as numpy.
        Shape kept = x.shape();
        for (std::size_t i = first; i < kept.size(); ++i) kept[i] = 1;
        Array values = uninitialized(kept);
        values.fill(std::numeric_limits<float>::quiet_NaN());
        const Tensor nan = constant(std::move(values));
        return {nan, nan};
    }
    const Tensor m = mean_over(x, first);
    const Tensor centred = x - m;
    return {m, 1.0f / sqrt(mean_over(square(centred), first) + epsilon)};
}

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, long axis, float epsilon) {
    const char* op = "layer_norm";
    const std::size_t first = normalize_axis(axis, x.rank(), op);
    const Shape& s = x.shape();
    const Shape normalized(s.begin() + static_cast<long>(first), s.end());
    for (const auto& [what, t] : {std::pair{"gamma", &gamma}, std::pair{"beta", &beta}}) {
        if (t->shape() != normalized) {
            throw ShapeError(fmt::format("{}: {} has shape {} for x {} normalized from axis {}; expected {}", op, what,
                                         format_shape(t->shape()), format_shape(s), first, format_shape(normalized)));
        }
    }
    // An empty batch: nothing to normalize, and the mean of no rows is no value.
    if (x.size() == 0) return x * gamma + beta;
    const LayerNormStatistics statistics = layer_norm_statistics(x, axis, epsilon);
    return (x - statistics.mean) * statistics.inv_std * gamma + beta;
}

}  // namespace xg
