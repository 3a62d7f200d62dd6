// CenterCrop and RandomCrop: the windows Keras cuts, the resize of images smaller than the
// window, RandomCrop's draws and modes, their configs and their errors.
#include "xgrad/nn/image_crop.hpp"

#include <set>
#include <utility>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

xg::Array window(const xg::Array& x, std::size_t top, std::size_t left, std::size_t h, std::size_t w) {
    return xt::view(x, xt::all(), xt::range(top, top + h), xt::range(left, left + w), xt::all());
}

}  // namespace

TEST_CASE("CenterCrop cuts the central window; an odd difference leaves the extra row and column after it") {
    const xg::Array x = xg::test::random_array({2, 7, 8, 3}, 1);
    xg::CenterCrop crop(4, 5);
    CHECK(crop.name() == "center_crop_1");
    for (bool training : {true, false}) {
        crop.train(training);
        CHECK(crop(xg::input(x)).value() == window(x, 1, 1, 4, 5));
    }
    CHECK(xg::CenterCrop(7, 8)(xg::input(x)).value() == x);
    CHECK(crop.output_shape({7, 8, 3}) == xg::Shape{4, 5, 3});
    // Smaller than the window on one axis: resized to it, as Keras does.
    xg::CenterCrop larger(10, 4);
    CHECK(larger(xg::input(x)).value() == xg::smart_resize(xg::input(x), {10, 4}).value());
}

TEST_CASE("RandomCrop cuts one window per batch at a place drawn from the seeded engine, and resizes in inference") {
    const xg::Array x = xg::test::random_array({2, 6, 5, 1}, 2);
    xg::RandomCrop crop(3, 3);
    CHECK(crop.name() == "random_crop_1");
    xg::manual_seed(7);
    std::set<std::pair<std::size_t, std::size_t>> places;
    std::vector<xg::Array> first;
    for (int i = 0; i < 200; ++i) {
        const xg::Array y = crop(xg::input(x)).value();
        REQUIRE(y.shape() == xg::Shape{2, 3, 3, 1});
        if (i < 5) first.push_back(y);
        bool found = false;
        for (std::size_t top = 0; top <= 3 && !found; ++top) {
            for (std::size_t left = 0; left <= 2 && !found; ++left) {
                if (y == window(x, top, left, 3, 3)) {
                    places.insert({top, left});
                    found = true;
                }
            }
        }
        CHECK(found);
    }
    CHECK(places.size() == 12);  // every place the window can take, 4 x 3
    xg::manual_seed(7);
    for (const xg::Array& y : first) CHECK(crop(xg::input(x)).value() == y);

    crop.eval();
    CHECK(crop(xg::input(x)).value() == xg::smart_resize(xg::input(x), {3, 3}).value());
    crop.train();
    xg::RandomCrop larger(8, 5);
    CHECK(larger(xg::input(x)).value() == xg::smart_resize(xg::input(x), {8, 5}).value());
    CHECK(crop.output_shape({6, 5, 1}) == xg::Shape{3, 3, 1});
}

TEST_CASE("the crop layers' gradient goes to the pixels of the window") {
    const xg::Tensor x = xg::parameter(xg::test::random_array({1, 4, 4, 1}, 3), "x");
    xg::CenterCrop crop(2, 2);
    xg::sum(crop(x)).backward();
    xg::Array want = xt::zeros<float>({1, 4, 4, 1});
    xt::view(want, xt::all(), xt::range(1, 3), xt::range(1, 3), xt::all()) = 1.0f;
    CHECK(x.grad() == want);
}

TEST_CASE("the crop layers' configs keep their size, and a bad size or input is refused") {
    CHECK(*xg::CenterCrop(4, 5).config() == xg::LayerConfig{{"height", "4"}, {"width", "5"}});
    CHECK(*xg::RandomCrop(2, 3, "r").config() == xg::LayerConfig{{"height", "2"}, {"width", "3"}});
    CHECK_THROWS_WITH_AS(xg::CenterCrop(0, 5), doctest::Contains("CenterCrop: height 0 and width 5"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomCrop(5, 0), doctest::Contains("RandomCrop: height 5 and width 0"), xg::ValueError);
    xg::RandomCrop crop(2, 2);
    CHECK_THROWS_AS(crop(xg::input(xg::test::random_array({4, 4}, 4))), xg::ShapeError);
    CHECK_THROWS_AS(xg::CenterCrop(2, 2).output_shape({4, 4}), xg::ShapeError);
}
