#pragma once
// Losses as Keras names them, built from tape ops. Each returns the batch mean (0-d).
#include <functional>
#include <string>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// A loss: (predictions, targets) -> scalar tensor.
using Loss = std::function<Tensor(const Tensor& y_pred, const Tensor& y_true)>;

/// -mean(sum(y_true * log(y_pred), -1)) for probabilities (n, c) and one-hot/probability
/// targets. When y_pred was just produced by a recorded softmax, the fused
/// softmax_cross_entropy on its logits is used instead (stable, and gradient (p - y)/n).
Tensor categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true);
/// The same with integer labels (n,) as targets.
Tensor sparse_categorical_crossentropy(const Tensor& y_pred, const Tensor& y_true);
/// -mean(y log p + (1 - y) log(1 - p)); computed from logits when y_pred came from a sigmoid.
Tensor binary_crossentropy(const Tensor& y_pred, const Tensor& y_true);
/// mean((y_pred - y_true)^2).
Tensor mean_squared_error(const Tensor& y_pred, const Tensor& y_true);

/// The loss called `name` (also "mse"); throws ValueError for others.
Loss loss_by_name(const std::string& name);

}  // namespace xg
