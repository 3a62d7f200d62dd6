// Tests for lib/xgrad/ops/linalg.cpp: matmul, linear, transpose.
#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::uniform;

}  // namespace

TEST_CASE("matmul multiplies matrices") {
    const xg::Tensor a = xg::input(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    const xg::Tensor b = xg::input(xg::Array{{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, -1.0f}});
    CHECK(xg::matmul(a, b).value() == xg::Array{{4.0f, -1.0f}, {10.0f, -1.0f}});
}

TEST_CASE("matmul gradients are dy . b^T and a^T . dy") {
    const xg::Tensor a = xg::parameter(xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}}, "a");
    const xg::Tensor b = xg::parameter(xg::Array{{5.0f, 6.0f, 7.0f}, {8.0f, 9.0f, 10.0f}}, "b");
    xg::sum(xg::matmul(a, b)).backward();
    // dy is all ones (2, 3): da = row sums of b, db = column sums of a repeated.
    CHECK(a.grad() == xg::Array{{18.0f, 27.0f}, {18.0f, 27.0f}});
    CHECK(b.grad() == xg::Array{{4.0f, 4.0f, 4.0f}, {6.0f, 6.0f, 6.0f}});
}

TEST_CASE("matmul passes gradcheck") {
    xt::random::seed(41);
    for (const auto& [sa, sb] : std::vector<std::pair<xg::Shape, xg::Shape>>{
             {{3, 4}, {4, 5}}, {{1, 4}, {4, 1}}, {{5, 1}, {1, 3}}, {{2, 3}, {3, 2}}}) {
        CAPTURE(xg::format_shape(sa));
        CAPTURE(xg::format_shape(sb));
        const auto result = xg::gradcheck([](const std::vector<xg::Tensor>& x) { return xg::matmul(x[0], x[1]); },
                                          {uniform(sa), uniform(sb)});
        CHECK_MESSAGE(result.passed, result.report());
    }
}

TEST_CASE("matmul only computes the gradient of inputs that need one") {
    const xg::Tensor x = xg::input(xg::Array{{1.0f, 2.0f}});
    const xg::Tensor w = xg::parameter(xt::ones<float>({2, 1}), "w");
    xg::sum(xg::matmul(x, w)).backward();
    CHECK_FALSE(x.has_grad());
    REQUIRE(w.grad().shape() == xg::Shape{2, 1});
    CHECK(w.grad()(0, 0) == 1.0f);
    CHECK(w.grad()(1, 0) == 2.0f);
}

TEST_CASE("matmul over an empty inner dimension gives zeros") {
    const xg::Tensor a = xg::input(xt::zeros<float>({2, 0}));
    const xg::Tensor b = xg::input(xt::zeros<float>({0, 3}));
    CHECK(xg::matmul(a, b).value() == xg::Array(xg::Shape{2, 3}, 0.0f));
}

TEST_CASE("empty tensors go through matmul, linear and transpose, forward and backward") {
    using xg::test::check_empty;
    xg::Tensor w = xg::parameter(uniform({3, 4}), "w");
    xg::Tensor b = xg::parameter(uniform({4}), "b");
    check_empty([&](const xg::Tensor& x) { return xg::matmul(x, w); }, {0, 3}, {0, 4});
    check_empty([&](const xg::Tensor& x) { return xg::matmul(w, x); }, {4, 0}, {3, 0});
    check_empty([&](const xg::Tensor& x) { return xg::matmul(xg::input(xt::ones<float>({2, 0})), x); }, {0, 5}, {2, 5});
    // An empty batch through a dense layer: no rows, and no gradient for w and b beyond zeros.
    w.zero_grad();
    b.zero_grad();
    check_empty([&](const xg::Tensor& x) { return xg::linear(x, w, b); }, {0, 3}, {0, 4});
    CHECK(w.grad() == xt::zeros<float>({3, 4}));
    CHECK(b.grad() == xt::zeros<float>({4}));
    check_empty([](const xg::Tensor& x) { return xg::transpose(x); }, {0, 3}, {3, 0});
    check_empty([](const xg::Tensor& x) { return xg::transpose(x, {2, 0, 1}); }, {0, 3, 2}, {2, 0, 3});
}

TEST_CASE("a product too large to address is a ShapeError instead of a wrapped allocation") {
    // (2^40, 0) . (0, 2^40): both inputs are empty, the output would hold 2^80 elements.
    constexpr std::size_t huge = std::size_t{1} << 40;
    CHECK_THROWS_AS(xg::matmul(xg::input(xt::zeros<float>(xg::Shape{huge, 0})), xg::input(xt::zeros<float>(xg::Shape{0, huge}))),
                    xg::ShapeError);
}

TEST_CASE("matmul errors name the op and both shapes") {
    const xg::Tensor x = xg::input(xt::zeros<float>({128, 784}));
    const xg::Tensor w = xg::input(xt::zeros<float>({512, 10}));
    CHECK_THROWS_WITH_AS(xg::matmul(x, w), doctest::Contains("matmul: cannot multiply (128, 784) by (512, 10)"),
                         xg::ShapeError);
    const xg::Tensor v = xg::input(xt::zeros<float>({784}));
    CHECK_THROWS_WITH_AS(xg::matmul(v, w), doctest::Contains("matmul: left operand has shape (784,); expected a matrix"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::matmul(x, v), doctest::Contains("matmul: right operand has shape (784,)"), xg::ShapeError);
}

TEST_CASE("linear is x . w + b") {
    const xg::Tensor x = xg::input(xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {0.0f, 0.0f}});
    const xg::Tensor w = xg::input(xg::Array{{1.0f, 0.0f, 2.0f}, {0.0f, 1.0f, -1.0f}});
    const xg::Tensor b = xg::input(xg::Array{0.5f, -0.5f, 1.0f});
    CHECK(xg::linear(x, w, b).value() == xg::Array{{1.5f, 1.5f, 1.0f}, {3.5f, 3.5f, 3.0f}, {0.5f, -0.5f, 1.0f}});
    CHECK(xg::linear(x, w, b).value() == (xg::matmul(x, w) + b).value());
}

TEST_CASE("linear passes gradcheck for input, weight and bias") {
    xt::random::seed(42);
    const auto result = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::linear(x[0], x[1], x[2]); },
        {uniform({4, 3}), uniform({3, 5}), uniform({5})});
    CHECK_MESSAGE(result.passed, result.report());
    REQUIRE(result.worst_error.size() == 3);
}

TEST_CASE("linear bias gradient is the column sum of dy") {
    const xg::Tensor x = xg::input(xt::ones<float>({4, 2}));
    const xg::Tensor w = xg::parameter(xt::ones<float>({2, 3}), "w");
    const xg::Tensor b = xg::parameter(xt::zeros<float>({3}), "b");
    xg::sum(xg::linear(x, w, b) * xg::input(xg::Array{1.0f, 2.0f, 3.0f})).backward();
    CHECK(b.grad() == xg::Array{4.0f, 8.0f, 12.0f});
}

TEST_CASE("linear errors name the op and the shapes") {
    const xg::Tensor x = xg::input(xt::zeros<float>({8, 4}));
    const xg::Tensor w = xg::input(xt::zeros<float>({4, 3}));
    CHECK_THROWS_WITH_AS(xg::linear(x, xg::input(xt::zeros<float>({5, 3})), xg::input(xt::zeros<float>({3}))),
                         doctest::Contains("linear: cannot multiply (8, 4) by (5, 3)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::linear(x, w, xg::input(xt::zeros<float>({4}))),
                         doctest::Contains("linear: bias has shape (4,); expected (3,)"), xg::ShapeError);
    CHECK_THROWS_AS(xg::linear(x, w, xg::input(xt::zeros<float>({1, 3}))), xg::ShapeError);
    CHECK_THROWS_AS(xg::linear(xg::input(xt::zeros<float>({4})), w, xg::input(xt::zeros<float>({3}))), xg::ShapeError);
}

TEST_CASE("transpose swaps a matrix and permutes higher ranks") {
    const xg::Tensor m = xg::input(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    CHECK(xg::transpose(m).value() == xg::Array{{1.0f, 4.0f}, {2.0f, 5.0f}, {3.0f, 6.0f}});

    xg::Array cube_values = xt::arange<float>(24.0f);
    cube_values.reshape({2, 3, 4});
    const xg::Tensor c = xg::input(cube_values);
    const xg::Tensor p = xg::transpose(c, {1, 2, 0});
    REQUIRE(p.shape() == xg::Shape{3, 4, 2});
    // Output axis i is input axis perm[i]: p(j, k, i) = c(i, j, k).
    CHECK(p.value()(2, 1, 1) == cube_values(1, 2, 1));
    CHECK(p.value()(0, 3, 1) == cube_values(1, 0, 3));
    const xg::Tensor r = xg::transpose(c);
    REQUIRE(r.shape() == xg::Shape{4, 3, 2});
    CHECK(r.value()(3, 1, 0) == cube_values(0, 1, 3));
}

TEST_CASE("transpose leaves vectors and scalars as they are") {
    CHECK(xg::transpose(xg::input(xg::Array{1.0f, 2.0f})).value() == xg::Array{1.0f, 2.0f});
    CHECK(xg::transpose(xg::input(xg::scalar_array(2.0f))).item() == 2.0f);
}

TEST_CASE("transpose passes gradcheck in 2-D and for 3-D permutations") {
    xt::random::seed(43);
    auto check = [](const xg::Array& x, std::vector<std::size_t> perm) {
        CAPTURE(xg::format_shape(x.shape()));
        const auto result = xg::gradcheck(
            [perm](const std::vector<xg::Tensor>& in) {
                // Multiply by a non-symmetric weight so the routing of each element matters.
                const xg::Tensor t = perm.empty() ? xg::transpose(in[0]) : xg::transpose(in[0], perm);
                return t * t;
            },
            {x});
        CHECK_MESSAGE(result.passed, result.report());
    };
    check(uniform({3, 4}), {});
    check(uniform({2, 3, 4}), {1, 2, 0});
    check(uniform({2, 3, 4}), {2, 0, 1});
    check(uniform({2, 3, 4}), {0, 2, 1});
    check(uniform({2, 3, 4}), {});
}

TEST_CASE("transpose gradient returns each element to where it came from") {
    xg::Array values = xt::arange<float>(24.0f);
    values.reshape({2, 3, 4});
    const xg::Tensor x = xg::parameter(values, "x");
    xg::Array seed = xt::arange<float>(24.0f);
    seed.reshape({3, 4, 2});
    xg::transpose(x, {1, 2, 0}).backward(seed);
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            for (std::size_t k = 0; k < 4; ++k) CHECK(x.grad()(i, j, k) == seed(j, k, i));
        }
    }
}

TEST_CASE("transpose rejects axes that are not a permutation") {
    const xg::Tensor c = xg::input(xt::zeros<float>({2, 3, 4}));
    CHECK_THROWS_WITH_AS(xg::transpose(c, {0, 0, 1}),
                         doctest::Contains("transpose: axes (0, 0, 1) are not a permutation for shape (2, 3, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::transpose(c, {0, 1}), xg::ShapeError);
    CHECK_THROWS_AS(xg::transpose(c, {0, 1, 3}), xg::ShapeError);
    xg::Tape::current().clear();
}

TEST_CASE("matmul, linear and transpose pass gradgradcheck") {
    xt::random::seed(41);
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::matmul(x[0], x[1]); },
                                 {uniform({3, 4}), uniform({4, 2})});
    xg::test::check_second_order(
        [](const std::vector<xg::Tensor>& x) { return xg::linear(x[0], x[1], x[2]); },
        {uniform({3, 4}), uniform({4, 2}), uniform({2})});
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::transpose(x[0]); }, {uniform({3, 4})});
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::transpose(x[0], {1, 2, 0}); },
                                 {uniform({2, 3, 4})});
    // A nonlinear use of the product: the second derivative is not zero, nor block-diagonal.
    xg::test::check_second_order(
        [](const std::vector<xg::Tensor>& x) { return xg::tanh(xg::linear(x[0], x[1], x[2])); },
        {uniform({3, 4}), uniform({4, 2}), uniform({2})});
}

TEST_CASE("matmul takes a stack of rows on the left: (..., k) . (k, n) -> (..., n), row by row") {
    xt::random::seed(43);
    const xg::Array a = uniform({2, 3, 4}), b = uniform({4, 5});
    const xg::Tensor y = xg::matmul(xg::input(a), xg::input(b));
    REQUIRE(y.shape() == xg::Shape{2, 3, 5});
    const xg::Array rows = xg::matmul(xg::input(xt::reshape_view(a, {6, 4})), xg::input(b)).value();
    CHECK(xt::allclose(xt::reshape_view(y.value(), {6, 5}), rows));
    const auto product = [](const std::vector<xg::Tensor>& x) { return xg::matmul(x[0], x[1]); };
    for (const xg::Shape& sa : {xg::Shape{2, 3, 4}, xg::Shape{2, 1, 3, 4}, xg::Shape{1, 1, 4}}) {
        CAPTURE(xg::format_shape(sa));
        const auto result = xg::gradcheck(product, {uniform(sa), uniform({4, 2})});
        CHECK_MESSAGE(result.passed, result.report());
    }
    xg::test::check_second_order(product, {uniform({2, 3, 4}), uniform({4, 2})});
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::tanh(xg::matmul(x[0], x[1])); },
                                 {uniform({3, 2, 4}), uniform({4, 2})});
    using xg::test::check_empty;
    xg::Tensor w = xg::parameter(uniform({3, 4}), "w");
    check_empty([&](const xg::Tensor& x) { return xg::matmul(x, w); }, {2, 0, 3}, {2, 0, 4});
    CHECK(xg::matmul(xg::input(xt::ones<float>({2, 3, 0})), xg::input(xt::ones<float>({0, 2}))).value() ==
          xg::Array(xg::Shape{2, 3, 2}, 0.0f));
    CHECK_THROWS_WITH_AS(xg::matmul(xg::input(a), xg::input(uniform({5, 4}))),
                         doctest::Contains("matmul: cannot multiply (2, 3, 4) by (5, 4)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::matmul(xg::input(b), xg::input(a)), doctest::Contains("matmul: cannot multiply (4, 5) by (2, 3, 4)"),
                         xg::ShapeError);
    xg::Tape::current().clear();
}

TEST_CASE("matmul multiplies stacks of matrices pairwise, the stacks broadcast: (..., m, k) . (..., k, n)") {
    xt::random::seed(47);
    // Each matrix of the product against a product of two matrices picked by hand.
    const auto matrix = [](const xg::Array& stack, std::size_t index) {
        const std::size_t rows = stack.shape(stack.dimension() - 2), cols = stack.shape(stack.dimension() - 1);
        xg::Array m = xg::uninitialized({rows, cols});
        std::copy_n(stack.data() + index * rows * cols, rows * cols, m.data());
        return xg::input(m);
    };
    struct Case {
        xg::Shape a, b, y;
        std::vector<std::pair<std::size_t, std::size_t>> picked;  // per matrix of y: a's and b's
    };
    for (const Case& c : std::vector<Case>{
             {{2, 3, 4}, {2, 4, 5}, {2, 3, 5}, {{0, 0}, {1, 1}}},
             {{3, 4}, {2, 4, 5}, {2, 3, 5}, {{0, 0}, {0, 1}}},
             {{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}, {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}}},
             {{1, 3, 4}, {2, 4, 2}, {2, 3, 2}, {{0, 0}, {0, 1}}},
             {{2, 3, 4}, {1, 4, 5}, {2, 3, 5}, {{0, 0}, {1, 0}}},
             {{3, 4}, {1, 1, 4, 2}, {1, 1, 3, 2}, {{0, 0}}},
             {{3, 1, 2, 3}, {2, 3, 1}, {3, 2, 2, 1}, {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}}}}) {
        CAPTURE(xg::format_shape(c.a));
        CAPTURE(xg::format_shape(c.b));
        const xg::Array a = uniform(c.a), b = uniform(c.b);
        const xg::Array y = xg::matmul(xg::input(a), xg::input(b)).value();
        REQUIRE(y.shape() == c.y);
        const std::size_t m = c.y[c.y.size() - 2], n = c.y.back();
        for (std::size_t t = 0; t < c.picked.size(); ++t) {
            const xg::Array expected = xg::matmul(matrix(a, c.picked[t].first), matrix(b, c.picked[t].second)).value();
            for (std::size_t i = 0; i < m * n; ++i) CHECK(y.data()[t * m * n + i] == doctest::Approx(expected.data()[i]));
        }
        const auto product = [](const std::vector<xg::Tensor>& x) { return xg::matmul(x[0], x[1]); };
        const auto result = xg::gradcheck(product, {a, b});
        CHECK_MESSAGE(result.passed, result.report());
        xg::test::check_second_order(product, {a, b});
    }
    // A broadcast matrix gets the sum of its products' gradients: (3, 4) against two (4, 5).
    const xg::Tensor shared = xg::parameter(uniform({3, 4}), "shared");
    const xg::Tensor stack = xg::parameter(uniform({2, 4, 5}), "stack");
    xg::sum(xg::matmul(shared, stack)).backward();
    for (std::size_t j = 0; j < 4; ++j) {
        // d/d shared[i][j] = the sum over both matrices t and columns c of stack[t][j][c], for every i
        double expected = 0;
        for (std::size_t t = 0; t < 2; ++t) {
            for (std::size_t c = 0; c < 5; ++c) expected += stack.value()(t, j, c);
        }
        for (std::size_t i = 0; i < 3; ++i) CHECK(shared.grad()(i, j) == doctest::Approx(expected));
    }
    // Attention's scores through softmax, differentiated twice: q k^T over a stack of heads.
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) {
        return xg::matmul(xg::softmax(xg::matmul(x[0], xg::transpose(x[1], {0, 2, 1})), -1), x[1]);
    }, {uniform({2, 3, 4}), uniform({2, 5, 4})});
    // Empty stacks and empty inner extents.
    using xg::test::check_empty;
    const xg::Tensor right = xg::parameter(uniform({1, 4, 2}), "right");
    check_empty([&](const xg::Tensor& x) { return xg::matmul(x, right); }, {0, 3, 4}, {0, 3, 2});
    CHECK(xg::matmul(xg::input(xt::ones<float>({2, 3, 0})), xg::input(xt::ones<float>({2, 0, 2}))).value() ==
          xg::Array(xg::Shape{2, 3, 2}, 0.0f));
    // A long stack of empty products costs nothing per matrix: no rows, and no inner extent.
    const xg::Tensor long_stack = xg::parameter(xt::zeros<float>({1000000000, 1, 0, 2}), "long_stack");
    const xg::Tensor y = xg::matmul(long_stack, xg::input(xt::ones<float>({2, 2, 3})));
    CHECK(y.shape() == xg::Shape{1000000000, 2, 0, 3});
    xg::sum(y).backward();
    CHECK(long_stack.grad().shape() == long_stack.shape());
    const xg::Tensor no_inner = xg::parameter(xt::zeros<float>({1000000, 1, 0}), "no_inner");
    const xg::Tensor inner_right = xg::parameter(xt::zeros<float>({2, 1, 0, 1}), "inner_right");
    const xg::Tensor sums_of_nothing = xg::matmul(no_inner, inner_right);
    CHECK(sums_of_nothing.shape() == xg::Shape{2, 1000000, 1, 1});
    CHECK(xt::all(xt::equal(sums_of_nothing.value(), 0.0f)));
    xg::sum(sums_of_nothing).backward();
    CHECK(no_inner.grad().shape() == no_inner.shape());
    CHECK(inner_right.grad().shape() == inner_right.shape());
    // k = 0 with products to make, differentiated: the gradients are empty, the product zeros.
    const auto empty_inner = [](const std::vector<xg::Tensor>& x) { return xg::matmul(x[0], x[1]); };
    const auto checked = xg::gradcheck(empty_inner, {uniform({2, 3, 0}), uniform({2, 0, 2})});
    CHECK_MESSAGE(checked.passed, checked.report());
    CHECK_THROWS_WITH_AS(xg::matmul(xg::input(uniform({2, 3, 4})), xg::input(uniform({2, 5, 2}))),
                         doctest::Contains("matmul: cannot multiply (2, 3, 4) by (2, 5, 2)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::matmul(xg::input(uniform({2, 3, 4})), xg::input(uniform({3, 4, 2}))),
                         doctest::Contains("matmul: the stacks of matrices of (2, 3, 4) and (3, 4, 2) ((2,) and (3,)) do "
                                           "not broadcast"),
                         xg::ShapeError);
    xg::Tape::current().clear();
}
