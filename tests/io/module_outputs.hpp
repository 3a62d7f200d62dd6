#pragma once
// What the ONNX tests share: a module's inference output, and how far two outputs are apart.
#include <algorithm>
#include <cmath>

#include <doctest/doctest.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/nn/module.hpp"

namespace xg::test {

/// m's output for x in inference mode, recording nothing.
inline Array predict(Module& m, const Array& x) {
    NoGradGuard no_grad;
    m.eval();
    return m(Tensor(x)).value();
}

/// The largest elementwise |a - b|; a and b must have the same shape.
inline float max_abs_diff(const Array& a, const Array& b) {
    REQUIRE(a.shape() == b.shape());
    float d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.data()[i] - b.data()[i]));
    return d;
}

}  // namespace xg::test
