// Tests for lib/xgrad/ops/shape.cpp: reshape, slice, gather, concat, pad, scatter_add.
#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "gradient_checks.hpp"
#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::uniform;

xg::Array counting(const xg::Shape& shape) {
    xg::Array a = xt::arange<float>(static_cast<float>(xg::element_count(shape)));
    a.reshape(shape);
    return a;
}

using xg::test::check_gradients;

}  // namespace

TEST_CASE("reshape keeps the elements in order and infers one -1 extent") {
    const xg::Tensor x = xg::input(counting({2, 3, 4}));
    const xg::Tensor flat = xg::reshape(x, {-1});
    CHECK(flat.shape() == xg::Shape{24});
    CHECK(flat.value()(23) == 23.0f);
    CHECK(xg::reshape(x, {6, -1}).shape() == xg::Shape{6, 4});
    CHECK(xg::reshape(x, {-1, 2, 3}).shape() == xg::Shape{4, 2, 3});
    CHECK(xg::reshape(x, {4, 6}).value()(1, 0) == 6.0f);
    CHECK(xg::reshape(xg::input(xg::Array{5.0f}), {}).shape() == xg::Shape{});
}

TEST_CASE("reshape passes gradcheck") {
    xt::random::seed(51);
    check_gradients([](const std::vector<xg::Tensor>& x) { return xg::reshape(x[0], {4, -1}) * xg::reshape(x[0], {4, 6}); },
                    {uniform({2, 3, 4})});
    check_gradients([](const std::vector<xg::Tensor>& x) { return xg::reshape(x[0], {-1}); }, {uniform({3, 4})});
}

TEST_CASE("reshape errors say what is wrong") {
    const xg::Tensor x = xg::input(xt::zeros<float>({2, 5}));
    CHECK_THROWS_WITH_AS(xg::reshape(x, {3, -1}),
                         doctest::Contains("reshape: cannot view (2, 5) (10 elements) as (3, -1)"), xg::ShapeError);
    CHECK_THROWS_AS(xg::reshape(x, {4, 3}), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::reshape(x, {-1, -1}), doctest::Contains("reshape: extent -1 at axis 1 is invalid"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::reshape(x, {-2, 5}), xg::ShapeError);
}

TEST_CASE("slice takes [begin, end) along any axis") {
    const xg::Tensor x = xg::input(counting({3, 4}));
    CHECK(xg::slice(x, 0, 1, 3).value() == xg::Array{{4.0f, 5.0f, 6.0f, 7.0f}, {8.0f, 9.0f, 10.0f, 11.0f}});
    CHECK(xg::slice(x, 1, 1, 3).value() == xg::Array{{1.0f, 2.0f}, {5.0f, 6.0f}, {9.0f, 10.0f}});
    CHECK(xg::slice(x, -1, 1, 3).value() == xg::slice(x, 1, 1, 3).value());
    CHECK(xg::slice(x, 1, 2, 2).shape() == xg::Shape{3, 0});
    const xg::Tensor c = xg::input(counting({2, 3, 4}));
    const xg::Tensor middle = xg::slice(c, 1, 2, 3);
    REQUIRE(middle.shape() == xg::Shape{2, 1, 4});
    CHECK(middle.value()(1, 0, 3) == 23.0f);
}

TEST_CASE("slice passes gradcheck on every axis") {
    xt::random::seed(52);
    const xg::Array x = uniform({2, 3, 4});
    for (long axis : {0L, 1L, 2L, -1L}) {
        CAPTURE(axis);
        check_gradients([axis](const std::vector<xg::Tensor>& in) { return xg::slice(in[0], axis, 1, 2); }, {x});
    }
    check_gradients([](const std::vector<xg::Tensor>& in) { return xg::slice(in[0], 1, 0, 3); }, {uniform({3, 4})});
}

TEST_CASE("slice gradient is zero outside the slice") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({2, 4}), "x");
    xg::sum(xg::slice(x, 1, 1, 3)).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 0.0f}});
}

TEST_CASE("slices of one tensor add their gradients, as a recurrent layer's steps read it") {
    xt::random::seed(53);
    const xg::Array x = uniform({2, 5, 3});
    // Every step's slice, overlapping windows, and the whole tensor used as well.
    check_gradients([](const std::vector<xg::Tensor>& in) {
        xg::Tensor total = xg::sum(in[0] * in[0]);
        for (std::size_t t = 0; t < 5; ++t) total = total + xg::sum(xg::slice(in[0], 1, t, t + 1) * static_cast<float>(t + 1));
        for (std::size_t t = 0; t + 2 <= 5; ++t) total = total + xg::sum(xg::tanh(xg::slice(in[0], 1, t, t + 2)));
        return total;
    }, {x});
    const xg::Tensor p = xg::parameter(xt::zeros<float>({1, 3}), "p");
    (xg::sum(xg::slice(p, 1, 0, 2) + xg::slice(p, 1, 1, 3)) + xg::sum(xg::slice(p, 1, 1, 2))).backward();
    CHECK(p.grad() == xg::Array{{1.0f, 3.0f, 1.0f}});
}

TEST_CASE("slice rejects ranges outside the axis") {
    const xg::Tensor x = xg::input(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(xg::slice(x, 1, 2, 5), doctest::Contains("slice: range [2, 5) does not fit axis 1 of (3, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::slice(x, 0, 2, 1), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::slice(x, 2, 0, 1), doctest::Contains("slice: axis 2 is out of range"), xg::ShapeError);
}

TEST_CASE("gather picks slices along any axis, repeats included") {
    const xg::Tensor x = xg::input(counting({3, 2}));
    CHECK(xg::gather(x, {2, 0, 2}).value() == xg::Array{{4.0f, 5.0f}, {0.0f, 1.0f}, {4.0f, 5.0f}});
    CHECK(xg::gather(x, {}).shape() == xg::Shape{0, 2});
    CHECK(xg::gather(x, {1, 1, 0}, 1).value() == xg::Array{{1.0f, 1.0f, 0.0f}, {3.0f, 3.0f, 2.0f}, {5.0f, 5.0f, 4.0f}});
    CHECK(xg::reshape(xg::gather(x, {1}, -1), {-1}).value() == xg::Array{1.0f, 3.0f, 5.0f});
    CHECK(xg::gather(xg::input(counting({4})), {3, 1}).value() == xg::Array{3.0f, 1.0f});
    // The middle axis of (2, 3, 2): blocks of two elements, twice over.
    const xg::Array y = xg::gather(xg::input(counting({2, 3, 2})), {2, 0}, 1).value();
    CHECK(y == xg::Array{{{4.0f, 5.0f}, {0.0f, 1.0f}}, {{10.0f, 11.0f}, {6.0f, 7.0f}}});
}

TEST_CASE("gather adds the gradients of a slice gathered twice") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({3, 2}), "x");
    xg::sum(xg::gather(x, {2, 0, 2, 2})).backward();
    CHECK(x.grad() == xg::Array{{1.0f, 1.0f}, {0.0f, 0.0f}, {3.0f, 3.0f}});

    xt::random::seed(53);
    check_gradients([](const std::vector<xg::Tensor>& in) { return xg::gather(in[0], {1, 0, 1, 3, 1}); },
                    {uniform({4, 3})});
    for (long axis : {0L, 1L, 2L}) {
        CAPTURE(axis);
        check_gradients([axis](const std::vector<xg::Tensor>& in) { return xg::gather(in[0], {2, 2, 0}, axis); },
                        {uniform({3, 3, 3})});
    }
}

TEST_CASE("gather records its axis and indices, and rejects out-of-range indices, axes and scalars") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({3, 2}), "x");
    CHECK(xg::gather(x, {1, 0}, 1).creator()->attributes().to_string() == "axis=1, indices=(1, 0)");
    xg::Tape::current().clear();
    CHECK_THROWS_WITH_AS(xg::gather(x, {0, 3}),
                         doctest::Contains("gather: index 3 is out of range for axis 0 of (3, 2); expected < 3"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::gather(x, {2}, 1), doctest::Contains("gather: index 2 is out of range for axis 1"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::gather(x, {0}, 2), doctest::Contains("gather: axis 2 is out of range"), xg::ShapeError);
    CHECK_THROWS_AS(xg::gather(xg::input(xg::scalar_array(1.0f)), {0}), xg::ShapeError);
}

TEST_CASE("concat joins along any axis") {
    const xg::Tensor a = xg::input(xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}});
    const xg::Tensor b = xg::input(xg::Array{{5.0f, 6.0f}});
    const xg::Tensor c = xg::input(counting({3, 1}));
    CHECK(xg::concat({a, b}, 0).value() == xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
    CHECK(xg::concat({a, xg::transpose(b)}, 1).value() == xg::Array{{1.0f, 2.0f, 5.0f}, {3.0f, 4.0f, 6.0f}});
    CHECK(xg::concat({a, a}, -1).value() == xg::Array{{1.0f, 2.0f, 1.0f, 2.0f}, {3.0f, 4.0f, 3.0f, 4.0f}});
    CHECK(xg::concat({b}, 0).value() == b.value());
    CHECK(xg::concat({xg::concat({a, b}, 0), c}, 1).shape() == xg::Shape{3, 3});
}

TEST_CASE("concat passes gradcheck on every axis") {
    xt::random::seed(54);
    check_gradients([](const std::vector<xg::Tensor>& x) { return xg::concat({x[0], x[1], x[2]}, 0); },
                    {uniform({2, 3, 4}), uniform({1, 3, 4}), uniform({3, 3, 4})});
    check_gradients([](const std::vector<xg::Tensor>& x) { return xg::concat({x[0], x[1]}, 1); },
                    {uniform({2, 3, 4}), uniform({2, 1, 4})});
    check_gradients([](const std::vector<xg::Tensor>& x) { return xg::concat({x[0], x[1]}, -1); },
                    {uniform({2, 3, 4}), uniform({2, 3, 2})});
    check_gradients([](const std::vector<xg::Tensor>& x) { return xg::concat({x[0], x[1], x[0]}, 1); },
                    {uniform({3, 4}), uniform({3, 2})});
}

TEST_CASE("concat sends no gradient to inputs that do not need one") {
    const xg::Tensor fixed = xg::input(xt::zeros<float>({2, 2}));
    const xg::Tensor w = xg::parameter(xt::zeros<float>({2, 3}), "w");
    xg::Array seed = counting({2, 5});
    xg::concat({fixed, w}, 1).backward(seed);
    CHECK_FALSE(fixed.has_grad());
    CHECK(w.grad() == xg::Array{{2.0f, 3.0f, 4.0f}, {7.0f, 8.0f, 9.0f}});
}

TEST_CASE("concat errors name the mismatching tensor") {
    const xg::Tensor a = xg::input(xt::zeros<float>({2, 3}));
    const xg::Tensor b = xg::input(xt::zeros<float>({2, 4}));
    CHECK_THROWS_WITH_AS(xg::concat({a, b}, 0),
                         doctest::Contains("concat: tensor 1 has shape (2, 4), tensor 0 has (2, 3); expected equal extents "
                                           "except on axis 0"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::concat({a, xg::input(xt::zeros<float>({2, 3, 1}))}, 1), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::concat({}, 0), doctest::Contains("concat: no tensors given"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::concat({a, b}, 2), doctest::Contains("concat: axis 2 is out of range"), xg::ShapeError);
}

TEST_CASE("empty tensors are reshaped, sliced, gathered and joined, forward and backward") {
    using xg::test::check_empty;
    // An empty array's data() may be null: the copies must not hand it to memcpy (UBSan checks this).
    check_empty([](const xg::Tensor& x) { return xg::reshape(x, {3, 0}); }, {0, 3}, {3, 0});
    check_empty([](const xg::Tensor& x) { return xg::reshape(x, {-1, 3}); }, {0, 3}, {0, 3});
    check_empty([](const xg::Tensor& x) { return xg::reshape(x, {-1, 0}); }, {0, 3}, {0, 0});
    check_empty([](const xg::Tensor& x) { return xg::slice(x, 0, 1, 3); }, {3, 0}, {2, 0});
    check_empty([](const xg::Tensor& x) { return xg::slice(x, 1, 1, 1); }, {2, 3}, {2, 0});
    // No batch, but blocks that start inside each row: the offset must not be applied to null.
    check_empty([](const xg::Tensor& x) { return xg::slice(x, 1, 2, 4); }, {0, 4, 3}, {0, 2, 3});
    check_empty([](const xg::Tensor& x) { return xg::concat({x, x}, 1); }, {0, 2, 3}, {0, 4, 3});
    check_empty([](const xg::Tensor& x) { return xg::pad(x, 1, 2, 1); }, {0, 2, 3}, {0, 5, 3});
    check_empty([](const xg::Tensor& x) { return xg::gather(x, {2, 0, 2}); }, {3, 0}, {3, 0});
    check_empty([](const xg::Tensor& x) { return xg::gather(x, {}); }, {3, 2}, {0, 2});
    check_empty([](const xg::Tensor& x) { return xg::gather(x, {1, 1}, 1); }, {0, 3}, {0, 2});
    check_empty([](const xg::Tensor& x) { return xg::scatter_add(x, {2, 0, 2}, 4); }, {3, 0}, {4, 0});
    check_empty([](const xg::Tensor& x) { return xg::scatter_add(x, {}, 2, 1); }, {3, 0}, {3, 2});
    check_empty([](const xg::Tensor& x) { return xg::concat({x, xg::input(xt::zeros<float>({2, 0}))}, 0); }, {3, 0},
                {5, 0});
    check_empty([](const xg::Tensor& x) { return xg::concat({x, x}, -1); }, {0, 2}, {0, 4});
    CHECK_THROWS_WITH_AS(xg::gather(xg::input(xt::zeros<float>({0, 3})), {0}),
                         doctest::Contains("gather: index 0 is out of range for axis 0 of (0, 3)"), xg::ShapeError);
}

TEST_CASE("reshape rejects extents whose product wraps around to the element count") {
    const xg::Tensor x = xg::parameter(xt::zeros<float>({2}), "x");
    // 3 * 6148914691236517206 = 2 (mod 2^64): without the check this would pass for a view of 2 elements.
    CHECK_THROWS_WITH_AS(xg::reshape(x, {3, 6148914691236517206L}),
                         doctest::Contains("reshape: shape (3, 6148914691236517206) has more elements"), xg::ShapeError);
    CHECK_THROWS_AS(xg::reshape(x, {-1, 1L << 62, 1L << 62}), xg::ShapeError);
    CHECK(xg::reshape(x, {2, -1}).shape() == xg::Shape{2, 1});
}

TEST_CASE("negative axes count from the end, and axes out of range are ShapeErrors in slice and concat") {
    const xg::Tensor x = xg::input(counting({2, 3}));
    CHECK(xg::slice(x, -1, 0, 2).value() == xg::slice(x, 1, 0, 2).value());
    CHECK(xg::concat({x, x}, -2).shape() == xg::Shape{4, 3});
    CHECK_THROWS_WITH_AS(xg::slice(x, -3, 0, 1), doctest::Contains("slice: axis -3 is out of range"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::concat({x}, -3), doctest::Contains("concat: axis -3 is out of range"), xg::ShapeError);
    CHECK_THROWS_AS(xg::slice(xg::input(xg::scalar_array(1.0f)), 0, 0, 1), xg::ShapeError);
    CHECK_THROWS_AS(xg::concat({xg::input(xg::scalar_array(1.0f))}, 0), xg::ShapeError);
}

TEST_CASE("reshape, slice, gather and concat pass gradgradcheck") {
    xt::random::seed(51);
    xg::test::check_second_order([](const std::vector<xg::Tensor>& x) { return xg::reshape(x[0], {4, -1}); },
                                 {uniform({2, 3, 2})});
    for (long axis : {0L, 1L, 2L}) {
        CAPTURE(axis);
        xg::test::check_second_order([axis](const std::vector<xg::Tensor>& x) { return xg::slice(x[0], axis, 1, 3); },
                                     {uniform({3, 4, 3})});
        xg::test::check_second_order([axis](const std::vector<xg::Tensor>& x) { return xg::concat({x[0], x[1]}, axis); },
                                     {uniform({2, 3, 2}), uniform({2, 3, 2})});
        xg::test::check_second_order([axis](const std::vector<xg::Tensor>& x) { return xg::gather(x[0], {2, 0, 2}, axis); },
                                     {uniform({3, 4, 3})});
    }
}

TEST_CASE("pad adds zero slices, and is slice's gradient") {
    const xg::Tensor x = xg::parameter(xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}}, "x");
    CHECK(xg::pad(x, 1, 1, 2).value() == xg::Array{{0.0f, 1.0f, 2.0f, 0.0f, 0.0f}, {0.0f, 3.0f, 4.0f, 0.0f, 0.0f}});
    CHECK(xg::pad(x, 0, 0, 1).value() == xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {0.0f, 0.0f}});
    xg::Tape::current().clear();
    CHECK_THROWS_AS(xg::pad(x, 2, 1, 1), xg::ShapeError);
    xt::random::seed(52);
    for (long axis : {0L, 1L, -1L}) {
        check_gradients([axis](const std::vector<xg::Tensor>& in) { return xg::pad(in[0], axis, 2, 1); }, {uniform({2, 3})});
        xg::test::check_second_order([axis](const std::vector<xg::Tensor>& in) { return xg::pad(in[0], axis, 2, 1); },
                                     {uniform({2, 3})});
    }
}

TEST_CASE("scatter_add adds slices into place along any axis, and is gather's gradient") {
    const xg::Tensor x = xg::input(xg::Array{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
    CHECK(xg::scatter_add(x, {2, 0, 2}, 4).value() == xg::Array{{3.0f, 4.0f}, {0.0f, 0.0f}, {6.0f, 8.0f}, {0.0f, 0.0f}});
    CHECK(xg::scatter_add(x, {0, 0}, 3, 1).value() == xg::Array{{3.0f, 0.0f, 0.0f}, {7.0f, 0.0f, 0.0f}, {11.0f, 0.0f, 0.0f}});
    CHECK(xg::scatter_add(xg::parameter(xt::ones<float>({3, 2}), "x"), {0, 2, 1}, 3).creator()->attributes().to_string() ==
          "axis=0, indices=(0, 2, 1), extent=3");
    xg::Tape::current().clear();
    CHECK_THROWS_WITH_AS(xg::scatter_add(x, {0, 1}, 4),
                         doctest::Contains("scatter_add: x has shape (3, 2) for 2 indices; expected one slice along "
                                           "axis 0 per index"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::scatter_add(x, {0, 1, 4}, 4), doctest::Contains("scatter_add: index 4 is out of range"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::scatter_add(x, {0, 1}, 2, 2), xg::ShapeError);
    xt::random::seed(53);
    for (long axis : {0L, 1L, 2L}) {
        CAPTURE(axis);
        check_gradients([axis](const std::vector<xg::Tensor>& in) { return xg::scatter_add(in[0], {1, 1, 0}, 4, axis); },
                        {uniform({3, 3, 3})});
        xg::test::check_second_order(
            [axis](const std::vector<xg::Tensor>& in) { return xg::scatter_add(in[0], {1, 1, 0}, 4, axis); },
            {uniform({3, 3, 3})});
    }
    // The adjoint of gather: <gather(a), b> = <a, scatter_add(b)>.
    const xg::Array a = uniform({4, 3, 2}), b = uniform({4, 5, 2});
    const std::vector<std::size_t> indices{2, 0, 2, 1, 2};
    const float left = xt::sum(xg::gather(xg::input(a), indices, 1).value() * b)();
    const float right = xt::sum(a * xg::scatter_add(xg::input(b), indices, 3, 1).value())();
    CHECK(left == doctest::Approx(right).epsilon(1e-5));
}
