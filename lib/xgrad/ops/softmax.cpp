// Softmax family, computed stably: the row maximum is subtracted before exponentiating,
// so logits of any size give finite results.
#include <cmath>

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/axis_view.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

using detail::AxisView;

namespace {

// out = x - max - log(sum(exp(x - max))) along each line.
Array log_softmax_values(const Array& x, const AxisView& view) {
    Array out = uninitialized(x.shape());
    const float* in = x.data();
    float* o = out.data();
    view.for_each_line([&](std::size_t start, std::size_t stride) {
        float m = in[start];
        for (std::size_t e = 1; e < view.extent; ++e) m = std::max(m, in[start + e * stride]);
        float total = 0.0f;
        for (std::size_t e = 0; e < view.extent; ++e) total += std::exp(in[start + e * stride] - m);
        // (x - m) - log(total), never x - (m + log(total)): m + log(total) would be rounded at
        // the scale of m, costing 1e-5 of precision for logits near 1000.
        const float log_total = std::log(total);
        for (std::size_t e = 0; e < view.extent; ++e) o[start + e * stride] = (in[start + e * stride] - m) - log_total;
    });
    return out;
}

void check_logits(const Tensor& logits, const char* op) {
    if (logits.rank() != 2 || logits.shape()[0] == 0 || logits.shape()[1] == 0) {
        throw ShapeError(fmt::format("{}: logits have shape {}; expected (batch, classes) with both > 0", op,
                                     format_shape(logits.shape())));
    }
}

std::size_t checked_label(float label, std::size_t classes, const char* op) {
    if (!(label >= 0.0f) || label >= static_cast<float>(classes) || label != std::floor(label)) {
        throw ValueError(fmt::format("{}: label {} is not a class index; expected an integer in [0, {})", op, label, classes));
    }
    return static_cast<std::size_t>(label);
}

}  // namespace

Tensor softmax(const Tensor& x, long axis) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "softmax");
    check_axis_not_empty(x.shape(), ax, "softmax");
    const AxisView view(x.shape(), ax);
    Array y = log_softmax_values(x.value(), view);
    for (float& v : y) v = std::exp(v);
    return record_op("softmax", {x}, std::move(y), [view](GradientContext& ctx) {
        // dx = y * (dy - sum(dy * y)) along the axis
        const Array& y = ctx.output();
        const Array& dy = ctx.grad();
        Array dx = uninitialized(y.shape());
        view.for_each_line([&](std::size_t start, std::size_t stride) {
            float dot = 0.0f;
            for (std::size_t e = 0; e < view.extent; ++e) dot += dy.data()[start + e * stride] * y.data()[start + e * stride];
            for (std::size_t e = 0; e < view.extent; ++e) {
                const std::size_t k = start + e * stride;
                dx.data()[k] = y.data()[k] * (dy.data()[k] - dot);
            }
        });
        ctx.accumulate(0, std::move(dx));
    }, [ax](TensorGradientContext& ctx) {
        const Tensor& y = ctx.output();
        const long a = static_cast<long>(ax);
        ctx.accumulate(0, y * (ctx.grad() - sum(ctx.grad() * y, a, true)));
    }, OpAttributes{{"axis", ax}});
}

Tensor log_softmax(const Tensor& x, long axis) {
    const std::size_t ax = normalize_axis(axis, x.rank(), "log_softmax");
    check_axis_not_empty(x.shape(), ax, "log_softmax");
    const AxisView view(x.shape(), ax);
    return record_op("log_softmax", {x}, log_softmax_values(x.value(), view), [view](GradientContext& ctx) {
        // dx = dy - softmax * sum(dy) along the axis, with softmax = exp(y)
        const Array& y = ctx.output();
        const Array& dy = ctx.grad();
        Array dx = uninitialized(y.shape());
        view.for_each_line([&](std::size_t start, std::size_t stride) {
            float total = 0.0f;
            for (std::size_t e = 0; e < view.extent; ++e) total += dy.data()[start + e * stride];
            for (std::size_t e = 0; e < view.extent; ++e) {
                const std::size_t k = start + e * stride;
                dx.data()[k] = dy.data()[k] - std::exp(y.data()[k]) * total;
            }
        });
        ctx.accumulate(0, std::move(dx));
    }, [ax](TensorGradientContext& ctx) {
        const long a = static_cast<long>(ax);
        ctx.accumulate(0, ctx.grad() - exp(ctx.output()) * sum(ctx.grad(), a, true));
    }, OpAttributes{{"axis", ax}});
}

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets) {
    check_logits(logits, "softmax_cross_entropy");
    if (targets.shape() != logits.shape()) {
        throw ShapeError(fmt::format("softmax_cross_entropy: targets have shape {}, logits {}; expected equal shapes",
                                     format_shape(targets.shape()), format_shape(logits.shape())));
    }
    const std::size_t n = logits.shape()[0], c = logits.shape()[1];
    Array log_p = log_softmax_values(logits.value(), AxisView(logits.shape(), 1));
    const float* y = targets.value().data();
    double total = 0.0;
    for (std::size_t k = 0; k < n * c; ++k) {
        if (y[k] != 0.0f) total -= static_cast<double>(y[k]) * log_p.data()[k];
    }
    Array loss = scalar_array(static_cast<float>(total / static_cast<double>(n)));
    return record_op("softmax_cross_entropy", {logits, targets}, std::move(loss),
                     [log_p = std::move(log_p), n, c](GradientContext& ctx) {
        const float scale = ctx.grad()() / static_cast<float>(n);
        const float* y = ctx.input(1).data();
        if (ctx.wants(0)) {
            // dlogits = (p * sum(y) - y) / n per row; (p - y) / n for one-hot rows.
            Array d = uninitialized({n, c});
            for (std::size_t r = 0; r < n; ++r) {
                float row_total = 0.0f;
                for (std::size_t j = 0; j < c; ++j) row_total += y[r * c + j];
                for (std::size_t j = 0; j < c; ++j) {
                    const std::size_t k = r * c + j;
                    d.data()[k] = scale * (std::exp(log_p.data()[k]) * row_total - y[k]);
                }
            }
            ctx.accumulate(0, std::move(d));
        }
        if (ctx.wants(1)) ctx.accumulate(1, Array(-scale * log_p));
    }, [n](TensorGradientContext& ctx) {
        // The same from ops on the inputs: p and log p recomputed, so that they are recorded.
        const Tensor scale = ctx.grad() / static_cast<float>(n);
        const Tensor& logits = ctx.input(0);
        const Tensor& y = ctx.input(1);
        if (ctx.wants(0)) ctx.accumulate(0, scale * (softmax(logits, 1) * sum(y, 1, true) - y));
        if (ctx.wants(1)) ctx.accumulate(1, -scale * log_softmax(logits, 1));
    });
}

Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels) {
    check_logits(logits, "sparse_softmax_cross_entropy");
    const std::size_t n = logits.shape()[0], c = logits.shape()[1];
    if (labels.rank() != 1 || labels.shape()[0] != n) {
        throw ShapeError(fmt::format("sparse_softmax_cross_entropy: labels have shape {}, logits {}; expected ({},)",
                                     format_shape(labels.shape()), format_shape(logits.shape()), n));
    }
    std::vector<std::size_t> classes(n);
    for (std::size_t r = 0; r < n; ++r) classes[r] = checked_label(labels.value()(r), c, "sparse_softmax_cross_entropy");
    Array log_p = log_softmax_values(logits.value(), AxisView(logits.shape(), 1));
    double total = 0.0;
    for (std::size_t r = 0; r < n; ++r) total -= log_p.data()[r * c + classes[r]];
    Array loss = scalar_array(static_cast<float>(total / static_cast<double>(n)));
    return record_op("sparse_softmax_cross_entropy", {logits, labels}, std::move(loss),
                     [log_p = std::move(log_p), classes = std::move(classes), n, c](GradientContext& ctx) {
        // dlogits = (p - onehot(label)) / n
        const float scale = ctx.grad()() / static_cast<float>(n);
        Array d = uninitialized({n, c});
        for (std::size_t k = 0; k < n * c; ++k) d.data()[k] = scale * std::exp(log_p.data()[k]);
        for (std::size_t r = 0; r < n; ++r) d.data()[r * c + classes[r]] -= scale;
        ctx.accumulate(0, std::move(d));
    }, [n](TensorGradientContext& ctx) {
        const Tensor& logits = ctx.input(0);
        ctx.accumulate(0, ctx.grad() / static_cast<float>(n) * (softmax(logits, 1) - one_hot(ctx.input(1), logits.shape()[1])));
    });
}

Tensor one_hot(const Tensor& labels, std::size_t classes) {
    if (labels.rank() != 1) {
        throw ShapeError(fmt::format("one_hot: labels have shape {}; expected a vector (n,)", format_shape(labels.shape())));
    }
    if (classes == 0) throw ValueError("one_hot: classes is 0; expected at least 1");
    const std::size_t n = labels.shape()[0];
    checked_element_count({n, classes}, "one_hot");
    Array y = xt::zeros<float>({n, classes});
    for (std::size_t r = 0; r < n; ++r) y(r, checked_label(labels.value()(r), classes, "one_hot")) = 1.0f;
    return constant(std::move(y));
}

}  // namespace xg
