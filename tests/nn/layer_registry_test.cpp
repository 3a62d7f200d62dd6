// The layer registry: built-in layers rebuilt from their config, new kinds by one entry,
// and clear errors for unknown kinds and bad settings.
#include "xgrad/nn/layer_registry.hpp"

#include <algorithm>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/conv2d_transpose.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/depthwise_conv2d.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/image_augmentation.hpp"
#include "xgrad/nn/image_crop.hpp"
#include "xgrad/nn/layer_normalization.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/rescaling.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/nn/separable_conv2d.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// y = x * factor, a layer type the library does not know.
class Scale : public xg::Module {
public:
    Scale(float factor, std::string name) : Module("Scale", std::move(name)), factor_(factor) {}
    xg::Tensor forward(const xg::Tensor& x) override { return x * factor_; }
    std::optional<xg::LayerConfig> config() const override { return xg::LayerConfig{{"factor", std::to_string(factor_)}}; }
    float factor() const { return factor_; }

private:
    float factor_;
};

}  // namespace

TEST_CASE("built-in layers are rebuilt from their config") {
    const xg::Dense original(5, 3, xg::DenseOptions{.activation = "tanh", .use_bias = false, .name = "hidden"});
    auto rebuilt = xg::make_layer("Dense", *original.config(), "hidden");
    auto* dense = dynamic_cast<xg::Dense*>(rebuilt.get());
    REQUIRE(dense != nullptr);
    CHECK(dense->name() == "hidden");
    CHECK(dense->input_dim() == 5);
    CHECK(dense->units() == 3);
    CHECK(dense->activation() == "tanh");
    CHECK_FALSE(dense->bias().defined());

    auto act = xg::make_layer("Activation", *xg::Activation("relu").config(), "act");
    CHECK(dynamic_cast<xg::Activation&>(*act).activation() == "relu");
    CHECK(xg::make_layer("Softmax", {}, "probs")->kind() == "Softmax");
    auto leaky = xg::make_layer("LeakyReLU", *xg::LeakyReLU(0.05f).config(), "leaky");
    CHECK(dynamic_cast<xg::LeakyReLU&>(*leaky).alpha() == 0.05f);
    CHECK(leaky->name() == "leaky");
    auto elu = xg::make_layer("ELU", *xg::ELU(0.7f).config(), "elu");
    CHECK(dynamic_cast<xg::ELU&>(*elu).alpha() == 0.7f);
}

TEST_CASE("the convnet layers are rebuilt from their config, every setting kept") {
    const xg::Conv2D conv(3, 8, {5, 3}, xg::Conv2DOptions{.activation = "relu", .strides = {2, 1},
                                                          .dilation_rate = {1, 2}, .padding = "same", .use_bias = false});
    const xg::MaxPooling2D max_pool({3, 3}, {.strides = {1, 2}, .padding = "same"});
    const xg::AveragePooling2D avg_pool({2, 3});
    const xg::Conv2DTranspose transposed(4, 2, {3, 2}, {.activation = "relu", .strides = {2, 2}, .padding = "same"});
    const xg::DepthwiseConv2D depthwise(4, {3, 5}, {.activation = "tanh", .strides = {1, 2}, .depth_multiplier = 3});
    const xg::SeparableConv2D separable(4, 7, {3, 3}, {.padding = "same", .depth_multiplier = 2, .use_bias = false});
    const xg::GlobalAveragePooling2D global_avg;
    const xg::GlobalMaxPooling2D global_max({.keepdims = true});
    const xg::Flatten flatten;
    const xg::Dropout dropout(0.3f);
    const xg::BatchNormalization bn(6, {.momentum = 0.9f, .epsilon = 1e-5f, .center = false});
    const xg::LayerNormalization ln(5, {.epsilon = 1e-6f, .scale = false});
    for (const xg::Module* layer : std::initializer_list<const xg::Module*>{&conv, &transposed, &depthwise, &separable,
                                                                            &max_pool, &avg_pool, &global_avg,
                                                                            &global_max, &flatten, &dropout, &bn, &ln}) {
        CAPTURE(layer->kind());
        const std::optional<xg::LayerConfig> config = layer->config();
        REQUIRE(config.has_value());
        auto rebuilt = xg::make_layer(layer->kind(), *config, "again");
        CHECK(rebuilt->kind() == layer->kind());
        CHECK(rebuilt->name() == "again");
        CHECK(rebuilt->config() == config);
        CHECK(rebuilt->parameter_count() == layer->parameter_count());
        CHECK(rebuilt->buffer_count() == layer->buffer_count());
    }
    auto c = std::dynamic_pointer_cast<xg::Conv2D>(xg::make_layer("Conv2D", *conv.config(), "c"));
    REQUIRE(c != nullptr);
    CHECK(c->kernel_size() == xg::Size2{5, 3});
    CHECK(c->strides() == xg::Size2{2, 1});
    CHECK(c->dilation_rate() == xg::Size2{1, 2});
    CHECK(c->padding() == xg::Padding::same);
    // A config saved before convolutions had a dilation has none: its taps are adjacent.
    xg::LayerConfig undilated = *conv.config();
    undilated.erase("dilation_rate");
    CHECK(std::dynamic_pointer_cast<xg::Conv2D>(xg::make_layer("Conv2D", undilated, "old"))->dilation_rate() ==
          xg::Size2{1, 1});
    CHECK(c->activation() == "relu");
    CHECK_FALSE(c->bias().defined());
    auto t = std::dynamic_pointer_cast<xg::Conv2DTranspose>(xg::make_layer("Conv2DTranspose", *transposed.config(), "t"));
    REQUIRE(t != nullptr);
    CHECK(t->kernel().shape() == xg::Shape{3, 2, 2, 4});
    CHECK(t->output_shape({5, 5, 4}) == xg::Shape{10, 10, 2});
    auto dw = std::dynamic_pointer_cast<xg::DepthwiseConv2D>(xg::make_layer("DepthwiseConv2D", *depthwise.config(), "dw"));
    REQUIRE(dw != nullptr);
    CHECK(dw->depthwise_kernel().shape() == xg::Shape{3, 5, 4, 3});
    CHECK(dw->strides() == xg::Size2{1, 2});
    auto sep = std::dynamic_pointer_cast<xg::SeparableConv2D>(xg::make_layer("SeparableConv2D", *separable.config(), "s"));
    REQUIRE(sep != nullptr);
    CHECK(sep->pointwise_kernel().shape() == xg::Shape{1, 1, 8, 7});
    CHECK_FALSE(sep->bias().defined());
    auto g = std::dynamic_pointer_cast<xg::GlobalMaxPooling2D>(xg::make_layer("GlobalMaxPooling2D", *global_max.config(), "g"));
    REQUIRE(g != nullptr);
    CHECK(g->keepdims());
    auto d = std::dynamic_pointer_cast<xg::Dropout>(xg::make_layer("Dropout", *dropout.config(), "d"));
    CHECK(d->rate() == 0.3f);
    auto b = std::dynamic_pointer_cast<xg::BatchNormalization>(xg::make_layer("BatchNormalization", *bn.config(), "b"));
    CHECK(b->momentum() == 0.9f);
    CHECK(b->epsilon() == 1e-5f);
    CHECK(b->parameter_count() == 6);  // gamma only: center = false
    auto l = std::dynamic_pointer_cast<xg::LayerNormalization>(xg::make_layer("LayerNormalization", *ln.config(), "l"));
    REQUIRE(l != nullptr);
    CHECK(l->epsilon() == 1e-6f);
    CHECK(l->normalized_shape() == xg::Shape{5});
    CHECK(l->parameter_count() == 5);  // beta only: scale = false
}

TEST_CASE("bad convnet settings are ValueErrors naming the layer and the setting") {
    xg::LayerConfig config = *xg::Conv2D(1, 2, {3, 3}).config();
    config["kernel_size"] = "3";
    CHECK_THROWS_WITH_AS(xg::make_layer("Conv2D", config, "c"), doctest::Contains("Conv2D: setting 'kernel_size' is '3'"),
                         xg::ValueError);
    config["kernel_size"] = "3,0";
    CHECK_THROWS_AS(xg::make_layer("Conv2D", config, "c"), xg::ValueError);
    config["kernel_size"] = "3,3,";
    CHECK_THROWS_AS(xg::make_layer("Conv2D", config, "c"), xg::ValueError);
    config["kernel_size"] = "3,3";
    config["dilation_rate"] = "0,1";
    CHECK_THROWS_WITH_AS(xg::make_layer("Conv2D", config, "c"),
                         doctest::Contains("Conv2D: setting 'dilation_rate' is '0,1'"), xg::ValueError);
    config["dilation_rate"] = "1,1";
    config["padding"] = "full";
    CHECK_THROWS_AS(xg::make_layer("Conv2D", config, "c"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::make_layer("Dropout", {{"rate", "half"}}, "d"),
                         doctest::Contains("Dropout: setting 'rate' is 'half'; expected a finite number"), xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("Dropout", {{"rate", "nan"}}, "d"), xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("Dropout", {{"rate", "1.5"}}, "d"), xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("BatchNormalization", {{"features", "4"}}, "b"), xg::ValueError);
    xg::LayerConfig ln = *xg::LayerNormalization(4).config();
    ln["epsilon"] = "0";
    CHECK_THROWS_WITH_AS(xg::make_layer("LayerNormalization", ln, "l"),
                         doctest::Contains("LayerNormalization: epsilon 0; expected a finite value > 0"), xg::ValueError);
}

TEST_CASE("the augmentation layers and Rescaling are rebuilt from their config, every setting kept") {
    const xg::RandomFlip flip(xg::FlipMode::vertical);
    const xg::RandomTranslation shift({-0.1f, 0.2f}, 0.3f, {.fill_mode = xg::FillMode::constant, .fill_value = 0.25f});
    const xg::RandomRotation turn(0.125f, {.fill_mode = xg::FillMode::wrap, .interpolation = xg::Interpolation::nearest});
    const xg::RandomZoom zoom(0.2f);
    const xg::RandomZoom zoom_both({-0.5f, 0.1f}, {.width_factor = xg::FactorRange{0.0f, 0.4f}, .fill_mode = xg::FillMode::nearest});
    const xg::Rescaling rescale(1.0f / 255.0f, -0.5f);
    const xg::RandomBrightness brightness({-0.1f, 0.3f}, {.value_range = {-1.0f, 1.0f}});
    const xg::RandomContrast contrast(0.2f, 0.7f);
    for (const xg::Module* layer : std::initializer_list<const xg::Module*>{&flip, &shift, &turn, &zoom, &zoom_both,
                                                                            &rescale, &brightness, &contrast}) {
        CAPTURE(layer->kind());
        const std::optional<xg::LayerConfig> config = layer->config();
        REQUIRE(config.has_value());
        auto rebuilt = xg::make_layer(layer->kind(), *config, "again");
        CHECK(rebuilt->kind() == layer->kind());
        CHECK(rebuilt->config() == config);
    }
    auto t = std::dynamic_pointer_cast<xg::RandomTranslation>(xg::make_layer("RandomTranslation", *shift.config(), "t"));
    REQUIRE(t != nullptr);
    CHECK(t->height_factor().lower == -0.1f);
    CHECK(t->width_factor().upper == 0.3f);
    CHECK(t->sampling().fill_mode == xg::FillMode::constant);
    CHECK(t->sampling().fill_value == 0.25f);
    auto r = std::dynamic_pointer_cast<xg::RandomRotation>(xg::make_layer("RandomRotation", *turn.config(), "r"));
    REQUIRE(r != nullptr);
    CHECK(r->sampling().interpolation == xg::Interpolation::nearest);
    auto z = std::dynamic_pointer_cast<xg::RandomZoom>(xg::make_layer("RandomZoom", *zoom.config(), "z"));
    REQUIRE(z != nullptr);
    CHECK_FALSE(z->width_factor().has_value());
    auto f = std::dynamic_pointer_cast<xg::RandomFlip>(xg::make_layer("RandomFlip", *flip.config(), "f"));
    REQUIRE(f != nullptr);
    CHECK(f->mode() == xg::FlipMode::vertical);
    auto s = std::dynamic_pointer_cast<xg::Rescaling>(xg::make_layer("Rescaling", *rescale.config(), "s"));
    REQUIRE(s != nullptr);
    CHECK(s->scale() == 1.0f / 255.0f);

    xg::LayerConfig bad = *turn.config();
    bad["factor"] = "0.1";  // one number, as Keras takes it
    CHECK(std::dynamic_pointer_cast<xg::RandomRotation>(xg::make_layer("RandomRotation", bad, "r"))->factor().lower == -0.1f);
    bad["factor"] = "0.1,";
    CHECK_THROWS_WITH_AS(xg::make_layer("RandomRotation", bad, "r"),
                         doctest::Contains("RandomRotation: setting 'factor' is '0.1,'; expected two numbers"), xg::ValueError);
    bad["factor"] = "nan,0.1";
    CHECK_THROWS_AS(xg::make_layer("RandomRotation", bad, "r"), xg::ValueError);
    bad["factor"] = "0.2,0.1";
    CHECK_THROWS_WITH_AS(xg::make_layer("RandomRotation", bad, "r"), doctest::Contains("factor is [0.2, 0.1]"),
                         xg::ValueError);
    bad["factor"] = "0.1,0.2";
    bad["fill_mode"] = "mirror";
    CHECK_THROWS_WITH_AS(xg::make_layer("RandomRotation", bad, "r"), doctest::Contains("fill_mode 'mirror'"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("RandomFlip", {{"mode", "sideways"}}, "f"), xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("Rescaling", {{"scale", "2"}}, "s"), xg::ValueError);
    auto b = std::dynamic_pointer_cast<xg::RandomBrightness>(xg::make_layer("RandomBrightness", *brightness.config(), "b"));
    REQUIRE(b != nullptr);
    CHECK(b->factor().upper == 0.3f);
    CHECK(b->value_range().lower == -1.0f);
    auto c = std::dynamic_pointer_cast<xg::RandomContrast>(xg::make_layer("RandomContrast", *contrast.config(), "c"));
    REQUIRE(c != nullptr);
    CHECK(c->lower() == 0.2f);
    CHECK(c->upper() == 0.7f);
    CHECK(c->value_range().upper == 255.0f);
    CHECK_THROWS_AS(xg::make_layer("RandomContrast", {{"lower", "0.2"}, {"upper", "0.1"}, {"value_range", "5,1"}}, "c"),
                    xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::make_layer("RandomBrightness", {{"factor", "0.1"}, {"value_range", "255"}}, "b"),
                         doctest::Contains("setting 'value_range' is '255'; expected two numbers"), xg::ValueError);
}

TEST_CASE("Resizing, CenterCrop and RandomCrop are rebuilt from their config, every setting kept") {
    const xg::Resizing resize(4, 6, {.interpolation = xg::Interpolation::nearest, .crop_to_aspect_ratio = true});
    const xg::CenterCrop centre(3, 2);
    const xg::RandomCrop random(5, 7);
    for (const xg::Module* layer : std::initializer_list<const xg::Module*>{&resize, &centre, &random}) {
        CAPTURE(layer->kind());
        auto rebuilt = xg::make_layer(layer->kind(), *layer->config(), "again");
        CHECK(rebuilt->kind() == layer->kind());
        CHECK(rebuilt->config() == layer->config());
    }
    auto r = std::dynamic_pointer_cast<xg::Resizing>(xg::make_layer("Resizing", *resize.config(), "r"));
    REQUIRE(r != nullptr);
    CHECK(r->size() == xg::Size2{4, 6});
    CHECK(r->interpolation() == xg::Interpolation::nearest);
    CHECK(r->crop_to_aspect_ratio());
    xg::LayerConfig bad = *resize.config();
    bad["interpolation"] = "bicubic";
    CHECK_THROWS_WITH_AS(xg::make_layer("Resizing", bad, "r"), doctest::Contains("'bicubic'"), xg::ValueError);
    bad = *resize.config();
    bad["crop_to_aspect_ratio"] = "yes";
    CHECK_THROWS_AS(xg::make_layer("Resizing", bad, "r"), xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("CenterCrop", {{"height", "0"}, {"width", "2"}}, "c"), xg::ValueError);
    CHECK_THROWS_AS(xg::make_layer("RandomCrop", {{"height", "2"}}, "c"), xg::ValueError);
}

TEST_CASE("a new layer kind is one register_layer entry") {
    xg::register_layer("Scale", [](const xg::LayerConfig& c, const std::string& name) {
        return std::make_shared<Scale>(std::stof(xg::config_text(c, "factor", "Scale")), name);
    });
    const auto kinds = xg::layer_kinds();
    CHECK(std::find(kinds.begin(), kinds.end(), "Scale") != kinds.end());
    auto layer = xg::make_layer("Scale", Scale(2.5f, "s").config().value(), "s");
    CHECK(dynamic_cast<Scale&>(*layer).factor() == 2.5f);
}

TEST_CASE("unknown kinds and bad settings are ValueErrors that say what is wrong") {
    CHECK_THROWS_WITH_AS(xg::make_layer("Conv9D", {}, "c"), doctest::Contains("unknown layer kind 'Conv9D'; expected one of Dense"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::make_layer("Dense", {{"units", "3"}}, "d"), doctest::Contains("is missing; expected it in the layer's config"),
                         xg::ValueError);
    const xg::LayerConfig bad_units = {{"input_dim", "2"}, {"units", "-1"}, {"activation", "relu"}, {"use_bias", "true"}};
    CHECK_THROWS_WITH_AS(xg::make_layer("Dense", bad_units, "d"), doctest::Contains("setting 'units' is '-1'"), xg::ValueError);
    xg::LayerConfig bad_flag = bad_units;
    bad_flag["units"] = "3";
    bad_flag["use_bias"] = "yes";
    CHECK_THROWS_AS(xg::make_layer("Dense", bad_flag, "d"), xg::ValueError);
    bad_flag["use_bias"] = "true";
    bad_flag["activation"] = "swish9";
    CHECK_THROWS_AS(xg::make_layer("Dense", bad_flag, "d"), xg::ValueError);
    CHECK_THROWS_AS(xg::register_layer("", nullptr), xg::ValueError);
}
