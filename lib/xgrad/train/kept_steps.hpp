#pragma once
// The steps a mask keeps, as losses and metrics count them: Keras weights a sequence output's
// loss by its mask, so that padding adds nothing to the loss, its gradient or a metric.
#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// The positions of `values` (batch, steps, ...) that `mask` (batch, steps) marks with a nonzero,
/// in order, as rows (kept, ...); a mean over them is a mean over the sequences' own steps. The
/// rows are a gather on the tape: gradients reach the kept positions and no others. Values whose
/// first two axes are not the mask's are a ShapeError naming `what`, as is a mask not of rank 2.
Tensor kept_steps(const Tensor& values, const Tensor& mask, const char* what = "values");

}  // namespace xg
