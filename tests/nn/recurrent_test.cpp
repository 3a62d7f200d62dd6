// Recurrent, through its three layers: the sequence read step by step (forwards and backwards, the
// last output or all), gradients through time against finite differences to the second order,
// dropout's one mask per sequence, errors naming the layer, and models that need a memory.
#include "xgrad/nn/recurrent.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/simple_rnn.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/train/model.hpp"
#include "test_arrays.hpp"

namespace {

using xg::test::random_array;

// A layer of each kind with the settings a test asks for.
struct RecurrentKind {
    std::string name;
    std::function<std::shared_ptr<xg::Recurrent>(std::size_t, std::size_t, const xg::RecurrentSettings&)> make;
};

template <class Layer, class Options>
std::shared_ptr<xg::Recurrent> make_layer(std::size_t input_dim, std::size_t units, const xg::RecurrentSettings& s) {
    Options options;
    options.activation = s.activation;
    options.use_bias = s.use_bias;
    options.return_sequences = s.return_sequences;
    options.go_backwards = s.go_backwards;
    options.dropout = s.dropout;
    options.recurrent_dropout = s.recurrent_dropout;
    // Biases away from zero, so that a bias put in the wrong place shows.
    options.bias_initializer = xg::initializers::random_uniform(-0.5f, 0.5f);
    return std::make_shared<Layer>(input_dim, units, std::move(options));
}

const RecurrentKind kinds[] = {{"SimpleRNN", make_layer<xg::SimpleRNN, xg::SimpleRNNOptions>},
                      {"LSTM", make_layer<xg::LSTM, xg::LSTMOptions>},
                      {"GRU", make_layer<xg::GRU, xg::GRUOptions>}};

xg::Array run(xg::Recurrent& layer, const xg::Array& x) {
    xg::NoGradGuard no_grad;
    return layer(xg::input(x)).value();
}

// The tape's gradient of sum(layer(x) * r) for every parameter, against central differences.
void check_parameter_gradients(xg::Recurrent& layer, const xg::Array& x) {
    const xg::Array r = random_array(run(layer, x).shape(), 99);
    const auto loss = [&] { return xg::sum(layer(xg::input(x)) * xg::input(r)); };
    for (auto [name, p] : layer.named_parameters()) p.zero_grad();
    loss().backward();
    for (auto [name, p] : layer.named_parameters()) {
        CAPTURE(name);
        xg::Array& w = p.mutable_value();
        for (std::size_t i = 0; i < w.size(); ++i) {
            const float kept = w.data()[i], h = 1e-2f;
            w.data()[i] = kept + h;
            const double up = loss().item();
            w.data()[i] = kept - h;
            const double down = loss().item();
            w.data()[i] = kept;
            CHECK(p.grad().data()[i] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-2).scale(1.0));
        }
    }
}

}  // namespace

TEST_CASE("a recurrent layer reads its sequence in order: the last output is return_sequences' last step") {
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(1);
        const auto all = kind.make(3, 4, {.return_sequences = true});
        xg::manual_seed(1);
        const auto last = kind.make(3, 4, {});
        const xg::Array x = random_array({2, 5, 3}, 2);
        const xg::Array sequence = run(*all, x);
        REQUIRE(sequence.shape() == xg::Shape{2, 5, 4});
        CHECK(run(*last, x) == xg::Array(xt::view(sequence, xt::all(), 4)));
        CHECK(all->output_shape({5, 3}) == xg::Shape{5, 4});
        CHECK(last->output_shape({5, 3}) == xg::Shape{4});
        // A step's output depends on the steps before it only: the first 3 steps alone give the same 3 outputs.
        const xg::Array head = run(*all, xg::Array(xt::view(x, xt::all(), xt::range(0, 3))));
        xg::test::check_close(head, xg::Array(xt::view(sequence, xt::all(), xt::range(0, 3))));
        // One step; a batch of none.
        CHECK(run(*all, xg::Array(xt::view(x, xt::all(), xt::range(0, 1)))).shape() == xg::Shape{2, 1, 4});
        CHECK(run(*all, xt::zeros<float>({0, 5, 3})).shape() == xg::Shape{0, 5, 4});
        CHECK(run(*last, xt::zeros<float>({0, 5, 3})).shape() == xg::Shape{0, 4});
    }
}

TEST_CASE("go_backwards reads the sequence from its end: the reversed sequence read forwards, outputs in reading order") {
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(3);
        const auto backwards = kind.make(3, 4, {.return_sequences = true, .go_backwards = true});
        xg::manual_seed(3);
        const auto forwards = kind.make(3, 4, {.return_sequences = true});
        const xg::Array x = random_array({2, 5, 3}, 4);
        const xg::Array reversed = xt::view(x, xt::all(), xt::range(4, -6, -1));
        CHECK(run(*backwards, x) == run(*forwards, reversed));
    }
}

TEST_CASE("gradients flow through time: gradcheck and gradgradcheck on the input, every parameter's gradient") {
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(5);
        const auto layer = kind.make(2, 3, {.return_sequences = true});
        auto f = [&layer](const std::vector<xg::Tensor>& in) { return (*layer)(in[0]); };
        const xg::Array x = random_array({2, 4, 2}, 6);
        const auto first = xg::gradcheck(f, {x});
        CHECK_MESSAGE(first.passed, first.report());
        const auto second = xg::gradgradcheck(f, {x});
        CHECK_MESSAGE(second.passed, second.report());
        check_parameter_gradients(*layer, x);
        xg::manual_seed(7);
        const auto backwards = kind.make(2, 3, {.use_bias = false, .go_backwards = true});
        CHECK(backwards->named_parameters().size() == 2);
        check_parameter_gradients(*backwards, x);
    }
}

TEST_CASE("dropout keeps one mask per sequence, on the inputs and on the state, in training only") {
    // A linear SimpleRNN with identity kernels and no bias: h_t = x_t m + h_{t-1} m' with the masks m, m'.
    const auto identity = [](const xg::Shape& shape) { return xg::Array(xt::eye<float>(shape[0])); };
    xg::SimpleRNN layer(6, 6,
                        {.activation = "linear", .use_bias = false, .return_sequences = true, .dropout = 0.5f,
                         .recurrent_dropout = 0.5f, .kernel_initializer = identity, .recurrent_initializer = identity});
    // Ones at step 0 and nothing after: h_0 = m, h_1 = m m', h_2 = m m'^2.
    xg::Array x = xt::zeros<float>({40, 3, 6});
    xt::view(x, xt::all(), 0) = 1.0f;
    xg::manual_seed(8);
    const xg::Array h = run(layer, x);
    const xg::Array h0 = xt::view(h, xt::all(), 0), h1 = xt::view(h, xt::all(), 1), h2 = xt::view(h, xt::all(), 2);
    std::size_t dropped = 0, kept = 0;
    for (std::size_t i = 0; i < h0.size(); ++i) {
        const float m = h0.data()[i];
        CHECK((m == 0.0f || m == 2.0f));  // kept entries scaled by 1 / (1 - rate)
        (m == 0.0f ? dropped : kept) += 1;
        // The state's mask m' is the same at both steps: h_2 = h_1 m'.
        const float state_mask = m == 0.0f ? 0.0f : h1.data()[i] / m;
        CHECK((state_mask == 0.0f || state_mask == 2.0f));
        CHECK(h2.data()[i] == h1.data()[i] * state_mask);
    }
    CHECK(dropped > 60);
    CHECK(kept > 60);
    // Inference: no masks, h_t = 1 at every step.
    layer.eval();
    CHECK(run(layer, x) == xt::ones<float>({40, 3, 6}));
}

namespace {

// For each gate's block of columns of a kernel's gradient, the rows that are all zero: the
// features (or state units) that gate's mask dropped for a batch of one.
std::vector<std::vector<std::size_t>> dropped_rows(const xg::Array& grad, std::size_t gates) {
    const std::size_t rows = grad.shape()[0], units = grad.shape()[1] / gates;
    std::vector<std::vector<std::size_t>> dropped(gates);
    for (std::size_t g = 0; g < gates; ++g) {
        for (std::size_t r = 0; r < rows; ++r) {
            bool zero = true;
            for (std::size_t u = 0; u < units; ++u) zero = zero && grad(r, g * units + u) == 0.0f;
            if (zero) dropped[g].push_back(r);
        }
    }
    return dropped;
}

}  // namespace

TEST_CASE("with recurrent_dropout each gate has masks of its own, as Keras's gate-by-gate implementation") {
    const xg::Array x = random_array({1, 3, 30}, 11);
    for (const std::size_t gates : {4, 3}) {
        for (const bool recurrent : {true, false}) {
            CAPTURE(gates);
            CAPTURE(recurrent);
            xg::manual_seed(12);
            const float recurrent_rate = recurrent ? 0.5f : 0.0f;
            std::shared_ptr<xg::Recurrent> layer;
            if (gates == 4) {
                layer = std::make_shared<xg::LSTM>(30, 20, xg::LSTMOptions{.dropout = 0.5f, .recurrent_dropout = recurrent_rate});
            } else {
                layer = std::make_shared<xg::GRU>(30, 20, xg::GRUOptions{.dropout = 0.5f, .recurrent_dropout = recurrent_rate});
            }
            xg::sum((*layer)(xg::input(x))).backward();
            // A feature a gate's mask dropped reaches none of its columns.
            const auto inputs = dropped_rows(layer->kernel().grad(), gates);
            for (const auto& rows : inputs) {
                CHECK(rows.size() > 4);
                CHECK(rows.size() < 26);
            }
            const bool all_same = std::all_of(inputs.begin(), inputs.end(), [&](const auto& r) { return r == inputs[0]; });
            // One mask for all the gates without recurrent_dropout (Keras's fused implementation).
            CHECK(all_same == !recurrent);
            if (recurrent) {
                const auto state = dropped_rows(layer->recurrent_kernel().grad(), gates);
                CHECK(state[0].size() > 2);
                CHECK_FALSE(std::all_of(state.begin(), state.end(), [&](const auto& r) { return r == state[0]; }));
            }
        }
    }
}

TEST_CASE("call_with_state returns the state a call ends in, and a run continued from it is the whole run") {
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(41);
        const auto layer = kind.make(3, 4, {.return_sequences = true});
        const xg::Array x = random_array({2, 5, 3}, 42);
        xg::NoGradGuard no_grad;
        const xg::RecurrentOutput whole = layer->call_with_state(xg::input(x));
        CHECK(whole.output.value() == run(*layer, x));
        REQUIRE(whole.state.size() == layer->state_size());
        CHECK(layer->state_size() == (kind.name == "LSTM" ? 2u : 1u));
        // h is the last step's output; an LSTM's c is its own.
        CHECK(whole.state[0].value() == xg::Array(xt::view(whole.output.value(), xt::all(), 4)));
        if (kind.name == "LSTM") CHECK(whole.state[1].value() != whole.state[0].value());
        // Three steps, then the other two from where they ended: the same outputs and last state.
        const xg::Array head_x = xt::view(x, xt::all(), xt::range(0, 3)), tail_x = xt::view(x, xt::all(), xt::range(3, 5));
        const xg::RecurrentOutput head = layer->call_with_state(xg::input(head_x));
        const xg::RecurrentOutput tail = layer->call_with_state(xg::input(tail_x), head.state);
        xg::test::check_close(xg::concat({head.output, tail.output}, 1).value(), whole.output.value());
        for (std::size_t k = 0; k < whole.state.size(); ++k) xg::test::check_close(tail.state[k].value(), whole.state[k].value());
        // Starting from zeros given explicitly is starting from none.
        std::vector<xg::Tensor> zeros(layer->state_size(), xg::input(xt::zeros<float>({2, 4})));
        xg::test::check_close(layer->call_with_state(xg::input(x), zeros).output.value(), whole.output.value());

        // Reading backwards, the state is the one after the first step (the last one read).
        xg::manual_seed(43);
        const auto last_only = kind.make(3, 4, {.go_backwards = true});
        const xg::RecurrentOutput backwards = last_only->call_with_state(xg::input(x));
        CHECK(backwards.state[0].value() == backwards.output.value());
        const xg::RecurrentOutput late = last_only->call_with_state(xg::input(tail_x));
        const xg::RecurrentOutput resumed = last_only->call_with_state(xg::input(head_x), late.state);
        xg::test::check_close(resumed.output.value(), backwards.output.value());
    }
}

TEST_CASE("gradients flow into the initial state and out of the last one: gradcheck and gradgradcheck") {
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(44);
        const auto layer = kind.make(2, 3, {.return_sequences = true, .go_backwards = kind.name == "GRU"});
        const std::size_t n = layer->state_size();
        // Every output step and every piece of the last state, from x and every piece of the first.
        auto f = [&layer, n](const std::vector<xg::Tensor>& in) {
            const xg::RecurrentOutput out =
                layer->call_with_state(in[0], std::vector<xg::Tensor>(in.begin() + 1, in.begin() + 1 + static_cast<long>(n)));
            xg::Tensor y = xg::sum(out.output * out.output);
            for (const xg::Tensor& s : out.state) y = y + xg::sum(s * xg::input(random_array(s.shape(), 45)));
            return y;
        };
        std::vector<xg::Array> in{random_array({2, 3, 2}, 46)};
        for (std::size_t k = 0; k < n; ++k) in.push_back(random_array({2, 3}, 47 + k));
        const auto first = xg::gradcheck(f, in);
        CHECK_MESSAGE(first.passed, first.report());
        const auto second = xg::gradgradcheck(f, in);
        CHECK_MESSAGE(second.passed, second.report());
    }
}

TEST_CASE("a model of calls with state: an encoder's state starts a decoder, and summary lists both") {
    class Translator : public xg::Module {
    public:
        Translator() : Module("Translator") {
            encoder_ = register_module("encoder", std::make_shared<xg::LSTM>(3, 4));
            decoder_ = register_module("decoder", std::make_shared<xg::LSTM>(2, 4, xg::LSTMOptions{.return_sequences = true}));
        }
        // The source sequence, then the target's two features a step: (batch, 5, 3 + 2).
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor source = xg::slice(x, -1, 0, 3), target = xg::slice(x, -1, 3, 5);
            return decoder_->call_with_state(target, encoder_->call_with_state(source).state).output;
        }

    private:
        std::shared_ptr<xg::LSTM> encoder_, decoder_;
    };
    xg::manual_seed(48);
    Translator model;
    const std::string table = model.summary({5, 5});
    CAPTURE(table);
    // Both seen called, with their outputs' shapes (a child never called is listed "(not called)").
    CHECK(table.find("(not called)") == std::string::npos);
    CHECK(table.find("encoder (LSTM)               (None, 4) ") != std::string::npos);
    CHECK(table.find("decoder (LSTM)               (None, 5, 4) ") != std::string::npos);
    // The decoder's loss reaches the encoder's weights through the state alone.
    const xg::Tensor loss = xg::sum(model(xg::input(random_array({2, 5, 5}, 49))));
    loss.backward();
    const xg::Array& g = model.named_parameters().front().second.grad();
    CHECK(model.named_parameters().front().first == "encoder/kernel");
    CHECK(xt::amax(xt::abs(g))() > 0.0f);
}

TEST_CASE("a mask skips steps: a masked step keeps the state and repeats the last output, as if it were not there") {
    // Steps 2 and 4 masked in the first sequence, step 0 in the second.
    const xg::Array mask = {{1.0f, 1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 1.0f, 1.0f}};
    const std::vector<std::vector<std::size_t>> kept = {{0, 1, 3}, {1, 2, 3, 4}};
    for (const RecurrentKind& kind : kinds) {
        for (const bool backwards : {false, true}) {
            CAPTURE(kind.name);
            CAPTURE(backwards);
            xg::manual_seed(50);
            const auto layer = kind.make(3, 4, {.return_sequences = true, .go_backwards = backwards});
            const xg::Array x = random_array({2, 5, 3}, 51);
            xg::NoGradGuard no_grad;
            const xg::RecurrentOutput out = layer->call_with_state(xg::input(x), {}, xg::input(mask));
            const xg::Masked masked = layer->call_masked(xg::input(x), xg::input(mask));
            CHECK(masked.output.value() == out.output.value());
            CHECK(masked.mask.value() == mask);  // return_sequences: the mask passes on
            for (std::size_t b = 0; b < 2; ++b) {
                // The sequence of its kept steps alone ends in the same state.
                const xg::Array alone = xt::view(x, xt::keep(b), xt::keep(kept[b]), xt::all());
                const xg::RecurrentOutput reference = layer->call_with_state(xg::input(alone));
                for (std::size_t k = 0; k < out.state.size(); ++k) {
                    xg::test::check_close(xg::Array(xt::view(out.state[k].value(), xt::range(b, b + 1))),
                                          reference.state[k].value());
                }
            }
            // A masked step's output repeats the one before it, in reading order (zeros before any).
            const xg::Array& y = out.output.value();
            const auto at = [&](std::size_t b, std::size_t k) { return xg::Array(xt::view(y, b, k)); };
            if (!backwards) {
                CHECK(at(0, 2) == at(0, 1));
                CHECK(at(0, 4) == at(0, 3));
                CHECK(at(1, 0) == xg::Array(xt::zeros<float>({4})));
            } else {
                // Read from step 4 down: the first read (step 4) is masked, and the third (step 2).
                CHECK(at(0, 0) == xg::Array(xt::zeros<float>({4})));
                CHECK(at(0, 2) == at(0, 1));
                CHECK(at(1, 4) == at(1, 3));
            }
            // Without return_sequences the layer's output is the last state, and no mask passes on.
            xg::manual_seed(50);
            const auto last = kind.make(3, 4, {.go_backwards = backwards});
            const xg::Masked last_out = last->call_masked(xg::input(x), xg::input(mask));
            CHECK_FALSE(last_out.mask.defined());
            CHECK(last_out.output.value() == out.state[0].value());
        }
    }
}

TEST_CASE("from a given state, masked steps before the first kept one output zeros, as Keras's, and keep the state") {
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(54);
        const auto layer = kind.make(3, 2, {.return_sequences = true});
        const xg::Array x = random_array({2, 4, 3}, 55);
        const xg::Array mask = {{0.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
        std::vector<xg::Tensor> start;
        for (std::size_t k = 0; k < layer->state_size(); ++k) start.push_back(xg::input(random_array({2, 2}, 56 + k)));
        xg::NoGradGuard no_grad;
        const xg::RecurrentOutput out = layer->call_with_state(xg::input(x), start, xg::input(mask));
        const xg::Array& y = out.output.value();
        const xg::Array zeros = xt::zeros<float>({2});
        CHECK(xg::Array(xt::view(y, 0, 0)) == zeros);
        CHECK(xg::Array(xt::view(y, 0, 1)) == zeros);
        CHECK(xg::Array(xt::view(y, 0, 3)) == xg::Array(xt::view(y, 0, 2)));
        // A sequence of padding alone: zero outputs, its state the one it was given.
        for (std::size_t t = 0; t < 4; ++t) CHECK(xg::Array(xt::view(y, 1, t)) == zeros);
        for (std::size_t k = 0; k < start.size(); ++k) {
            CHECK(xg::Array(xt::view(out.state[k].value(), 1)) == xg::Array(xt::view(start[k].value(), 1)));
        }
        // Step 2 alone from the given state: the first sequence's state.
        const xg::Array step2 = xt::view(x, xt::range(0, 1), xt::range(2, 3), xt::all());
        std::vector<xg::Tensor> first_start;
        for (const xg::Tensor& s : start) first_start.push_back(xg::input(xg::Array(xt::view(s.value(), xt::range(0, 1)))));
        const xg::RecurrentOutput alone = layer->call_with_state(xg::input(step2), first_start);
        xg::test::check_close(xg::Array(xt::view(out.state[0].value(), xt::range(0, 1))), alone.state[0].value());
        // A mask of ones changes no value.
        const xg::Tensor ones = xg::input(xt::ones<float>({2, 4}));
        CHECK(layer->call_with_state(xg::input(x), start, ones).output.value() ==
              layer->call_with_state(xg::input(x), start).output.value());
    }
}

TEST_CASE("a recurrent layer of a user's own that overrides forward is called through it inside a Sequential") {
    class Doubled : public xg::LSTM {
    public:
        Doubled() : LSTM(3, 2) {}
        xg::Tensor forward(const xg::Tensor& x) override { return LSTM::forward(x) * 2.0f; }
    };
    xg::manual_seed(57);
    auto net = std::make_shared<xg::Sequential>();
    auto doubled = net->emplace<Doubled>();
    const xg::Array x = random_array({2, 4, 3}, 58);
    xg::NoGradGuard no_grad;
    CHECK((*net)(xg::input(x)).value() == (*doubled)(xg::input(x)).value());
    CHECK(net->call_with_logits(xg::input(x)).output.value() == (*doubled)(xg::input(x)).value());
}

TEST_CASE("gradients through a masked sequence: gradcheck and gradgradcheck, nothing for the masked steps' inputs") {
    const xg::Array mask = {{1.0f, 0.0f, 1.0f, 1.0f}, {0.0f, 0.0f, 1.0f, 0.0f}};
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(52);
        const auto layer = kind.make(2, 3, {.return_sequences = true});
        auto f = [&layer, &mask](const std::vector<xg::Tensor>& in) {
            return layer->call_masked(in[0], xg::input(mask)).output;
        };
        const xg::Array x = random_array({2, 4, 2}, 53);
        const auto first = xg::gradcheck(f, {x});
        CHECK_MESSAGE(first.passed, first.report());
        const auto second = xg::gradgradcheck(f, {x});
        CHECK_MESSAGE(second.passed, second.report());
        const xg::Tensor t = xg::parameter(x, "x");
        xg::sum(layer->call_masked(t, xg::input(mask)).output).backward();
        CHECK(xt::amax(xt::abs(xt::view(t.grad(), 0, 1)))() == 0.0f);
        CHECK(xt::amax(xt::abs(xt::view(t.grad(), 1, 3)))() == 0.0f);
        CHECK(xt::amax(xt::abs(xt::view(t.grad(), 1, 2)))() > 0.0f);
    }
}

TEST_CASE("call_with_state's errors name the layer, the state's tensors and their shapes") {
    xg::LSTM lstm(3, 4, {.name = "lstm"});
    xg::GRU gru(3, 4, {.name = "gru"});
    const xg::Tensor x = xg::input(xt::zeros<float>({2, 5, 3}));
    const xg::Tensor h = xg::input(xt::zeros<float>({2, 4}));
    CHECK_THROWS_WITH_AS(lstm.call_with_state(x, {h}), "lstm: initial_state has 1 tensors; expected 2 (h and c)",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(gru.call_with_state(x, {h, h}), "gru: initial_state has 2 tensors; expected 1 (h)",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(lstm.call_with_state(x, {h, xg::Tensor{}}),
                         "lstm: initial_state[1] is an empty handle; expected a tensor (2, 4)", xg::ValueError);
    CHECK_THROWS_WITH_AS(gru.call_with_state(x, {xg::input(xt::zeros<float>({3, 4}))}),
                         "gru: initial_state[0] has shape (3, 4); expected (2, 4) for an input of (2, 5, 3)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(gru.call_with_state(x, {xg::input(xt::zeros<float>({2, 5}))}),
                         "gru: initial_state[0] has shape (2, 5); expected (2, 4) for an input of (2, 5, 3)",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(gru.call_with_state(xg::Tensor{}),
                         "gru: input is an empty handle; expected (batch, steps, 3)", xg::ValueError);
    CHECK_THROWS_WITH_AS(gru.call_with_state(x, {}, xg::input(xt::ones<float>({2, 4}))),
                         "gru: mask has shape (2, 4) for an input of (2, 5, 3); expected (batch, steps), the input's "
                         "first two extents",
                         xg::ShapeError);
    // A layer of a user's own whose state_size() does not say what its steps keep.
    class Forgetful : public xg::Recurrent {
    public:
        Forgetful() : Recurrent("Forgetful", "forgetful", 3, 4, {}, {1, {4}, xg::initializers::glorot_uniform,
                                                                     xg::initializers::orthogonal, xg::initializers::zeros}) {}

    protected:
        void step(const xg::Tensor& inputs, const xg::Tensor& recurrent, State& state) override {
            state.c = state.c.defined() ? state.c + inputs : inputs;
            state.h = xg::tanh(plus(state.c, recurrent));
        }
    };
    Forgetful forgetful;
    CHECK_THROWS_WITH_AS(forgetful(x), "forgetful: the steps keep a cell state c, but state_size() is 1; expected 2",
                         xg::StateError);
}

TEST_CASE("recurrent layers' errors name the layer, the shapes and the setting") {
    xg::SimpleRNN rnn(3, 4, {.name = "rnn"});
    CHECK_THROWS_WITH_AS(rnn(xg::input(xt::zeros<float>({2, 3}))),
                         "rnn: input has shape (2, 3); expected (batch, steps, 3) with steps > 0", xg::ShapeError);
    CHECK_THROWS_WITH_AS(rnn(xg::input(xt::zeros<float>({2, 5, 4}))),
                         "rnn: input has shape (2, 5, 4); expected (batch, steps, 3) with steps > 0", xg::ShapeError);
    CHECK_THROWS_WITH_AS(rnn(xg::input(xt::zeros<float>({2, 0, 3}))),
                         "rnn: input has shape (2, 0, 3); expected (batch, steps, 3) with steps > 0", xg::ShapeError);
    CHECK_THROWS_WITH_AS(rnn.output_shape({5, 2}), "rnn: input shape (5, 2); expected (steps, 3) with steps > 0",
                         xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::LSTM(0, 4), "LSTM: input_dim 0 and units 4; expected both > 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::GRU(3, 4, {.dropout = 1.0f}),
                         "GRU: dropout 1 and recurrent_dropout 0; expected 0 <= rate < 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::GRU(3, 4, {.recurrent_dropout = -0.1f}),
                         "GRU: dropout 0 and recurrent_dropout -0.1; expected 0 <= rate < 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::LSTM(3, 4, {.recurrent_activation = "sigmoidal"}),
                         doctest::Contains("LSTM: recurrent_activation 'sigmoidal' is unknown; expected one of linear, "),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::SimpleRNN(3, 4, {.activation = "tan"}),
                         doctest::Contains("SimpleRNN: activation 'tan' is unknown; expected one of linear, "), xg::ValueError);
    CHECK_THROWS_WITH_AS(
        xg::SimpleRNN(3, 4, {.recurrent_initializer = [](const xg::Shape&) { return xg::Array(xt::zeros<float>({4})); }}),
        "SimpleRNN: recurrent_initializer gave (4,); expected (4, 4)", xg::ShapeError);
}

TEST_CASE("each recurrent layer learns what needs a memory: the sign of a sequence's first step, read at its end") {
    // 10 steps: the first +-1, the rest noise; the label is the first step's sign.
    std::mt19937 rng(9);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    xg::Array x = xg::uninitialized({128, 10, 1});
    xg::Array labels = xg::uninitialized({128, 1});
    for (std::size_t i = 0; i < 128; ++i) {
        for (std::size_t t = 0; t < 10; ++t) x(i, t, 0) = noise(rng);
        labels(i, 0) = static_cast<float>(i % 2);
        x(i, 0, 0) = i % 2 ? 1.0f : -1.0f;
    }
    for (const RecurrentKind& kind : kinds) {
        CAPTURE(kind.name);
        xg::manual_seed(10);
        auto net = std::make_shared<xg::Sequential>();
        net->add(kind.make(1, 8, {}));
        net->emplace<xg::Dense>(8, 1, "sigmoid");
        xg::Model model(net);
        model.compile("rmsprop", "binary_crossentropy", {"accuracy"});
        model.optimizer().set_learning_rate(0.01f);
        xg::FitOptions options;
        options.epochs = 30;
        options.batch_size = 16;
        options.verbose = 0;
        const xg::History history = model.fit(x, labels, options);
        CHECK(history["accuracy"].back() >= 0.95);
    }
}
