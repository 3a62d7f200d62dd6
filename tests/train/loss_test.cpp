// Losses: values against hand computation, the fused paths after softmax and sigmoid,
// gradient checks for every path, shape errors and lookup by name.
#include "xgrad/train/loss.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>

#include <doctest/doctest.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// An (n, 1) column: brace lists of one-element rows are ambiguous to xtensor.
xg::Array column(std::initializer_list<float> values) {
    xg::Array a = xg::uninitialized({values.size(), 1});
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

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

TEST_CASE("categorical_crossentropy after a softmax uses the fused op on the logits") {
    xg::Tape::current().clear();
    const xg::Tensor z = xg::parameter(logits, "z");
    const xg::Tensor loss = xg::categorical_crossentropy(xg::softmax(z), xg::constant(one_hot));
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

TEST_CASE("the fused and the clipped paths agree for moderate logits") {
    xg::Tape::current().clear();
    const xg::Tensor p = xg::softmax(xg::parameter(logits, "z"));
    const float fused = xg::categorical_crossentropy(p, xg::constant(one_hot)).item();
    CHECK(last_op() == "softmax_cross_entropy");
    xg::Tape::current().clear();
    // The same probabilities with no softmax record behind them take the clipped path.
    const xg::Tensor plain = xg::parameter(p.value(), "p");
    const float clipped = xg::categorical_crossentropy(plain, xg::constant(one_hot)).item();
    CHECK(last_op() != "softmax_cross_entropy");
    CHECK(fused == doctest::Approx(clipped).epsilon(1e-5));
    xg::Tape::current().clear();
}

TEST_CASE("the fused path stays exact where clipping would saturate") {
    xg::Tape::current().clear();
    const xg::Array z = {{60.0f, 0.0f, -60.0f}};
    const xg::Array y = {{0.0f, 0.0f, 1.0f}};
    const float fused = xg::categorical_crossentropy(xg::softmax(xg::parameter(z, "z")), xg::constant(y)).item();
    CHECK(fused == doctest::Approx(120.0).epsilon(1e-5));
    // Without a recorded softmax the probability is clipped to 1e-7: -log(1e-7) = 16.118.
    xg::NoGradGuard no_grad;
    const float clipped = xg::categorical_crossentropy(xg::softmax(xg::input(z)), xg::constant(y)).item();
    CHECK(clipped == doctest::Approx(-std::log(1e-7)).epsilon(1e-3));
}

TEST_CASE("a softmax over another axis is not taken for the fused path") {
    xg::Tape::current().clear();
    const xg::Tensor p = xg::softmax(xg::parameter(logits, "z"), 0);
    const xg::Tensor loss = xg::categorical_crossentropy(p, xg::constant(one_hot));
    CHECK(last_op() != "softmax_cross_entropy");
    // -mean(sum(y log(p / rowsum(p)))) on the column-softmaxed values.
    const xg::Array pv = p.value();
    double expected = 0.0;
    for (std::size_t r = 0; r < 3; ++r) {
        double rowsum = 0.0;
        for (std::size_t c = 0; c < 4; ++c) rowsum += pv(r, c);
        for (std::size_t c = 0; c < 4; ++c) expected -= one_hot(r, c) * std::log(pv(r, c) / rowsum);
    }
    CHECK(loss.item() == doctest::Approx(expected / 3.0).epsilon(1e-5));
    xg::Tape::current().clear();
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
        [](const std::vector<xg::Tensor>& x) { return xg::categorical_crossentropy(xg::softmax(x[0]), xg::constant(one_hot)); },
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
    const float sparse = xg::sparse_categorical_crossentropy(xg::softmax(z), xg::constant(labels)).item();
    CHECK(last_op() == "sparse_softmax_cross_entropy");
    CHECK(sparse == doctest::Approx(cross_entropy_of_logits(logits, one_hot)).epsilon(1e-6));
    xg::Tape::current().clear();
    const float plain = xg::sparse_categorical_crossentropy(xg::parameter(probs, "p"), xg::constant(labels)).item();
    CHECK(plain == doctest::Approx(-(std::log(0.7) + std::log(0.4) + std::log(0.25)) / 3.0).epsilon(1e-5));
    xg::Tape::current().clear();

    const auto fused = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::sparse_categorical_crossentropy(xg::softmax(x[0]), xg::constant(labels)); },
        {logits});
    CHECK_MESSAGE(fused.passed, fused.report());
    const auto clipped = xg::gradcheck(
        [](const std::vector<xg::Tensor>& x) { return xg::sparse_categorical_crossentropy(x[0], xg::constant(labels)); },
        {probs}, {.epsilon = 1e-3f});
    CHECK_MESSAGE(clipped.passed, clipped.report());
    CHECK_THROWS_AS(xg::sparse_categorical_crossentropy(xg::constant(probs), xg::constant(xg::Array{0.0f, 4.0f, 1.0f})),
                    xg::ValueError);
}

TEST_CASE("binary_crossentropy after a sigmoid is computed from the logits") {
    xg::Tape::current().clear();
    const xg::Array x = {{0.5f, -1.0f}, {2.0f, 0.0f}, {-0.3f, 1.5f}};
    const xg::Array y = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.0f, 1.0f}};
    const float loss = xg::binary_crossentropy(xg::sigmoid(xg::parameter(x, "x")), xg::constant(y)).item();
    double expected = 0.0;
    for (std::size_t k = 0; k < x.size(); ++k) {
        const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(x.data()[k])));
        expected -= y.data()[k] * std::log(p) + (1.0 - y.data()[k]) * std::log(1.0 - p);
    }
    CHECK(loss == doctest::Approx(expected / 6.0).epsilon(1e-6));
    xg::Tape::current().clear();

    // Far beyond where a clipped probability saturates at -log(1e-7) = 16.1.
    const float extreme =
        xg::binary_crossentropy(xg::sigmoid(xg::parameter(column({100.0f, -80.0f}), "x")), xg::constant(column({0.0f, 1.0f}))).item();
    CHECK(extreme == doctest::Approx(90.0).epsilon(1e-5));
    xg::Tape::current().clear();

    const auto result = xg::gradcheck(
        [&](const std::vector<xg::Tensor>& in) { return xg::binary_crossentropy(xg::sigmoid(in[0]), xg::constant(y)); }, {x});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("binary_crossentropy's gradient at a zero logit is (sigmoid(0) - y) / n") {
    // Where a zero-initialised last layer starts: every logit is exactly 0.
    xg::Tape::current().clear();
    const xg::Tensor x = xg::parameter(xt::zeros<float>({4, 1}), "x");
    const xg::Array y = column({1.0f, 0.0f, 1.0f, 1.0f});
    const xg::Tensor loss = xg::binary_crossentropy(xg::sigmoid(x), xg::constant(y));
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
    CHECK_THROWS_AS(xg::loss_by_name("hinge"), xg::ValueError);
}
