#pragma once
// A model Sequential cannot express, written as a user would: SpiralNet owns its weights
// and its forward calls ops directly. Two branches read the input, the first has a skip
// connection, and the branches are joined by a sum:
//
//   x ─┬─ stem: tanh(x.W+b) ── h1 ─┬─ residual: tanh(h1.W+b) ─ + ── h2 ─┐
//      │                           └────────────────────────────┘       + ── head: softmax(.W+b) ── p
//      └─ branch: tanh((x.W+b)^2) ─────────────────────────────── g ────┘
//
// make_spirals generates the problem it learns: interleaved spiral arms, one per class.
// The spirals app and tests/train/custom_model_test.cpp both use this file; the guide to
// defining your own models, docs/custom_models.md, quotes it.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <random>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "xgrad/autograd/creation.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/ops/ops.hpp"

namespace spirals {

/// inputs -> class probabilities through two branches, a skip connection and a sum.
struct SpiralNet : xg::Module {
    /// stem/kernel (inputs, hidden), residual/kernel (hidden, hidden), branch/kernel
    /// (inputs, hidden), head/kernel (hidden, classes), and a bias for each.
    SpiralNet(std::size_t inputs, std::size_t hidden, std::size_t classes, std::string name = {})
        : xg::Module("SpiralNet", std::move(name)), inputs_(inputs) {
        if (inputs == 0 || hidden == 0 || classes < 2) {
            throw xg::ValueError(fmt::format("SpiralNet: inputs {}, hidden {}, classes {}; expected inputs > 0, "
                                             "hidden > 0, classes >= 2", inputs, hidden, classes));
        }
        // The kernels that read the 2-d input use he_uniform (limit sqrt(6 / 2)), several times
        // wider than glorot_uniform (sqrt(6 / (2 + hidden))): the tanh units then start curved
        // rather than nearly linear. With glorot_uniform, training stalls on some seeds.
        stem_w = register_parameter("stem/kernel", xg::Tensor(xg::initializers::he_uniform({inputs, hidden})));
        stem_b = register_parameter("stem/bias", xg::zeros({hidden}));
        residual_w = register_parameter("residual/kernel", xg::Tensor(xg::initializers::glorot_uniform({hidden, hidden})));
        residual_b = register_parameter("residual/bias", xg::zeros({hidden}));
        branch_w = register_parameter("branch/kernel", xg::Tensor(xg::initializers::he_uniform({inputs, hidden})));
        branch_b = register_parameter("branch/bias", xg::zeros({hidden}));
        head_w = register_parameter("head/kernel", xg::Tensor(xg::initializers::glorot_uniform({hidden, classes})));
        head_b = register_parameter("head/bias", xg::zeros({classes}));
    }

    /// (n, inputs) -> (n, classes) probabilities.
    xg::Tensor forward(const xg::Tensor& x) override { return forward_with_logits(x).output; }

protected:
    /// The probabilities and the logits behind them; each block records inside its own scope.
    xg::Activated forward_with_logits(const xg::Tensor& x) override {
        if (x.rank() != 2 || x.shape()[1] != inputs_) {
            throw xg::ShapeError(fmt::format("{}: input has shape {}; expected (batch, {})", name(),
                                             xg::format_shape(x.shape()), inputs_));
        }
        xg::Tensor h1, h2, g, logits;
        {
            xg::ScopeGuard scope("stem");
            h1 = xg::tanh(xg::linear(x, stem_w, stem_b));  // (n, hidden)
        }
        {
            xg::ScopeGuard scope("residual");
            h2 = h1 + xg::tanh(xg::linear(h1, residual_w, residual_b));  // skip connection: h1 is used twice
        }
        {
            xg::ScopeGuard scope("branch");
            g = xg::tanh(xg::square(xg::linear(x, branch_w, branch_b)));  // squared projections: bands
        }
        {
            xg::ScopeGuard scope("head");
            logits = xg::linear(h2 + g, head_w, head_b);  // the two branches joined by a sum
        }
        // Saying that softmax ends it lets a crossentropy use the fused, exact form on the logits.
        return {xg::softmax(logits), logits, "softmax"};
    }

public:
    // The registered weights (the same handles named_parameters() lists), read by forward.
    xg::Tensor stem_w, stem_b, residual_w, residual_b, branch_w, branch_b, head_w, head_b;

private:
    std::size_t inputs_;
};

/// Points (n, 2) and their class labels (n,) as floats 0, 1, ..., classes - 1.
struct SpiralData {
    xg::Array x;
    xg::Array labels;
};

/// `classes` interleaved spiral arms of `points_per_class` points each, 1.5 turns from the
/// centre to radius 1, with Gaussian noise of standard deviation `noise` on each coordinate.
/// The same seed gives the same points; rows are grouped by class.
inline SpiralData make_spirals(std::size_t points_per_class, std::size_t classes, float noise, std::uint64_t seed) {
    if (points_per_class == 0 || classes < 2 || !(noise >= 0.0f)) {
        throw xg::ValueError(fmt::format("make_spirals: {} points per class, {} classes, noise {}; expected points "
                                         "> 0, classes >= 2, noise >= 0", points_per_class, classes, noise));
    }
    constexpr double turns = 1.5;
    constexpr double two_pi = 2.0 * std::numbers::pi;
    std::mt19937_64 engine(seed);
    std::uniform_real_distribution<double> along(0.0, 1.0);
    std::normal_distribution<double> jitter(0.0, 1.0);
    const std::size_t n = points_per_class * classes;
    SpiralData data{xg::Array::from_shape({n, 2}), xg::Array::from_shape({n})};
    for (std::size_t c = 0; c < classes; ++c) {
        for (std::size_t i = 0; i < points_per_class; ++i) {
            // sqrt spreads the points evenly along the arm, which is longer far from the centre.
            const double r = std::sqrt(along(engine));
            const double angle = two_pi * (turns * r + static_cast<double>(c) / static_cast<double>(classes));
            const std::size_t row = c * points_per_class + i;
            data.x(row, 0) = static_cast<float>(r * std::cos(angle) + noise * jitter(engine));
            data.x(row, 1) = static_cast<float>(r * std::sin(angle) + noise * jitter(engine));
            data.labels(row) = static_cast<float>(c);
        }
    }
    return data;
}

}  // namespace spirals
