#pragma once
// Gradients as values: grad() returns dL/dinput as tensors without touching any tensor's grad(),
// and, with create_graph, records the walk so that the result can be differentiated again.
// hvp, jacobian and hessian are built on it.
#include <functional>
#include <optional>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// How grad() walks.
struct GradOptions {
    /// dL/doutput per output (the seed); may be left empty when every output has one element.
    std::vector<Tensor> grad_outputs;
    /// Keep the tape after the walk; defaults to create_graph (whose results refer to the tape).
    std::optional<bool> retain_graph;
    /// Record the walk's own ops, so that the gradients can be differentiated again.
    bool create_graph = false;
    /// An input the outputs do not depend on gets an empty handle instead of a ValueError.
    bool allow_unused = false;
};

/// d(sum of outputs[k] * grad_outputs[k])/dinputs[i] for each input, as tensors (torch.autograd.grad);
/// no tensor's grad() changes. The tape is cleared afterwards unless retain_graph.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOptions& options = {});
/// grad() for one output and one input.
Tensor grad(const Tensor& output, const Tensor& input, const GradOptions& options = {});

/// The Hessian of f at `params` times `v` (one tensor per parameter, of its shape), by double
/// backward: d/dparams (grad f(params) . v). f is a scalar function of the parameters (which
/// must require a gradient); the tape is cleared afterwards.
std::vector<Tensor> hvp(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& params,
                        const std::vector<Tensor>& v);

/// dF/dx at x for small inputs: shape F(x).shape + x.shape, one backward per output element.
Array jacobian(const std::function<Tensor(const Tensor&)>& f, const Array& x);
/// The Hessian of a scalar function f at x for small inputs: shape x.shape + x.shape, from one
/// backward with create_graph and one more per element of x.
Array hessian(const std::function<Tensor(const Tensor&)>& f, const Array& x);

}  // namespace xg
