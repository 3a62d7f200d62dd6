// Sequential: composition, parameter paths, output shapes, and the Keras-style summary.
#include "xgrad/nn/sequential.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

std::shared_ptr<xg::Sequential> reference_model() {
    auto model = std::make_shared<xg::Sequential>();
    model->emplace<xg::Dense>(784, 512, "relu");
    model->emplace<xg::Dense>(512, 10, "softmax");
    return model;
}

}  // namespace

TEST_CASE("summary of the reference model matches Keras's layout and counts") {
    auto model = reference_model();
    const std::string expected =
        "Model: \"sequential_1\"\n"
        "_________________________________________________________________\n"
        "Layer (type)                 Output Shape              Param #\n"
        "=================================================================\n"
        "dense_1 (Dense)              (None, 512)               401,920\n"
        "_________________________________________________________________\n"
        "dense_2 (Dense)              (None, 10)                5,130\n"
        "=================================================================\n"
        "Total params: 407,050\n"
        "Trainable params: 407,050\n"
        "Non-trainable params: 0\n"
        "_________________________________________________________________\n";
    CHECK(model->summary({784}) == expected);
    CHECK(model->parameter_count() == 407050);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("named_parameters lists each layer's kernel and bias by path, in order") {
    auto model = reference_model();
    auto named = model->named_parameters();
    REQUIRE(named.size() == 4);
    CHECK(named[0].first == "dense_1/kernel");
    CHECK(named[1].first == "dense_1/bias");
    CHECK(named[2].first == "dense_2/kernel");
    CHECK(named[3].first == "dense_2/bias");
    CHECK(named[0].second.shape() == xg::Shape{784, 512});
    CHECK(named[3].second.shape() == xg::Shape{10});
    // Tensor names match the paths (optimizer state and checkpoints use them).
    for (auto& [path, t] : named) CHECK(t.name() == path);
    CHECK(model->parameters().size() == 4);
    CHECK(model->layers().size() == 2);
    CHECK(model->layers()[1]->name() == "dense_2");
}

TEST_CASE("summary counts frozen parameters as non-trainable and groups thousands") {
    xg::Sequential model("big");
    auto first = model.emplace<xg::Dense>(999, 1000, "relu");
    model.emplace<xg::Activation>("tanh");
    model.emplace<xg::Dense>(1000, 3, xg::DenseOptions{.use_bias = false});
    xg::Tensor kernel = first->kernel();
    kernel.set_requires_grad(false);
    const std::string s = model.summary({999});
    CHECK(s.find("Model: \"big\"") != std::string::npos);
    CHECK(s.find("dense_1 (Dense)              (None, 1000)              1,000,000\n") != std::string::npos);
    CHECK(s.find("activation_1 (Activation)    (None, 1000)              0\n") != std::string::npos);
    CHECK(s.find("dense_2 (Dense)              (None, 3)                 3,000\n") != std::string::npos);
    CHECK(s.find("Total params: 1,003,000\n") != std::string::npos);
    CHECK(s.find("Trainable params: 4,000\n") != std::string::npos);
    CHECK(s.find("Non-trainable params: 999,000\n") != std::string::npos);
}

TEST_CASE("forward applies the layers in order, each in its own scope") {
    xg::manual_seed(11);
    xg::Sequential model;
    auto a = model.emplace<xg::Dense>(3, 4, "tanh");
    auto b = model.add(std::make_shared<xg::Dense>(4, 2, "softmax"));
    CHECK(b->units() == 2);
    const xg::Array x = {{0.5f, -1.0f, 2.0f}, {1.0f, 0.0f, -0.5f}};

    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor y = model(xg::input(x));
    REQUIRE(tape.size() >= 2);
    CHECK(tape[0].scope == "sequential_1/dense_1");
    CHECK(tape[tape.size() - 1].scope == "sequential_1/dense_2");
    tape.clear();

    xg::NoGradGuard no_grad;
    const xg::Array by_hand = (*b)((*a)(xg::input(x))).value();
    CHECK(y.value() == by_hand);
    CHECK(y.shape() == xg::Shape{2, 2});
    CHECK(model.output_shape({3}) == xg::Shape{2});
    CHECK_THROWS_AS(model.output_shape({4}), xg::ShapeError);
}

TEST_CASE("an empty Sequential cannot run") {
    xg::Sequential empty("empty");
    CHECK_THROWS_AS(empty(xg::input(xt::ones<float>({1, 2}))), xg::StateError);
    CHECK(empty.parameter_count() == 0);
    CHECK(empty.summary({2}).find("Total params: 0") != std::string::npos);
}

TEST_CASE("summary of the book's convnet shows Keras's output shapes and parameter counts") {
    xg::Sequential model;
    model.emplace<xg::Conv2D>(1, 32, xg::Size2{3, 3}, "relu");
    model.emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    model.emplace<xg::Conv2D>(32, 64, xg::Size2{3, 3}, "relu");
    model.emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    model.emplace<xg::Conv2D>(64, 64, xg::Size2{3, 3}, "relu");
    model.emplace<xg::Flatten>();
    model.emplace<xg::Dense>(576, 64, "relu");
    model.emplace<xg::Dense>(64, 10, "softmax");
    const std::string s = model.summary({28, 28, 1});
    // Keras (Deep Learning with Python, 5.1): each layer's output shape and parameter count.
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"conv2d_1 (Conv2D)", "(None, 26, 26, 32)        320"},
        {"max_pooling2d_1 (MaxPooling2D)", "(None, 13, 13, 32)        0"},
        {"conv2d_2 (Conv2D)", "(None, 11, 11, 64)        18,496"},
        {"max_pooling2d_2 (MaxPooling2D)", "(None, 5, 5, 64)          0"},
        {"conv2d_3 (Conv2D)", "(None, 3, 3, 64)          36,928"},
        {"flatten_1 (Flatten)", "(None, 576)               0"},
        {"dense_1 (Dense)", "(None, 64)                36,928"},
        {"dense_2 (Dense)", "(None, 10)                650"},
    };
    // The name column is as wide as the widest "name (Kind)" plus a space: 31 here.
    for (const auto& [label, rest] : rows) {
        CAPTURE(label);
        const std::string line = label + std::string(31 - label.size(), ' ') + rest + "\n";
        CHECK(s.find(line) != std::string::npos);
    }
    CHECK(s.find("Total params: 93,322\nTrainable params: 93,322\nNon-trainable params: 0\n") != std::string::npos);
    CHECK(s.find(std::string(67, '=')) != std::string::npos);
    CHECK(model.parameter_count() == 93322);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("Sequential hands a mask from layer to layer: used by the last layer too, refused by one that would mix steps") {
    xg::manual_seed(30);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Embedding>(6, 3, xg::EmbeddingOptions{.mask_zero = true});
    net->emplace<xg::Activation>("tanh");  // keeps steps apart: passes the mask on
    auto gru = net->emplace<xg::GRU>(3, 2, xg::GRUOptions{.return_sequences = true});
    const xg::Array ids = {{0.0f, 3.0f, 1.0f}, {2.0f, 0.0f, 5.0f}};
    const xg::Masked out = net->call_masked(xg::input(ids));
    CHECK(out.mask.value() == xg::Array{{0.0f, 1.0f, 1.0f}, {1.0f, 0.0f, 1.0f}});  // the GRU's sequences keep it
    CHECK((*net)(xg::input(ids)).value() == out.output.value());
    // The logits path (compile's losses) ends in the same masked call: the mask reaches the last layer.
    const xg::Activated logits = net->call_with_logits(xg::input(ids));
    CHECK(logits.output.value() == out.output.value());
    CHECK(logits.activation == "linear");
    CHECK(logits.mask.value() == out.mask.value());  // a loss counts the kept steps alone
    // Step 1 of the second sequence is padding: its output repeats step 0's.
    CHECK(xt::view(out.output.value(), 1, 1) == xt::view(out.output.value(), 1, 0));
    CHECK(gru->name() == "gru_1");

    // A last layer that passes the mask keeps its logits, so does a nested Sequential's last layer:
    // the crossentropies stay fused.
    auto activated = std::make_shared<xg::Sequential>();
    activated->emplace<xg::Embedding>(6, 3, xg::EmbeddingOptions{.mask_zero = true});
    activated->emplace<xg::GRU>(3, 2, xg::GRUOptions{.return_sequences = true});
    activated->emplace<xg::Activation>("sigmoid");
    const xg::Activated sigmoid = activated->call_with_logits(xg::input(ids));
    CHECK(sigmoid.activation == "sigmoid");
    CHECK(sigmoid.output.value() == (*activated)(xg::input(ids)).value());
    CHECK(sigmoid.mask.value() == out.mask.value());
    auto outer = std::make_shared<xg::Sequential>();
    outer->emplace<xg::Embedding>(6, 3, xg::EmbeddingOptions{.mask_zero = true});
    auto inner = outer->emplace<xg::Sequential>();
    inner->emplace<xg::GRU>(3, 2);
    inner->emplace<xg::Dense>(2, 1, "sigmoid");
    const xg::Activated nested = outer->call_with_logits(xg::input(ids));
    CHECK(nested.activation == "sigmoid");
    CHECK(nested.output.value() == (*outer)(xg::input(ids)).value());
    CHECK(xg::sigmoid(nested.logits).value() == nested.output.value());
    // The GRU's last state has no steps: nothing for a loss to mask.
    CHECK_FALSE(nested.mask.defined());
    // A nested Sequential whose output is a sequence hands its mask out, through its Dense too.
    auto tagger = std::make_shared<xg::Sequential>();
    tagger->emplace<xg::Embedding>(6, 3, xg::EmbeddingOptions{.mask_zero = true});
    auto steps = tagger->emplace<xg::Sequential>();
    steps->emplace<xg::GRU>(3, 2, xg::GRUOptions{.return_sequences = true});
    steps->emplace<xg::Dense>(2, 4, "softmax");
    const xg::Activated tags = tagger->call_with_logits(xg::input(ids));
    CHECK(tags.activation == "softmax");
    CHECK(tags.output.shape() == xg::Shape{2, 3, 4});
    CHECK(tags.mask.value() == out.mask.value());
    // Pooled over the kept steps: no mask after it.
    auto pooled = std::make_shared<xg::Sequential>();
    pooled->emplace<xg::Embedding>(6, 3, xg::EmbeddingOptions{.mask_zero = true});
    pooled->emplace<xg::GlobalAveragePooling1D>();
    pooled->emplace<xg::Dense>(3, 2, "softmax");
    CHECK_FALSE(pooled->call_with_logits(xg::input(ids)).mask.defined());

    auto flat = std::make_shared<xg::Sequential>();
    flat->emplace<xg::Embedding>(6, 3, xg::EmbeddingOptions{.mask_zero = true});
    flat->emplace<xg::Flatten>();
    CHECK_THROWS_WITH_AS((*flat)(xg::input(ids)),
                         doctest::Contains("flatten_1 (Flatten): got a mask (from an Embedding with mask_zero or a "
                                           "Masking layer) but neither uses nor passes one; expected a SimpleRNN, LSTM, "
                                           "GRU, Bidirectional or GlobalAveragePooling1D"),
                         xg::ValueError);
}
