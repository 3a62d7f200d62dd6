#include "xgrad/train/loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/train/kept_steps.hpp"

namespace xg {
namespace {

// Keras clips probabilities to [eps, 1 - eps] before taking logs.
constexpr float clip_epsilon = 1e-7f;

void check_same_shape(const Tensor& y_pred, const Tensor& y_true, const char* loss) {
    if (y_pred.shape() != y_true.shape()) {
        throw ShapeError(fmt::format("{}: predictions have shape {}, targets {}; expected equal shapes", loss,
                                     format_shape(y_pred.shape()), format_shape(y_true.shape())));
    }
}

// The targets in the predictions' shape. As Keras does, targets (n,) meet predictions (n, 1)
// (one output per sample, its targets as a vector: a regression's, a binary classifier's),
// and targets (n, 1) predictions (n,); any other difference is a ShapeError.
Tensor matching_targets(const Tensor& y_pred, const Tensor& y_true, const char* loss) {
    const Shape& p = y_pred.shape();
    const Shape& t = y_true.shape();
    if (p == t) return y_true;
    const bool trailing_one = (p.size() == t.size() + 1 && p.back() == 1 && std::equal(t.begin(), t.end(), p.begin())) ||
                              (t.size() == p.size() + 1 && t.back() == 1 && std::equal(p.begin(), p.end(), t.begin()));
    if (!trailing_one) {
        throw ShapeError(fmt::format("{}: predictions have shape {}, targets {}; expected equal shapes, or shapes that "
                                     "differ by a trailing axis of 1",
                                     loss, format_shape(p), format_shape(t)));
    }
    return reshape(y_true, std::vector<long>(p.begin(), p.end()));
}

// x in `shape`, the extents given outright: an inferred extent (-1) is lost when another is 0.
Tensor reshaped(const Tensor& x, const Shape& shape) { return reshape(x, std::vector<long>(shape.begin(), shape.end())); }

}  // namespace

Tensor categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits) {
    check_same_shape(y_pred, y_true, "categorical_crossentropy");
    if (y_pred.rank() < 2) {
        throw ShapeError(fmt::format("categorical_crossentropy: predictions have shape {}; expected (batch, classes) "
                                     "or (batch, ..., classes)",
                                     format_shape(y_pred.shape())));
    }
    if (y_pred.rank() > 2) {
        // A distribution per position (each step of a sequence): the mean over all of them.
        const Shape rows{y_pred.size() / std::max<std::size_t>(y_pred.shape().back(), 1), y_pred.shape().back()};
        return categorical_crossentropy(reshaped(y_pred, rows), reshaped(y_true, rows), from_logits);
    }
    if (from_logits) return softmax_cross_entropy(y_pred, y_true);
    Tensor p = clip(y_pred / sum(y_pred, -1, true), clip_epsilon, 1.0f - clip_epsilon);
    return -mean(sum(y_true * log(p), -1));
}

Tensor sparse_categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits) {
    if (y_pred.rank() < 2) {
        throw ShapeError(fmt::format("sparse_categorical_crossentropy: predictions have shape {}; expected (batch, "
                                     "classes) or (batch, ..., classes)",
                                     format_shape(y_pred.shape())));
    }
    const Shape& p = y_pred.shape();
    const Shape positions(p.begin(), p.end() - 1);
    if (y_true.shape() != positions) {
        // A label per position, as Keras's, in the predictions' shape without its classes axis
        // or with a last axis of 1 in its place.
        Shape with_unit = positions;
        with_unit.push_back(1);
        if (y_true.shape() != with_unit) {
            throw ShapeError(fmt::format("sparse_categorical_crossentropy: predictions have shape {}, labels {}; expected "
                                         "labels of shape {}",
                                         format_shape(p), format_shape(y_true.shape()), format_shape(positions)));
        }
        return sparse_categorical_crossentropy(y_pred, reshaped(y_true, positions), from_logits);
    }
    if (y_pred.rank() > 2) {
        const std::size_t rows = y_true.size();
        return sparse_categorical_crossentropy(reshaped(y_pred, {rows, p.back()}), reshaped(y_true, {rows}), from_logits);
    }
    if (from_logits) return sparse_softmax_cross_entropy(y_pred, y_true);
    return categorical_crossentropy(y_pred, one_hot(y_true, y_pred.shape()[1]));
}

Tensor binary_crossentropy(const Tensor& y_pred, const Tensor& targets, bool from_logits) {
    const Tensor y_true = matching_targets(y_pred, targets, "binary_crossentropy");
    if (from_logits) {
        const Tensor& x = y_pred;
        // -[y log s(x) + (1-y) log(1-s(x))] = max(x, 0) - x y + log(1 + e^-|x|), stable for any x.
        // max(x, 0) - x y is written x (1/2 - y) + |x| / 2: with relu(x), relu and abs would both
        // take gradient 0 at x = 0 and give -y instead of s(0) - y = 1/2 - y (where a
        // zero-initialised last layer starts).
        const Tensor a = abs(x);
        return mean(x * (0.5f - y_true) + 0.5f * a + log(1.0f + exp(-a)));
    }
    Tensor p = clip(y_pred, clip_epsilon, 1.0f - clip_epsilon);
    return -mean(y_true * log(p) + (1.0f - y_true) * log(1.0f - p));
}

Tensor mean_squared_error(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "mean_squared_error");
    return mean(square(y_pred - y_true));
}

// The regression and margin losses below are, as Keras's, means over the last axis and then over
// the batch: with rows of one width, the mean of every element.

Tensor mean_absolute_error(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "mean_absolute_error");
    return mean(abs(y_pred - y_true));
}

Tensor mean_absolute_percentage_error(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "mean_absolute_percentage_error");
    // A target of 0 counts as clip_epsilon, as in Keras: large, not infinite.
    return 100.0f * mean(abs((y_true - y_pred) / clip(abs(y_true), clip_epsilon, std::numeric_limits<float>::max())));
}

Tensor mean_squared_logarithmic_error(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "mean_squared_logarithmic_error");
    const float big = std::numeric_limits<float>::max();
    return mean(square(log(clip(y_pred, clip_epsilon, big) + 1.0f) - log(clip(y_true, clip_epsilon, big) + 1.0f)));
}

Tensor huber(const Tensor& y_pred, const Tensor& targets, float delta) {
    const Tensor y_true = matching_targets(y_pred, targets, "huber");
    if (!(delta > 0.0f && std::isfinite(delta))) throw ValueError(fmt::format("huber: delta {}; expected a finite delta > 0", delta));
    // 0.5 x^2 for |x| <= delta, delta (|x| - 0.5 delta) beyond: with q = min(|x|, delta), 0.5 q^2 + delta (|x| - q).
    const Tensor a = abs(y_pred - y_true);
    const Tensor q = clip(a, 0.0f, delta);
    return mean(0.5f * square(q) + delta * (a - q));
}

Tensor log_cosh(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "log_cosh");
    // log cosh x = x + softplus(-2x) - log 2, without overflow for large |x|.
    const Tensor x = y_pred - y_true;
    return mean(x + softplus(-2.0f * x) - std::numbers::ln2_v<float>);
}

Tensor kl_divergence(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "kl_divergence");
    if (y_pred.rank() == 0) throw ShapeError("kl_divergence: 0-d predictions; expected distributions along the last axis");
    // Both clipped to [eps, 1] as Keras does, so that a 0 in either is finite.
    const Tensor t = clip(y_true, clip_epsilon, 1.0f), p = clip(y_pred, clip_epsilon, 1.0f);
    return mean(sum(t * log(t / p), -1));
}

Tensor poisson(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "poisson");
    return mean(y_pred - y_true * log(y_pred + clip_epsilon));
}

namespace {

// Keras's hinge losses take labels -1 and 1, and turn labels that are all 0 or 1 into them.
Tensor signed_labels(const Tensor& y_true) {
    const Array& v = y_true.value();
    const bool binary = std::all_of(v.begin(), v.end(), [](float t) { return t == 0.0f || t == 1.0f; });
    return binary ? 2.0f * y_true - 1.0f : y_true;
}

}  // namespace

Tensor hinge(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "hinge");
    return mean(relu(1.0f - signed_labels(y_true) * y_pred));
}

Tensor squared_hinge(const Tensor& y_pred, const Tensor& targets) {
    const Tensor y_true = matching_targets(y_pred, targets, "squared_hinge");
    return mean(square(relu(1.0f - signed_labels(y_true) * y_pred)));
}

Tensor categorical_hinge(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "categorical_hinge");
    if (y_pred.rank() == 0) throw ShapeError("categorical_hinge: 0-d predictions; expected scores along the last axis");
    // Keras's formula, per row: max(0, 1 + max((1 - y) p) - sum(y p)). The true class's slot
    // counts as 0 among the others, so a row whose wrong scores are all negative meets 1 - p[true].
    const Tensor positive = sum(y_true * y_pred, -1);
    const Tensor negative = max((1.0f - y_true) * y_pred, -1);
    return mean(relu(1.0f + negative - positive));
}

Tensor cosine_similarity(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "cosine_similarity");
    if (y_pred.rank() == 0) throw ShapeError("cosine_similarity: 0-d predictions; expected vectors along the last axis");
    // Each row scaled to unit length as Keras's l2_normalize does: a row of zeros stays 0, its
    // length counted as 1e-6.
    auto unit = [](const Tensor& v) {
        return v / sqrt(clip(sum(square(v), -1, true), 1e-12f, std::numeric_limits<float>::max()));
    };
    return -mean(sum(unit(y_true) * unit(y_pred), -1));
}

Loss::Loss(const std::string& name) : Loss(loss_by_name(name)) {}

Loss::Loss(LossFn on_outputs, std::string name) : Loss(std::move(name), std::move(on_outputs), {}, {}) {}

Loss::Loss(std::string name, LossFn on_outputs, std::string activation, LossFn on_logits)
    : name_(std::move(name)), on_outputs_(std::move(on_outputs)), activation_(std::move(activation)),
      on_logits_(std::move(on_logits)) {
    if (!on_outputs_) throw ValueError(fmt::format("Loss '{}': no function; expected a loss function", name_));
    if (activation_.empty() != !on_logits_) {
        throw ValueError(fmt::format("Loss '{}': activation '{}' and {} logits function; expected both or neither",
                                     name_, activation_, on_logits_ ? "a" : "no"));
    }
}

Tensor Loss::operator()(const Tensor& y_pred, const Tensor& y_true) const { return on_outputs_(y_pred, y_true); }

Tensor Loss::operator()(const Activated& y_pred, const Tensor& y_true) const {
    const bool fused = !activation_.empty() && y_pred.activation == activation_;
    if (!y_pred.mask.defined()) return fused ? on_logits_(y_pred.logits, y_true) : on_outputs_(y_pred.output, y_true);
    // Padding adds nothing: the formula's mean over the kept steps alone.
    try {
        const Tensor kept = kept_steps(fused ? y_pred.logits : y_pred.output, y_pred.mask, fused ? "logits" : "predictions");
        // A batch of padding alone: no step to average over, a loss of 0 (no NaN) and no gradient.
        if (kept.shape()[0] == 0) return sum(kept);
        const Tensor targets = kept_steps(y_true, y_pred.mask, "targets");
        return fused ? on_logits_(kept, targets) : on_outputs_(kept, targets);
    } catch (const ShapeError& e) {
        throw ShapeError(fmt::format("{} of a masked sequence output (the model's output carries a (batch, steps) mask): "
                                     "{}",
                                     name_, e.what()));
    }
}

namespace {

// Every loss by its Keras name and aliases: how it is made from a name.
struct NamedLoss {
    std::vector<std::string> names;
    Loss (*make)(const std::string& name);
};

const std::vector<NamedLoss>& named_losses() {
    static const std::vector<NamedLoss> table{
        {{"categorical_crossentropy"},
         [](const std::string& name) {
             return Loss(name, [](const Tensor& p, const Tensor& y) { return categorical_crossentropy(p, y); }, "softmax",
                         [](const Tensor& z, const Tensor& y) { return categorical_crossentropy(z, y, true); });
         }},
        {{"sparse_categorical_crossentropy"},
         [](const std::string& name) {
             return Loss(name, [](const Tensor& p, const Tensor& y) { return sparse_categorical_crossentropy(p, y); },
                         "softmax", [](const Tensor& z, const Tensor& y) { return sparse_categorical_crossentropy(z, y, true); });
         }},
        {{"binary_crossentropy", "bce", "BCE"},
         [](const std::string& name) {
             return Loss(name, [](const Tensor& p, const Tensor& y) { return binary_crossentropy(p, y); }, "sigmoid",
                         [](const Tensor& z, const Tensor& y) { return binary_crossentropy(z, y, true); });
         }},
        {{"mean_squared_error", "mse", "MSE"}, [](const std::string& name) { return Loss(mean_squared_error, name); }},
        {{"mean_absolute_error", "mae", "MAE"}, [](const std::string& name) { return Loss(mean_absolute_error, name); }},
        {{"mean_absolute_percentage_error", "mape", "MAPE"},
         [](const std::string& name) { return Loss(mean_absolute_percentage_error, name); }},
        {{"mean_squared_logarithmic_error", "msle", "MSLE"},
         [](const std::string& name) { return Loss(mean_squared_logarithmic_error, name); }},
        {{"huber", "huber_loss"},
         [](const std::string& name) { return Loss([](const Tensor& p, const Tensor& y) { return huber(p, y); }, name); }},
        {{"log_cosh", "logcosh"}, [](const std::string& name) { return Loss(log_cosh, name); }},
        {{"kl_divergence", "kullback_leibler_divergence", "kld", "KLD"},
         [](const std::string& name) { return Loss(kl_divergence, name); }},
        {{"poisson"}, [](const std::string& name) { return Loss(poisson, name); }},
        {{"hinge"}, [](const std::string& name) { return Loss(hinge, name); }},
        {{"squared_hinge"}, [](const std::string& name) { return Loss(squared_hinge, name); }},
        {{"categorical_hinge"}, [](const std::string& name) { return Loss(categorical_hinge, name); }},
        {{"cosine_similarity"}, [](const std::string& name) { return Loss(cosine_similarity, name); }},
    };
    return table;
}

}  // namespace

Loss loss_by_name(const std::string& name) {
    for (const NamedLoss& entry : named_losses()) {
        if (std::find(entry.names.begin(), entry.names.end(), name) != entry.names.end()) return entry.make(name);
    }
    throw ValueError(fmt::format("loss_by_name: unknown loss '{}'; expected one of {}", name, loss_names()));
}

std::string canonical_loss_name(const std::string& name) {
    for (const NamedLoss& entry : named_losses()) {
        if (std::find(entry.names.begin(), entry.names.end(), name) != entry.names.end()) return entry.names[0];
    }
    return name;
}

std::string loss_names() {
    std::vector<std::string> each;
    for (const NamedLoss& entry : named_losses()) {
        std::string names = entry.names[0];
        if (entry.names.size() > 1) {
            names += fmt::format(" ({})", fmt::join(entry.names.begin() + 1, entry.names.end(), ", "));
        }
        each.push_back(std::move(names));
    }
    return fmt::format("{}", fmt::join(each, ", "));
}

}  // namespace xg
