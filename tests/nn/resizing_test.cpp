// Resizing and smart_resize: the sizes and windows Keras gives, both interpolations, the
// gradient, the config, and the errors.
#include "xgrad/nn/resizing.hpp"

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

TEST_CASE("Resizing resizes every image to its size, in training and inference alike") {
    const xg::Array x = xg::test::random_array({3, 7, 9, 2}, 1);
    xg::Resizing layer(4, 12);
    CHECK(layer.name() == "resizing_1");
    CHECK(layer.parameters().empty());
    for (bool training : {true, false}) {
        layer.train(training);
        const xg::Array y = layer(xg::input(x)).value();
        CHECK(y.shape() == xg::Shape{3, 4, 12, 2});
        CHECK(y == xg::resize_images(xg::input(x), {4, 12}).value());
    }
    xg::Resizing nearest(14, 18, {.interpolation = xg::Interpolation::nearest});
    const xg::Array doubled = nearest(xg::input(x)).value();
    CHECK(xt::view(doubled, xt::all(), xt::range(0, 14, 2), xt::range(0, 18, 2), xt::all()) == x);
    CHECK(layer.output_shape({7, 9, 2}) == xg::Shape{4, 12, 2});
}

TEST_CASE("smart_resize cuts the centred window of the target's aspect ratio, as Keras computes it, then resizes") {
    const xg::Array x = xg::test::random_array({2, 7, 9, 3}, 2);
    // 7 x 9 to a square: all 7 rows, columns 1 to 7 (Keras: int(7 * 5 / 5) = 7 wide, int((9 - 7) / 2) = 1 in).
    const xg::Array square = xg::smart_resize(xg::input(x), {5, 5}).value();
    const xg::Array window = xt::view(x, xt::all(), xt::all(), xt::range(1, 8), xt::all());
    CHECK(square == xg::resize_images(xg::input(window), {5, 5}).value());
    // 7 x 9 to 2 x 6 (3:1): int(9 * 2 / 6) = 3 rows from row int((7 - 3) / 2) = 2, all 9 columns.
    const xg::Array wide = xg::smart_resize(xg::input(x), {2, 6}, xg::Interpolation::nearest).value();
    const xg::Array rows = xt::view(x, xt::all(), xt::range(2, 5), xt::all(), xt::all());
    CHECK(wide == xg::resize_images(xg::input(rows), {2, 6}, xg::Interpolation::nearest).value());
    // The same aspect ratio: the whole image.
    CHECK(xg::smart_resize(xg::input(x), {14, 18}).value() == xg::resize_images(xg::input(x), {14, 18}).value());

    xg::Resizing cropping(5, 5, {.crop_to_aspect_ratio = true});
    CHECK(cropping(xg::input(x)).value() == square);
}

TEST_CASE("Resizing is differentiable with respect to the images") {
    for (bool crop : {false, true}) {
        xg::Resizing layer(3, 5, {.crop_to_aspect_ratio = crop});
        const auto check = xg::gradcheck([&](const std::vector<xg::Tensor>& in) { return layer(in[0]); },
                                         {xg::test::random_array({2, 4, 4, 2}, 3)});
        CHECK_MESSAGE(check.passed, check.report());
    }
}

TEST_CASE("Resizing's config keeps every setting") {
    const xg::Resizing plain(4, 12);
    CHECK(*plain.config() == xg::LayerConfig{{"height", "4"}, {"width", "12"}, {"interpolation", "bilinear"},
                                             {"crop_to_aspect_ratio", "false"}});
    const xg::Resizing other(3, 2, {.interpolation = xg::Interpolation::nearest, .crop_to_aspect_ratio = true, .name = "r"});
    CHECK(other.name() == "r");
    CHECK(other.config()->at("interpolation") == "nearest");
    CHECK(other.config()->at("crop_to_aspect_ratio") == "true");
}

TEST_CASE("Resizing and smart_resize refuse an empty size, a bad interpolation and inputs that are not image batches") {
    CHECK_THROWS_WITH_AS(xg::Resizing(0, 3), doctest::Contains("Resizing: height 0 and width 3; expected both >= 1"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::Resizing(3, 0), xg::ValueError);
    CHECK_THROWS_AS(xg::Resizing(3, 3, {.interpolation = static_cast<xg::Interpolation>(9)}), xg::ValueError);
    xg::Resizing layer(2, 2);
    CHECK_THROWS_AS(layer(xg::input(xg::test::random_array({4, 4, 1}, 4))), xg::ShapeError);
    CHECK_THROWS_AS(layer.output_shape({4, 4}), xg::ShapeError);
    CHECK_THROWS_AS(xg::smart_resize(xg::input(xg::test::random_array({1, 4, 4, 1}, 5)), {0, 2}), xg::ValueError);
    // A 1 x 8 image holds no window of a 5:1 portrait's shape.
    CHECK_THROWS_WITH_AS(xg::smart_resize(xg::input(xg::test::random_array({1, 1, 8, 1}, 6)), {5, 1}),
                         doctest::Contains("no window of at least one pixel"), xg::ShapeError);
}
