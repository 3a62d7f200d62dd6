// Flatten: (n, ...) -> (n, features) in row-major order, output shape, gradient, errors.
#include "xgrad/nn/flatten.hpp"

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"

TEST_CASE("Flatten keeps the batch axis and lays each sample out in row-major (channels-last) order") {
    xg::Flatten flatten;
    CHECK(flatten.name() == "flatten_1");
    xg::Array x = xg::uninitialized({2, 3, 3, 2});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
    const xg::Tensor y = flatten(xg::input(x));
    REQUIRE(y.shape() == xg::Shape{2, 18});
    CHECK(y.value()(0, 0) == 0.0f);
    CHECK(y.value()(0, 1) == x(0, 0, 0, 1));
    CHECK(y.value()(0, 2) == x(0, 0, 1, 0));
    CHECK(y.value()(1, 17) == x(1, 2, 2, 1));
    CHECK(flatten.output_shape({3, 3, 64}) == xg::Shape{576});
    CHECK(flatten.output_shape({7}) == xg::Shape{7});
    CHECK(flatten(xg::input(xt::zeros<float>({4, 5}))).shape() == xg::Shape{4, 5});
    CHECK(flatten(xg::input(xt::zeros<float>({4}))).shape() == xg::Shape{4, 1});
    CHECK_THROWS_AS(flatten(xg::input(xg::scalar_array(1.0f))), xg::ShapeError);
    xg::Tape::current().clear();
}

TEST_CASE("gradients pass through Flatten unchanged, back in the input's shape") {
    xg::Flatten flatten;
    const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return flatten(in[0]); },
                                      {xg::Array(xt::reshape_view(xt::arange<float>(12.0f), {2, 2, 3}))});
    CHECK_MESSAGE(result.passed, result.report());
}
