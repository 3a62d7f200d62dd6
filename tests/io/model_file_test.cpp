// save_model / load_model: a Sequential travels whole, a custom module's architecture stays in
// its code, and bad files are IoErrors naming the file and the problem.
#include "xgrad/io/model_file.hpp"

#include <cmath>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "scratch_dir.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/bidirectional.hpp"
#include "xgrad/nn/conv1d.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/depthwise_conv2d.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/image_augmentation.hpp"
#include "xgrad/nn/image_crop.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/prelu.hpp"
#include "xgrad/nn/rescaling.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/nn/separable_conv2d.hpp"
#include "xgrad/train/model.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/simple_rnn.hpp"

using xg::test::ScratchDir;

namespace {

std::shared_ptr<xg::Sequential> network() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(4, 6, "relu");
    net->emplace<xg::Dense>(6, 3, xg::DenseOptions{.use_bias = false, .name = "logits"});
    net->emplace<xg::Softmax>();
    return net;
}

// A module whose architecture is its code.
class Twice : public xg::Module {
public:
    Twice() : Module("Twice") { w_ = register_parameter("w", xg::Tensor(xt::ones<float>({2}))); }
    xg::Tensor forward(const xg::Tensor& x) override { return x * w_; }

private:
    xg::Tensor w_;
};

// A built-in layer with a child its own code adds: its settings do not describe the child.
class ScaledDense : public xg::Dense {
public:
    ScaledDense() : Dense(2, 2) { scale_ = register_module(std::make_shared<Twice>()); }
    xg::Tensor forward(const xg::Tensor& x) override { return (*scale_)(Dense::forward(x)); }

private:
    std::shared_ptr<Twice> scale_;
};

}  // namespace

TEST_CASE("a saved convnet is rebuilt with its weights and BatchNormalization's moving statistics") {
    ScratchDir dir;
    const std::string path = dir / "convnet.npz";
    xg::manual_seed(9);
    auto saved = std::make_shared<xg::Sequential>("convnet");
    saved->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3}, xg::Conv2DOptions{.padding = "same"});
    saved->emplace<xg::BatchNormalization>(4);
    saved->emplace<xg::Activation>("relu");
    saved->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    saved->emplace<xg::Dropout>(0.25f);
    saved->emplace<xg::Flatten>();
    saved->emplace<xg::Dense>(3 * 3 * 4, 3, "softmax");
    // A few training steps move the moving statistics away from their initial 0 and 1.
    xg::Array x = xg::uninitialized({8, 6, 6, 1});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.7f * static_cast<float>(i));
    xg::Array y = xt::zeros<float>({8, 3});
    for (std::size_t i = 0; i < 8; ++i) y(i, i % 3) = 1.0f;
    xg::Model trainer(saved);
    trainer.compile("rmsprop", "categorical_crossentropy");
    trainer.fit(x, y, {.epochs = 3, .batch_size = 4, .verbose = 0});
    const auto* bn = dynamic_cast<const xg::BatchNormalization*>(saved->layers()[1].get());
    REQUIRE(bn != nullptr);
    CHECK(xt::amax(xt::abs(bn->moving_mean().value()))() > 0.0f);
    xg::save_model(*saved, path);

    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 7);
    for (std::size_t i = 0; i < layers.size(); ++i) {
        CHECK(layers[i]->kind() == saved->layers()[i]->kind());
        CHECK(layers[i]->name() == saved->layers()[i]->name());
        CHECK(layers[i]->config() == saved->layers()[i]->config());
    }
    const auto saved_state = saved->named_state(), loaded_state = loaded->named_state();
    REQUIRE(loaded_state.size() == saved_state.size());
    for (std::size_t i = 0; i < saved_state.size(); ++i) {
        CAPTURE(saved_state[i].first);
        CHECK(loaded_state[i].first == saved_state[i].first);
        CHECK(loaded_state[i].second.value() == saved_state[i].second.value());
    }
    CHECK(loaded->named_buffers().size() == 2);
    // Inference mode reads the moving statistics and skips dropout: the same predictions.
    xg::Model reloaded(loaded);
    CHECK(reloaded.predict(x) == trainer.predict(x));
}

TEST_CASE("a separable convnet with global pooling heads is rebuilt with its settings and predicts the same") {
    ScratchDir dir;
    const std::string path = dir / "separable.npz";
    xg::manual_seed(10);
    auto saved = std::make_shared<xg::Sequential>();
    saved->emplace<xg::SeparableConv2D>(2, 5, xg::Size2{3, 3},
                                        xg::SeparableConv2DOptions{.activation = "relu", .depth_multiplier = 2});
    saved->emplace<xg::GlobalMaxPooling2D>(xg::GlobalPooling2DOptions{.keepdims = true, .name = "peaks"});
    saved->emplace<xg::DepthwiseConv2D>(5, xg::Size2{1, 1}, xg::DepthwiseConv2DOptions{.depth_multiplier = 2});
    saved->emplace<xg::GlobalAveragePooling2D>();
    saved->emplace<xg::Dense>(10, 3, "softmax");
    // Biases away from zero, so that loading them is checked too.
    for (auto& [name, p] : saved->named_parameters()) p.mutable_value() += 0.1f;
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 5);
    CHECK(dynamic_cast<xg::SeparableConv2D&>(*layers[0]).depth_multiplier() == 2);
    CHECK(layers[1]->name() == "peaks");
    CHECK(dynamic_cast<xg::GlobalMaxPooling2D&>(*layers[1]).keepdims());
    CHECK(dynamic_cast<xg::DepthwiseConv2D&>(*layers[2]).depth_multiplier() == 2);
    CHECK(layers[3]->kind() == "GlobalAveragePooling2D");
    xg::Array x = xg::uninitialized({4, 7, 6, 2});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::cos(0.3f * static_cast<float>(i));
    CHECK(xg::Model(loaded).predict(x) == xg::Model(saved).predict(x));
}

TEST_CASE("a model with augmentation layers in front is rebuilt with their settings, and trains on with them") {
    ScratchDir dir;
    const std::string path = dir / "augmented.npz";
    xg::manual_seed(11);
    auto saved = std::make_shared<xg::Sequential>();
    saved->emplace<xg::Rescaling>(1.0f / 255.0f);
    saved->emplace<xg::RandomFlip>(xg::FlipMode::horizontal);
    saved->emplace<xg::RandomRotation>(0.1f, xg::ImageAugmentationOptions{.fill_mode = xg::FillMode::constant});
    saved->emplace<xg::RandomZoom>(0.2f, xg::RandomZoomOptions{.width_factor = 0.1f});
    saved->emplace<xg::RandomTranslation>(0.1f, 0.2f);
    saved->emplace<xg::RandomBrightness>(0.1f, xg::ImageAdjustmentOptions{.value_range = {0.0f, 1.0f}});
    saved->emplace<xg::RandomContrast>(0.2f, xg::ImageAdjustmentOptions{.value_range = {0.0f, 1.0f}});
    saved->emplace<xg::Conv2D>(1, 3, xg::Size2{3, 3}, "relu");
    saved->emplace<xg::Flatten>();
    saved->emplace<xg::Dense>(3 * 5 * 4, 2, "softmax");
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 10);
    CHECK(dynamic_cast<xg::Rescaling&>(*layers[0]).scale() == 1.0f / 255.0f);
    CHECK(dynamic_cast<xg::RandomFlip&>(*layers[1]).mode() == xg::FlipMode::horizontal);
    CHECK(dynamic_cast<xg::RandomRotation&>(*layers[2]).sampling().fill_mode == xg::FillMode::constant);
    CHECK(dynamic_cast<xg::RandomZoom&>(*layers[3]).width_factor()->upper == 0.1f);
    CHECK(dynamic_cast<xg::RandomTranslation&>(*layers[4]).width_factor().lower == -0.2f);
    CHECK(dynamic_cast<xg::RandomBrightness&>(*layers[5]).value_range().upper == 1.0f);
    CHECK(dynamic_cast<xg::RandomContrast&>(*layers[6]).lower() == 0.2f);
    xg::Array x = xg::uninitialized({4, 7, 6, 1});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 127.5f + 127.5f * std::cos(0.3f * static_cast<float>(i));
    // Inference leaves the images as they are, so both predict the same.
    CHECK(xg::Model(loaded).predict(x) == xg::Model(saved).predict(x));
    // Training draws from the same engine: the same seed, the same augmented batch.
    loaded->train();
    saved->train();
    xg::manual_seed(5);
    const xg::Array a = (*loaded)(xg::input(x)).value();
    xg::manual_seed(5);
    CHECK((*saved)(xg::input(x)).value() == a);
}

TEST_CASE("a model that resizes and crops its images is rebuilt with its sizes") {
    ScratchDir dir;
    const std::string path = dir / "resized.npz";
    xg::manual_seed(12);
    auto saved = std::make_shared<xg::Sequential>();
    saved->emplace<xg::Resizing>(12, 10, xg::ResizingOptions{.crop_to_aspect_ratio = true});
    saved->emplace<xg::RandomCrop>(10, 9);
    saved->emplace<xg::CenterCrop>(8, 8);
    saved->emplace<xg::Conv2D>(1, 2, xg::Size2{3, 3}, "relu");
    saved->emplace<xg::Flatten>();
    saved->emplace<xg::Dense>(6 * 6 * 2, 2, "softmax");
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 6);
    CHECK(dynamic_cast<xg::Resizing&>(*layers[0]).crop_to_aspect_ratio());
    CHECK(dynamic_cast<xg::RandomCrop&>(*layers[1]).size() == xg::Size2{10, 9});
    CHECK(dynamic_cast<xg::CenterCrop&>(*layers[2]).size() == xg::Size2{8, 8});
    xg::Array x = xg::uninitialized({3, 15, 20, 1});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.7f * static_cast<float>(i));
    CHECK(xg::Model(loaded).predict(x) == xg::Model(saved).predict(x));
}

TEST_CASE("a model with ReLU and PReLU layers is rebuilt with their settings and PReLU's learned slopes") {
    ScratchDir dir;
    const std::string path = dir / "slopes.npz";
    xg::manual_seed(13);
    auto saved = std::make_shared<xg::Sequential>();
    saved->emplace<xg::Conv2D>(1, 3, xg::Size2{3, 3});
    auto prelu = saved->emplace<xg::PReLU>(xg::Shape{4, 4, 3}, xg::PReLUOptions{.shared_axes = {1, 2}});
    saved->emplace<xg::ReLU>(2.0f, 0.1f, 0.25f);
    xg::Tensor(prelu->alpha()).mutable_value() = xg::Array{{{0.3f, -0.2f, 0.7f}}};
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 3);
    CHECK(dynamic_cast<xg::PReLU&>(*layers[1]).alpha().value() == prelu->alpha().value());
    CHECK(dynamic_cast<xg::PReLU&>(*layers[1]).shared_axes() == std::vector<std::size_t>{1, 2});
    auto& relu = dynamic_cast<xg::ReLU&>(*layers[2]);
    CHECK(relu.max_value() == 2.0f);
    CHECK(relu.negative_slope() == 0.1f);
    CHECK(relu.threshold() == 0.25f);
    xg::Array x = xg::uninitialized({2, 6, 6, 1});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.9f * static_cast<float>(i));
    CHECK(xg::Model(loaded).predict(x) == xg::Model(saved).predict(x));
}

TEST_CASE("a sequence model (Conv1D, the 1-D poolings) is rebuilt with its settings and weights") {
    ScratchDir dir;
    const std::string path = dir / "sequence.npz";
    xg::manual_seed(14);
    auto saved = std::make_shared<xg::Sequential>();
    saved->emplace<xg::Conv1D>(2, 4, 3, xg::Conv1DOptions{.activation = "relu", .dilation_rate = 2, .padding = "causal"});
    saved->emplace<xg::MaxPooling1D>(2, xg::Pooling1DOptions{.padding = "same"});
    saved->emplace<xg::Conv1D>(4, 3, 2, xg::Conv1DOptions{.strides = 2});
    saved->emplace<xg::GlobalAveragePooling1D>(xg::GlobalPooling1DOptions{.keepdims = true});
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 4);
    CHECK(dynamic_cast<xg::Conv1D&>(*layers[0]).padding() == "causal");
    CHECK(dynamic_cast<xg::Conv1D&>(*layers[0]).dilation_rate() == 2);
    CHECK(dynamic_cast<xg::GlobalAveragePooling1D&>(*layers[3]).keepdims());
    xg::Array x = xg::uninitialized({3, 11, 2});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.4f * static_cast<float>(i));
    CHECK(xg::Model(loaded).predict(x) == xg::Model(saved).predict(x));
}

TEST_CASE("a text model (Embedding, LSTM, GRU, a Bidirectional SimpleRNN) is rebuilt with its settings and weights") {
    ScratchDir dir;
    const std::string path = dir / "text.npz";
    xg::manual_seed(15);
    auto saved = std::make_shared<xg::Sequential>();
    saved->emplace<xg::Embedding>(20, 4);
    saved->emplace<xg::LSTM>(4, 5, xg::LSTMOptions{.return_sequences = true, .recurrent_dropout = 0.2f});
    saved->emplace<xg::GRU>(5, 3, xg::GRUOptions{.recurrent_activation = "hard_sigmoid", .return_sequences = true,
                                                 .go_backwards = true, .bias_initializer = xg::initializers::ones});
    saved->emplace<xg::Bidirectional>(
        std::make_shared<xg::SimpleRNN>(3, 2, xg::SimpleRNNOptions{.activation = "relu", .use_bias = false}),
        xg::BidirectionalOptions{.merge_mode = "ave"});
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 4);
    CHECK(dynamic_cast<xg::Bidirectional&>(*layers[3]).merge_mode() == "ave");
    CHECK(dynamic_cast<xg::LSTM&>(*layers[1]).settings().recurrent_dropout == 0.2f);
    CHECK(dynamic_cast<xg::GRU&>(*layers[2]).recurrent_activation() == "hard_sigmoid");
    CHECK(dynamic_cast<xg::GRU&>(*layers[2]).settings().go_backwards);
    CHECK_FALSE(dynamic_cast<xg::Bidirectional&>(*layers[3]).backward_layer().bias().defined());
    xg::Array ids = xg::uninitialized({3, 6});
    for (std::size_t i = 0; i < ids.size(); ++i) ids.data()[i] = static_cast<float>((i * 7) % 20);
    CHECK(xg::Model(loaded).predict(ids) == xg::Model(saved).predict(ids));
}

TEST_CASE("a Bidirectional with one half frozen keeps both flags") {
    ScratchDir dir;
    const std::string path = dir / "half.npz";
    xg::manual_seed(16);
    auto saved = std::make_shared<xg::Sequential>();
    auto both = saved->emplace<xg::Bidirectional>(std::make_shared<xg::LSTM>(3, 2));
    both->forward_layer().set_trainable(false);
    xg::save_model(*saved, path);
    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    auto& rebuilt = dynamic_cast<xg::Bidirectional&>(*dynamic_cast<xg::Sequential&>(*loaded).layers()[0]);
    CHECK(rebuilt.trainable());
    CHECK_FALSE(rebuilt.forward_layer().trainable());
    CHECK(rebuilt.backward_layer().trainable());
    CHECK(loaded->trainable_parameters().size() == saved->trainable_parameters().size());

    // A flag for a layer it does not have, or not a boolean, is an IoError naming it.
    auto manifest = nlohmann::json::parse(xg::read_manifest(path));
    auto& flags = manifest["metadata"]["model"]["architecture"]["layers"][0]["trainable_children"];
    REQUIRE(flags == nlohmann::json{{"forward_lstm_1", false}});
    flags = {{"forward_lstm_1", "no"}};
    xg::save_weights(*saved, dir / "bad.npz", manifest["metadata"].dump());
    CHECK_THROWS_WITH_AS(xg::load_model(dir / "bad.npz"),
                         doctest::Contains("'trainable_children' of 'bidirectional_1' gives \"no\" for 'forward_lstm_1'"),
                         xg::IoError);
    xg::save_weights(*saved, dir / "bad.npz",
                     nlohmann::json{{"model", {{"format", "xgrad-model"}, {"version", 1},
                                               {"architecture", {{"kind", "Sequential"}, {"name", "s"}, {"layers", nlohmann::json::array()},
                                                                 {"trainable_children", {{"a", false}}}}}}}}
                         .dump());
    CHECK_THROWS_WITH_AS(xg::load_model(dir / "bad.npz"), doctest::Contains("Sequential 's' has 'trainable_children'"),
                         xg::IoError);
    flags = {{"sideways_lstm_1", false}};
    xg::save_weights(*saved, dir / "bad.npz", manifest["metadata"].dump());
    CHECK_THROWS_WITH_AS(xg::load_model(dir / "bad.npz"), doctest::Contains("false for 'sideways_lstm_1'"), xg::IoError);
}

TEST_CASE("a saved Sequential is rebuilt with its weights by a program that never built it") {
    ScratchDir dir;
    const std::string path = dir / "model.npz";
    xg::manual_seed(5);
    auto saved = network();
    xg::save_model(*saved, path);

    std::shared_ptr<xg::Module> loaded = xg::load_model(path);
    CHECK(loaded->kind() == "Sequential");
    CHECK(loaded->name() == saved->name());
    const auto& layers = dynamic_cast<xg::Sequential&>(*loaded).layers();
    REQUIRE(layers.size() == 3);
    CHECK(layers[0]->name() == "dense_1");
    CHECK(layers[1]->name() == "logits");
    CHECK(layers[2]->kind() == "Softmax");
    const xg::Array x = {{0.5f, -1.0f, 2.0f, 0.0f}, {1.0f, 1.0f, -0.5f, 3.0f}};
    xg::NoGradGuard no_grad;
    CHECK((*loaded)(xg::input(x)).value() == (*saved)(xg::input(x)).value());
    // The weights are where np.load finds a save_weights file's.
    xg::manual_seed(6);
    auto other = network();
    xg::load_weights(*other, path);
    CHECK((*other)(xg::input(x)).value() == (*saved)(xg::input(x)).value());
}

TEST_CASE("frozen layers stay frozen through save_model and load_model, nested ones too") {
    ScratchDir dir;
    const std::string path = dir / "frozen.npz";
    auto inner = std::make_shared<xg::Sequential>("base");
    inner->emplace<xg::Dense>(4, 6, "relu");
    inner->emplace<xg::Dense>(6, 6, "relu");
    xg::Sequential saved("model");
    saved.add(inner);
    saved.emplace<xg::Dense>(6, 3, "softmax");
    inner->set_trainable(false);
    inner->layers().at(1)->set_trainable(true);  // the base's top is fine-tuned
    xg::save_model(saved, path);
    const auto manifest = nlohmann::json::parse(xg::read_manifest(path));
    const auto& arch = manifest["metadata"]["model"]["architecture"];
    CHECK_FALSE(arch.contains("trainable"));  // written only where it differs from the parent
    CHECK(arch["layers"][0]["trainable"] == false);
    CHECK(arch["layers"][0]["layers"][1]["trainable"] == true);
    CHECK_FALSE(arch["layers"][1].contains("trainable"));

    auto loaded = xg::load_model(path);
    std::vector<std::string> trainable;
    for (const auto& [path, t] : loaded->named_parameters()) {
        if (t.requires_grad()) trainable.push_back(path);
    }
    CHECK(trainable == std::vector<std::string>{"base/dense_2/kernel", "base/dense_2/bias", "dense_1/kernel", "dense_1/bias"});
    const auto& base = *dynamic_cast<xg::Sequential&>(*loaded).layers().at(0);
    CHECK_FALSE(base.trainable());
    CHECK(base.children().at(1)->trainable());

    // A flag that is not a boolean is an IoError naming it.
    auto net = network();
    const nlohmann::json model = {{"format", "xgrad-model"}, {"version", 1}, {"architecture", nlohmann::json::parse(R"(
        {"kind": "Sequential", "name": "s", "trainable": "no", "layers": []})")}};
    xg::save_weights(*net, dir / "bad.npz", nlohmann::json{{"model", model}}.dump());
    CHECK_THROWS_WITH_AS(xg::load_model(dir / "bad.npz"), doctest::Contains("'trainable' of 's' is \"no\"; expected true or false"),
                         xg::IoError);
}

TEST_CASE("a custom module saves its weights and says its architecture lives in code") {
    ScratchDir dir;
    const std::string path = dir / "custom.npz";
    Twice twice;
    xg::save_model(twice, path);
    const auto manifest = nlohmann::json::parse(xg::read_manifest(path));
    CHECK(manifest["metadata"]["model"]["architecture"] == "code");
    CHECK_THROWS_WITH_AS(xg::load_model(path), doctest::Contains("keeps its architecture in its code"), xg::IoError);
    Twice again;
    xg::load_weights(again, path);

    // A layer with settings but a child of its code's is code as well.
    ScaledDense scaled;
    xg::save_model(scaled, path);
    CHECK(nlohmann::json::parse(xg::read_manifest(path))["metadata"]["model"]["architecture"] == "code");

    // A Sequential holding such a module is the same.
    xg::Sequential seq("holder");
    seq.add(std::make_shared<Twice>());
    xg::save_model(seq, path);
    CHECK_THROWS_WITH_AS(xg::load_model(path), doctest::Contains("Sequential 'holder' keeps its architecture"), xg::IoError);
}

TEST_CASE("load_model names the file and the problem") {
    ScratchDir dir;
    const std::string weights_only = dir / "weights.npz";
    auto net = network();
    xg::save_weights(*net, weights_only);
    CHECK_THROWS_WITH_AS(xg::load_model(weights_only), doctest::Contains((weights_only + ": holds weights but no model").c_str()),
                         xg::IoError);
    CHECK_THROWS_WITH_AS(xg::load_model(dir / "missing.npz"), doctest::Contains(("load_model: " + dir / "missing.npz").c_str()),
                         xg::IoError);
    // An archive as np.savez writes it, without a manifest, holds no model either.
    const std::string plain = dir / "plain.npz";
    const xg::Array bias{0.5f, -1.0f};
    xg::write_npz(plain, {{"out/bias", &bias}});
    CHECK_THROWS_WITH_AS(xg::load_model(plain), doctest::Contains((plain + ": holds weights but no model").c_str()),
                         xg::IoError);

    auto with_architecture = [&](const char* arch, const std::string& name) {
        const std::string path = dir / name;
        const nlohmann::json model = {{"format", "xgrad-model"}, {"version", 1}, {"architecture", nlohmann::json::parse(arch)}};
        xg::save_weights(*net, path, nlohmann::json{{"model", model}}.dump());
        return path;
    };
    const std::string unknown = with_architecture(
        R"({"kind": "Sequential", "name": "s", "layers": [{"kind": "Conv9D", "name": "c", "config": {}}]})", "unknown.npz");
    CHECK_THROWS_WITH_AS(xg::load_model(unknown), doctest::Contains("unknown.npz: architecture layer 0 ('c'): make_layer: unknown layer kind 'Conv9D'"),
                         xg::IoError);
    const std::string no_layers = with_architecture(R"({"kind": "Sequential", "name": "s"})", "no_layers.npz");
    CHECK_THROWS_WITH_AS(xg::load_model(no_layers), doctest::Contains("has no list of layers"), xg::IoError);
    const std::string bad_setting = with_architecture(
        R"({"kind": "Sequential", "name": "s", "layers": [{"kind": "Dense", "name": "d", "config":
            {"input_dim": "x", "units": "3", "activation": "relu", "use_bias": "true"}}]})", "bad_setting.npz");
    CHECK_THROWS_WITH_AS(xg::load_model(bad_setting), doctest::Contains("setting 'input_dim' is 'x'"), xg::IoError);
    // An architecture that does not fit the weights.
    const std::string mismatch = with_architecture(
        R"({"kind": "Sequential", "name": "s", "layers": [{"kind": "Dense", "name": "dense_1", "config":
            {"input_dim": "4", "units": "5", "activation": "relu", "use_bias": "true"}}]})", "mismatch.npz");
    CHECK_THROWS_WITH_AS(xg::load_model(mismatch), doctest::Contains("mismatch.npz"), xg::IoError);
    // A model record without an architecture.
    const std::string no_architecture = dir / "no_architecture.npz";
    xg::save_weights(*net, no_architecture,
                     nlohmann::json{{"model", {{"format", "xgrad-model"}, {"version", 1}}}}.dump());
    CHECK_THROWS_WITH_AS(xg::load_model(no_architecture),
                         doctest::Contains("no_architecture.npz: the model record has no architecture"), xg::IoError);
}

TEST_CASE("load_model refuses a layer size larger than the file's weights before it allocates") {
    ScratchDir dir;
    auto net = network();  // 48 values in all
    auto with_layer = [&](const std::string& layer, const std::string& name) {
        const std::string path = dir / name;
        const nlohmann::json arch = {{"kind", "Sequential"}, {"name", "s"}, {"layers", {nlohmann::json::parse(layer)}}};
        const nlohmann::json model = {{"format", "xgrad-model"}, {"version", 1}, {"architecture", arch}};
        xg::save_weights(*net, path, nlohmann::json{{"model", model}}.dump());
        return path;
    };
    struct Case {
        const char* file;
        const char* layer;
        const char* expected;
    };
    const Case cases[] = {
        // 4e18 bytes: without the bound, an allocation the machine cannot make.
        {"huge.npz",
         R"({"kind": "Dense", "name": "d", "config":
             {"input_dim": "1000000000", "units": "1000000000", "activation": "relu", "use_bias": "true"}})",
         "huge.npz: architecture layer 0 ('d'): initializer: shape (1000000000, 1000000000) is 1000000000000000000 "
         "values, more than the 48 left of the 48 allowed"},
        // 2^32 x 2^32 values is 2^64, a count that wraps to zero in 64 bits.
        {"wraps.npz",
         R"({"kind": "Dense", "name": "d", "config":
             {"input_dim": "4294967296", "units": "4294967296", "activation": "relu", "use_bias": "false"}})",
         "initializer: shape (4294967296, 4294967296) has more elements than an array can hold"},
        {"wide.npz",
         R"({"kind": "LayerNormalization", "name": "n", "config":
             {"normalized_shape": "9999,9999", "epsilon": "0.001", "center": "true", "scale": "true"}})",
         "wide.npz: architecture layer 0 ('n'): initializer"},
        // A normalization without scale makes its fixed gamma when it runs, not when it is built:
        // the moving statistics are what the budget refuses.
        {"fixed_gamma.npz",
         R"({"kind": "BatchNormalization", "name": "b", "config": {"features": "1152921504606846976",
             "momentum": "0.99", "epsilon": "0.001", "center": "false", "scale": "false"}})",
         "(1152921504606846976,) is 1152921504606846976 values, more than the 48"},
        {"no_state.npz",
         R"({"kind": "LayerNormalization", "name": "n", "config":
             {"normalized_shape": "50000,50000", "epsilon": "0.001", "center": "false", "scale": "false"}})",
         "that the model does not; expected exactly the model's parameters"},
        // An architecture one unit wider than its weights says how many values the file has.
        {"wider.npz",
         R"({"kind": "Dense", "name": "d", "config":
             {"input_dim": "7", "units": "7", "activation": "relu", "use_bias": "true"}})",
         "(7, 7) is 49 values, more than the 48 left of the 48"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.file);
        CHECK_THROWS_WITH_AS(xg::load_model(with_layer(c.layer, c.file)), doctest::Contains(c.expected), xg::IoError);
    }
    // Layer names that meet in a path ("d/x" beside "d" holding "x") are refused, not filled from one array.
    const std::string path_names = dir / "path_names.npz";
    {
        const nlohmann::json dense = {{"input_dim", "2"}, {"units", "2"}, {"activation", "linear"}, {"use_bias", "false"}};
        const nlohmann::json arch = {
            {"kind", "Sequential"},
            {"name", "s"},
            {"layers",
             {{{"kind", "Sequential"}, {"name", "d"}, {"layers", {{{"kind", "Dense"}, {"name", "x"}, {"config", dense}}}}},
              {{"kind", "Dense"}, {"name", "d/x"}, {"config", dense}}}}};
        const nlohmann::json model = {{"format", "xgrad-model"}, {"version", 1}, {"architecture", arch}};
        const xg::Tensor kernel(xg::Array(xt::ones<float>({2, 2})));
        const xg::Tensor other(xg::Array(xt::ones<float>({2, 2})));
        xg::save_weights(xg::NamedTensors{{"d/x/kernel", kernel}, {"spare", other}}, path_names,
                         nlohmann::json{{"model", model}}.dump());
    }
    CHECK_THROWS_WITH_AS(xg::load_model(path_names), doctest::Contains("two tensors named 'd/x/kernel'"), xg::IoError);
    // The bound is the file's own count: a model of exactly its size still loads.
    const std::string fits = dir / "fits.npz";
    xg::save_model(*net, fits);
    CHECK(xg::load_model(fits)->named_state().size() == net->named_state().size());
}
