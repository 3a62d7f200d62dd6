// Tests for lib/xgrad/core/image_transform.cpp: sampling against a per-value reference written
// the way TensorFlow's ImageProjectiveTransformV3 is specified, the adjoint as the transpose of
// the forward map, exact flips and shifts, and results that do not depend on the threads.
#include <algorithm>
#include <cmath>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/image_transform.hpp"
#include "xgrad/core/threads.hpp"

namespace {

using xg::FillMode;
using xg::ImageSampling;
using xg::ImageTransformGeometry;
using xg::Interpolation;

// Where a coordinate outside [0, len - 1] reads, one mode at a time: reflect d c b a | a b c d |
// d c b a, nearest the edge, constant unchanged, and wrap as TensorFlow's kernel computes it
// (whole images of len pixels, as many as c / (len - 1), then clamped).
float reference_map(float c, long len, FillMode mode) {
    if (mode == FillMode::constant) return c;
    if (mode == FillMode::nearest || len == 1) return std::clamp(c, 0.0f, float(len - 1));
    if (mode == FillMode::wrap) {
        if (c < 0) c += float(len * (long(-c / float(len - 1)) + 1));
        else if (c > float(len - 1)) c -= float(len * long(c / float(len - 1)));
        return std::clamp(c, 0.0f, float(len - 1));
    }
    // reflect: the image and its mirror image repeat every 2 len; a point between the last pixel
    // and its own mirror image reads the last pixel.
    const float period = float(2 * len);
    while (c < 0) c += period;
    while (c >= period) c -= period;
    if (c > float(len - 1)) c = c < float(len) ? float(len - 1) : std::max(period - 1.0f - c, 0.0f);
    return c;
}

xg::Array reference(const xg::Array& x, const xg::Array& t, std::size_t oh, std::size_t ow, const ImageSampling& s) {
    const long n = long(x.shape(0)), h = long(x.shape(1)), w = long(x.shape(2)), c = long(x.shape(3));
    xg::Array y = xt::zeros<float>({std::size_t(n), oh, ow, std::size_t(c)});
    auto read = [&](long b, long iy, long ix, long ch) {
        return (iy >= 0 && iy < h && ix >= 0 && ix < w) ? x(b, iy, ix, ch) : s.fill_value;
    };
    for (long b = 0; b < n; ++b) {
        const long row = t.shape(0) == 1 ? 0 : b;
        for (long oy = 0; oy < long(oh); ++oy)
            for (long ox = 0; ox < long(ow); ++ox)
                for (long ch = 0; ch < c; ++ch) {
                    const float fx = float(ox), fy = float(oy);
                    const float k = t(row, 6) * fx + t(row, 7) * fy + 1.0f;
                    const float in_x = (t(row, 0) * fx + t(row, 1) * fy + t(row, 2)) / k;
                    const float in_y = (t(row, 3) * fx + t(row, 4) * fy + t(row, 5)) / k;
                    const float mx = reference_map(in_x, w, s.fill_mode), my = reference_map(in_y, h, s.fill_mode);
                    float v;
                    if (s.interpolation == Interpolation::nearest) {
                        v = read(b, long(std::round(my)), long(std::round(mx)), ch);
                    } else {
                        const float x0 = std::floor(mx), y0 = std::floor(my);
                        const float top = (x0 + 1 - mx) * read(b, long(y0), long(x0), ch) +
                                          (mx - x0) * read(b, long(y0), long(x0) + 1, ch);
                        const float bottom = (x0 + 1 - mx) * read(b, long(y0) + 1, long(x0), ch) +
                                             (mx - x0) * read(b, long(y0) + 1, long(x0) + 1, ch);
                        v = (y0 + 1 - my) * top + (my - y0) * bottom;
                    }
                    y(b, oy, ox, ch) = v;
                }
    }
    return y;
}

ImageTransformGeometry geometry(const xg::Array& x, const xg::Array& t, std::size_t oh = 0, std::size_t ow = 0) {
    return {.n = x.shape(0), .h = x.shape(1), .w = x.shape(2), .c = x.shape(3), .oh = oh ? oh : x.shape(1),
            .ow = ow ? ow : x.shape(2), .shared_transform = t.shape(0) == 1};
}

// Rotations, zooms, fractional shifts and a mild projective transform, some reaching far
// outside the image (where the fill modes differ), one per image. No output pixel lands half way
// between two pixels or on an edge pixel, where rounding order (a fused multiply-add or not) would
// pick the neighbour, or under wrap the pixel at the other edge.
xg::Array some_transforms(std::size_t n) {
    const std::vector<std::vector<float>> rows = {
        {0.8f, -0.6f, 2.37f, 0.6f, 0.8f, -1.61f, 0.0f, 0.0f},  // a turn of 37 degrees, off centre
        {1.7f, 0.0f, -3.23f, 0.0f, 0.6f, 1.31f, 0.0f, 0.0f},   // zoom out in x, in in y
        {1.0f, 0.0f, -2.75f, 0.0f, 1.0f, 3.4f, 0.0f, 0.0f},    // a shift by fractions of pixels
        {1.1f, 0.2f, -1.0f, -0.1f, 0.91f, 0.5f, 0.03f, -0.02f}, // projective
        {-3.0f, 0.5f, 20.1f, 0.4f, 2.45f, -9.07f, 0.0f, 0.0f}, // far outside, several periods
    };
    xg::Array t = xt::zeros<float>({n, std::size_t(8)});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < 8; ++j) t(i, j) = rows[i % rows.size()][j];
    return t;
}

double dot(const xg::Array& a, const xg::Array& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += double(a.data()[i]) * double(b.data()[i]);
    return s;
}

}  // namespace

TEST_CASE("transform_images_forward samples as the reference in every fill mode and interpolation") {
    const xg::Array x = xt::random::rand<float>({5, 6, 7, 3}, -1.0f, 1.0f);
    const xg::Array t = some_transforms(5);
    for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
            const ImageSampling s{.interpolation = interpolation, .fill_mode = mode, .fill_value = 0.5f};
            CAPTURE(xg::fill_mode_name(mode));
            CAPTURE(xg::interpolation_name(interpolation));
            const xg::Array y = xg::transform_images_forward(x.data(), t.data(), geometry(x, t), s);
            const xg::Array expected = reference(x, t, 6, 7, s);
            REQUIRE(y.shape() == expected.shape());
            CHECK(xt::allclose(y, expected, 1e-5, 1e-5));
        }
    }
}

TEST_CASE("one shared transform serves every image, and the output grid may differ from the input") {
    const xg::Array x = xt::random::rand<float>({3, 5, 4, 2}, -1.0f, 1.0f);
    xg::Array t = some_transforms(1);
    const ImageSampling s{.fill_mode = FillMode::constant, .fill_value = -2.0f};
    const xg::Array y = xg::transform_images_forward(x.data(), t.data(), geometry(x, t, 7, 3), s);
    REQUIRE(y.shape() == xg::Shape{3, 7, 3, 2});
    CHECK(xt::allclose(y, reference(x, t, 7, 3, s), 1e-5, 1e-5));
}

TEST_CASE("flips and whole-pixel shifts move pixels exactly") {
    const xg::Array x = xt::random::rand<float>({1, 4, 5, 2}, -1.0f, 1.0f);
    const xg::Array flip = {{-1, 0, 4, 0, -1, 3, 0, 0}};  // both axes
    const xg::Array y = xg::transform_images_forward(x.data(), flip.data(), geometry(x, flip), {});
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            for (std::size_t c = 0; c < 2; ++c) CHECK(y(0, i, j, c) == x(0, 3 - i, 4 - j, c));
    // Down 1 and right 2: the top row and the two left columns read the fill value.
    const xg::Array shift = {{1, 0, -2, 0, 1, -1, 0, 0}};
    const ImageSampling constant{.fill_mode = FillMode::constant, .fill_value = 9.0f};
    const xg::Array z = xg::transform_images_forward(x.data(), shift.data(), geometry(x, shift), constant);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            for (std::size_t c = 0; c < 2; ++c) CHECK(z(0, i, j, c) == (i < 1 || j < 2 ? 9.0f : x(0, i - 1, j - 2, c)));
}

TEST_CASE("wrap reads as TensorFlow's kernel does, and a tie under nearest rounds away from zero") {
    xg::Array row = {0.0f, 1.0f, 2.0f, 3.0f};
    row.reshape({1, 1, 4, 1});
    const ImageSampling wrap{.fill_mode = FillMode::wrap};
    // Output pixel 0 reads the input at the shift: 3.5 and 6.5 read pixel 0, -3.5 pixel 3, 1.25 between 1 and 2.
    for (auto [shift, expected] : {std::pair{3.5f, 0.0f}, {6.5f, 0.0f}, {-3.5f, 3.0f}, {1.25f, 1.25f}, {-5.0f, 3.0f}}) {
        CAPTURE(shift);
        const xg::Array t = {{1, 0, shift, 0, 1, 0, 0, 0}};
        CHECK(xg::transform_images_forward(row.data(), t.data(), geometry(row, t), wrap)(0, 0, 0, 0) == expected);
    }
    // Nearest rounds ties away from zero (std::round, as TensorFlow): x + 0.5 reads pixel x + 1,
    // and x - 0.5 reads pixel x, except at 0, where -0.5 rounds to -1, outside.
    const ImageSampling nearest{.interpolation = Interpolation::nearest, .fill_value = -1.0f};
    const xg::Array up = {{1, 0, 0.5f, 0, 1, 0, 0, 0}}, down = {{1, 0, -0.5f, 0, 1, 0, 0, 0}};
    const xg::Array a = xg::transform_images_forward(row.data(), up.data(), geometry(row, up), nearest);
    const xg::Array b = xg::transform_images_forward(row.data(), down.data(), geometry(row, down), nearest);
    CHECK(std::vector<float>(a.begin(), a.end()) == std::vector<float>{1.0f, 2.0f, 3.0f, -1.0f});
    CHECK(std::vector<float>(b.begin(), b.end()) == std::vector<float>{-1.0f, 1.0f, 2.0f, 3.0f});
}

TEST_CASE("images one pixel high or wide sample as the reference in every fill mode") {
    for (const xg::Shape& shape : {xg::Shape{2, 1, 5, 2}, xg::Shape{2, 6, 1, 2}, xg::Shape{2, 1, 1, 3}}) {
        const xg::Array x = xt::random::rand<float>(shape, -1.0f, 1.0f);
        const xg::Array t = some_transforms(2);
        for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
            CAPTURE(xg::format_shape(shape));
            CAPTURE(xg::fill_mode_name(mode));
            const ImageSampling s{.fill_mode = mode, .fill_value = 0.25f};
            CHECK(xt::allclose(xg::transform_images_forward(x.data(), t.data(), geometry(x, t), s),
                               reference(x, t, shape[1], shape[2], s), 1e-5, 1e-5));
        }
    }
}

TEST_CASE("an interpolation or fill mode outside its enum is a ValueError") {
    const xg::Array x = xt::ones<float>({1, 2, 2, 1});
    const xg::Array t = {{1, 0, 0, 0, 1, 0, 0, 0}};
    CHECK_THROWS_WITH_AS(xg::transform_images_forward(x.data(), t.data(), geometry(x, t),
                                                      {.fill_mode = static_cast<FillMode>(7)}),
                         doctest::Contains("fill mode 7"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::transform_images_adjoint(x.data(), t.data(), geometry(x, t), static_cast<Interpolation>(5),
                                                      FillMode::reflect),
                         doctest::Contains("interpolation 5"), xg::ValueError);
}

TEST_CASE("a point at infinity or beyond any float reads the fill value") {
    const xg::Array x = xt::ones<float>({1, 3, 3, 1});
    // k = 1 - x: 0 in column 1, so that column is at infinity; huge scale sends the rest far away.
    const xg::Array t = {{1e30f, 0, 0, 0, 1, 0, -1, 0}};
    for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        const xg::Array y = xg::transform_images_forward(x.data(), t.data(), geometry(x, t),
                                                         {.fill_mode = mode, .fill_value = 7.0f});
        for (std::size_t i = 0; i < 3; ++i) CHECK(y(0, i, 1, 0) == 7.0f);
        for (float v : y) CHECK(std::isfinite(v));
    }
}

TEST_CASE("transform_images_adjoint is the transpose of the forward map: <A x, g> = <x, A^T g>") {
    const xg::Array x = xt::random::rand<float>({5, 6, 7, 3}, -1.0f, 1.0f);
    const xg::Array t = some_transforms(5);
    const xg::Array g = xt::random::rand<float>({5, 4, 9, 3}, -1.0f, 1.0f);
    for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        for (Interpolation interpolation : {Interpolation::bilinear, Interpolation::nearest}) {
            CAPTURE(xg::fill_mode_name(mode));
            CAPTURE(xg::interpolation_name(interpolation));
            const auto geo = geometry(x, t, 4, 9);
            const xg::Array ax = xg::transform_images_forward(x.data(), t.data(), geo,
                                                              {.interpolation = interpolation, .fill_mode = mode});
            const xg::Array atg = xg::transform_images_adjoint(g.data(), t.data(), geo, interpolation, mode);
            REQUIRE(atg.shape() == x.shape());
            CHECK(dot(ax, g) == doctest::Approx(dot(x, atg)).epsilon(1e-5));
        }
    }
}

TEST_CASE("the transform kernels give the same bits on one thread and on three") {
    const xg::Array x = xt::random::rand<float>({40, 28, 28, 3}, -1.0f, 1.0f);
    const xg::Array t = some_transforms(40);
    const auto geo = geometry(x, t);
    const int threads = xg::num_threads();
    xg::set_num_threads(1);
    const xg::Array y1 = xg::transform_images_forward(x.data(), t.data(), geo, {});
    const xg::Array g1 = xg::transform_images_adjoint(x.data(), t.data(), geo, Interpolation::bilinear, FillMode::reflect);
    xg::set_num_threads(3);
    const xg::Array y3 = xg::transform_images_forward(x.data(), t.data(), geo, {});
    const xg::Array g3 = xg::transform_images_adjoint(x.data(), t.data(), geo, Interpolation::bilinear, FillMode::reflect);
    xg::set_num_threads(threads);
    CHECK(y1 == y3);
    CHECK(g1 == g3);
}

TEST_CASE("empty batches and channels give empty results") {
    const xg::Array x = xt::zeros<float>({0, 4, 4, 2});
    const xg::Array t = xt::zeros<float>({0, 8});
    CHECK(xg::transform_images_forward(x.data(), t.data(), geometry(x, t), {}).shape() == xg::Shape{0, 4, 4, 2});
    const xg::Array none = xt::zeros<float>({2, 4, 4, 0});
    const xg::Array t2 = some_transforms(2);
    CHECK(xg::transform_images_adjoint(none.data(), t2.data(), geometry(none, t2), Interpolation::bilinear,
                                       FillMode::reflect)
              .shape() == xg::Shape{2, 4, 4, 0});
}

TEST_CASE("modes and interpolations are named as Keras names them, and unknown names are refused") {
    for (FillMode mode : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest}) {
        CHECK(xg::parse_fill_mode(xg::fill_mode_name(mode), "op") == mode);
    }
    CHECK(xg::parse_interpolation("nearest", "op") == Interpolation::nearest);
    CHECK(xg::parse_interpolation("bilinear", "op") == Interpolation::bilinear);
    CHECK_THROWS_WITH_AS(xg::parse_fill_mode("mirror", "RandomZoom"),
                         doctest::Contains("RandomZoom: fill_mode 'mirror'"), xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::parse_interpolation("bicubic", "RandomZoom"),
                         doctest::Contains("RandomZoom: interpolation 'bicubic'"), xg::ValueError);
}
