// GRU: Keras's weights (two bias rows, reset_after), its gates z, r, h against a loop written
// here, and its config.
#include "xgrad/nn/gru.hpp"

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

TEST_CASE("GRU has Keras's weights: the book's GRU(32) on 14 features has 4,608 parameters") {
    xg::manual_seed(1);
    xg::GRU layer(14, 32);
    CHECK(layer.name() == "gru_1");
    CHECK(layer.parameter_count() == 4608);
    CHECK(layer.kernel().shape() == xg::Shape{14, 96});
    CHECK(layer.recurrent_kernel().shape() == xg::Shape{32, 96});
    CHECK(layer.bias().value() == xt::zeros<float>({2, 96}));
}

TEST_CASE("GRU computes Keras's gates z, r, h with the reset after the recurrent product, from h = 0") {
    xg::manual_seed(2);
    xg::GRU layer(3, 4, {.return_sequences = true, .bias_initializer = xg::initializers::random_uniform(-1, 1)});
    const xg::Array x = xg::test::random_array({2, 5, 3}, 3);
    const xg::Array &w = layer.kernel().value(), &r = layer.recurrent_kernel().value(), &b = layer.bias().value();
    xg::Array expected = xg::uninitialized({2, 5, 4});
    for (std::size_t n = 0; n < 2; ++n) {
        double h[4] = {0, 0, 0, 0};
        for (std::size_t t = 0; t < 5; ++t) {
            double in[12], inner[12];
            for (std::size_t j = 0; j < 12; ++j) {
                in[j] = b(0, j);
                inner[j] = b(1, j);
                for (std::size_t f = 0; f < 3; ++f) in[j] += x(n, t, f) * w(f, j);
                for (std::size_t v = 0; v < 4; ++v) inner[j] += h[v] * r(v, j);
            }
            for (std::size_t u = 0; u < 4; ++u) {
                const double z = sigmoid(in[u] + inner[u]), reset = sigmoid(in[4 + u] + inner[4 + u]);
                const double g = std::tanh(in[8 + u] + reset * inner[8 + u]);
                h[u] = z * h[u] + (1 - z) * g;
                expected(n, t, u) = static_cast<float>(h[u]);
            }
        }
    }
    xg::NoGradGuard no_grad;
    xg::test::check_close(layer(xg::input(x)).value(), expected);
}

TEST_CASE("GRU's config rebuilds it; without a bias it has kernel and recurrent_kernel only") {
    const xg::GRU layer(3, 4, {.recurrent_activation = "hard_sigmoid", .use_bias = false, .go_backwards = true});
    auto rebuilt = xg::make_layer("GRU", *layer.config(), "gru");
    auto& gru = dynamic_cast<xg::GRU&>(*rebuilt);
    CHECK(gru.recurrent_activation() == "hard_sigmoid");
    CHECK(gru.settings().go_backwards);
    CHECK_FALSE(gru.bias().defined());
    CHECK(gru.parameter_count() == 3 * 12 + 4 * 12);
    CHECK(gru.config() == layer.config());
}

TEST_CASE("GRU's carry z h uses the state as it is: recurrent_dropout masks only the recurrent product") {
    // With a zero recurrent kernel the masked product is zero whatever the masks; what is left of
    // the state in training is the carry, which must then equal inference's.
    xg::manual_seed(4);
    xg::GRU layer(3, 5, {.return_sequences = true, .recurrent_dropout = 0.5f,
                         .recurrent_initializer = xg::initializers::zeros,
                         .bias_initializer = xg::initializers::random_uniform(-1, 1)});
    const xg::Array x = xg::test::random_array({4, 6, 3}, 5);
    xg::NoGradGuard no_grad;
    const xg::Array trained = layer(xg::input(x)).value();
    layer.eval();
    CHECK(trained == layer(xg::input(x)).value());
}
