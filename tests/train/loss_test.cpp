// Losses: values against hand computation, the from_logits paths, one formula with and
// without recording, gradient checks for every path, shape errors, Loss and lookup by name.
#include "xgrad/train/loss.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <vector>
#include <string>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "../ops/second_order.hpp"

#include "column.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::test::column;

const xg::Array logits = {{2.0f, -1.0f, 0.5f, 0.0f}, {-0.5f, 1.5f, 1.0f, -2.0f}, {0.3f, 0.2f, -0.1f, 1.2f}};
const xg::Array one_hot = {{1.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 1.0f}};
const xg::Array labels = {0.0f, 2.0f, 3.0f};
// Probabilities that do not come from a recorded softmax (rows sum to 1).
const xg::Array probs = {{0.7f, 0.1f, 0.15f, 0.05f}, {0.2f, 0.3f, 0.4f, 0.1f}, {0.25f, 0.25f, 0.25f, 0.25f}};

// -mean over rows of log softmax(z)[label], in double.
double cross_entropy_of_logits(const xg::Array& z, const xg::Array& y) {
    double total = 0.0;
    for (std::size_t r = 0; r < z.shape()[0]; ++r) {
        double norm = 0.0;
        for (std::size_t c = 0; c < z.shape()[1]; ++c) norm += std::exp(static_cast<double>(z(r, c)));
        for (std::size_t c = 0; c < z.shape()[1]; ++c) total -= y(r, c) * (z(r, c) - std::log(norm));
    }
    return total / static_cast<double>(z.shape()[0]);
}

std::string last_op() {
    const xg::Tape& tape = xg::Tape::current();
    return tape.size() == 0 ? std::string() : std::string(tape[tape.size() - 1].op);
}

}  // namespace

TEST_CASE("categorical_crossentropy from logits uses the fused op") {
    xg::Tape::current().clear();
    const xg::Tensor z = xg::parameter(logits, "z");
    const xg::Tensor loss = xg::categorical_crossentropy(z, xg::constant(one_hot), /*from_logits=*/true);
    CHECK(last_op() == "softmax_cross_entropy");
    CHECK(loss.rank() == 0);
    CHECK(loss.item() == doctest::Approx(cross_entropy_of_logits(logits, one_hot)).epsilon(1e-6));
    // Its gradient is (softmax(z) - y) / n.
    loss.backward();
    const xg::Array p = xg::softmax(xg::input(logits)).value();
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t c = 0; c < 4; ++c) {
            CHECK(z.grad()(r, c) == doctest::Approx((p(r, c) - one_hot(r, c)) / 3.0).epsilon(1e-6));
        }
    }
}

TEST_CASE("the logits and the probability paths agree for moderate logits") {
    xg::Tape::current().clear();
    const xg::Tensor z = xg::parameter(logits, "z");
    const float fused = xg::categorical_crossentropy(z, xg::constant(one_hot), true).item();
    // Probabilities take the clipped formula, recorded softmax or not: the tape is never read.
    const float clipped = xg::categorical_crossentropy(xg::softmax(z), xg::constant(one_hot)).item();
    CHECK(last_op() != "softmax_cross_entropy");
    CHECK(fused == doctest::Approx(clipped).epsilon(1e-5));
    xg::Tape::current().clear();
}

TEST_CASE("a loss computes one formula whether its inputs were recorded or not") {
    // Confident and wrong: the logits give 120, the clipped probabilities -log(1e-7) = 16.1.
    const xg::Array z = {{60.0f, 0.0f, -60.0f}};
    const xg::Array y = {{0.0f, 0.0f, 1.0f}};
    xg::Tape::current().clear();
    const float fused = xg::categorical_crossentropy(xg::parameter(z, "z"), xg::constant(y), true).item();
    const float recorded = xg::categorical_crossentropy(xg::softmax(xg::parameter(z, "z")), xg::constant(y)).item();
    xg::Tape::current().clear();
    xg::NoGradGuard no_grad;
    const float fused_unrecorded = xg::categorical_crossentropy(xg::input(z), xg::constant(y), true).item();
    const float unrecorded = xg::categorical_crossentropy(xg::softmax(xg::input(z)), xg::constant(y)).item();
    CHECK(fused == doctest::Approx(120.0).epsilon(1e-5));
    CHECK(fused_unrecorded == fused);
    CHECK(recorded == doctest::Approx(-std::log(1e-7)).epsilon(1e-3));
    CHECK(unrecorded == recorded);
}

TEST_CASE("categorical_crossentropy on plain probabilities renormalises and clips as Keras does") {
    xg::Tape::current().clear();
    const xg::Array p = {{1.4f, 0.4f, 0.2f}, {0.0f, 0.5f, 0.5f}};
    const xg::Array y = {{1.0f, 0.0f, 0.0f}, {1.0f, 0.0f, 0.0f}};
    const float loss = xg::categorical_crossentropy(xg::parameter(p, "p"), xg::constant(y)).item();
    // Row 1 is 0.7 after renormalising; row 2's 0 is clipped to 1e-7.
    CHECK(loss == doctest::Approx((-std::log(0.7) - std::log(1e-7)) / 2.0).epsilon(1e-4));
    xg::Tape::current().clear();
}

TEST_CASE("categorical_crossentropy passes gradcheck on both paths") {
    const auto fused = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::categorical_crossentropy(x[0], xg::constant(one_hot), true); },
        {logits});
    CHECK_MESSAGE(fused.passed, fused.report());
    const auto clipped = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::categorical_crossentropy(x[0], xg::constant(one_hot)); }, {probs},
        {.epsilon = 1e-3f});
    CHECK_MESSAGE(clipped.passed, clipped.report());
}

TEST_CASE("sparse_categorical_crossentropy equals the one-hot loss, fused or not") {
    xg::Tape::current().clear();
    const xg::Tensor z = xg::parameter(logits, "z");
    const float sparse = xg::sparse_categorical_crossentropy(z, xg::constant(labels), true).item();
    CHECK(last_op() == "sparse_softmax_cross_entropy");
    CHECK(sparse == doctest::Approx(cross_entropy_of_logits(logits, one_hot)).epsilon(1e-6));
    xg::Tape::current().clear();
    const float plain = xg::sparse_categorical_crossentropy(xg::parameter(probs, "p"), xg::constant(labels)).item();
    CHECK(plain == doctest::Approx(-(std::log(0.7) + std::log(0.4) + std::log(0.25)) / 3.0).epsilon(1e-5));
    xg::Tape::current().clear();

    const auto fused = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::sparse_categorical_crossentropy(x[0], xg::constant(labels), true); },
        {logits});
    CHECK_MESSAGE(fused.passed, fused.report());
    const auto clipped = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::sparse_categorical_crossentropy(x[0], xg::constant(labels)); },
        {probs}, {.epsilon = 1e-3f});
    CHECK_MESSAGE(clipped.passed, clipped.report());
    CHECK_THROWS_AS(xg::sparse_categorical_crossentropy(xg::constant(probs), xg::constant(xg::Array{0.0f, 4.0f, 1.0f})),
                    xg::ValueError);
}

TEST_CASE("binary_crossentropy from logits is exact for any logit") {
    xg::Tape::current().clear();
    const xg::Array x = {{0.5f, -1.0f}, {2.0f, 0.0f}, {-0.3f, 1.5f}};
    const xg::Array y = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.0f, 1.0f}};
    const float loss = xg::binary_crossentropy(xg::parameter(x, "x"), xg::constant(y), true).item();
    double expected = 0.0;
    for (std::size_t k = 0; k < x.size(); ++k) {
        const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(x.data()[k])));
        expected -= y.data()[k] * std::log(p) + (1.0 - y.data()[k]) * std::log(1.0 - p);
    }
    CHECK(loss == doctest::Approx(expected / 6.0).epsilon(1e-6));
    xg::Tape::current().clear();

    // Far beyond where a clipped probability saturates at -log(1e-7) = 16.1.
    const float extreme =
        xg::binary_crossentropy(xg::parameter(column({100.0f, -80.0f}), "x"), xg::constant(column({0.0f, 1.0f})), true).item();
    CHECK(extreme == doctest::Approx(90.0).epsilon(1e-5));
    xg::Tape::current().clear();

    const auto result = xg::gradcheck(
        [&](const std::vector<xg::Tensor>& in) { return xg::binary_crossentropy(in[0], xg::constant(y), true); }, {x});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("binary_crossentropy's gradient at a zero logit is (sigmoid(0) - y) / n") {
    // Where a zero-initialised last layer starts: every logit is exactly 0.
    xg::Tape::current().clear();
    const xg::Tensor x = xg::parameter(xt::zeros<float>({4, 1}), "x");
    const xg::Array y = column({1.0f, 0.0f, 1.0f, 1.0f});
    const xg::Tensor loss = xg::binary_crossentropy(x, xg::constant(y), true);
    CHECK(loss.item() == doctest::Approx(std::log(2.0)).epsilon(1e-6));
    loss.backward();
    for (std::size_t i = 0; i < 4; ++i) CHECK(x.grad()(i, 0) == doctest::Approx((0.5 - y(i, 0)) / 4.0).epsilon(1e-6));
}

TEST_CASE("binary_crossentropy on plain probabilities clips them") {
    xg::Tape::current().clear();
    const xg::Array p = {{0.9f, 0.2f}, {0.6f, 0.0f}};
    const xg::Array y = {{1.0f, 0.0f}, {0.0f, 1.0f}};
    const float loss = xg::binary_crossentropy(xg::parameter(p, "p"), xg::constant(y)).item();
    CHECK(loss == doctest::Approx(-(std::log(0.9) + std::log(0.8) + std::log(0.4) + std::log(1e-7)) / 4.0).epsilon(1e-4));
    xg::Tape::current().clear();

    const xg::Array q = {{0.9f, 0.2f}, {0.6f, 0.35f}};
    const auto result = xg::gradcheck(
        [&](const std::vector<xg::Tensor>& in) { return xg::binary_crossentropy(in[0], xg::constant(y)); }, {q},
        {.epsilon = 1e-3f});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("mean_squared_error is the mean of squared differences") {
    const xg::Array p = {{1.0f, 2.0f}, {3.0f, -1.0f}};
    const xg::Array y = {{0.5f, 2.0f}, {1.0f, 1.0f}};
    CHECK(xg::mean_squared_error(xg::constant(p), xg::constant(y)).item() == doctest::Approx((0.25 + 0 + 4 + 4) / 4.0));
    const auto result = xg::gradcheck(
        [&](const std::vector<xg::Tensor>& in) { return xg::mean_squared_error(in[0], xg::constant(y)); }, {p});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("losses reject mismatched or wrongly ranked inputs") {
    const xg::Tensor p = xg::constant(probs);
    CHECK_THROWS_AS(xg::categorical_crossentropy(p, xg::constant(xt::zeros<float>({3, 3}))), xg::ShapeError);
    CHECK_THROWS_AS(xg::categorical_crossentropy(xg::constant({0.5f, 0.5f}), xg::constant({1.0f, 0.0f})), xg::ShapeError);
    CHECK_THROWS_AS(xg::sparse_categorical_crossentropy(xg::constant({0.5f, 0.5f}), xg::constant({1.0f})), xg::ShapeError);
    CHECK_THROWS_AS(xg::binary_crossentropy(p, xg::constant(xt::zeros<float>({4, 3}))), xg::ShapeError);
    try {
        xg::mean_squared_error(p, xg::constant(xt::zeros<float>({3, 1})));
        FAIL("expected ShapeError");
    } catch (const xg::ShapeError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("mean_squared_error") != std::string::npos);
        CHECK(msg.find("(3, 4)") != std::string::npos);
        CHECK(msg.find("(3, 1)") != std::string::npos);
    }
}

TEST_CASE("losses are found by their Keras names") {
    const xg::Tensor p = xg::constant(probs);
    const xg::Tensor y = xg::constant(one_hot);
    CHECK(xg::loss_by_name("categorical_crossentropy")(p, y).item() == xg::categorical_crossentropy(p, y).item());
    CHECK(xg::loss_by_name("sparse_categorical_crossentropy")(p, xg::constant(labels)).item() ==
          xg::sparse_categorical_crossentropy(p, xg::constant(labels)).item());
    CHECK(xg::loss_by_name("binary_crossentropy")(p, y).item() == xg::binary_crossentropy(p, y).item());
    CHECK(xg::loss_by_name("mean_squared_error")(p, y).item() == xg::mean_squared_error(p, y).item());
    CHECK(xg::loss_by_name("mse")(p, y).item() == xg::mean_squared_error(p, y).item());
    CHECK_THROWS_AS(xg::loss_by_name("hinge_loss"), xg::ValueError);
    CHECK(xg::Loss("mse").name() == "mse");
}

TEST_CASE("a Loss takes a call's logits when the call ends in the activation it fuses") {
    const xg::Loss cce = xg::loss_by_name("categorical_crossentropy");
    CHECK(cce.fused_activation() == "softmax");
    const xg::Array z = {{60.0f, 0.0f, -60.0f}};
    const xg::Tensor y = xg::constant(xg::Array{{0.0f, 0.0f, 1.0f}});
    xg::NoGradGuard no_grad;
    const xg::Tensor logits = xg::input(z);
    const xg::Tensor p = xg::softmax(logits);
    CHECK(cce(xg::Activated{p, logits, "softmax"}, y).item() == doctest::Approx(120.0).epsilon(1e-5));
    // Another activation (or none) leaves the loss on the outputs.
    CHECK(cce(xg::Activated{p, p, "linear"}, y).item() == doctest::Approx(-std::log(1e-7)).epsilon(1e-3));
    CHECK(xg::loss_by_name("binary_crossentropy").fused_activation() == "sigmoid");
    CHECK(xg::loss_by_name("mse").fused_activation().empty());

    const xg::Loss custom(xg::mean_squared_error, "mine");
    CHECK(custom.name() == "mine");
    CHECK(custom(xg::Activated{p, logits, "softmax"}, y).item() == xg::mean_squared_error(p, y).item());
    CHECK_THROWS_AS(xg::Loss(xg::LossFn()), xg::ValueError);
    CHECK_THROWS_AS(xg::Loss("half", xg::mean_squared_error, "softmax", xg::LossFn()), xg::ValueError);
}

namespace {

// Predictions and targets of a regression, 3 rows of 4, no difference 0 or 0.75 (the kinks of
// mae and of huber in the gradient checks).
const xg::Array reg_pred = {{1.5f, -0.2f, 3.0f, 0.7f}, {-1.0f, 2.5f, 0.1f, 4.0f}, {0.3f, 0.9f, -2.0f, 1.2f}};
const xg::Array reg_true = {{1.0f, 0.4f, 1.5f, 0.2f}, {-0.4f, 2.0f, 0.7f, 1.0f}, {0.8f, 0.1f, -1.7f, 1.4f}};

// mean over every element of f(pred, true), in double.
double mean_of(const std::function<double(double, double)>& f, const xg::Array& p, const xg::Array& t) {
    double total = 0.0;
    for (std::size_t i = 0; i < p.size(); ++i) total += f(p.data()[i], t.data()[i]);
    return total / static_cast<double>(p.size());
}

// mean over rows of f(row of pred, row of true), in double.
double row_mean_of(const std::function<double(const float*, const float*, std::size_t)>& f, const xg::Array& p,
                   const xg::Array& t) {
    const std::size_t n = p.shape()[0], w = p.size() / n;
    double total = 0.0;
    for (std::size_t r = 0; r < n; ++r) total += f(p.data() + r * w, t.data() + r * w, w);
    return total / static_cast<double>(n);
}

using LossOf = std::function<xg::Tensor(const xg::Tensor&, const xg::Tensor&)>;

// A loss's gradcheck and gradgradcheck with respect to the predictions, targets fixed.
void check_gradients(const char* name, const LossOf& loss, const xg::Array& p, const xg::Array& t) {
    CAPTURE(std::string(name));
    const auto f = [loss, t](const std::vector<xg::Tensor>& in) { return loss(in[0], xg::constant(t)); };
    const auto result = xg::gradcheck(f, {p});
    CHECK_MESSAGE(result.passed, result.report());
    xg::test::check_second_order(f, {p});
}

const double eps = 1e-7;

}  // namespace

TEST_CASE("the regression losses are Keras's formulas, with their gradients to the second order") {
    const xg::Tensor p = xg::constant(reg_pred), t = xg::constant(reg_true);
    const double mae = mean_of([](double a, double b) { return std::abs(a - b); }, reg_pred, reg_true);
    CHECK(xg::mean_absolute_error(p, t).item() == doctest::Approx(mae).epsilon(1e-6));
    const double mape = 100.0 * mean_of([](double a, double b) { return std::abs((b - a) / std::max(std::abs(b), eps)); },
                                        reg_pred, reg_true);
    CHECK(xg::mean_absolute_percentage_error(p, t).item() == doctest::Approx(mape).epsilon(1e-5));
    const double msle = mean_of([](double a, double b) {
        const double d = std::log1p(std::max(a, eps)) - std::log1p(std::max(b, eps));
        return d * d;
    }, reg_pred, reg_true);
    CHECK(xg::mean_squared_logarithmic_error(p, t).item() == doctest::Approx(msle).epsilon(1e-5));
    for (const float delta : {1.0f, 0.5f, 2.5f}) {
        CAPTURE(delta);
        const double h = mean_of([delta](double a, double b) {
            const double x = std::abs(a - b);
            return x <= delta ? 0.5 * x * x : delta * (x - 0.5 * delta);
        }, reg_pred, reg_true);
        CHECK(xg::huber(p, t, delta).item() == doctest::Approx(h).epsilon(1e-6));
    }
    const double lc = mean_of([](double a, double b) { return std::log(std::cosh(a - b)); }, reg_pred, reg_true);
    CHECK(xg::log_cosh(p, t).item() == doctest::Approx(lc).epsilon(1e-5));

    check_gradients("mean_absolute_error", xg::mean_absolute_error, reg_pred, reg_true);
    check_gradients("mean_absolute_percentage_error", xg::mean_absolute_percentage_error, reg_pred,
                    reg_true);
    check_gradients("mean_squared_logarithmic_error", xg::mean_squared_logarithmic_error,
                    xt::abs(reg_pred) + 0.1f, reg_true);
    check_gradients("huber", [](const xg::Tensor& a, const xg::Tensor& b) { return xg::huber(a, b, 0.75f); }, reg_pred, reg_true);
    check_gradients("log_cosh", xg::log_cosh, reg_pred, reg_true);
}

TEST_CASE("log_cosh stays finite for large errors, where cosh overflows, and approaches |x| - log 2") {
    const xg::Tensor loss = xg::log_cosh(xg::constant(xg::Array{{1000.0f, -1000.0f}}), xg::constant(xg::Array{{0.0f, 0.0f}}));
    CHECK(loss.item() == doctest::Approx(1000.0 - std::log(2.0)));
}

TEST_CASE("kl_divergence, poisson and cosine_similarity are Keras's formulas, with their gradients") {
    const xg::Tensor p = xg::constant(probs), t = xg::constant(one_hot);
    const double kld = row_mean_of([](const float* a, const float* b, std::size_t w) {
        double s = 0.0;
        for (std::size_t i = 0; i < w; ++i) {
            const double q = std::clamp<double>(b[i], eps, 1.0), r = std::clamp<double>(a[i], eps, 1.0);
            s += q * std::log(q / r);
        }
        return s;
    }, probs, one_hot);
    CHECK(xg::kl_divergence(p, t).item() == doctest::Approx(kld).epsilon(1e-5));
    CHECK(xg::kl_divergence(t, t).item() == doctest::Approx(0.0).scale(1e-6));
    const xg::Array counts = {{0.0f, 2.0f, 1.0f, 5.0f}, {3.0f, 0.0f, 1.0f, 1.0f}, {2.0f, 2.0f, 0.0f, 4.0f}};
    const xg::Array rates = xt::abs(reg_pred) + 0.5f;
    const double pois = mean_of([](double a, double b) { return a - b * std::log(a + eps); }, rates, counts);
    CHECK(xg::poisson(xg::constant(rates), xg::constant(counts)).item() == doctest::Approx(pois).epsilon(1e-5));
    const double cos = row_mean_of([](const float* a, const float* b, std::size_t w) {
        const double ab = std::inner_product(a, a + w, b, 0.0), aa = std::inner_product(a, a + w, a, 0.0),
                     bb = std::inner_product(b, b + w, b, 0.0);
        return -ab / std::sqrt(aa * bb);
    }, reg_pred, reg_true);
    CHECK(xg::cosine_similarity(xg::constant(reg_pred), xg::constant(reg_true)).item() == doctest::Approx(cos).epsilon(1e-5));
    CHECK(xg::cosine_similarity(xg::constant(reg_true), xg::constant(2.0f * reg_true)).item() == doctest::Approx(-1.0));

    check_gradients("kl_divergence", xg::kl_divergence,
                    probs * 0.5f + 0.2f, probs);  // away from 0, where t / p^2 makes differences inexact
    check_gradients("poisson", xg::poisson, rates, counts);
    check_gradients("cosine_similarity", xg::cosine_similarity, reg_pred, reg_true);
}

TEST_CASE("the hinge losses take labels -1 and 1, and make labels of 0 and 1 into them, as Keras does") {
    const xg::Array scores = {{0.3f, -1.4f, 2.0f}, {-0.6f, 0.8f, -0.1f}};
    const xg::Array signs = {{1.0f, -1.0f, -1.0f}, {1.0f, 1.0f, -1.0f}};
    const xg::Array bits = (signs + 1.0f) / 2.0f;
    const double h = mean_of([](double a, double b) { return std::max(1.0 - a * b, 0.0); }, scores, signs);
    const double sq = mean_of([](double a, double b) { return std::pow(std::max(1.0 - a * b, 0.0), 2); }, scores, signs);
    for (const xg::Array* labels : {&signs, &bits}) {
        CHECK(xg::hinge(xg::constant(scores), xg::constant(*labels)).item() == doctest::Approx(h).epsilon(1e-6));
        CHECK(xg::squared_hinge(xg::constant(scores), xg::constant(*labels)).item() == doctest::Approx(sq).epsilon(1e-6));
    }
    // categorical, Keras's formula: max(0, 1 + max((1 - y) p) - p[true]) per row, where the true
    // class's slot counts as 0 in the max: the second row's wrong scores are all negative.
    const xg::Array class_scores = {{2.0f, -1.0f, 0.5f, 0.0f}, {-0.5f, -1.5f, 0.4f, -2.0f}, {0.3f, 0.2f, -0.1f, 1.2f}};
    const double ch = row_mean_of([](const float* a, const float* b, std::size_t w) {
        double pos = 0.0, neg = 0.0;
        for (std::size_t i = 0; i < w; ++i) {
            if (b[i] == 1.0f) pos = a[i];
            else neg = std::max(neg, static_cast<double>(a[i]));
        }
        return std::max(0.0, 1.0 + neg - pos);
    }, class_scores, one_hot);
    CHECK(ch == doctest::Approx((0.0 + 0.6 + 0.1) / 3.0));  // the wrong classes alone: 0.1 in the second row
    CHECK(xg::categorical_hinge(xg::constant(class_scores), xg::constant(one_hot)).item() == doctest::Approx(ch).epsilon(1e-6));

    check_gradients("hinge", xg::hinge, scores, signs);
    check_gradients("squared_hinge", xg::squared_hinge, scores, bits);
    check_gradients("categorical_hinge", xg::categorical_hinge, class_scores, one_hot);
}

TEST_CASE("every loss is found by its Keras name and aliases, names itself in a shape error, and refuses a bad delta") {
    // Positive, so that every loss (poisson's log, msle's) is defined.
    const xg::Tensor p = xg::constant(xt::abs(reg_pred) + 0.1f), t = xg::constant(xt::abs(reg_true) + 0.1f);
    const std::vector<std::pair<std::vector<const char*>, LossOf>> named{
        {{"mean_squared_error", "mse", "MSE"}, xg::mean_squared_error},
        {{"mean_absolute_error", "mae", "MAE"}, xg::mean_absolute_error},
        {{"mean_absolute_percentage_error", "mape", "MAPE"}, xg::mean_absolute_percentage_error},
        {{"mean_squared_logarithmic_error", "msle", "MSLE"}, xg::mean_squared_logarithmic_error},
        {{"huber", "huber_loss"}, [](const xg::Tensor& a, const xg::Tensor& b) { return xg::huber(a, b); }},
        {{"log_cosh", "logcosh"}, xg::log_cosh},
        {{"kl_divergence", "kullback_leibler_divergence", "kld", "KLD"}, xg::kl_divergence},
        {{"poisson"}, xg::poisson},
        {{"hinge"}, xg::hinge},
        {{"squared_hinge"}, xg::squared_hinge},
        {{"categorical_hinge"}, xg::categorical_hinge},
        {{"cosine_similarity"}, xg::cosine_similarity},
    };
    for (const auto& [names, loss] : named) {
        for (const char* name : names) {
            CAPTURE(std::string(name));
            CHECK(xg::loss_by_name(name)(p, t).item() == loss(p, t).item());
            CHECK(xg::loss_by_name(name).name() == name);
        }
        const std::string expected = std::string(names[0]) + ": predictions have shape (3, 4), targets (3, 1)";
        CHECK_THROWS_WITH_AS(loss(p, xg::constant(xt::zeros<float>({3, 1}))), doctest::Contains(expected.c_str()), xg::ShapeError);
    }
    CHECK(xg::huber(p, t).item() == xg::huber(p, t, 1.0f).item());
    CHECK_THROWS_WITH_AS(xg::huber(p, t, 0.0f), "huber: delta 0; expected a finite delta > 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::loss_by_name("hinge_loss"),
                         doctest::Contains("unknown loss 'hinge_loss'; expected one of categorical_crossentropy"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::loss_by_name("hinge_loss"), doctest::Contains(xg::loss_names().c_str()), xg::ValueError);
    CHECK(xg::loss_names().find("binary_crossentropy (bce, BCE), mean_squared_error (mse, MSE)") != std::string::npos);
    CHECK(xg::loss_by_name("BCE")(p * 0.1f, t * 0.1f).item() == xg::binary_crossentropy(p * 0.1f, t * 0.1f).item());
}

TEST_CASE("the losses stay finite where Keras's clips keep them so") {
    const xg::Tensor pred = xg::parameter(xg::Array{{-0.5f, 0.0f, 2.0f}}, "pred");
    const xg::Tensor zero_target = xg::constant(xg::Array{{0.0f, 0.0f, 1.0f}});
    // Predictions 0, 0 and 2 against targets with zeros: every log and division meets a 0.
    for (const auto& loss : {LossOf(xg::mean_absolute_percentage_error), LossOf(xg::mean_squared_logarithmic_error),
                             LossOf(xg::poisson), LossOf(xg::kl_divergence), LossOf(xg::cosine_similarity)}) {
        CHECK(std::isfinite(loss(xg::relu(pred), zero_target).item()));
        CHECK(std::isfinite(loss(zero_target, xg::relu(pred)).item()));
    }
    // A target of 0 counts as 1e-7 in mape; msle's negative prediction is clipped: no gradient.
    CHECK(xg::mean_absolute_percentage_error(xg::constant(column({0.5f})), xg::constant(column({0.0f}))).item() ==
          doctest::Approx(100.0 * 0.5 / 1e-7).epsilon(1e-5));
    xg::mean_squared_logarithmic_error(pred, xg::constant(xg::Array{{1.0f, 1.0f, 1.0f}})).backward();
    CHECK(pred.grad()(0, 0) == 0.0f);
    // A row of zeros has no direction: cosine 0, not NaN.
    CHECK(xg::cosine_similarity(xg::constant(xg::Array{{0.0f, 0.0f}}), xg::constant(xg::Array{{1.0f, 0.0f}})).item() == 0.0f);
}

TEST_CASE("targets (n,) meet predictions (n, 1) in the losses of one target per prediction, as in Keras") {
    const xg::Array p = column({0.2f, 0.9f, 0.6f});
    const xg::Array y = {0.0f, 1.0f, 1.0f};
    const xg::Tensor pc = xg::constant(p), yc = xg::constant(y), y_column = xg::constant(column({0.0f, 1.0f, 1.0f}));
    for (const auto& loss : {LossOf(xg::mean_squared_error), LossOf(xg::mean_absolute_error), LossOf(xg::log_cosh),
                             LossOf(xg::hinge), LossOf([](const xg::Tensor& a, const xg::Tensor& b) { return xg::binary_crossentropy(a, b); })}) {
        CHECK(loss(pc, yc).item() == loss(pc, y_column).item());
        CHECK(loss(xg::constant(y), y_column).item() == loss(xg::constant(y), yc).item());
    }
    CHECK_THROWS_WITH_AS(xg::mean_absolute_error(pc, xg::constant(xg::Array{0.0f, 1.0f})),
                         "mean_absolute_error: predictions have shape (3, 1), targets (2,); expected equal shapes, or "
                         "shapes that differ by a trailing axis of 1",
                         xg::ShapeError);
    // kl_divergence and the class losses compare whole rows: no such leeway.
    CHECK_THROWS_AS(xg::kl_divergence(pc, yc), xg::ShapeError);
}

TEST_CASE("hinge passes labels other than 0 and 1 unchanged; huber and the row losses refuse what they cannot take") {
    const xg::Array scores = {{0.3f, -1.4f}};
    CHECK(xg::hinge(xg::constant(scores), xg::constant(xg::Array{{0.5f, -1.0f}})).item() ==
          doctest::Approx((0.85 + 0.0) / 2.0));
    const xg::Tensor p = xg::constant(scores);
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (const float delta : {-1.0f, nan, inf}) CHECK_THROWS_AS(xg::huber(p, p, delta), xg::ValueError);
    const xg::Tensor scalar = xg::constant(xg::scalar_array(1.0f));
    CHECK_THROWS_WITH_AS(xg::categorical_hinge(scalar, scalar), "categorical_hinge: 0-d predictions; expected scores along the last axis",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::cosine_similarity(scalar, scalar), "cosine_similarity: 0-d predictions; expected vectors along the last axis",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::kl_divergence(scalar, scalar), "kl_divergence: 0-d predictions; expected distributions along the last axis",
                         xg::ShapeError);
}

namespace {

// The (n, c) rows as (n / 2, 2, c): two steps per sequence.
xg::Array as_steps(const xg::Array& a) {
    xg::Shape s(a.shape().begin(), a.shape().end());
    s[0] /= 2;
    s.insert(s.begin() + 1, 2);
    return xt::reshape_view(a, s);
}

// Six rows of four classes, as (3, 2, 4) sequences.
const xg::Array step_logits = {{2.0f, -1.0f, 0.5f, 0.0f},  {-0.5f, 1.5f, 1.0f, -2.0f}, {0.3f, 0.2f, -0.1f, 1.2f},
                               {1.0f, 1.1f, -0.3f, 0.4f},  {-1.2f, 0.6f, 0.9f, 0.1f},  {0.0f, -0.7f, 1.3f, 0.8f}};
const xg::Array step_labels = {0.0f, 2.0f, 3.0f, 1.0f, 2.0f, 0.0f};

}  // namespace

TEST_CASE("the crossentropies take a distribution per step, (batch, steps, classes), as the mean over all steps") {
    const xg::Array one_hots = xg::one_hot(xg::constant(step_labels), 4).value();
    const xg::Array probabilities = xg::softmax(xg::constant(step_logits)).value();
    for (const bool from_logits : {false, true}) {
        CAPTURE(from_logits);
        const xg::Array& p = from_logits ? step_logits : probabilities;
        const float rows = xg::categorical_crossentropy(xg::constant(p), xg::constant(one_hots), from_logits).item();
        CHECK(xg::categorical_crossentropy(xg::constant(as_steps(p)), xg::constant(as_steps(one_hots)), from_logits).item() ==
              doctest::Approx(rows).epsilon(1e-6));
        const xg::Array step_label_rows = xt::reshape_view(step_labels, {3, 2});
        CHECK(xg::sparse_categorical_crossentropy(xg::constant(as_steps(p)), xg::constant(step_label_rows), from_logits)
                  .item() == doctest::Approx(rows).epsilon(1e-6));
        const auto f = [&](const std::vector<xg::Tensor>& in) {
            return xg::categorical_crossentropy(in[0], xg::constant(as_steps(one_hots)), from_logits);
        };
        const auto result = xg::gradcheck(f, {as_steps(p)}, {.epsilon = 1e-3f});
        CHECK_MESSAGE(result.passed, result.report());
    }
    check_gradients("categorical_crossentropy per step, from logits",
                    [](const xg::Tensor& y_pred, const xg::Tensor& y_true) {
                        return xg::categorical_crossentropy(y_pred, y_true, true);
                    },
                    as_steps(step_logits), as_steps(one_hots));
    CHECK_THROWS_WITH_AS(xg::sparse_categorical_crossentropy(xg::constant(as_steps(step_logits)), xg::constant(step_labels)),
                         "sparse_categorical_crossentropy: predictions have shape (3, 2, 4), labels (6,); expected "
                         "labels of shape (3, 2)",
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::categorical_crossentropy(xg::constant(as_steps(step_logits)), xg::constant(step_logits)),
                    xg::ShapeError);
    xg::Tape::current().clear();
}

TEST_CASE("a Loss given a call's mask counts the kept steps alone: padding's targets and values change nothing") {
    const xg::Array mask = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.0f, 1.0f}};
    const std::vector<std::size_t> kept_rows{0, 2, 3, 5};
    const xg::Array kept_logits = xt::view(step_logits, xt::keep(kept_rows), xt::all());
    const xg::Array kept_labels = xt::view(step_labels, xt::keep(kept_rows));
    const xg::Loss loss = xg::loss_by_name("sparse_categorical_crossentropy");
    const float expected = xg::sparse_categorical_crossentropy(xg::constant(kept_logits), xg::constant(kept_labels), true).item();
    // Padding holds anything: other values, other labels.
    xg::Array padded_logits = as_steps(step_logits), labels = xt::reshape_view(step_labels, {3, 2});
    const auto masked = [&](const xg::Tensor& z) {
        return loss(xg::Activated{xg::softmax(z), z, "softmax", xg::constant(mask)}, xg::constant(labels));
    };
    CHECK(masked(xg::constant(padded_logits)).item() == doctest::Approx(expected).epsilon(1e-6));
    padded_logits(0, 1, 2) = 50.0f;
    padded_logits(2, 0, 0) = -1e30f;
    labels(0, 1) = 3.0f;
    CHECK(masked(xg::constant(padded_logits)).item() == doctest::Approx(expected).epsilon(1e-6));
    // The outputs' formula (no fused activation) is masked the same way.
    const xg::Loss mse = xg::loss_by_name("mse");
    const xg::Array targets = xt::zeros<float>({3, 2, 4});
    CHECK(mse(xg::Activated{xg::constant(padded_logits), xg::constant(padded_logits), "linear", xg::constant(mask)},
              xg::constant(targets))
              .item() == doctest::Approx(xg::mean_squared_error(xg::constant(kept_logits), xg::constant(xt::zeros<float>({4, 4}))).item()).epsilon(1e-6));

    // The gradient reaches the kept steps alone, to the second order.
    const auto f = [&](const std::vector<xg::Tensor>& in) { return masked(in[0]); };
    const auto result = xg::gradcheck(f, {as_steps(step_logits)});
    CHECK_MESSAGE(result.passed, result.report());
    xg::test::check_second_order(f, {as_steps(step_logits)});
    xg::Tensor z(as_steps(step_logits), true);
    masked(z).backward();
    CHECK(xt::all(xt::equal(xt::view(z.grad(), 0, 1), 0.0f)));
    CHECK(xt::all(xt::equal(xt::view(z.grad(), 2, 0), 0.0f)));
    CHECK(xt::any(xt::not_equal(xt::view(z.grad(), 1, 1), 0.0f)));

    // A batch of padding alone: loss 0, no NaN, no gradient.
    xg::Tensor none(as_steps(step_logits), true);
    const xg::Tensor zero = loss(xg::Activated{xg::softmax(none), none, "softmax", xg::constant(xt::zeros<float>({3, 2}))},
                                 xg::constant(labels));
    CHECK(zero.item() == 0.0f);
    zero.backward();
    CHECK(xt::all(xt::equal(none.grad(), 0.0f)));

    // Targets or a mask that do not fit the steps are named.
    CHECK_THROWS_WITH_AS(loss(xg::Activated{xg::constant(padded_logits), xg::constant(padded_logits), "linear",
                                            xg::constant(mask)},
                              xg::constant(step_labels)),
                         "sparse_categorical_crossentropy of a masked sequence output (the model's output carries a "
                         "(batch, steps) mask): kept_steps: targets have shape (6,) for a mask (3, 2); expected (3, 2, "
                         "...), a value per step",
                         xg::ShapeError);
    // Labels with a last axis of 1, as Keras takes them.
    const xg::Array unit_labels = xt::reshape_view(labels, {3, 2, 1});
    CHECK(loss(xg::Activated{xg::softmax(xg::constant(padded_logits)), xg::constant(padded_logits), "softmax",
                             xg::constant(mask)},
               xg::constant(unit_labels))
              .item() == doctest::Approx(expected).epsilon(1e-6));
    CHECK_THROWS_WITH_AS(loss(xg::Activated{xg::constant(step_logits), xg::constant(step_logits), "linear",
                                            xg::constant(mask)},
                              xg::constant(step_labels)),
                         doctest::Contains("kept_steps: predictions have shape (6, 4) for a mask (3, 2)"), xg::ShapeError);
    xg::Tape::current().clear();
}
