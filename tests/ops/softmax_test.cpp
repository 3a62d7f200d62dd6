// Tests for lib/xgrad/ops/softmax.cpp: softmax, log_softmax, the cross-entropy losses, one_hot.
#include <cmath>

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

using xg::test::check_close;
using xg::test::check_gradients;
using xg::test::uniform;

// Logits in [-2, 2]: the softmax of a row then spans a factor of up to e^4.
xg::Array random_logits(const xg::Shape& shape) { return uniform(shape, -2.0f, 2.0f); }

bool all_finite(const xg::Array& a) {
    for (float v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("softmax and log_softmax compute the textbook values along an axis") {
    const xg::Tensor x = xg::input(xg::Array{{1.0f, 2.0f, 3.0f}, {1.0f, 1.0f, 1.0f}});
    check_close(xg::softmax(x).value(),
                xg::Array{{0.09003057f, 0.24472847f, 0.66524096f}, {1.0f / 3, 1.0f / 3, 1.0f / 3}});
    check_close(xg::log_softmax(x).value(),
                xg::Array{{-2.40760596f, -1.40760596f, -0.40760596f}, {-1.09861229f, -1.09861229f, -1.09861229f}});
    // Along axis 0 each column is normalised.
    check_close(xg::softmax(x, 0).value(), xg::Array{{0.5f, 0.73105858f, 0.88079708f}, {0.5f, 0.26894142f, 0.11920292f}});
    check_close(xg::sum(xg::softmax(xg::input(random_logits({2, 3, 4})), 1), 1).value(), xg::Array(xg::Shape{2, 4}, 1.0f));
}

TEST_CASE("softmax and log_softmax stay finite and correct for huge logits") {
    const xg::Tensor x = xg::parameter(xg::Array{{1000.0f, 0.0f, -1000.0f}, {1000.0f, 1000.0f, 1000.0f},
                                                 {-1000.0f, -1000.0f, -1000.0f}},
                                       "x");
    const xg::Tensor p = xg::softmax(x);
    const xg::Tensor log_p = xg::log_softmax(x);
    CHECK(all_finite(p.value()));
    CHECK(all_finite(log_p.value()));
    check_close(p.value(), xg::Array{{1.0f, 0.0f, 0.0f}, {1.0f / 3, 1.0f / 3, 1.0f / 3}, {1.0f / 3, 1.0f / 3, 1.0f / 3}});
    check_close(log_p.value(), xg::Array{{0.0f, -1000.0f, -2000.0f},
                                         {-1.09861229f, -1.09861229f, -1.09861229f},
                                         {-1.09861229f, -1.09861229f, -1.09861229f}},
                1e-5);

    xg::sum(log_p * xg::input(xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}})).backward();
    // d log_softmax_k / dx = onehot(k) - softmax
    CHECK(all_finite(x.grad()));
    check_close(x.grad(), xg::Array{{-1.0f, 1.0f, 0.0f}, {2.0f / 3, -1.0f / 3, -1.0f / 3}, {-1.0f / 3, -1.0f / 3, 2.0f / 3}});

    const xg::Tensor loss = xg::sparse_softmax_cross_entropy(x, xg::input(xg::Array{2.0f, 0.0f, 1.0f}));
    CHECK(std::isfinite(loss.item()));
    CHECK(loss.item() == doctest::Approx((2000.0 + 2 * std::log(3.0)) / 3.0));
}

TEST_CASE("softmax and log_softmax pass gradcheck on every axis") {
    xt::random::seed(71);
    for (const xg::Shape& shape : {xg::Shape{3, 4}, xg::Shape{2, 3, 4}}) {
        const xg::Array x = random_logits(shape);
        const long rank = static_cast<long>(shape.size());
        for (long axis = -rank; axis < rank; ++axis) {
            CAPTURE(xg::format_shape(shape));
            CAPTURE(axis);
            check_gradients([axis](const std::vector<xg::Tensor>& in) { return xg::softmax(in[0], axis); }, {x});
            check_gradients([axis](const std::vector<xg::Tensor>& in) { return xg::log_softmax(in[0], axis); }, {x});
        }
    }
    // Shifted far from 0: the stable formulation keeps the gradient right.
    check_gradients([](const std::vector<xg::Tensor>& in) { return xg::softmax(in[0] + 100.0f); }, {random_logits({3, 4})});
    check_gradients([](const std::vector<xg::Tensor>& in) { return xg::log_softmax(in[0] - 100.0f); }, {random_logits({3, 4})});
}

TEST_CASE("softmax and log_softmax reject bad axes") {
    const xg::Tensor x = xg::input(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(xg::softmax(x, 2), doctest::Contains("softmax: axis 2 is out of range"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::log_softmax(x, -3), doctest::Contains("log_softmax: axis -3 is out of range"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::softmax(xg::input(xt::zeros<float>({3, 0}))),
                         doctest::Contains("softmax: axis 1 of tensor (3, 0) is empty; expected at least one element"), xg::ShapeError);
    CHECK_THROWS_AS(xg::log_softmax(xg::input(xg::scalar_array(1.0f))), xg::ShapeError);
}

TEST_CASE("softmax_cross_entropy is the mean over rows of -sum(y log p)") {
    // Row 0: p = (1/4, 3/4), y picks class 1. Row 1: p = (1/2, 1/2), y = (1/2, 1/2).
    const xg::Tensor logits = xg::input(xg::Array{{0.0f, std::log(3.0f)}, {2.0f, 2.0f}});
    const xg::Tensor y = xg::input(xg::Array{{0.0f, 1.0f}, {0.5f, 0.5f}});
    const float expected = static_cast<float>((-std::log(0.75) - std::log(0.5)) / 2.0);
    CHECK(xg::softmax_cross_entropy(logits, y).item() == doctest::Approx(expected).epsilon(1e-6));
}

TEST_CASE("softmax_cross_entropy gradient is exactly (softmax - y) / N") {
    xt::random::seed(72);
    const std::size_t n = 4;
    const xg::Tensor logits = xg::parameter(random_logits({n, 5}), "logits");
    const xg::Tensor labels = xg::input(xg::Array{3.0f, 0.0f, 4.0f, 3.0f});
    const xg::Tensor y = xg::one_hot(labels, 5);
    xg::softmax_cross_entropy(logits, y).backward();
    const xg::Array expected = (xg::softmax(xg::input(logits.value())).value() - y.value()) / static_cast<float>(n);
    REQUIRE(logits.grad().shape() == expected.shape());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(logits.grad().data()[i] == expected.data()[i]);
}

TEST_CASE("softmax_cross_entropy passes gradcheck for logits and targets") {
    xt::random::seed(73);
    // Soft targets whose rows need not sum to 1 exercise the general rule.
    check_gradients([](const std::vector<xg::Tensor>& in) { return xg::softmax_cross_entropy(in[0], in[1]); },
                    {random_logits({3, 4}), uniform({3, 4}, 0.0f, 1.0f)});
}

TEST_CASE("softmax_cross_entropy rejects mismatched shapes") {
    const xg::Tensor logits = xg::input(xt::zeros<float>({3, 4}));
    CHECK_THROWS_WITH_AS(xg::softmax_cross_entropy(logits, xg::input(xt::zeros<float>({3, 5}))),
                         doctest::Contains("softmax_cross_entropy: targets have shape (3, 5), logits (3, 4)"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::softmax_cross_entropy(xg::input(xt::zeros<float>({4})), xg::input(xt::zeros<float>({4}))),
                         doctest::Contains("softmax_cross_entropy: logits have shape (4,); expected (batch, classes)"),
                         xg::ShapeError);
}

TEST_CASE("sparse_softmax_cross_entropy equals the dense loss on one-hot targets") {
    xt::random::seed(74);
    const xg::Array values = random_logits({4, 3});
    const xg::Tensor labels = xg::input(xg::Array{2.0f, 0.0f, 1.0f, 2.0f});

    const xg::Tensor sparse_logits = xg::parameter(values, "sparse");
    const xg::Tensor sparse = xg::sparse_softmax_cross_entropy(sparse_logits, labels);
    const xg::Tensor dense_logits = xg::parameter(values, "dense");
    const xg::Tensor dense = xg::softmax_cross_entropy(dense_logits, xg::one_hot(labels, 3));
    CHECK(sparse.item() == doctest::Approx(dense.item()).epsilon(1e-6));
    sparse.backward(true);
    dense.backward();
    check_close(sparse_logits.grad(), dense_logits.grad());
}

TEST_CASE("sparse_softmax_cross_entropy passes gradcheck for its logits") {
    xt::random::seed(75);
    // Labels are not differentiable: they are fixed, only the logits are checked.
    const xg::Tensor labels = xg::input(xg::Array{1.0f, 3.0f, 1.0f});
    check_gradients(
        [&labels](const std::vector<xg::Tensor>& in) { return xg::sparse_softmax_cross_entropy(in[0], labels); },
        {random_logits({3, 4})});
    check_gradients(
        [&labels](const std::vector<xg::Tensor>& in) { return xg::sparse_softmax_cross_entropy(in[0] * 3.0f, labels) * 2.0f; },
        {random_logits({3, 4})});
}

TEST_CASE("sparse_softmax_cross_entropy rejects bad labels") {
    const xg::Tensor logits = xg::input(xt::zeros<float>({2, 3}));
    CHECK_THROWS_WITH_AS(xg::sparse_softmax_cross_entropy(logits, xg::input(xg::Array{0.0f, 3.0f})),
                         doctest::Contains("sparse_softmax_cross_entropy: label 3 is not a class index; expected an "
                                           "integer in [0, 3)"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::sparse_softmax_cross_entropy(logits, xg::input(xg::Array{0.0f, -1.0f})), xg::ValueError);
    CHECK_THROWS_AS(xg::sparse_softmax_cross_entropy(logits, xg::input(xg::Array{0.5f, 1.0f})), xg::ValueError);
    CHECK_THROWS_AS(xg::sparse_softmax_cross_entropy(logits, xg::input(xg::Array{0.0f, NAN})), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::sparse_softmax_cross_entropy(logits, xg::input(xg::Array{0.0f, 1.0f, 2.0f})),
                         doctest::Contains("labels have shape (3,), logits (2, 3); expected (2,)"), xg::ShapeError);
}

TEST_CASE("one_hot turns labels into rows and is not differentiable") {
    const xg::Tensor labels = xg::parameter(xg::Array{2.0f, 0.0f, 1.0f}, "labels");
    const xg::Tensor y = xg::one_hot(labels, 4);
    CHECK(y.value() == xg::Array{{0.0f, 0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f, 0.0f}});
    CHECK(y.role() == xg::Role::constant);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.creator() == nullptr);
    CHECK(xg::one_hot(xg::input(xt::zeros<float>({0})), 3).shape() == xg::Shape{0, 3});
}

TEST_CASE("one_hot rejects bad labels and class counts") {
    CHECK_THROWS_WITH_AS(xg::one_hot(xg::input(xt::zeros<float>({2, 1})), 3),
                         doctest::Contains("one_hot: labels have shape (2, 1); expected a vector"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::one_hot(xg::input(xg::Array{0.0f}), 0), doctest::Contains("one_hot: classes is 0"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::one_hot(xg::input(xg::Array{0.0f, 3.0f}), 3),
                         doctest::Contains("one_hot: label 3 is not a class index"), xg::ValueError);
    CHECK_THROWS_AS(xg::one_hot(xg::input(xg::Array{1.5f}), 3), xg::ValueError);
    CHECK_THROWS_AS(xg::one_hot(xg::input(xg::Array{-1.0f}), 3), xg::ValueError);
}

TEST_CASE("the softmax family records its axis") {
    xg::Tape::current().clear();
    const xg::Tensor x = xg::parameter(xt::zeros<float>({2, 3}), "x");
    CHECK(xg::softmax(x, -1).creator()->attributes().to_string() == "axis=1");
    CHECK(xg::log_softmax(x, 0).creator()->attributes().to_string() == "axis=0");
    xg::Tape::current().clear();
}

TEST_CASE("empty batches: softmax of no rows passes through; the losses need at least one sample") {
    using xg::test::check_empty;
    check_empty([](const xg::Tensor& x) { return xg::softmax(x); }, {0, 3}, {0, 3});
    check_empty([](const xg::Tensor& x) { return xg::log_softmax(x, 1); }, {0, 3}, {0, 3});
    CHECK(xg::one_hot(xg::input(xt::zeros<float>({0})), 3).shape() == xg::Shape{0, 3});
    const xg::Tensor no_rows = xg::input(xt::zeros<float>({0, 3}));
    CHECK_THROWS_WITH_AS(xg::softmax_cross_entropy(no_rows, no_rows),
                         doctest::Contains("softmax_cross_entropy: logits have shape (0, 3); expected (batch, classes) "
                                           "with both > 0"),
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::sparse_softmax_cross_entropy(no_rows, xg::input(xt::zeros<float>({0}))),
                         doctest::Contains("sparse_softmax_cross_entropy: logits have shape (0, 3)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::softmax(no_rows, 0), doctest::Contains("softmax: axis 0 of tensor (0, 3) is empty; expected at least one element"),
                         xg::ShapeError);
}

TEST_CASE("one_hot with more classes than an array can hold is a ShapeError, not a wrapped allocation") {
    CHECK_THROWS_WITH_AS(xg::one_hot(xg::input(xg::Array{0.0f, 1.0f}), std::size_t{1} << 62),
                         doctest::Contains("one_hot: shape (2, 4611686018427387904) has more elements"), xg::ShapeError);
}

TEST_CASE("softmax, log_softmax and the cross-entropies pass gradgradcheck") {
    xt::random::seed(71);
    for (long axis : {0L, 1L, -1L}) {
        CAPTURE(axis);
        xg::test::check_second_order([axis](const std::vector<xg::Tensor>& x) { return xg::softmax(x[0], axis); },
                                     {random_logits({3, 4})});
        xg::test::check_second_order([axis](const std::vector<xg::Tensor>& x) { return xg::log_softmax(x[0], axis); },
                                     {random_logits({3, 4})});
    }
    // Targets: rows that sum to 1 and rows that do not, both differentiated.
    const xg::Array targets{{0.2f, 0.5f, 0.3f}, {0.0f, 1.0f, 0.0f}, {0.6f, 0.1f, 0.5f}};
    xg::test::check_second_order(
        [](const std::vector<xg::Tensor>& x) { return xg::softmax_cross_entropy(x[0], x[1]); },
        {random_logits({3, 3}), targets});
    const xg::Tensor labels = xg::input(xg::Array{2.0f, 0.0f, 1.0f});
    xg::test::check_second_order(
        [&labels](const std::vector<xg::Tensor>& x) { return xg::sparse_softmax_cross_entropy(x[0], labels); },
        {random_logits({3, 3})});
}
