#pragma once
// The check every differentiable op faces for its differentiable rule (TensorRule): gradgradcheck
// of the op, and of the op's result squared. A linear op's second derivative is 0; squared, its
// gradient depends on the input, so the op's TensorRule is itself differentiated.
#include <functional>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg::test {

/// gradgradcheck of f and of f(x)^2 elementwise on `inputs`.
inline void check_second_order(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                               const std::vector<Array>& inputs, const GradcheckOptions& options = {}) {
    std::string shapes;
    for (const Array& x : inputs) shapes += format_shape(x.shape()) + " ";
    CAPTURE(shapes);
    const auto plain = gradgradcheck(f, inputs, options);
    CHECK_MESSAGE(plain.passed, "f: " << plain.report());
    const auto squared = gradgradcheck([&f](const std::vector<Tensor>& in) {
        const Tensor y = f(in);
        return y * y;
    }, inputs, options);
    CHECK_MESSAGE(squared.passed, "f^2: " << squared.report());
}

}  // namespace xg::test
