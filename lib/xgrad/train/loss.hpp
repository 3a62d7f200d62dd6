#pragma once
// Losses as Keras names them, built from tape ops. Each returns the batch mean (0-d).
// Like Keras's, they take probabilities, or logits with from_logits = true; which one is
// a choice of the caller, never read from the tape, so a loss computes the same formula
// whether its inputs were recorded or not.
#include <functional>
#include <string>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// A loss formula: (predictions, targets) -> scalar tensor.
using LossFn = std::function<Tensor(const Tensor& y_pred, const Tensor& y_true)>;

/// -mean(sum(y_true * log(p), -1)) for (n, c) predictions and one-hot/probability targets; for
/// (n, ..., c), the mean over every position's distribution (each step of a sequence).
/// Probabilities are renormalised and clipped to [1e-7, 1 - 1e-7] as Keras does; with
/// from_logits, y_pred are logits and the fused softmax_cross_entropy is exact for any value.
Tensor categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits = false);
/// The same with integer labels (n,) as targets ((n, ...) for predictions (n, ..., c)).
Tensor sparse_categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits = false);
/// -mean(y log p + (1 - y) log(1 - p)), p clipped as above; with from_logits, p = sigmoid(y_pred)
/// computed stably from the logits.
Tensor binary_crossentropy(const Tensor& y_pred, const Tensor& y_true, bool from_logits = false);
// binary_crossentropy, mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
// mean_squared_logarithmic_error, huber, log_cosh, poisson, hinge and squared_hinge, a target
// per prediction, take targets (n,) for predictions (n, 1) and (n, 1) for (n,), as Keras's do.

/// mean((y_pred - y_true)^2).
Tensor mean_squared_error(const Tensor& y_pred, const Tensor& y_true);
/// mean(|y_pred - y_true|).
Tensor mean_absolute_error(const Tensor& y_pred, const Tensor& y_true);
/// 100 mean(|(y_true - y_pred) / y_true|), |y_true| at least 1e-7.
Tensor mean_absolute_percentage_error(const Tensor& y_pred, const Tensor& y_true);
/// mean((log(1 + y_pred) - log(1 + y_true))^2), both at least 1e-7.
Tensor mean_squared_logarithmic_error(const Tensor& y_pred, const Tensor& y_true);
/// mean of 0.5 x^2 where |x| <= delta, delta (|x| - delta / 2) beyond, x = y_pred - y_true;
/// delta must be finite and > 0.
Tensor huber(const Tensor& y_pred, const Tensor& y_true, float delta = 1.0f);
/// mean(log(cosh(y_pred - y_true))), computed without overflow.
Tensor log_cosh(const Tensor& y_pred, const Tensor& y_true);
/// mean over rows of sum(t log(t / p)), t and p clipped to [1e-7, 1].
Tensor kl_divergence(const Tensor& y_pred, const Tensor& y_true);
/// mean(y_pred - y_true log(y_pred + 1e-7)), for counts: the predictions must not be negative
/// (an exp or softplus output).
Tensor poisson(const Tensor& y_pred, const Tensor& y_true);
/// mean(max(1 - y_true y_pred, 0)) for labels -1 and 1 (labels all 0 or 1 are made -1 and 1, as Keras does).
Tensor hinge(const Tensor& y_pred, const Tensor& y_true);
/// mean(max(1 - y_true y_pred, 0)^2), labels as for hinge.
Tensor squared_hinge(const Tensor& y_pred, const Tensor& y_true);
/// mean over rows of max(0, 1 + max((1 - y_true) y_pred) - sum(y_true y_pred)) for scores and
/// one-hot targets along the last axis (Keras's: the true class's slot counts as 0 in the max).
Tensor categorical_hinge(const Tensor& y_pred, const Tensor& y_true);
/// -mean over rows of the cosine of the angle between y_pred and y_true (along the last axis):
/// -1 when they point the same way.
Tensor cosine_similarity(const Tensor& y_pred, const Tensor& y_true);

/// A loss as compile() takes it: a name, its formula on the network's outputs and, for the
/// crossentropies, the exact formula on the logits before the activation it undoes.
class Loss {
public:
    /// The loss called `name` (see loss_by_name).
    Loss(const std::string& name);
    /// The same from a literal.
    Loss(const char* name) : Loss(std::string(name)) {}
    /// Any formula on the outputs; `name` shows in messages and picks accuracy's kind.
    Loss(LossFn on_outputs, std::string name = "loss");
    /// A formula that also has an exact form on the logits before `activation` ("softmax").
    Loss(std::string name, LossFn on_outputs, std::string activation, LossFn on_logits);

    /// The loss of outputs y_pred.
    Tensor operator()(const Tensor& y_pred, const Tensor& y_true) const;
    /// The loss of a call: on its logits when it ends in the activation this loss fuses
    /// (Dense(..., "softmax") with a crossentropy), else on its output. Both are one formula.
    /// With a mask (a sequence output, (batch, steps, ...)), the formula sees the kept steps
    /// alone as rows, their targets likewise (kept_steps): the mean over the sequences' own
    /// steps, as Keras's; a batch with no kept step has loss 0.
    Tensor operator()(const Activated& y_pred, const Tensor& y_true) const;

    const std::string& name() const { return name_; }
    /// The activation whose logits the loss can take, or "" for none.
    const std::string& fused_activation() const { return activation_; }

private:
    std::string name_;
    LossFn on_outputs_;
    std::string activation_;
    LossFn on_logits_;
};

/// The loss called `name`, by Keras's names and aliases (loss_names(); huber's delta is 1);
/// throws ValueError for others.
Loss loss_by_name(const std::string& name);
/// "categorical_crossentropy, ..., mean_squared_error (mse, MSE), ...": every name
/// loss_by_name knows, each with its aliases.
std::string loss_names();
/// The first name of the loss called `name` ("binary_crossentropy" for "bce"), or `name` itself
/// when loss_by_name does not know it.
std::string canonical_loss_name(const std::string& name);

}  // namespace xg
