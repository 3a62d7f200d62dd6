#pragma once
// gradgradcheck differentiates an op's differentiable rule, and compares with finite differences
// of that same rule: a rule off by a factor would pass it. This check ties the differentiable
// rule to the array rule that gradcheck verifies: both must give the same first-order gradient.
#include <functional>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/functional.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg::test {

/// dL/dinputs of L = f . r by the differentiable rules (xg::grad) equal those of backward().
inline void check_rules_agree(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Array>& inputs, double tolerance = 1e-5) {
    std::vector<Tensor> params;
    for (const Array& x : inputs) params.push_back(parameter(x, "x"));
    Tensor y = f(params);
    const Array r = xt::random::rand<float>(y.shape(), -1.0f, 1.0f);
    GradOptions options;
    options.grad_outputs = {constant(r)};
    options.allow_unused = true;
    const std::vector<Tensor> by_tensors = grad({y}, params, options);
    y = f(params);
    y.backward(r);
    for (std::size_t i = 0; i < params.size(); ++i) {
        CAPTURE(i);
        CAPTURE(format_shape(inputs[i].shape()));
        const Array by_arrays = params[i].has_grad() ? params[i].grad() : Array(xt::zeros<float>(inputs[i].shape()));
        const Array tensors = by_tensors[i].defined() ? by_tensors[i].value() : Array(xt::zeros<float>(inputs[i].shape()));
        CHECK(xt::allclose(tensors, by_arrays, tolerance, tolerance));
    }
}

}  // namespace xg::test
