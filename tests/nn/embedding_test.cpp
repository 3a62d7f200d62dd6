// Embedding: Keras's defaults (uniform over [-0.05, 0.05], embeddings (input_dim, output_dim)),
// shapes, config, errors naming the layer, and a text-like model that learns through it.
#include "xgrad/nn/embedding.hpp"

#include <random>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/layer_registry.hpp"
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
