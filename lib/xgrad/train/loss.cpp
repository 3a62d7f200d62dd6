#include "xgrad/train/loss.hpp"

#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// Keras clips probabilities to [eps, 1 - eps] before taking logs.
constexpr float clip_epsilon = 1e-7f;

// The logits behind y_pred if y_pred is the output of a recorded `op` over its last axis.
Tensor logits_of(const Tensor& y_pred, const char* op) {
    const Record* r = y_pred.creator();
    if (r == nullptr || r->op != op) return {};
    if (r->op == "softmax" && r->attributes() != fmt::format("axis={}", y_pred.rank() - 1)) return {};
    return r->inputs.tensor(0);
}

void check_same_shape(const Tensor& y_pred, const Tensor& y_true, const char* loss) {
    if (y_pred.shape() != y_true.shape()) {
        throw ShapeError(fmt::format("{}: predictions have shape {}, targets {}; expected equal shapes", loss,
                                     format_shape(y_pred.shape()), format_shape(y_true.shape())));
    }
}

}  // namespace

Tensor categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "categorical_crossentropy");
    if (y_pred.rank() != 2) {
        throw ShapeError(fmt::format("categorical_crossentropy: predictions have shape {}; expected (batch, classes)",
                                     format_shape(y_pred.shape())));
    }
    if (Tensor logits = logits_of(y_pred, "softmax"); logits.defined()) return softmax_cross_entropy(logits, y_true);
    // Probabilities from elsewhere: renormalise and clip as Keras does.
    Tensor p = clip(y_pred / sum(y_pred, -1, true), clip_epsilon, 1.0f - clip_epsilon);
    return -mean(sum(y_true * log(p), -1));
}

Tensor sparse_categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true) {
    if (y_pred.rank() != 2) {
        throw ShapeError(fmt::format("sparse_categorical_crossentropy: predictions have shape {}; expected (batch, classes)",
                                     format_shape(y_pred.shape())));
    }
    if (Tensor logits = logits_of(y_pred, "softmax"); logits.defined()) {
        return sparse_softmax_cross_entropy(logits, y_true);
    }
    return categorical_crossentropy(y_pred, one_hot(y_true, y_pred.shape()[1]));
}

Tensor binary_crossentropy(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "binary_crossentropy");
    if (Tensor x = logits_of(y_pred, "sigmoid"); x.defined()) {
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

Tensor mean_squared_error(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "mean_squared_error");
    return mean(square(y_pred - y_true));
}

Loss loss_by_name(const std::string& name) {
    if (name == "categorical_crossentropy") return categorical_crossentropy;
    if (name == "sparse_categorical_crossentropy") return sparse_categorical_crossentropy;
    if (name == "binary_crossentropy") return binary_crossentropy;
    if (name == "mean_squared_error" || name == "mse") return mean_squared_error;
    throw ValueError(fmt::format("loss_by_name: unknown loss '{}'; expected categorical_crossentropy, "
                                 "sparse_categorical_crossentropy, binary_crossentropy or mean_squared_error", name));
}

}  // namespace xg
