// The layer registry: built-in layers rebuilt from their config, new kinds by one entry,
// and clear errors for unknown kinds and bad settings.
#include "xgrad/nn/layer_registry.hpp"

#include <algorithm>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/dense.hpp"
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
