#include "xgrad/train/loss.hpp"

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

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

}  // namespace

Tensor categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits) {
    check_same_shape(y_pred, y_true, "categorical_crossentropy");
    if (y_pred.rank() != 2) {
        throw ShapeError(fmt::format("categorical_crossentropy: predictions have shape {}; expected (batch, classes)",
                                     format_shape(y_pred.shape())));
    }
    if (from_logits) return softmax_cross_entropy(y_pred, y_true);
    Tensor p = clip(y_pred / sum(y_pred, -1, true), clip_epsilon, 1.0f - clip_epsilon);
    return -mean(sum(y_true * log(p), -1));
}

Tensor sparse_categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits) {
    if (y_pred.rank() != 2) {
        throw ShapeError(fmt::format("sparse_categorical_crossentropy: predictions have shape {}; expected (batch, classes)",
                                     format_shape(y_pred.shape())));
    }
    if (from_logits) return sparse_softmax_cross_entropy(y_pred, y_true);
    return categorical_crossentropy(y_pred, one_hot(y_true, y_pred.shape()[1]));
}

Tensor binary_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits) {
    check_same_shape(y_pred, y_true, "binary_crossentropy");
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

Tensor mean_squared_error(const Tensor& y_pred, const Tensor& y_true) {
    check_same_shape(y_pred, y_true, "mean_squared_error");
    return mean(square(y_pred - y_true));
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
    if (!activation_.empty() && y_pred.activation == activation_) return on_logits_(y_pred.logits, y_true);
    return on_outputs_(y_pred.output, y_true);
}

Loss loss_by_name(const std::string& name) {
    if (name == "categorical_crossentropy") {
        return Loss(name, [](const Tensor& p, const Tensor& y) { return categorical_crossentropy(p, y); }, "softmax",
                    [](const Tensor& z, const Tensor& y) { return categorical_crossentropy(z, y, true); });
    }
    if (name == "sparse_categorical_crossentropy") {
        return Loss(name, [](const Tensor& p, const Tensor& y) { return sparse_categorical_crossentropy(p, y); }, "softmax",
                    [](const Tensor& z, const Tensor& y) { return sparse_categorical_crossentropy(z, y, true); });
    }
    if (name == "binary_crossentropy") {
        return Loss(name, [](const Tensor& p, const Tensor& y) { return binary_crossentropy(p, y); }, "sigmoid",
                    [](const Tensor& z, const Tensor& y) { return binary_crossentropy(z, y, true); });
    }
    if (name == "mean_squared_error" || name == "mse") return Loss(mean_squared_error, name);
    throw ValueError(fmt::format("loss_by_name: unknown loss '{}'; expected categorical_crossentropy, "
                                 "sparse_categorical_crossentropy, binary_crossentropy or mean_squared_error", name));
}

}  // namespace xg
