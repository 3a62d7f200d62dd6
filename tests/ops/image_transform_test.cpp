// Tests for lib/xgrad/ops/image_transform.cpp: transform_images and transform_images_backward,
// their first and second derivatives, empty batches, and the errors they give; resize_images
// (against tf.image.resize's kernels) and crop_images.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <xtensor/xrandom.hpp>

#include "empty_tensor.hpp"
#include "random_inputs.hpp"
#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

using xg::FillMode;
using xg::ImageSampling;
using xg::Interpolation;
using xg::Size2;

using xg::test::uniform;

// One transform per image: a turn, a zoom with a shift, a projective one reaching outside.
xg::Array transforms(std::size_t n) {
    xg::Array t = xt::zeros<float>({n, std::size_t(8)});
    const float rows[3][8] = {{0.8f, -0.6f, 2.37f, 0.6f, 0.8f, -1.61f, 0, 0},
                              {1.3f, 0, -0.83f, 0, 0.7f, 0.91f, 0, 0},
                              {1.1f, 0.2f, -2.1f, -0.1f, 0.9f, 0.5f, 0.03f, -0.02f}};
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < 8; ++j) t(i, j) = rows[i % 3][j];
    return t;
}

struct TransformCase {
    xg::Shape x;
    Size2 output_size;
    ImageSampling sampling;
};

std::vector<TransformCase> transform_cases() {
    std::vector<TransformCase> out;
    for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
            out.push_back({{3, 5, 6, 2}, {0, 0}, {.interpolation = interpolation, .fill_mode = mode, .fill_value = 0.5f}});
        }
        out.push_back({{2, 4, 3, 3}, {5, 2}, {.fill_mode = mode, .fill_value = -1.0f}});
    }
    return out;
}

std::string describe_transform(const TransformCase& c) {
    return fmt::format("x {} output {}x{} {} {}", xg::format_shape(c.x), c.output_size[0], c.output_size[1],
                       xg::fill_mode_name(c.sampling.fill_mode), xg::interpolation_name(c.sampling.interpolation));
}

}  // namespace

TEST_CASE("transform_images passes gradcheck, and transform_images_backward is its gradient") {
    xt::random::seed(3);
    for (const TransformCase& c : transform_cases()) {
        CAPTURE(describe_transform(c));
        const xg::Array t = transforms(c.x[0]);
        const auto check = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) { return xg::transform_images(in[0], t, c.sampling, c.output_size); },
            {uniform(c.x)});
        CHECK_MESSAGE(check.passed, check.report());

        const xg::Tensor x = xg::parameter(uniform(c.x), "x");
        const xg::Tensor y = xg::transform_images(x, t, c.sampling, c.output_size);
        const xg::Array dy = uniform(y.shape());
        y.backward(dy);
        const xg::Tensor dx = xg::transform_images_backward(xg::input(dy), t, c.x, c.sampling.interpolation,
                                                            c.sampling.fill_mode);
        CHECK(xt::allclose(dx.value(), x.grad()));
        const auto adjoint = xg::gradcheck(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::transform_images_backward(in[0], t, c.x, c.sampling.interpolation, c.sampling.fill_mode);
            },
            {uniform(y.shape())});
        CHECK_MESSAGE(adjoint.passed, adjoint.report());
    }
}

TEST_CASE("transform_images and transform_images_backward pass gradgradcheck") {
    xt::random::seed(5);
    for (const TransformCase& c : transform_cases()) {
        CAPTURE(describe_transform(c));
        const xg::Array t = transforms(c.x[0]);
        const xg::Shape y_shape = xg::transform_images(xg::input(xt::zeros<float>(c.x)), t, c.sampling, c.output_size).shape();
        xg::test::check_second_order(
            [&](const std::vector<xg::Tensor>& in) { return xg::transform_images(in[0], t, c.sampling, c.output_size); },
            {uniform(c.x)});
        xg::test::check_second_order(
            [&](const std::vector<xg::Tensor>& in) {
                return xg::transform_images_backward(in[0], t, c.x, c.sampling.interpolation, c.sampling.fill_mode);
            },
            {uniform(y_shape)});
    }
}

TEST_CASE("the identity transform returns the images, and the fill value only where the image is not") {
    const xg::Array x = uniform({2, 4, 5, 3});
    const xg::Array identity = {{1, 0, 0, 0, 1, 0, 0, 0}};
    CHECK(xg::transform_images(xg::input(x), identity).value() == x);
    // Shifted entirely out of the image: every value is the fill value, and the gradient is 0.
    const xg::Array away = {{1, 0, 100, 0, 1, 0, 0, 0}};
    const xg::Tensor p = xg::parameter(x, "p");
    const xg::Tensor y = xg::transform_images(p, away, {.fill_mode = FillMode::constant, .fill_value = 3.0f});
    CHECK(y.value() == xt::full_like(x, 3.0f));
    xg::sum(y).backward();
    CHECK(p.grad() == xt::zeros_like(x));
}

TEST_CASE("transform_images over an empty batch gives an empty batch") {
    const xg::Array none = xt::zeros<float>({0, 8});
    xg::test::check_empty([&](const xg::Tensor& x) { return xg::transform_images(x, none); }, {0, 4, 4, 2}, {0, 4, 4, 2});
    const xg::Array one = {{1, 0, 0, 0, 1, 0, 0, 0}};
    xg::test::check_empty([&](const xg::Tensor& x) { return xg::transform_images(x, one, {}, {3, 2}); }, {2, 4, 4, 0},
                          {2, 3, 2, 0});
}

TEST_CASE("transform_images rejects bad arguments naming the op, the shapes and the argument") {
    const xg::Tensor x = xg::input(uniform({2, 4, 5, 1}));
    const xg::Array t = transforms(2);
    CHECK_THROWS_WITH_AS(xg::transform_images(xg::input(uniform({4, 5, 1})), t),
                         doctest::Contains("transform_images: images have shape (4, 5, 1)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::transform_images(xg::input(xt::zeros<float>({2, 0, 5, 1})), t),
                         doctest::Contains("at least one pixel"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::transform_images(x, transforms(3)),
                         doctest::Contains("transforms have shape (3, 8) for images (2, 4, 5, 1); expected (2, 8) or (1, 8)"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::transform_images(x, xt::zeros<float>({2, 6})), xg::ShapeError);
    xg::Array bad = t;
    bad(1, 2) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(xg::transform_images(x, bad), doctest::Contains("transform_images: a transform holds nan"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::transform_images(x, t, {}, {3, 0}), doctest::Contains("output_size (3, 0)"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::transform_images_backward(xg::input(uniform({2, 4, 5, 2})), t, {2, 4, 5, 1}),
                         doctest::Contains("transform_images_backward: dy has shape (2, 4, 5, 2)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::transform_images_backward(xg::input(uniform({4, 5, 1})), t, {2, 4, 5, 1}),
                         doctest::Contains("transform_images_backward: dy has shape (4, 5, 1)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::transform_images_backward(xg::input(xt::zeros<float>({2, 0, 5, 1})), t, {2, 4, 5, 1}),
                         doctest::Contains("dy has shape (2, 0, 5, 1); expected at least one row and one column"),
                         xg::ShapeError);
    // Sizes no array can hold, from the caller's images_shape or output_size, before any allocation.
    const xg::Tensor dy = xg::input(uniform({1, 2, 2, 1}));
    const xg::Array one = {{1, 0, 0, 0, 1, 0, 0, 0}};
    CHECK_THROWS_WITH_AS(xg::transform_images_backward(dy, one, {1, (std::size_t{1} << 63) + 1, 2, 1}),
                         doctest::Contains("transform_images_backward"), xg::ShapeError);
    CHECK_THROWS_AS(xg::transform_images_backward(dy, one, {1, std::size_t{1} << 32, std::size_t{1} << 32, 1}),
                    xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::transform_images(dy, one, {}, {std::size_t{1} << 40, std::size_t{1} << 40}),
                         doctest::Contains("transform_images"), xg::ShapeError);
}

namespace {

// tf.image.resize without antialiasing (half-pixel centres), written from TensorFlow's kernels:
// bilinear reads the pixels either side of (y + 0.5) * scale - 0.5, clamped to the image;
// nearest reads pixel floor((y + 0.5) * scale), at most the last.
xg::Array reference_resize(const xg::Array& x, Size2 size, Interpolation interpolation) {
    const std::size_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    const float sy = static_cast<float>(h) / static_cast<float>(size[0]), sx = static_cast<float>(w) / static_cast<float>(size[1]);
    xg::Array y = xt::zeros<float>({n, size[0], size[1], c});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t oy = 0; oy < size[0]; ++oy) {
            for (std::size_t ox = 0; ox < size[1]; ++ox) {
                for (std::size_t k = 0; k < c; ++k) {
                    if (interpolation == Interpolation::nearest) {
                        const auto iy = std::min(static_cast<std::size_t>(std::floor((static_cast<float>(oy) + 0.5f) * sy)), h - 1);
                        const auto ix = std::min(static_cast<std::size_t>(std::floor((static_cast<float>(ox) + 0.5f) * sx)), w - 1);
                        y(i, oy, ox, k) = x(i, iy, ix, k);
                        continue;
                    }
                    const float fy = (static_cast<float>(oy) + 0.5f) * sy - 0.5f, fx = (static_cast<float>(ox) + 0.5f) * sx - 0.5f;
                    auto clamp = [](float v, std::size_t extent) {
                        return static_cast<std::size_t>(std::clamp(v, 0.0f, static_cast<float>(extent - 1)));
                    };
                    const std::size_t top = clamp(std::floor(fy), h), bottom = clamp(std::ceil(fy), h);
                    const std::size_t left = clamp(std::floor(fx), w), right = clamp(std::ceil(fx), w);
                    const float dy = fy - std::floor(fy), dx = fx - std::floor(fx);
                    const float upper = x(i, top, left, k) + (x(i, top, right, k) - x(i, top, left, k)) * dx;
                    const float lower = x(i, bottom, left, k) + (x(i, bottom, right, k) - x(i, bottom, left, k)) * dx;
                    y(i, oy, ox, k) = upper + (lower - upper) * dy;
                }
            }
        }
    }
    return y;
}

}  // namespace

TEST_CASE("resize_images matches tf.image.resize's kernels, up and down, on each axis") {
    xt::random::seed(13);
    const xg::Array x = uniform({2, 7, 9, 3});
    for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
        for (Size2 size : {Size2{14, 5}, Size2{20, 31}, Size2{3, 3}, Size2{1, 1}, Size2{28, 4}, Size2{7, 18}}) {
            CAPTURE(xg::interpolation_name(interpolation));
            CAPTURE(size[0]);
            CAPTURE(size[1]);
            const xg::Array y = xg::resize_images(xg::input(x), size, interpolation).value();
            const xg::Array want = reference_resize(x, size, interpolation);
            REQUIRE(y.shape() == want.shape());
            CHECK(xt::allclose(y, want, 1e-5, 1e-6));
        }
    }
    // Doubling by nearest repeats each pixel twice; the images' own size returns them.
    xg::Array small = {1.0f, 2.0f, 3.0f, 4.0f};
    small.reshape({1, 2, 2, 1});
    xg::Array doubled = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    doubled.reshape({1, 4, 4, 1});
    CHECK(xg::resize_images(xg::input(small), {4, 4}, Interpolation::nearest).value() == doubled);
    // Bilinear: the corners stay, the points between them are read a quarter of the way in.
    const xg::Array up = xg::resize_images(xg::input(small), {4, 4}).value();
    CHECK(up(0, 0, 0, 0) == 1.0f);
    CHECK(up(0, 3, 3, 0) == 4.0f);
    CHECK(up(0, 0, 1, 0) == doctest::Approx(1.25f));
    const xg::Tensor same = xg::input(x);
    CHECK(xg::resize_images(same, {7, 9}).node() == same.node());
}

TEST_CASE("resize_images picks TensorFlow's nearest pixel for every pair of extents up to 48, ties included") {
    // Each value its own row index: the output names the rows it read. (2 -> 25: output row 12
    // lies exactly between rows 0 and 1, and TensorFlow reads row 1.)
    for (std::size_t in = 1; in <= 48; ++in) {
        xg::Array x = xt::arange<float>(static_cast<float>(in));
        x.reshape({1, in, 1, 1});
        for (std::size_t out = 1; out <= 48; ++out) {
            const xg::Array y = xg::resize_images(xg::input(x), {out, 1}, Interpolation::nearest).value();
            const xg::Array want = reference_resize(x, {out, 1}, Interpolation::nearest);
            if (y != want) FAIL_CHECK("nearest rows differ for " << in << " -> " << out);
        }
    }
    // Extents where some output rows fall exactly between two pixels: the rows read as PyTorch's
    // nearest-exact (its own implementation of the same rule) reads them.
    const std::vector<std::pair<Size2, std::vector<float>>> ties{
        {{2, 25}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
        {{4, 41}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                   2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}},
        {{2, 41}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
                   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
        {{6, 37}, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4,
                   4, 4, 4, 4, 5, 5, 5, 5, 5, 5}}};
    for (const auto& [extents, rows] : ties) {
        xg::Array x = xt::arange<float>(static_cast<float>(extents[0]));
        x.reshape({1, extents[0], 1, 1});
        const xg::Array y = xg::resize_images(xg::input(x), {extents[1], 1}, Interpolation::nearest).value();
        CHECK(std::vector<float>(y.begin(), y.end()) == rows);
    }
}

TEST_CASE("resize_images and resize_images_backward pass gradcheck and gradgradcheck, and record their size") {
    xt::random::seed(17);
    const xg::Shape images{2, 4, 3, 2};
    for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
        for (Size2 size : {Size2{7, 3}, Size2{2, 5}}) {
            CAPTURE(xg::interpolation_name(interpolation));
            CAPTURE(size[0]);
            auto f = [&](const std::vector<xg::Tensor>& in) { return xg::resize_images(in[0], size, interpolation); };
            const auto check = xg::gradcheck(f, {uniform(images)});
            CHECK_MESSAGE(check.passed, check.report());
            xg::test::check_second_order(f, {uniform(images)});
            auto adjoint = [&](const std::vector<xg::Tensor>& in) {
                return xg::resize_images_backward(in[0], images, interpolation);
            };
            const auto adjoint_check = xg::gradcheck(adjoint, {uniform({2, size[0], size[1], 2})});
            CHECK_MESSAGE(adjoint_check.passed, adjoint_check.report());
            xg::test::check_second_order(adjoint, {uniform({2, size[0], size[1], 2})});
            // resize_images_backward is resize_images' gradient.
            const xg::Tensor x = xg::parameter(uniform(images), "x");
            const xg::Array dy = uniform({2, size[0], size[1], 2});
            xg::resize_images(x, size, interpolation).backward(dy);
            CHECK(xt::allclose(xg::resize_images_backward(xg::input(dy), images, interpolation).value(), x.grad()));
        }
    }
    const xg::Tensor y = xg::resize_images(xg::parameter(uniform({1, 4, 3, 2}), "x"), {8, 6}, Interpolation::bilinear);
    CHECK(y.creator()->op == "resize_images");
    CHECK(y.creator()->attributes().to_string() == "size=(8, 6), interpolation=bilinear");
    // Nearest is two gathers, of rows and of columns, by TensorFlow's index formula: here (a tie)
    // rows first.
    const xg::Tensor x = xg::parameter(uniform({1, 4, 3, 2}), "x");
    const xg::Tensor z = xg::resize_images(x, {8, 6}, Interpolation::nearest);
    CHECK(z.creator()->op == "gather");
    CHECK(z.creator()->attributes().to_string() == "axis=2, indices=(0, 0, 1, 1, 2, 2)");
    CHECK(z.value() == xg::gather(xg::gather(x, {0, 0, 1, 1, 2, 2, 3, 3}, 1), {0, 0, 1, 1, 2, 2}, 2).value());
    // Columns first where that leaves fewer pixels between (3 x 6 to 9 x 4: 3 x 4, not 9 x 6);
    // the result and its gradient are the same either way.
    const xg::Tensor wide = xg::parameter(uniform({2, 3, 6, 2}), "wide");
    const xg::Tensor tall = xg::resize_images(wide, {9, 4}, Interpolation::nearest);
    CHECK(tall.creator()->attributes().to_string() == "axis=1, indices=(0, 0, 0, 1, 1, 1, 2, 2, ... 9 in all)");
    CHECK(tall.value() == xg::gather(xg::gather(wide, {0, 0, 0, 1, 1, 1, 2, 2, 2}, 1), {0, 2, 3, 5}, 2).value());
    const xg::Array dy = uniform({2, 9, 4, 2});
    tall.backward(dy);
    CHECK(xt::allclose(xg::resize_images_backward(xg::input(dy), wide.shape(), Interpolation::nearest).value(),
                       wide.grad()));
    const auto turned = xg::gradcheck([](const std::vector<xg::Tensor>& in) {
        return xg::resize_images(in[0], {9, 4}, Interpolation::nearest);
    }, {uniform({2, 3, 6, 2})});
    CHECK_MESSAGE(turned.passed, turned.report());
    xg::Tape::current().clear();
}

TEST_CASE("resize_images rejects an empty size and images that are not a batch of images") {
    const xg::Tensor x = xg::input(uniform({2, 4, 3, 2}));
    CHECK_THROWS_WITH_AS(xg::resize_images(x, {0, 3}), doctest::Contains("resize_images: size (0, 3)"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::resize_images(xg::input(uniform({4, 3, 2})), {2, 2}),
                         doctest::Contains("resize_images: images have shape (4, 3, 2)"), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::resize_images(x, {2, 2}, static_cast<Interpolation>(7)),
                         doctest::Contains("resize_images"), xg::ValueError);
    xg::test::check_empty([](const xg::Tensor& t) { return xg::resize_images(t, {3, 5}); }, {0, 4, 4, 2}, {0, 3, 5, 2});
    xg::test::check_empty([](const xg::Tensor& t) { return xg::resize_images(t, {3, 5}, Interpolation::nearest); },
                          {0, 4, 4, 2}, {0, 3, 5, 2});
    CHECK_THROWS_WITH_AS(xg::resize_images_backward(xg::input(uniform({2, 3, 3, 1})), {2, 4, 4, 2}),
                         doctest::Contains("resize_images_backward: dy has shape (2, 3, 3, 1)"), xg::ShapeError);
    CHECK_THROWS_AS(xg::resize_images_backward(xg::input(uniform({3, 3, 1})), {2, 4, 4, 2}), xg::ShapeError);
}

TEST_CASE("crop_images cuts the window, differentiably, and refuses one that does not fit") {
    xt::random::seed(19);
    const xg::Array x = uniform({2, 5, 6, 3});
    const xg::Array y = xg::crop_images(xg::input(x), 1, 2, {3, 4}).value();
    CHECK(y == xt::view(x, xt::all(), xt::range(1, 4), xt::range(2, 6), xt::all()));
    const xg::Tensor whole = xg::input(x);
    CHECK(xg::crop_images(whole, 0, 0, {5, 6}).node() == whole.node());
    const auto check = xg::gradcheck(
        [](const std::vector<xg::Tensor>& in) { return xg::crop_images(in[0], 2, 1, {2, 4}); }, {uniform({1, 5, 6, 2})});
    CHECK_MESSAGE(check.passed, check.report());
    CHECK_THROWS_WITH_AS(xg::crop_images(whole, 3, 0, {3, 6}), doctest::Contains("a (3, 6) window at row 3, column 0"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::crop_images(whole, 0, 7, {1, 1}), xg::ShapeError);
    CHECK_THROWS_AS(xg::crop_images(whole, 0, 0, {0, 1}), xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::crop_images(xg::input(uniform({5, 6, 3})), 0, 0, {1, 1}),
                         doctest::Contains("crop_images: images have shape (5, 6, 3)"), xg::ShapeError);
}
