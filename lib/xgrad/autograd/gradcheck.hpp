#pragma once
// Checks an op's (or any function's) backward rule against central finite differences.
#include <functional>
#include <string>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

struct GradcheckOptions {
    float epsilon = 1e-2f;     // finite-difference step (float32 needs a large one)
    double tolerance = 1e-2;   // largest accepted error, see GradcheckResult
    unsigned seed = 1234;      // seeds the random projection of non-scalar outputs
};

struct GradcheckResult {
    /// Per input: max over elements of |analytic - numeric| / max(1, |analytic|, |numeric|).
    std::vector<double> worst_error;
    /// Per input: its shape, for the report.
    std::vector<Shape> input_shapes;
    double tolerance = 0;
    bool passed = false;
    /// One line per input: "input 0 (3, 4): worst error 2.1e-04".
    std::string report() const;
};

/// Compares the tape's gradient of f with respect to each input with central differences.
/// Non-scalar outputs are reduced to sum(f(x) * r) with a fixed random r, so every output
/// element is checked. f must be deterministic and use only the tensors it is given.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Array>& inputs,
                          const GradcheckOptions& options = {});

/// Checks second derivatives: the gradient of f, computed with create_graph and differentiated
/// again by the tape, against central differences of backward()'s gradient (PyTorch's
/// gradgradcheck); and the differentiable rules' first-order gradient against backward()'s.
/// The output is projected on a fixed random r and the gradients on fixed random u_i, so that
/// every element of every Hessian block is checked: d/dx_j sum_i u_i . d(f . r)/dx_i.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Array>& inputs, const GradcheckOptions& options = {});

}  // namespace xg
