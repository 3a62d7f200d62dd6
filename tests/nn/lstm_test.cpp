// LSTM: Keras's weights and defaults (the forget gate's bias at 1), its gates i, f, c, o against
// a loop written here, and its config.
#include "xgrad/nn/lstm.hpp"

#include <cmath>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::sigmoid;

}  // namespace

TEST_CASE("LSTM has Keras's weights: LSTM(32) on 32 features has 8,320 parameters, the forget gate's bias 1") {
    xg::manual_seed(1);
    xg::LSTM layer(32, 32);
    CHECK(layer.name() == "lstm_1");
    CHECK(layer.parameter_count() == 8320);
    CHECK(layer.kernel().shape() == xg::Shape{32, 128});
    CHECK(layer.recurrent_kernel().shape() == xg::Shape{32, 128});
    const xg::Array& b = layer.bias().value();
    CHECK(xt::view(b, xt::range(0, 32)) == xt::zeros<float>({32}));
    CHECK(xt::view(b, xt::range(32, 64)) == xt::ones<float>({32}));
    CHECK(xt::view(b, xt::range(64, 128)) == xt::zeros<float>({64}));
    CHECK(layer.recurrent_activation() == "sigmoid");
    xg::LSTM plain(3, 2, {.unit_forget_bias = false});
    CHECK(plain.bias().value() == xt::zeros<float>({8}));
}

TEST_CASE("LSTM computes Keras's gates i, f, c, o from h = c = 0") {
    xg::manual_seed(2);
    xg::LSTM layer(3, 4, {.return_sequences = true, .bias_initializer = xg::initializers::random_uniform(-1, 1)});
    const xg::Array x = xg::test::random_array({2, 5, 3}, 3);
    const xg::Array &w = layer.kernel().value(), &r = layer.recurrent_kernel().value(), &b = layer.bias().value();
    xg::Array expected = xg::uninitialized({2, 5, 4});
    for (std::size_t n = 0; n < 2; ++n) {
        double h[4] = {0, 0, 0, 0}, c[4] = {0, 0, 0, 0};
        for (std::size_t t = 0; t < 5; ++t) {
            double z[16];
            for (std::size_t j = 0; j < 16; ++j) {
                z[j] = b(j);
                for (std::size_t f = 0; f < 3; ++f) z[j] += x(n, t, f) * w(f, j);
                for (std::size_t v = 0; v < 4; ++v) z[j] += h[v] * r(v, j);
            }
            for (std::size_t u = 0; u < 4; ++u) {
                const double i = sigmoid(z[u]), f = sigmoid(z[4 + u]), g = std::tanh(z[8 + u]), o = sigmoid(z[12 + u]);
                c[u] = f * c[u] + i * g;
                h[u] = o * std::tanh(c[u]);
                expected(n, t, u) = static_cast<float>(h[u]);
            }
        }
    }
    xg::NoGradGuard no_grad;
    xg::test::check_close(layer(xg::input(x)).value(), expected);
}

TEST_CASE("LSTM's config rebuilds it with its recurrent_activation") {
    const xg::LSTM layer(3, 4, {.activation = "relu", .recurrent_activation = "hard_sigmoid", .return_sequences = true,
                                .name = "memory"});
    auto rebuilt = xg::make_layer("LSTM", *layer.config(), "memory");
    auto& lstm = dynamic_cast<xg::LSTM&>(*rebuilt);
    CHECK(lstm.recurrent_activation() == "hard_sigmoid");
    CHECK(lstm.unit_forget_bias());
    CHECK(lstm.settings().activation == "relu");
    CHECK(lstm.settings().return_sequences);
    CHECK(lstm.config() == layer.config());
    CHECK(lstm.parameter_count() == layer.parameter_count());
}

TEST_CASE("LSTM's config keeps unit_forget_bias for the copies made from it; files without it take Keras's default") {
    const xg::LSTM plain(3, 2, {.unit_forget_bias = false});
    auto copy = xg::make_layer("LSTM", *plain.config(), "copy");
    CHECK_FALSE(dynamic_cast<xg::LSTM&>(*copy).unit_forget_bias());
    CHECK(dynamic_cast<xg::LSTM&>(*copy).bias().value() == xt::zeros<float>({8}));
    xg::LayerConfig older = *plain.config();
    older.erase("unit_forget_bias");
    CHECK(dynamic_cast<xg::LSTM&>(*xg::make_layer("LSTM", older, "older")).unit_forget_bias());
}
