// kept_steps: the rows a mask keeps, in order, on the tape.
#include "xgrad/train/kept_steps.hpp"

#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xview.hpp>

#include "../ops/second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// (2, 3, 2): value 10 n + 2 t + f at sample n, step t, feature f.
xg::Array numbered() {
    xg::Array a = xg::uninitialized({2, 3, 2});
    for (std::size_t n = 0; n < 2; ++n) {
        for (std::size_t t = 0; t < 3; ++t) {
            for (std::size_t f = 0; f < 2; ++f) a(n, t, f) = static_cast<float>(10 * n + 2 * t + f);
        }
    }
    return a;
}

const xg::Array mask = {{1.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 1.0f}};

}  // namespace

TEST_CASE("kept_steps picks the marked steps' rows, sample by sample, step by step") {
    const xg::Tensor kept = xg::kept_steps(xg::constant(numbered()), xg::constant(mask));
    REQUIRE(kept.shape() == xg::Shape{4, 2});
    const xg::Array expected = {{0.0f, 1.0f}, {4.0f, 5.0f}, {12.0f, 13.0f}, {14.0f, 15.0f}};
    CHECK(xt::all(xt::equal(kept.value(), expected)));
    // Values of one number per step (labels) give one per kept step.
    const xg::Array labels = {{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
    CHECK(xt::all(xt::equal(xg::kept_steps(xg::constant(labels), xg::constant(mask)).value(), xg::Array{1.0f, 3.0f, 5.0f, 6.0f})));
    // Any nonzero keeps a step; a mask of zeros keeps none.
    const xg::Array weights = {{0.5f, 0.0f, 0.0f}, {0.0f, 0.0f, -2.0f}};
    CHECK(xg::kept_steps(xg::constant(numbered()), xg::constant(weights)).shape() == xg::Shape{2, 2});
    CHECK(xg::kept_steps(xg::constant(numbered()), xg::constant(xt::zeros<float>({2, 3}))).shape() == xg::Shape{0, 2});
    // Steps of no features keep their extents.
    CHECK(xg::kept_steps(xg::constant(xt::zeros<float>({2, 3, 0})), xg::constant(mask)).shape() == xg::Shape{4, 0});
}

TEST_CASE("kept_steps' gradient reaches the kept positions alone, to the second order") {
    const auto f = [](const std::vector<xg::Tensor>& in) {
        return xg::kept_steps(in[0], xg::constant(mask)) * xg::constant(xg::Array{2.0f, -1.0f});
    };
    const auto result = xg::gradcheck(f, {numbered() / 10.0f});
    CHECK_MESSAGE(result.passed, result.report());
    xg::test::check_second_order(f, {numbered() / 10.0f});

    xg::Tensor x(numbered(), true);
    xg::sum(xg::kept_steps(x, xg::constant(mask))).backward();
    const xg::Array expected_grad = xt::broadcast(xt::view(mask, xt::all(), xt::all(), xt::newaxis()), {2, 3, 2});
    CHECK(xt::all(xt::equal(x.grad(), expected_grad)));
    xg::Tape::current().clear();
}

TEST_CASE("kept_steps names what does not fit the mask") {
    const xg::Tensor values = xg::constant(numbered());
    CHECK_THROWS_WITH_AS(xg::kept_steps(values, xg::constant(xt::ones<float>({2, 4})), "targets"),
                         "kept_steps: targets have shape (2, 3, 2) for a mask (2, 4); expected (2, 4, ...), a value per step",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::kept_steps(values, xg::constant(xt::ones<float>({2, 3, 1}))),
                         "kept_steps: mask has shape (2, 3, 1); expected (batch, steps)", xg::ShapeError);
    CHECK_THROWS_AS(xg::kept_steps(xg::constant(xg::Array{1.0f, 2.0f}), xg::constant(mask)), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::kept_steps(values, xg::Tensor{}), "kept_steps: mask is an empty handle; expected a tensor",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::kept_steps(xg::Tensor{}, xg::constant(mask), "logits"),
                         "kept_steps: logits is an empty handle; expected a tensor", xg::ValueError);
}
