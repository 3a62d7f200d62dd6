// Activations by name, apply_activation's values, and the Activation and Softmax layers.
#include "xgrad/nn/activation.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

const xg::Array z = {{-2.0f, 0.5f, 3.0f}, {1.0f, -0.25f, 0.0f}};

}  // namespace

TEST_CASE("activations are found by name in one table") {
    CHECK(xg::activation_names() ==
          std::vector<std::string>{"linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign",
                                   "swish", "silu", "gelu", "mish", "leaky_relu", "relu6", "hard_sigmoid",
                                   "hard_swish", "exponential", "log_softmax"});
    const xg::Tensor x = xg::input(z);
    CHECK(xg::activation_by_name("")(x).node() == x.node());
    try {
        xg::activation_by_name("Relu");
        FAIL("expected ValueError");
    } catch (const xg::ValueError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("'Relu'") != std::string::npos);
        CHECK(msg.find("softmax") != std::string::npos);
    }
}

TEST_CASE("apply_activation computes each function elementwise, softmax along the last axis") {
    const xg::Tensor x = xg::input(z);
    CHECK(xg::apply_activation("linear", x).node() == x.node());
    const xg::Array relu = xg::apply_activation("relu", x).value();
    const xg::Array sigmoid = xg::apply_activation("sigmoid", x).value();
    const xg::Array tanh = xg::apply_activation("tanh", x).value();
    const xg::Array softmax = xg::apply_activation("softmax", x).value();
    for (std::size_t r = 0; r < 2; ++r) {
        double row_total = 0.0;
        for (std::size_t c = 0; c < 3; ++c) row_total += std::exp(static_cast<double>(z(r, c)));
        for (std::size_t c = 0; c < 3; ++c) {
            const double v = z(r, c);
            CHECK(relu(r, c) == doctest::Approx(std::max(v, 0.0)));
            CHECK(sigmoid(r, c) == doctest::Approx(1.0 / (1.0 + std::exp(-v))).epsilon(1e-6));
            CHECK(tanh(r, c) == doctest::Approx(std::tanh(v)).epsilon(1e-6));
            CHECK(softmax(r, c) == doctest::Approx(std::exp(v) / row_total).epsilon(1e-6));
        }
    }
}

TEST_CASE("Keras's other activations are found by name, with Keras's defaults, and pass gradcheck") {
    const xg::Tensor x = xg::input(z);
    auto same = [&](const char* name, const xg::Tensor& expected) {
        CAPTURE(name);
        const xg::Array y = xg::apply_activation(name, x).value();
        REQUIRE(y.shape() == expected.shape());
        for (std::size_t i = 0; i < y.size(); ++i) CHECK(y.data()[i] == doctest::Approx(expected.value().data()[i]).epsilon(1e-6));
        const auto result = xg::gradcheck([name](const std::vector<xg::Tensor>& in) { return xg::apply_activation(name, in[0]); },
                                          {z + 0.1f});  // off the kinks at 0
        CHECK_MESSAGE(result.passed, result.report());
    };
    same("elu", xg::elu(x, 1.0f));
    same("selu", xg::selu(x));
    same("softplus", xg::softplus(x));
    same("softsign", x / (1.0f + xg::abs(x)));
    same("swish", xg::swish(x));
    same("silu", xg::swish(x));
    same("gelu", xg::gelu(x, false));
    same("mish", xg::mish(x));
    same("leaky_relu", xg::leaky_relu(x, 0.2f));
    same("relu6", xg::relu6(x));
    same("hard_sigmoid", xg::hard_sigmoid(x, 0.2f, 0.5f));
    same("hard_swish", xg::hard_swish(x));
    same("exponential", xg::exp(x));
    same("log_softmax", xg::log_softmax(x, -1));
    CHECK(xg::apply_activation("softsign", x).value()(0, 0) == doctest::Approx(-2.0 / 3.0));
}

TEST_CASE("a registered activation works in every layer by name, with its ops' gradient") {
    // squareplus(x) = (x + sqrt(x^2 + 4)) / 2, a smooth relu, from existing ops: their gradients
    // make its gradient.
    xg::register_activation("squareplus", [](const xg::Tensor& x) { return 0.5f * (x + xg::sqrt(xg::square(x) + 4.0f)); });
    CHECK(xg::activation_names().back() == "squareplus");
    xg::Activation layer("squareplus");
    CHECK(layer.activation() == "squareplus");
    CHECK(layer(xg::input(z)).value()(0, 0) == doctest::Approx(0.5 * (-2.0 + std::sqrt(8.0))));
    xg::Dense dense(3, 2, "squareplus");
    CHECK(dense.activation() == "squareplus");
    CHECK(dense.config()->at("activation") == "squareplus");
    const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); }, {z});
    CHECK_MESSAGE(result.passed, result.report());
    CHECK_THROWS_AS(xg::register_activation("", [](const xg::Tensor& x) { return x; }), xg::ValueError);
    CHECK_THROWS_AS(xg::register_activation("none", nullptr), xg::ValueError);
}

TEST_CASE("the Activation layer applies its function and keeps the shape") {
    xg::Activation act("tanh");
    xg::Activation named("sigmoid", "squash");
    CHECK(act.name() == "activation_1");
    CHECK(act.kind() == "Activation");
    CHECK(named.name() == "squash");
    CHECK(act.activation() == "tanh");
    CHECK(act.parameters().empty());
    CHECK(act.output_shape({7, 3}) == xg::Shape{7, 3});
    const xg::Array y = act(xg::input(z)).value();
    CHECK(y(0, 2) == doctest::Approx(std::tanh(3.0)).epsilon(1e-6));
    CHECK_THROWS_AS(xg::Activation("GELU"), xg::ValueError);

    const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return named(in[0]); }, {z});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("the Softmax layer normalises the last axis and records one softmax op in its scope") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    xg::Softmax layer("probs");
    CHECK(layer.kind() == "Softmax");
    const xg::Tensor y = layer(xg::parameter(z, "z"));
    REQUIRE(tape.size() == 1);
    CHECK(tape[0].op == "softmax");
    CHECK(tape[0].scope == "probs");
    for (std::size_t r = 0; r < 2; ++r) CHECK(y.value()(r, 0) + y.value()(r, 1) + y.value()(r, 2) == doctest::Approx(1.0));
    CHECK(layer.output_shape({10}) == xg::Shape{10});
    tape.clear();

    const auto result = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); }, {z});
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("LeakyReLU and ELU are Keras's layers, with Keras's names and default alphas, and their config") {
    const xg::Tensor x = xg::input(z);
    xg::LeakyReLU leaky;
    xg::ELU elu;
    CHECK(leaky.name() == "leaky_re_lu_1");
    CHECK(elu.name() == "elu_1");
    CHECK(leaky.alpha() == 0.3f);
    CHECK(elu.alpha() == 1.0f);
    CHECK(leaky(x).value()(0, 0) == doctest::Approx(-0.6));
    CHECK(elu(x).value()(0, 0) == doctest::Approx(std::expm1(-2.0)));
    xg::LeakyReLU steep(0.05f, "steep");
    xg::ELU soft(0.5f);
    CHECK(steep(x).value()(1, 1) == doctest::Approx(-0.0125));
    CHECK(soft(x).value()(1, 1) == doctest::Approx(0.5 * std::expm1(-0.25)));
    CHECK(steep.config()->at("alpha") == "0.05");
    CHECK(soft.config()->at("alpha") == "0.5");
    CHECK(steep.output_shape({4, 3}) == xg::Shape{4, 3});
    CHECK(steep.parameters().empty());
    for (xg::Module* layer : {static_cast<xg::Module*>(&steep), static_cast<xg::Module*>(&soft)}) {
        const auto result = xg::gradcheck([layer](const std::vector<xg::Tensor>& in) { return (*layer)(in[0]); }, {z + 0.1f});
        CHECK_MESSAGE(result.passed, result.report());
    }
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(xg::LeakyReLU{nan}, "LeakyReLU: alpha nan; expected a finite number", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::ELU{inf}, "ELU: alpha inf; expected a finite number", xg::ValueError);
}

namespace {

// Keras's ReLU layer, in double precision: x where x > threshold (else 0), clipped to
// [0, max_value], minus negative_slope (threshold - x) where x <= threshold.
double keras_relu(double v, std::optional<double> max_value, double slope, double threshold) {
    double y = v > threshold ? v : 0.0;
    if (max_value) y = std::min(std::max(y, 0.0), *max_value);
    return y - slope * std::max(threshold - v, 0.0);
}

struct ReLUSettings {
    std::optional<float> max_value;
    float negative_slope, threshold;
    const char* op;  // the op a plain setting records, or "" for the general form
};

}  // namespace

TEST_CASE("the ReLU layer is Keras's for every setting, the plain ones as the one op each is") {
    const std::vector<ReLUSettings> settings{
        {std::nullopt, 0.0f, 0.0f, "relu"},   {6.0f, 0.0f, 0.0f, "relu6"},       {std::nullopt, 0.1f, 0.0f, "leaky_relu"},
        {2.5f, 0.0f, 0.0f, ""},               {4.0f, 0.1f, 0.0f, ""},            {std::nullopt, 0.0f, 1.5f, "thresholded_relu"},
        {std::nullopt, 0.2f, 1.5f, ""},       {4.0f, 0.1f, 1.5f, ""},            {1.0f, 0.3f, 2.0f, ""},
    };
    // Points of both signs, away from every kink (0, 1, 1.5, 2, 2.5, 4, 6), beyond them on both sides.
    const xg::Array points = {{-3.3f, -1.1f, -0.2f, 0.4f, 1.2f}, {1.8f, 2.2f, 3.1f, 5.3f, 7.1f}};
    xg::Tape& tape = xg::Tape::current();
    for (const ReLUSettings& s : settings) {
        CAPTURE(s.max_value.value_or(-1.0f));
        CAPTURE(s.negative_slope);
        CAPTURE(s.threshold);
        xg::ReLU layer(s.max_value, s.negative_slope, s.threshold);
        CHECK(layer.name() == "re_lu_1");
        CHECK(layer.parameters().empty());
        tape.clear();
        const xg::Array y = layer(xg::parameter(points, "x")).value();
        if (*s.op != '\0') {
            REQUIRE(tape.size() == 1);
            CHECK(tape[0].op == std::string(s.op));
        }
        for (std::size_t i = 0; i < points.size(); ++i) {
            const std::optional<double> max_value = s.max_value ? std::optional<double>(*s.max_value) : std::nullopt;
            CHECK(y.data()[i] == doctest::Approx(keras_relu(points.data()[i], max_value, s.negative_slope, s.threshold)).epsilon(1e-6));
        }
        auto f = [&layer](const std::vector<xg::Tensor>& in) { return layer(in[0]); };
        const auto first = xg::gradcheck(f, {points});
        CHECK_MESSAGE(first.passed, first.report());
        const auto second = xg::gradgradcheck(f, {points});
        CHECK_MESSAGE(second.passed, second.report());
        // Rebuilt from its config, the same function.
        auto rebuilt = xg::make_layer("ReLU", *layer.config(), "again");
        CHECK((*rebuilt)(xg::input(points)).value() == y);
        CHECK(rebuilt->output_shape({2, 5}) == xg::Shape{2, 5});
    }
    tape.clear();
}

TEST_CASE("the ReLU layer's gradient at its kinks is Keras's: 0 at 0 under any max_value, 1 at a max_value but 6") {
    const xg::Tensor x = xg::parameter(xg::Array{0.0f, 2.5f, 6.0f}, "x");
    for (const auto& [max_value, expected] : std::initializer_list<std::pair<float, xg::Array>>{
             {2.5f, xg::Array{0.0f, 1.0f, 0.0f}}, {6.0f, xg::Array{0.0f, 1.0f, 0.0f}}}) {
        CAPTURE(max_value);
        xg::Tensor(x).zero_grad();
        xg::sum(xg::ReLU(max_value)(x)).backward();
        CHECK(x.grad() == expected);
    }
    // With a slope, the slope's relu(threshold - x) adds nothing at the threshold itself.
    xg::Tensor(x).zero_grad();
    xg::sum(xg::ReLU(std::nullopt, 0.5f, 2.5f)(x)).backward();
    CHECK(x.grad() == xg::Array{0.5f, 0.0f, 1.0f});
    xg::Tape::current().clear();
}

TEST_CASE("the ReLU layer keeps max_value out of its config when there is none, and refuses negative or non-finite settings") {
    CHECK(*xg::ReLU().config() == xg::LayerConfig{{"negative_slope", "0"}, {"threshold", "0"}});
    CHECK(xg::ReLU(6.0f, 0.5f, 1.0f).config()->at("max_value") == "6");
    CHECK_FALSE(xg::ReLU().max_value().has_value());
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(xg::ReLU{-1.0f}, "ReLU: max_value -1; expected a finite number >= 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::ReLU{inf}, "ReLU: max_value inf; expected a finite number >= 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::ReLU(std::nullopt, -0.1f), "ReLU: negative_slope -0.1; expected a finite number >= 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::ReLU(std::nullopt, 0.0f, nan), "ReLU: threshold nan; expected a finite number >= 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::make_layer("ReLU", {{"negative_slope", "0"}, {"threshold", "-2"}}, "r"),
                         "ReLU: threshold -2; expected a finite number >= 0", xg::ValueError);
    // NaN passes through every form.
    for (const std::optional<float> max_value : {std::optional<float>(), std::optional<float>(3.0f)}) {
        for (const float threshold : {0.0f, 1.5f}) {
            xg::ReLU layer(max_value, 0.1f, threshold);
            CHECK(std::isnan(layer(xg::input(xg::Array{nan})).value()(0)));
        }
    }
}
