#pragma once
// The check every op faces with tensors that hold no elements: the forward result has the
// expected (empty) shape, and backward through it gives the input a gradient of its own shape.
#include <functional>

#include <doctest/doctest.h>

#include "xgrad/ops/ops.hpp"

namespace xg::test {

/// Applies `op` to a parameter of shape `in` (with a 0 extent) and checks the result's shape is `out`
/// and that backward from its sum leaves the parameter a gradient of shape `in`.
inline void check_empty(const std::function<Tensor(const Tensor&)>& op, const Shape& in, const Shape& out) {
    CAPTURE(format_shape(in));
    const Tensor e = parameter(xt::zeros<float>(in), "e");
    const Tensor y = op(e);
    CHECK(y.shape() == out);
    sum(y).backward();
    REQUIRE(e.has_grad());
    CHECK(e.grad().shape() == in);
}

}  // namespace xg::test
