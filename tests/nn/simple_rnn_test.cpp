// SimpleRNN: Keras's weights and defaults, h_t = tanh(x_t W + h_{t-1} R + b) against a loop
// written here, and its config.
#include "xgrad/nn/simple_rnn.hpp"

#include <cmath>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "test_arrays.hpp"

TEST_CASE("SimpleRNN has Keras's weights: the book's SimpleRNN(32) after Embedding(10000, 32) has 2,080 parameters") {
    xg::manual_seed(1);
    xg::SimpleRNN layer(32, 32);
    CHECK(layer.name() == "simple_rnn_1");
    CHECK(layer.parameter_count() == 2080);
    CHECK(layer.kernel().shape() == xg::Shape{32, 32});
    CHECK(layer.recurrent_kernel().shape() == xg::Shape{32, 32});
    CHECK(layer.bias().value() == xt::zeros<float>({32}));
    // recurrent_kernel orthogonal: R^T R = I.
    const xg::Array& r = layer.recurrent_kernel().value();
    for (std::size_t i = 0; i < 32; ++i) {
        for (std::size_t j = 0; j < 32; ++j) {
            double dot = 0;
            for (std::size_t k = 0; k < 32; ++k) dot += double(r(k, i)) * r(k, j);
            CHECK(dot == doctest::Approx(i == j ? 1.0 : 0.0).scale(1.0).epsilon(1e-5));
        }
    }
}

TEST_CASE("SimpleRNN computes h_t = activation(x_t W + h_{t-1} R + b) from h = 0") {
    xg::manual_seed(2);
    xg::SimpleRNN layer(3, 4, {.return_sequences = true, .bias_initializer = xg::initializers::random_uniform(-1, 1)});
    const xg::Array x = xg::test::random_array({2, 5, 3}, 3);
    const xg::Array &w = layer.kernel().value(), &r = layer.recurrent_kernel().value(), &b = layer.bias().value();
    xg::Array expected = xg::uninitialized({2, 5, 4});
    for (std::size_t n = 0; n < 2; ++n) {
        double h[4] = {0, 0, 0, 0};
        for (std::size_t t = 0; t < 5; ++t) {
            double next[4];
            for (std::size_t u = 0; u < 4; ++u) {
                double z = b(u);
                for (std::size_t f = 0; f < 3; ++f) z += x(n, t, f) * w(f, u);
                for (std::size_t v = 0; v < 4; ++v) z += h[v] * r(v, u);
                next[u] = std::tanh(z);
            }
            for (std::size_t u = 0; u < 4; ++u) expected(n, t, u) = static_cast<float>(h[u] = next[u]);
        }
    }
    xg::NoGradGuard no_grad;
    xg::test::check_close(layer(xg::input(x)).value(), expected);
}

TEST_CASE("SimpleRNN's config rebuilds it with its settings") {
    const xg::SimpleRNN layer(3, 4, {.activation = "relu", .use_bias = false, .return_sequences = true,
                                     .go_backwards = true, .dropout = 0.25f, .recurrent_dropout = 0.5f, .name = "rnn"});
    auto rebuilt = xg::make_layer("SimpleRNN", *layer.config(), "rnn");
    auto& rnn = dynamic_cast<xg::SimpleRNN&>(*rebuilt);
    CHECK(rnn.name() == "rnn");
    CHECK(rnn.input_dim() == 3);
    CHECK(rnn.units() == 4);
    CHECK(rnn.settings().activation == "relu");
    CHECK_FALSE(rnn.bias().defined());
    CHECK(rnn.settings().return_sequences);
    CHECK(rnn.settings().go_backwards);
    CHECK(rnn.settings().dropout == 0.25f);
    CHECK(rnn.settings().recurrent_dropout == 0.5f);
    CHECK(rnn.config() == layer.config());
}
