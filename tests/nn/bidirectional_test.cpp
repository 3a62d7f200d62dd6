// Bidirectional: Keras's weights and names, the backward layer's outputs put back in the
// sequence's order, the four merge modes, gradients, config and errors.
#include "xgrad/nn/bidirectional.hpp"

#include <optional>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/simple_rnn.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

xg::Array run(xg::Module& layer, const xg::Array& x) {
    xg::NoGradGuard no_grad;
    return layer(xg::input(x)).value();
}

}  // namespace

TEST_CASE("Bidirectional(LSTM(32)) has Keras's weights: two LSTMs, 16,640 parameters, 64 outputs") {
    xg::manual_seed(1);
    xg::Bidirectional layer(std::make_shared<xg::LSTM>(32, 32));
    CHECK(layer.name() == "bidirectional_1");
    CHECK(layer.parameter_count() == 16640);
    CHECK(layer.output_shape({100, 32}) == xg::Shape{64});
    CHECK(layer.forward_layer().name() == "forward_lstm_1");
    CHECK(layer.backward_layer().name() == "backward_lstm_1");
    CHECK(layer.backward_layer().settings().go_backwards);
    CHECK(layer.named_parameters()[3].first == "backward_lstm_1/kernel");
    // Weights of its own, drawn anew.
    CHECK(layer.backward_layer().kernel().value() != layer.forward_layer().kernel().value());
}

TEST_CASE("Bidirectional's step t sees the whole sequence: the backward outputs are put back in order") {
    xg::manual_seed(2);
    auto forward = std::make_shared<xg::GRU>(3, 4, xg::GRUOptions{.return_sequences = true});
    auto backward = std::make_shared<xg::GRU>(3, 2, xg::GRUOptions{.return_sequences = true, .go_backwards = true});
    xg::Bidirectional layer(forward, {.backward_layer = backward});
    const xg::Array x = xg::test::random_array({2, 5, 3}, 3);
    const xg::Array y = run(layer, x);
    REQUIRE(y.shape() == xg::Shape{2, 5, 6});
    CHECK(layer.output_shape({5, 3}) == xg::Shape{5, 6});
    const xg::Array f = run(*forward, x), b = run(*backward, x);
    CHECK(xt::view(y, xt::all(), xt::all(), xt::range(0, 4)) == f);
    for (std::size_t t = 0; t < 5; ++t) {
        CHECK(xt::view(y, xt::all(), t, xt::range(4, 6)) == xt::view(b, xt::all(), 4 - t));
    }
    // Without return_sequences: the two last states side by side.
    xg::manual_seed(4);
    xg::Bidirectional last(std::make_shared<xg::SimpleRNN>(3, 4));
    const xg::Array h = run(last, x);
    CHECK(xt::view(h, xt::all(), xt::range(0, 4)) == run(last.forward_layer(), x));
    CHECK(xt::view(h, xt::all(), xt::range(4, 8)) == run(last.backward_layer(), x));
}

TEST_CASE("Bidirectional merges by sum, mul and ave as well as concat") {
    const xg::Array x = xg::test::random_array({2, 4, 3}, 5);
    for (const char* mode : {"sum", "mul", "ave"}) {
        CAPTURE(std::string(mode));
        xg::manual_seed(6);
        xg::Bidirectional layer(std::make_shared<xg::LSTM>(3, 4), {.merge_mode = mode});
        CHECK(layer.output_shape({4, 3}) == xg::Shape{4});
        const xg::Array y = run(layer, x);
        const xg::Array f = run(layer.forward_layer(), x);
        const xg::Array b = run(layer.backward_layer(), x);
        const std::string m = mode;
        const xg::Array expected = m == "sum" ? xg::Array(f + b) : m == "mul" ? xg::Array(f * b) : xg::Array((f + b) * 0.5f);
        xg::test::check_close(y, expected);
    }
}

TEST_CASE("gradients flow through both directions: gradcheck and gradgradcheck") {
    xg::manual_seed(7);
    xg::Bidirectional layer(std::make_shared<xg::GRU>(2, 3, xg::GRUOptions{.return_sequences = true}));
    auto f = [&layer](const std::vector<xg::Tensor>& in) { return layer(in[0]); };
    const xg::Array x = xg::test::random_array({2, 4, 2}, 8);
    const auto first = xg::gradcheck(f, {x});
    CHECK_MESSAGE(first.passed, first.report());
    const auto second = xg::gradgradcheck(f, {x});
    CHECK_MESSAGE(second.passed, second.report());
}

TEST_CASE("Bidirectional's call_with_state: the forward layer's state then the backward layer's, both ways") {
    xg::manual_seed(10);
    xg::Bidirectional layer(std::make_shared<xg::LSTM>(3, 4, xg::LSTMOptions{.return_sequences = true}),
                            {.name = "bi"});
    const xg::Array x = xg::test::random_array({2, 5, 3}, 11);
    xg::NoGradGuard no_grad;
    const xg::RecurrentOutput out = layer.call_with_state(xg::input(x));
    CHECK(out.output.value() == run(layer, x));
    const xg::RecurrentOutput f = layer.forward_layer().call_with_state(xg::input(x));
    const xg::RecurrentOutput b = layer.backward_layer().call_with_state(xg::input(x));
    REQUIRE(out.state.size() == 4);
    CHECK(out.state[0].value() == f.state[0].value());
    CHECK(out.state[1].value() == f.state[1].value());
    CHECK(out.state[2].value() == b.state[0].value());
    CHECK(out.state[3].value() == b.state[1].value());
    // Started from a state: the first two start the forward layer, the last two the backward one.
    std::vector<xg::Tensor> start;
    for (std::uint64_t k = 0; k < 4; ++k) start.push_back(xg::input(xg::test::random_array({2, 4}, 12 + k)));
    const xg::RecurrentOutput resumed = layer.call_with_state(xg::input(x), start);
    const xg::RecurrentOutput f2 = layer.forward_layer().call_with_state(xg::input(x), {start[0], start[1]});
    const xg::RecurrentOutput b2 = layer.backward_layer().call_with_state(xg::input(x), {start[2], start[3]});
    CHECK(resumed.state[0].value() == f2.state[0].value());
    CHECK(resumed.state[3].value() == b2.state[1].value());
    CHECK(xt::view(resumed.output.value(), xt::all(), 0, xt::range(0, 4)) == xt::view(f2.output.value(), xt::all(), 0));
    CHECK(xt::view(resumed.output.value(), xt::all(), 0, xt::range(4, 8)) == xt::view(b2.output.value(), xt::all(), 4));
    CHECK(resumed.output.value() != out.output.value());
    CHECK_THROWS_WITH_AS(layer.call_with_state(xg::input(x), {start[0], start[1]}),
                         "bi: initial_state has 2 tensors; expected 4: 2 for forward_lstm_1 then 2 for backward_lstm_1",
                         xg::ValueError);
    // Errors count the tensors as the caller gave them.
    CHECK_THROWS_WITH_AS(layer.call_with_state(xg::input(x), {start[0], start[1], start[2], xg::input(xt::zeros<float>({3, 4}))}),
                         "bi: initial_state[3] has shape (3, 4); expected (2, 4) for an input of (2, 5, 3)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(layer.call_with_state(xg::input(x), {start[0], xg::Tensor{}, start[2], start[3]}),
                         "bi: initial_state[1] is an empty handle; expected a tensor (2, 4)", xg::ValueError);
    CHECK_THROWS_WITH_AS(layer.call_with_state(xg::Tensor{}, start),
                         "bi: input is an empty handle; expected (batch, steps, 3)", xg::ValueError);
    CHECK_THROWS_WITH_AS(layer.call_with_state(xg::Tensor::scalar(1.0f), start),
                         "bi: input has shape (); expected (batch, steps, 3)", xg::ShapeError);
}

TEST_CASE("Bidirectional with a mask: both layers skip its steps, and the masked steps' outputs are zeros") {
    xg::manual_seed(14);
    xg::Bidirectional layer(std::make_shared<xg::GRU>(3, 4, xg::GRUOptions{.return_sequences = true}));
    const xg::Array x = xg::test::random_array({2, 5, 3}, 15);
    const xg::Array mask = {{1.0f, 1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 1.0f, 1.0f}};
    xg::NoGradGuard no_grad;
    const xg::Masked out = layer.call_masked(xg::input(x), xg::input(mask));
    CHECK(out.mask.value() == mask);
    const xg::Array f = layer.forward_layer().call_masked(xg::input(x), xg::input(mask)).output.value();
    const xg::Array b = layer.backward_layer().call_masked(xg::input(x), xg::input(mask)).output.value();
    const xg::Array& y = out.output.value();
    for (std::size_t n = 0; n < 2; ++n) {
        for (std::size_t t = 0; t < 5; ++t) {
            CAPTURE(n);
            CAPTURE(t);
            const float m = mask(n, t);
            CHECK(xt::view(y, n, t, xt::range(0, 4)) == xt::view(f, n, t) * m);
            CHECK(xt::view(y, n, t, xt::range(4, 8)) == xt::view(b, n, 4 - t) * m);
        }
    }
    CHECK(layer.call_with_state(xg::input(x), {}, xg::input(mask)).output.value() == y);
    // Without return_sequences: the two last states, no mask after.
    xg::manual_seed(16);
    xg::Bidirectional last(std::make_shared<xg::LSTM>(3, 4));
    const xg::Masked h = last.call_masked(xg::input(x), xg::input(mask));
    CHECK_FALSE(h.mask.defined());
    CHECK(xt::view(h.output.value(), xt::all(), xt::range(0, 4)) ==
          last.forward_layer().call_masked(xg::input(x), xg::input(mask)).output.value());
}

TEST_CASE("Bidirectional runs its forward layer first in every form of call: the same dropout masks for a seed") {
    xg::manual_seed(17);
    xg::Bidirectional layer(std::make_shared<xg::LSTM>(3, 4, xg::LSTMOptions{.dropout = 0.5f, .recurrent_dropout = 0.5f}));
    const xg::Array x = xg::test::random_array({4, 5, 3}, 18);
    xg::NoGradGuard no_grad;
    xg::manual_seed(19);
    const xg::Array called = layer(xg::input(x)).value();
    xg::manual_seed(19);
    const xg::Array with_state = layer.call_with_state(xg::input(x)).output.value();
    xg::manual_seed(19);
    const xg::Array masked = layer.call_masked(xg::input(x), xg::input(xt::ones<float>({4, 5}))).output.value();
    CHECK(with_state == called);
    xg::test::check_close(masked, called);  // the same masks; a mask of ones rounds h + 1 (h' - h) apart from h'

    // The forward layer's own call, drawing first from the same seed, gives the first half.
    xg::manual_seed(19);
    CHECK(xt::view(called, xt::all(), xt::range(0, 4)) == layer.forward_layer()(xg::input(x)).value());
}

TEST_CASE("Bidirectional's config rebuilds both layers; bad layers and merge modes are errors") {
    xg::manual_seed(9);
    auto forward = std::make_shared<xg::LSTM>(3, 4, xg::LSTMOptions{.return_sequences = true});
    auto backward = std::make_shared<xg::LSTM>(3, 5, xg::LSTMOptions{.return_sequences = true, .go_backwards = true});
    const xg::Bidirectional layer(forward, {.backward_layer = backward, .name = "both"});
    auto rebuilt = xg::make_layer("Bidirectional", *layer.config(), "both");
    auto& both = dynamic_cast<xg::Bidirectional&>(*rebuilt);
    CHECK(both.config() == layer.config());
    CHECK(both.backward_layer().units() == 5);
    CHECK(both.named_parameters().size() == layer.named_parameters().size());
    for (std::size_t i = 0; i < layer.named_parameters().size(); ++i) {
        CHECK(both.named_parameters()[i].first == layer.named_parameters()[i].first);
    }

    CHECK_THROWS_WITH_AS(xg::Bidirectional(nullptr), "Bidirectional: layer is null; expected a SimpleRNN, LSTM or GRU",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Bidirectional(std::make_shared<xg::GRU>(3, 4), {.merge_mode = "max"}),
                         "Bidirectional: merge_mode 'max'; expected concat, sum, mul or ave", xg::ValueError);
    CHECK_THROWS_WITH_AS(
        xg::Bidirectional(std::make_shared<xg::GRU>(3, 4), {.backward_layer = std::make_shared<xg::GRU>(3, 4)}),
        "Bidirectional: backward_layer is a GRU of input_dim 3, return_sequences false, go_backwards false; expected a "
        "GRU of input_dim 3, return_sequences false, go_backwards true",
        xg::ValueError);
    CHECK_THROWS_AS(xg::Bidirectional(std::make_shared<xg::GRU>(3, 4),
                                      {.backward_layer = std::make_shared<xg::LSTM>(3, 4, xg::LSTMOptions{.go_backwards = true})}),
                    xg::ValueError);
    CHECK_THROWS_WITH_AS(
        xg::Bidirectional(std::make_shared<xg::GRU>(3, 4),
                          {.merge_mode = "sum", .backward_layer = std::make_shared<xg::GRU>(3, 2, xg::GRUOptions{.go_backwards = true})}),
        "Bidirectional: merge_mode 'sum' with 4 and 2 units; expected as many units in both layers, or merge_mode concat",
        xg::ValueError);
    xg::LayerConfig bad = *layer.config();
    bad["layer"] = "Dense";
    CHECK_THROWS_WITH_AS(xg::make_layer("Bidirectional", bad, "both"),
                         "Bidirectional: setting 'layer' is 'Dense'; expected SimpleRNN, LSTM or GRU", xg::ValueError);
    // Checked before anything is built, however deep the keys nest.
    bad["layer"] = "Bidirectional";
    CHECK_THROWS_WITH_AS(xg::make_layer("Bidirectional", bad, "both"),
                         "Bidirectional: setting 'layer' is 'Bidirectional'; expected SimpleRNN, LSTM or GRU", xg::ValueError);
}

TEST_CASE("a layer registered elsewhere is refused before either direction is registered") {
    auto taken = std::make_shared<xg::GRU>(3, 4, xg::GRUOptions{.go_backwards = true, .name = "taken"});
    xg::Sequential other;
    other.add(taken);
    auto forward = std::make_shared<xg::GRU>(3, 4, xg::GRUOptions{.name = "mine"});
    CHECK_THROWS_WITH_AS(xg::Bidirectional(forward, {.backward_layer = taken}),
                         "Bidirectional: layer 'taken' is already registered in a model; expected a layer of its own for "
                         "each direction",
                         xg::StateError);
    // The caller's forward layer is as it was: not registered, not renamed, usable again.
    CHECK_FALSE(forward->registered());
    CHECK(forward->name() == "mine");
    const xg::Bidirectional both(forward);
    CHECK(forward->registered());
    CHECK(both.backward_layer().units() == 4);
    CHECK_THROWS_AS(xg::Bidirectional(std::make_shared<xg::GRU>(3, 4), {.backward_layer = taken}), xg::StateError);
    CHECK_THROWS_AS(xg::Bidirectional{forward}, xg::StateError);
}

namespace {

// A recurrent layer of a user's own, with no settings to rebuild it from.
class Doubling : public xg::SimpleRNN {
public:
    using SimpleRNN::SimpleRNN;
    std::optional<xg::LayerConfig> config() const override { return std::nullopt; }
};

// One that keeps its base's settings: rebuilt from them, it would be a plain SimpleRNN.
class Halving : public xg::SimpleRNN {
public:
    using SimpleRNN::SimpleRNN;
    xg::Tensor forward(const xg::Tensor& x) override { return SimpleRNN::forward(x) * 0.5f; }
};

}  // namespace

TEST_CASE("Bidirectional copies the layer's settings and flag; a layer of a user's own needs a backward_layer") {
    xg::manual_seed(10);
    xg::Bidirectional plain(std::make_shared<xg::LSTM>(3, 2, xg::LSTMOptions{.unit_forget_bias = false}));
    CHECK(plain.backward_layer().bias().value() == xt::zeros<float>({8}));
    CHECK_THROWS_WITH_AS(xg::Bidirectional(std::make_shared<Doubling>(3, 2)),
                         "Bidirectional: a SimpleRNN cannot be rebuilt from its settings to read the other way; expected a "
                         "backward_layer",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Bidirectional(std::make_shared<Halving>(3, 2)),
                         doctest::Contains("a SimpleRNN cannot be rebuilt from its settings"), xg::ValueError);
    // A frozen layer's copy is frozen too, as Keras's.
    auto frozen = std::make_shared<xg::GRU>(3, 2);
    frozen->set_trainable(false);
    xg::Bidirectional still(frozen);
    CHECK_FALSE(still.backward_layer().trainable());
    CHECK(still.trainable_parameters().empty());
    // With one: its architecture is code, so the pair's is too.
    xg::Bidirectional own(std::make_shared<Doubling>(3, 2),
                          {.backward_layer = std::make_shared<Doubling>(3, 2, xg::SimpleRNNOptions{.go_backwards = true})});
    CHECK_FALSE(own.config().has_value());
}
