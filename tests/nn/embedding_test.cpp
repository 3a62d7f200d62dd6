// Embedding: Keras's defaults (uniform over [-0.05, 0.05], embeddings (input_dim, output_dim)),
// shapes, config, errors naming the layer, and a text-like model that learns through it.
#include "xgrad/nn/embedding.hpp"

#include <random>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/layer_registry.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/train/model.hpp"

TEST_CASE("Embedding has Keras's defaults: embeddings (input_dim, output_dim) uniform over [-0.05, 0.05]") {
    xg::manual_seed(5);
    xg::Embedding layer(1000, 16);
    CHECK(layer.name() == "embedding_1");
    CHECK(layer.embeddings().shape() == xg::Shape{1000, 16});
    CHECK(xt::amax(xt::abs(layer.embeddings().value()))() <= 0.05f);
    CHECK(xt::amax(xt::abs(layer.embeddings().value()))() > 0.045f);
    CHECK(layer.parameter_count() == 16000);
    CHECK(layer.output_shape({20}) == xg::Shape{20, 16});
    const xg::Tensor y = layer(xg::input(xg::Array{{3.0f, 999.0f}, {0.0f, 3.0f}}));
    REQUIRE(y.shape() == xg::Shape{2, 2, 16});
    CHECK(xt::view(y.value(), 0, 0) == xt::view(layer.embeddings().value(), 3));
    CHECK(xt::view(y.value(), 1, 1) == xt::view(layer.embeddings().value(), 3));
}

TEST_CASE("Embedding's config rebuilds it; bad settings and ids are errors naming the layer") {
    const xg::Embedding layer(50, 4, {.name = "words"});
    auto rebuilt = xg::make_layer("Embedding", *layer.config(), "words");
    auto& embedding = dynamic_cast<xg::Embedding&>(*rebuilt);
    CHECK(embedding.input_dim() == 50);
    CHECK(embedding.output_dim() == 4);
    CHECK_THROWS_WITH_AS(xg::Embedding(0, 4), "Embedding: input_dim 0 and output_dim 4; expected both > 0", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Embedding((std::size_t{1} << 24) + 1, 4),
                         "Embedding: input_dim 16777217; expected at most 16777216, the ids a float holds exactly",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Embedding(5, 4, {.embeddings_initializer = [](const xg::Shape&) { return xg::Array{1.0f}; }}),
                         "Embedding: embeddings_initializer gave (1,); expected (5, 4)", xg::ShapeError);
    xg::Embedding words(50, 4, {.name = "words"});
    CHECK_THROWS_WITH_AS(words(xg::input(xg::Array{{1.0f, 50.0f}})),
                         "words: embedding_lookup: id 50 (element 1 of ids (1, 2)); expected a whole number from 0 to 49",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(words(xg::Tensor::scalar(1.0f)), "words: ids of shape (); expected (batch, ...)", xg::ShapeError);
}

TEST_CASE("a text-like model learns through Embedding: sequences holding word 1 apart from those that do not") {
    // 64 sequences of 6 ids from a vocabulary of 10, the other words drawn at random, apart
    // from the label; label 1 where word 1 occurs.
    xg::manual_seed(6);
    std::mt19937 rng(6);
    std::uniform_int_distribution<int> filler(2, 9);
    xg::Array ids = xg::uninitialized({64, 6});
    xg::Array labels = xt::zeros<float>({64, 1});
    for (std::size_t i = 0; i < 64; ++i) {
        for (std::size_t s = 0; s < 6; ++s) ids(i, s) = static_cast<float>(filler(rng));
        if (i % 2 == 0) {
            ids(i, (i / 2) % 6) = 1.0f;
            labels(i, 0) = 1.0f;
        }
    }
    auto net = std::make_shared<xg::Sequential>();
    auto embedding = net->emplace<xg::Embedding>(10, 8);
    const xg::Array before = embedding->embeddings().value();
    net->emplace<xg::GlobalMaxPooling1D>();
    net->emplace<xg::Dense>(8, 1, "sigmoid");
    xg::Model model(net);
    model.compile("rmsprop", "binary_crossentropy", {"accuracy"});
    model.optimizer().set_learning_rate(0.01f);
    xg::FitOptions options;
    options.epochs = 40;
    options.batch_size = 16;
    options.verbose = 0;
    const xg::History history = model.fit(ids, labels, options);
    CHECK(history["accuracy"].back() == 1.0);
    CHECK(history["loss"].back() < history["loss"].front());
    // Word 1's vector moved; word 0, in no sequence, kept its own.
    const xg::Array after = embedding->embeddings().value();
    CHECK(xt::amax(xt::abs(xt::view(after, 1) - xt::view(before, 1)))() > 0.05f);
    CHECK(xt::view(after, 0) == xt::view(before, 0));
}

TEST_CASE("mask_zero: id 0 is padding, the mask marks the other ids, and its config keeps it") {
    xg::Embedding words(10, 3, {.mask_zero = true, .name = "words"});
    const xg::Array ids = {{0.0f, 0.0f, 4.0f, 2.0f}, {7.0f, 0.0f, 1.0f, 0.0f}};
    const xg::Masked out = words.call_masked(xg::input(ids));
    CHECK(out.mask.value() == xg::Array{{0.0f, 0.0f, 1.0f, 1.0f}, {1.0f, 0.0f, 1.0f, 0.0f}});
    CHECK(out.output.value() == words(xg::input(ids)).value());  // id 0 keeps a row of its own
    CHECK(words.mask_zero());
    CHECK_FALSE(xg::Embedding(10, 3).call_masked(xg::input(ids)).mask.defined());
    auto rebuilt = xg::make_layer("Embedding", *words.config(), "words");
    CHECK(dynamic_cast<xg::Embedding&>(*rebuilt).mask_zero());
    // A config written before mask_zero existed has none: false.
    auto older = xg::make_layer("Embedding", {{"input_dim", "10"}, {"output_dim", "3"}}, "words");
    CHECK_FALSE(dynamic_cast<xg::Embedding&>(*older).mask_zero());
    CHECK_THROWS_WITH_AS(words.call_masked(xg::input(xt::ones<float>({2, 3, 2}))),
                         "words: ids of shape (2, 3, 2) with mask_zero; expected (batch, steps), whose mask is "
                         "(batch, steps)",
                         xg::ShapeError);
}

TEST_CASE("Embedding(mask_zero) -> LSTM -> Dense trains with fit and predicts the same whatever the padding") {
    // 48 sequences of 2 to 6 word ids from 1 to 9, padded with 0 in front to 6 steps; label: the
    // first word is above 5.
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> word(1, 9), length(2, 6);
    xg::Array ids = xt::zeros<float>({48, 6}), labels = xt::zeros<float>({48, 1});
    for (std::size_t i = 0; i < 48; ++i) {
        const std::size_t n = static_cast<std::size_t>(length(rng));
        for (std::size_t s = 6 - n; s < 6; ++s) ids(i, s) = static_cast<float>(word(rng));
        labels(i, 0) = ids(i, 6 - n) > 5.0f ? 1.0f : 0.0f;
    }
    const auto make = [](bool mask_zero) {
        xg::manual_seed(8);
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Embedding>(10, 8, xg::EmbeddingOptions{.mask_zero = mask_zero});
        net->emplace<xg::LSTM>(8, 8);
        net->emplace<xg::Dense>(8, 1, "sigmoid");
        return net;
    };
    xg::Model model(make(true));
    model.compile("adam", "binary_crossentropy", {"accuracy"});
    xg::FitOptions options;
    options.epochs = 5;
    options.batch_size = 16;
    options.verbose = 0;
    const xg::History history = model.fit(ids, labels, options);
    CHECK(history["loss"].back() < history["loss"].front());
    // Three more steps of padding in front: the masked model reads the same words, so predicts the same.
    xg::Array longer = xt::zeros<float>({48, 9});
    xt::view(longer, xt::all(), xt::range(3, 9)) = ids;
    const xg::Array p = model.predict(ids), p_longer = model.predict(longer);
    for (std::size_t i = 0; i < p.size(); ++i) CHECK(p_longer.data()[i] == doctest::Approx(p.data()[i]).epsilon(1e-5));
    // Without the mask, the padding's vectors go through the LSTM: the predictions move.
    xg::Model unmasked(make(false));
    unmasked.compile("adam", "binary_crossentropy");
    CHECK(xt::amax(xt::abs(unmasked.predict(longer) - unmasked.predict(ids)))() > 1e-4f);
}
