// Tests for lib/xgrad/nn/masking.cpp: the steps Masking marks as padding (every feature equal to
// mask_value), their zeroed features, the mask it hands on through Sequential to the layers that
// skip padding, its config, and its errors.
#include "xgrad/nn/masking.hpp"

#include <limits>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/conv1d.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/sequential.hpp"
#include "test_arrays.hpp"

TEST_CASE("Masking marks a step whose every feature equals mask_value, zeroes it, and keeps the others") {
    // Step 1 of the first sequence is all -1: padding. Step 2 has one -1 only: kept.
    const xg::Array x = {{{1.0f, 2.0f}, {-1.0f, -1.0f}, {-1.0f, 3.0f}}, {{-1.0f, -1.0f}, {0.0f, 0.0f}, {5.0f, 6.0f}}};
    xg::Masking masking(-1.0f);
    CHECK(masking.name() == "masking_1");
    const xg::Masked out = masking.call_masked(xg::input(x));
    CHECK(out.mask.value() == xg::Array{{1.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 1.0f}});
    CHECK(out.output.value() ==
          xg::Array{{{1.0f, 2.0f}, {0.0f, 0.0f}, {-1.0f, 3.0f}}, {{0.0f, 0.0f}, {0.0f, 0.0f}, {5.0f, 6.0f}}});
    CHECK(masking(xg::input(x)).value() == out.output.value());
    CHECK(masking.output_shape({3, 2}) == xg::Shape{3, 2});
    // A mask coming in is replaced by the layer's own.
    const xg::Tensor other = xg::input(xt::zeros<float>({2, 3}));
    CHECK(masking.call_masked(xg::input(x), other).mask.value() == out.mask.value());
    // No features, or no sequences: every step is padding, nothing fails.
    CHECK(masking.call_masked(xg::input(xt::zeros<float>({2, 3, 0}))).mask.value() == xg::Array(xt::zeros<float>({2, 3})));
    CHECK(masking.call_masked(xg::input(xt::zeros<float>({0, 3, 2}))).mask.shape() == xg::Shape{0, 3});
}

TEST_CASE("Masking's gradient is the mask: padding's features get none, first and second order") {
    xg::Masking masking(0.5f);
    xg::Array x = xg::test::random_array({2, 4, 3}, 1);
    xt::view(x, 0, 2) = 0.5f;  // one padding step
    const xg::Array r = xg::test::random_array({2, 4, 3}, 4);
    const xg::Tensor t = xg::parameter(x, "x");
    xg::sum(masking(t) * xg::input(r)).backward();
    xg::Array expected = r;
    xt::view(expected, 0, 2) = 0.0f;
    CHECK(t.grad() == expected);
    // Differentiated twice through the padding: d/dx sum(masking(x)^2) = 2 x mask, and its
    // derivative 2 mask.
    const xg::Tensor g = xg::grad(xg::sum(xg::square(masking(t))), t, {.create_graph = true});
    xg::Array mask = xt::ones<float>({2, 4, 3});
    xt::view(mask, 0, 2) = 0.0f;
    xg::test::check_close(g.value(), xg::Array(2.0f * x * mask));
    const xg::Tensor h = xg::grad(xg::sum(g), t);
    CHECK(h.value() == xg::Array(2.0f * mask));
    // Away from padding (a difference quotient would turn a padding step into a step), against
    // finite differences to the second order.
    const xg::Array steps = xg::test::random_array({2, 4, 3}, 5);
    auto f = [&masking](const std::vector<xg::Tensor>& in) { return masking(in[0]) * masking(in[0]); };
    const auto first = xg::gradcheck(f, {steps});
    CHECK_MESSAGE(first.passed, first.report());
    const auto second = xg::gradgradcheck(f, {steps});
    CHECK_MESSAGE(second.passed, second.report());
}

TEST_CASE("a Masking layer's mask reaches the recurrent layer after it through Sequential: padding changes nothing") {
    xg::manual_seed(2);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Masking>();
    net->emplace<xg::Dropout>(0.5f);  // keeps steps apart: the mask passes through
    auto lstm = net->emplace<xg::LSTM>(3, 4);
    net->eval();
    const xg::Array x = xg::test::random_array({2, 4, 3}, 3);
    xg::Array padded = xt::zeros<float>({2, 7, 3});
    xt::view(padded, xt::all(), xt::range(3, 7)) = x;  // padding first, as Keras's pad_sequences
    xg::NoGradGuard no_grad;
    xg::test::check_close((*net)(xg::input(padded)).value(), (*lstm)(xg::input(x)).value());
    xt::view(padded, xt::all(), xt::range(0, 4)) = x;  // padding last
    xt::view(padded, xt::all(), xt::range(4, 7)) = 0.0f;
    xg::test::check_close((*net)(xg::input(padded)).value(), (*lstm)(xg::input(x)).value());
}

TEST_CASE("Masking's config rebuilds it; bad settings, shapes and a layer that cannot take the mask are errors") {
    const xg::Masking masking(-2.5f, "pad");
    auto rebuilt = xg::make_layer("Masking", *masking.config(), "pad");
    CHECK(dynamic_cast<xg::Masking&>(*rebuilt).mask_value() == -2.5f);
    CHECK_THROWS_WITH_AS(xg::Masking(std::numeric_limits<float>::quiet_NaN()),
                         "Masking: mask_value nan; expected a finite number", xg::ValueError);
    xg::Masking pad(0.0f, "pad");
    CHECK_THROWS_WITH_AS(pad(xg::input(xt::zeros<float>({2, 3}))), "pad: input has shape (2, 3); expected (batch, steps, features)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(pad.output_shape({3}), "pad: input shape (3,); expected (steps, features)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(pad.call_masked(xg::input(xt::zeros<float>({2, 3, 1})), xg::input(xt::zeros<float>({2, 4}))),
                         "pad: mask has shape (2, 4) for an input of (2, 3, 1); expected (batch, steps), the input's "
                         "first two extents",
                         xg::ShapeError);
    // A convolution mixes neighbouring steps: padding would leak into them.
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Masking>();
    net->emplace<xg::Conv1D>(2, 4, 3, xg::Conv1DOptions{.name = "conv"});
    CHECK_THROWS_WITH_AS((*net)(xg::input(xt::ones<float>({1, 5, 2}))),
                         doctest::Contains("conv (Conv1D): got a mask (from an Embedding with mask_zero or a Masking "
                                           "layer) but neither uses nor passes one"),
                         xg::ValueError);
}
