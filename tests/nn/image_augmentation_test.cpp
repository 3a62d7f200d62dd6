// RandomFlip, RandomTranslation, RandomRotation, RandomZoom, RandomBrightness, RandomContrast:
// inference passes images through;
// training moves each image by its own draw (exact where the range is one value), the draws
// follow the seed, gradients reach the images, and bad settings or inputs are clear errors.
#include "xgrad/nn/image_augmentation.hpp"

#include <cmath>
#include <set>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

namespace {

using xg::FillMode;
using xg::FlipMode;

// Image i of x, as an (H, W, C) array.
xg::Array image(const xg::Array& x, std::size_t i) { return xt::view(x, i, xt::all(), xt::all(), xt::all()); }

xg::Array flipped(const xg::Array& img, bool left_right, bool up_down) {
    xg::Array out = img;
    const std::size_t h = img.shape(0), w = img.shape(1);
    for (std::size_t r = 0; r < h; ++r)
        for (std::size_t c = 0; c < w; ++c)
            for (std::size_t k = 0; k < img.shape(2); ++k)
                out(r, c, k) = img(up_down ? h - 1 - r : r, left_right ? w - 1 - c : c, k);
    return out;
}

}  // namespace

TEST_CASE("the random image layers pass images through in inference mode and keep the shape") {
    const xg::Array x = xg::test::random_array({8, 6, 5, 2}, 1);  // 8 images: all left unflipped has probability 4^-8
    std::vector<std::shared_ptr<xg::Module>> layers = {
        std::make_shared<xg::RandomFlip>(), std::make_shared<xg::RandomTranslation>(0.2f, 0.3f),
        std::make_shared<xg::RandomRotation>(0.1f), std::make_shared<xg::RandomZoom>(0.2f)};
    for (auto& layer : layers) {
        CAPTURE(layer->kind());
        CHECK(layer->parameters().empty());
        CHECK(layer->output_shape({6, 5, 2}) == xg::Shape{6, 5, 2});
        layer->eval();
        CHECK((*layer)(xg::input(x)).value() == x);
        layer->train();
        const xg::Tensor y = (*layer)(xg::input(x));
        CHECK(y.shape() == x.shape());
        CHECK(y.value() != x);
    }
    CHECK(layers[0]->name() == "random_flip_1");
    CHECK(layers[3]->name() == "random_zoom_1");
    xg::Tape::current().clear();
}

TEST_CASE("RandomFlip mirrors each image along the axes its mode names, each with probability 1/2") {
    xg::manual_seed(3);
    const xg::Array x = xt::broadcast(xg::test::random_array({1, 4, 5, 1}, 2), {64, 4, 5, 1});
    const xg::Array one = image(x, 0);
    for (FlipMode mode : {FlipMode::horizontal, FlipMode::vertical, FlipMode::horizontal_and_vertical}) {
        CAPTURE(xg::flip_mode_name(mode));
        xg::RandomFlip flip(mode);
        const xg::Array y = flip(xg::input(x)).value();
        std::multiset<int> seen;
        for (std::size_t i = 0; i < 64; ++i) {
            int variant = -1;
            for (int v = 0; v < 4; ++v) {
                const bool lr = v & 1, ud = v & 2;
                if ((lr && mode == FlipMode::vertical) || (ud && mode == FlipMode::horizontal)) continue;
                if (image(y, i) == flipped(one, lr, ud)) variant = v;
            }
            REQUIRE(variant >= 0);
            seen.insert(variant);
        }
        // 64 images: each allowed variant turns up (a miss has probability below 1e-8).
        const std::size_t variants = mode == FlipMode::horizontal_and_vertical ? 4 : 2;
        for (int v = 0; v < 4; ++v) {
            const bool allowed = mode == FlipMode::horizontal_and_vertical || v == 0 ||
                                 v == (mode == FlipMode::horizontal ? 1 : 2);
            CHECK((seen.count(v) > 0) == allowed);
        }
        CHECK(std::set<int>(seen.begin(), seen.end()).size() == variants);
    }
    CHECK(xg::parse_flip_mode("vertical") == FlipMode::vertical);
    CHECK_THROWS_WITH_AS(xg::parse_flip_mode("diagonal"), doctest::Contains("RandomFlip: mode 'diagonal'"), xg::ValueError);
}

TEST_CASE("a range of one value moves every image by exactly that much") {
    const xg::Array x = xg::test::random_array({2, 8, 5, 3}, 3);
    const xg::ImageAugmentationOptions constant{.fill_mode = FillMode::constant, .fill_value = -9.0f};
    // Down by 1/4 of 8 rows, left by 2/5 of 5 columns.
    xg::RandomTranslation shift({0.25f, 0.25f}, {-0.4f, -0.4f}, constant);
    const xg::Array y = shift(xg::input(x)).value();
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t r = 0; r < 8; ++r)
            for (std::size_t c = 0; c < 5; ++c)
                for (std::size_t k = 0; k < 3; ++k) {
                    const bool outside = r < 2 || c + 2 >= 5;
                    CHECK(y(n, r, c, k) == doctest::Approx(outside ? -9.0f : x(n, r - 2, c + 2, k)));
                }
    // A quarter turn counter-clockwise of a square image: row r shows column W - 1 - r.
    const xg::Array square = xg::test::random_array({2, 5, 5, 1}, 4);
    xg::RandomRotation turn({0.25f, 0.25f});
    const xg::Array t = turn(xg::input(square)).value();
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t r = 0; r < 5; ++r)
            for (std::size_t c = 0; c < 5; ++c) CHECK(t(n, r, c, 0) == doctest::Approx(square(n, c, 4 - r, 0)).epsilon(1e-5));
    // Zoomed out to half size in height only: row r reads row 2 r - 2; rows 0 and 4 are the fill.
    xg::RandomZoom zoom({1.0f, 1.0f}, {.width_factor = xg::FactorRange{0.0f, 0.0f}, .fill_mode = FillMode::constant,
                                       .fill_value = -9.0f});
    const xg::Array z = zoom(xg::input(square)).value();
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t r = 0; r < 5; ++r)
            for (std::size_t c = 0; c < 5; ++c) {
                const bool outside = r == 0 || r == 4;
                CHECK(z(n, r, c, 0) == doctest::Approx(outside ? -9.0f : square(n, 2 * r - 2, c, 0)));
            }
    // Without width_factor the width takes the height's zoom: half size both ways.
    xg::RandomZoom both({1.0f, 1.0f}, {.fill_mode = FillMode::constant, .fill_value = -9.0f});
    const xg::Array b = both(xg::input(square)).value();
    CHECK(b(0, 2, 2, 0) == doctest::Approx(square(0, 2, 2, 0)));
    CHECK(b(0, 1, 1, 0) == doctest::Approx(square(0, 0, 0, 0)));
    CHECK(b(0, 2, 0, 0) == doctest::Approx(-9.0f));
}

TEST_CASE("each image gets its own draw, and a seed repeats the draws") {
    const xg::Array x = xt::broadcast(xg::test::random_array({1, 7, 7, 1}, 5), {8, 7, 7, 1});
    xg::RandomRotation turn(0.2f);
    xg::manual_seed(11);
    const xg::Array first = turn(xg::input(x)).value();
    xg::manual_seed(11);
    const xg::Array again = turn(xg::input(x)).value();
    const xg::Array other = turn(xg::input(x)).value();
    CHECK(first == again);
    CHECK(first != other);
    for (std::size_t i = 1; i < 8; ++i) CHECK(image(first, i) != image(first, 0));
}

TEST_CASE("a rotation's angles stay within the factor's range") {
    // One bright pixel away from the centre: its image after a turn by a lies at angle a from where it was.
    const std::size_t size = 41, n = 200;
    xg::Array x = xt::zeros<float>({n, size, size, std::size_t(1)});
    for (std::size_t i = 0; i < n; ++i) x(i, 20, 35, 0) = 1.0f;  // 15 pixels right of the centre
    xg::manual_seed(2);
    xg::RandomRotation turn({-0.05f, 0.1f}, {.interpolation = xg::Interpolation::nearest});
    const xg::Array y = turn(xg::input(x)).value();
    double lowest = 1, highest = -1;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t r = 0; r < size; ++r)
            for (std::size_t c = 0; c < size; ++c) {
                if (y(i, r, c, 0) != 1.0f) continue;
                // Counter-clockwise on the screen, where rows grow downwards: the angle of (c - 20, 20 - r).
                const double turns = std::atan2(20.0 - double(r), double(c) - 20.0) / (2 * M_PI);
                lowest = std::min(lowest, turns);
                highest = std::max(highest, turns);
            }
    }
    // Pixels are 1/15 radian apart at that radius (0.011 of a turn): the extremes are near the bounds.
    CHECK(lowest >= -0.05 - 0.012);
    CHECK(lowest <= -0.05 + 0.02);
    CHECK(highest <= 0.1 + 0.012);
    CHECK(highest >= 0.1 - 0.02);
}

TEST_CASE("gradients reach the images through a random layer in training mode") {
    const xg::Tensor x = xg::parameter(xg::test::random_array({2, 6, 6, 2}, 6), "x");
    xg::RandomZoom zoom({-0.3f, 0.3f});
    xg::sum(zoom(x)).backward();
    REQUIRE(x.has_grad());
    CHECK(x.grad().shape() == x.shape());
    // Each output value's weights sum to 1 and none reads the fill (reflect): the gradient sums to the output size.
    CHECK(xt::sum(x.grad())() == doctest::Approx(2.0 * 6 * 6 * 2).epsilon(1e-5));
}

TEST_CASE("bad factors, fill values and inputs are errors naming the layer") {
    CHECK_THROWS_WITH_AS(xg::RandomRotation({0.2f, 0.1f}), doctest::Contains("RandomRotation: factor is [0.2, 0.1]"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomRotation(-0.1f), doctest::Contains("one number f means [-f, f], so f >= 0"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::RandomRotation(std::nanf("")), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomTranslation(1.5f, 0.1f),
                         doctest::Contains("RandomTranslation: height_factor is [-1.5, 1.5]; expected bounds within [-1, 1]"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomTranslation(0.1f, {0.3f, 0.2f}), doctest::Contains("width_factor is [0.3, 0.2]"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomZoom({-1.5f, 0.0f}),
                         doctest::Contains("RandomZoom: height_factor is [-1.5, 0]; expected bounds within [-1, 1]"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::RandomZoom({0.0f, 3e38f}), xg::ValueError);  // Keras's bound: a zoom of at most 2
    CHECK_THROWS_AS(xg::RandomZoom(0.1f, {.width_factor = xg::FactorRange{-2.0f, 0.0f}}), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomZoom(0.1f, {.fill_value = INFINITY}),
                         doctest::Contains("RandomZoom: fill_value is inf"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomRotation(0.1f, {.fill_mode = static_cast<FillMode>(9)}),
                         doctest::Contains("RandomRotation: fill mode 9"), xg::ValueError);
    CHECK_THROWS_AS(xg::RandomZoom(0.1f, {.interpolation = static_cast<xg::Interpolation>(4)}), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomFlip(static_cast<FlipMode>(3)), doctest::Contains("RandomFlip: mode 3"),
                         xg::ValueError);
    xg::RandomRotation turn(0.1f);
    for (bool training : {true, false}) {
        turn.train(training);
        CHECK_THROWS_WITH_AS(turn(xg::input(xt::zeros<float>({4, 4, 1}))),
                             doctest::Contains("random_rotation_"), xg::ShapeError);
    }
    CHECK_THROWS_WITH_AS(turn.output_shape({28, 28}), doctest::Contains("expected (height, width, channels)"),
                         xg::ShapeError);
}

TEST_CASE("RandomBrightness adds one delta per image, a fraction of the value range, and clips to it") {
    xg::Array x = xg::test::random_array({64, 3, 4, 2}, 7, 0.0f, 1.0f);
    xg::RandomBrightness fixed(xg::FactorRange{0.25f, 0.25f}, {.value_range = {0.0f, 2.0f}});
    CHECK(fixed.name() == "random_brightness_1");
    const xg::Array y = fixed(xg::input(x)).value();
    CHECK(y == xt::clip(x + 0.5f, 0.0f, 2.0f));  // a quarter of the span, 2
    xg::RandomBrightness brightness(0.2f);  // +-51 on 0..255
    xg::manual_seed(3);
    const xg::Array big = 100.0f + x;
    const xg::Array z = brightness(xg::input(big)).value();
    std::set<float> deltas;
    for (std::size_t i = 0; i < 64; ++i) {
        const xg::Array d = image(z, i) - image(big, i);
        CHECK(xt::amax(d)() - xt::amin(d)() <= 1e-4f);  // one delta for the whole image
        CHECK(std::abs(d(0, 0, 0)) <= 51.0f);
        deltas.insert(d(0, 0, 0));
    }
    CHECK(deltas.size() == 64);  // each image its own
    CHECK(*deltas.begin() < -25.0f);
    CHECK(*deltas.rbegin() > 25.0f);
    xg::manual_seed(3);
    CHECK(brightness(xg::input(big)).value() == z);
    brightness.eval();
    CHECK(brightness(xg::input(big)).value() == big);
}

TEST_CASE("RandomContrast scales each channel about its mean by one factor per image, and clips") {
    const xg::Array x = xg::test::random_array({32, 3, 5, 2}, 8, 50.0f, 150.0f);
    xg::RandomContrast identity(0.0f, 0.0f);  // a factor of exactly 1: the images themselves
    CHECK(xt::allclose(identity(xg::input(x)).value(), x, 1e-6, 1e-4));
    xg::RandomContrast contrast(0.5f);
    xg::manual_seed(4);
    const xg::Array y = contrast(xg::input(x)).value();
    for (std::size_t i = 0; i < 32; ++i) {
        const xg::Array img = image(x, i), out = image(y, i);
        const xg::Array means = xt::mean(img, {0, 1}, xt::keep_dims);
        const xg::Array spread = img - means;
        // out - mean = c (x - mean) with the same c for both channels, c within [0.5, 1.5].
        const float c = (out(0, 0, 0) - means(0, 0, 0)) / spread(0, 0, 0);
        CHECK(c >= 0.5f - 1e-4f);
        CHECK(c <= 1.5f + 1e-4f);
        CHECK(xt::allclose(out, xt::clip(means + c * spread, 0.0f, 255.0f), 1e-4, 1e-3));
    }
    const xg::Array high = xg::test::random_array({2, 2, 2, 1}, 9, 0.0f, 255.0f);
    xg::RandomContrast stretch(0.0f, 9.0f, {.value_range = {0.0f, 255.0f}});
    const xg::Array z = stretch(xg::input(high)).value();
    CHECK(xt::amin(z)() >= 0.0f);
    CHECK(xt::amax(z)() <= 255.0f);
    contrast.eval();
    CHECK(contrast(xg::input(x)).value() == x);
}

TEST_CASE("RandomBrightness and RandomContrast are differentiable and refuse bad settings") {
    xg::RandomContrast contrast(0.3f, {.value_range = {-10.0f, 10.0f}});
    xg::RandomBrightness brightness(0.1f, {.value_range = {-10.0f, 10.0f}});
    for (xg::Module* layer : {static_cast<xg::Module*>(&contrast), static_cast<xg::Module*>(&brightness)}) {
        CAPTURE(layer->kind());
        xg::manual_seed(2);
        const auto check = xg::gradcheck([&](const std::vector<xg::Tensor>& in) {
            xg::manual_seed(2);  // the same draw at every evaluation
            return (*layer)(in[0]);
        }, {xg::test::random_array({2, 3, 2, 2}, 10, -1.0f, 1.0f)});
        CHECK_MESSAGE(check.passed, check.report());
    }
    CHECK_THROWS_WITH_AS(xg::RandomContrast(1.5f), doctest::Contains("RandomContrast: lower 1.5 and upper 1.5"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::RandomContrast(0.1f, -0.1f), xg::ValueError);
    CHECK_THROWS_AS(xg::RandomContrast(NAN), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomBrightness(1.5f), doctest::Contains("RandomBrightness: factor is [-1.5, 1.5]"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::RandomBrightness(0.1f, {.value_range = {1.0f, 1.0f}}),
                         doctest::Contains("value_range is [1, 1]"), xg::ValueError);
    CHECK_THROWS_AS(contrast(xg::input(xg::test::random_array({3, 4}, 11))), xg::ShapeError);
    CHECK(*contrast.config() == xg::LayerConfig{{"lower", "0.3"}, {"upper", "0.3"}, {"value_range", "-10,10"}});
    CHECK(*brightness.config() == xg::LayerConfig{{"factor", "-0.1,0.1"}, {"value_range", "-10,10"}});
}
