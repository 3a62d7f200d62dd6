#include <doctest/doctest.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/data/image_dataset.hpp"
#include "xgrad/data/mnist.hpp"

namespace {

xg::ByteArray images_2x2x2() {
    xg::ByteArray a = xt::zeros<std::uint8_t>({3, 2, 2});
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::uint8_t>(i * 20);
    return a;
}

}  // namespace

// ImageDataset refuses temporaries, which would be gone before the first batch: checked by the
// compiler, so a regression fails the build of this test.
static_assert(std::is_constructible_v<xg::ImageDataset, const xg::ByteArray&, const xg::ByteArray&>);
static_assert(std::is_constructible_v<xg::ImageDataset, xg::ByteArray&, xg::ByteArray&, xg::Shape>);
static_assert(!std::is_constructible_v<xg::ImageDataset, xg::ByteArray, const xg::ByteArray&>);
static_assert(!std::is_constructible_v<xg::ImageDataset, const xg::ByteArray&, xg::ByteArray>);
static_assert(!std::is_constructible_v<xg::ImageDataset, xg::ByteArray, xg::ByteArray, xg::Shape, std::size_t>);
static_assert(!std::is_constructible_v<xg::ImageDataset, const xg::ByteArray&&, const xg::ByteArray&, xg::Shape>);

TEST_CASE("ImageDataset gathers bytes / 255 flattened, with one-hot labels") {
    const xg::ByteArray images = images_2x2x2();
    const xg::ByteArray labels = {2, 0, 1};
    const xg::ImageDataset data(images, labels, 3);
    CHECK(data.size() == 3);
    CHECK(data.x_shape() == xg::Shape{4});
    CHECK(data.y_shape() == xg::Shape{3});

    xg::Array x, y;
    const std::vector<std::size_t> rows{2, 0};
    data.gather(rows, x, y);
    CHECK(x.shape() == xg::Shape{2, 4});
    CHECK(y.shape() == xg::Shape{2, 3});
    // Same values as the whole-array preprocessing of the Keras example.
    const xg::Array all = xg::images_to_float(images);
    const xg::Array onehot = xg::to_categorical(labels, 3);
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t f = 0; f < 4; ++f) CHECK(x(r, f) == all(rows[r], f));
        for (std::size_t c = 0; c < 3; ++c) CHECK(y(r, c) == onehot(rows[r], c));
    }
}

TEST_CASE("ImageDataset reuses the caller's buffers and clears old labels") {
    const xg::ByteArray images = images_2x2x2();
    const xg::ByteArray labels = {2, 0, 1};
    const xg::ImageDataset data(images, labels, 3);
    xg::Array x, y;
    data.gather(std::vector<std::size_t>{0, 1}, x, y);
    const float* before = x.data();
    data.gather(std::vector<std::size_t>{1, 2}, x, y);
    CHECK(x.data() == before);
    CHECK(y(0, 2) == 0.0f);  // row 0 held label 2 in the previous batch
    CHECK(y(0, 0) == 1.0f);
}

TEST_CASE("ImageDataset gives sparse labels when one_hot is off") {
    const xg::ByteArray images = images_2x2x2();
    const xg::ByteArray labels = {2, 0, 1};
    const xg::ImageDataset data(images, labels, 3, false);
    xg::Array x, y;
    data.gather(std::vector<std::size_t>{0, 2}, x, y);
    CHECK(y.shape() == xg::Shape{2});
    CHECK(y(0) == 2.0f);
    CHECK(y(1) == 1.0f);
}

TEST_CASE("ImageDataset rejects bad input") {
    const xg::ByteArray images = images_2x2x2();
    const xg::ByteArray two_labels = {0, 1};
    CHECK_THROWS_AS(xg::ImageDataset(images, two_labels, 3), xg::ShapeError);
    const xg::ByteArray big_label = {0, 7, 1};
    CHECK_THROWS_WITH_AS(xg::ImageDataset(images, big_label, 3), doctest::Contains("label 7 at index 1"), xg::ValueError);
    const xg::ByteArray labels = {0, 1, 2};
    const xg::ImageDataset data(images, labels, 3);
    xg::Array x, y;
    CHECK_THROWS_AS(data.gather(std::vector<std::size_t>{3}, x, y), xg::ShapeError);
}

TEST_CASE("ImageDataset gives samples of another shape with the same pixels, for a convnet") {
    const xg::ByteArray images = images_2x2x2();
    const xg::ByteArray labels = {2, 0, 1};
    const xg::ImageDataset flat(images, labels, 3);
    const xg::ImageDataset shaped(images, labels, xg::Shape{2, 2, 1}, 3);
    CHECK(shaped.x_shape() == xg::Shape{2, 2, 1});
    xg::Array xf, yf, xs, ys;
    const std::vector<std::size_t> rows{1, 2};
    flat.gather(rows, xf, yf);
    shaped.gather(rows, xs, ys);
    CHECK(xs.shape() == xg::Shape{2, 2, 2, 1});
    CHECK(std::equal(xs.begin(), xs.end(), xf.begin()));
    CHECK(ys == yf);
    CHECK_THROWS_AS(xg::ImageDataset(images, labels, xg::Shape{3, 3, 1}, 3), xg::ShapeError);
    CHECK_THROWS_AS(xg::ImageDataset(images, labels, xg::Shape{}, 3), xg::ShapeError);
}

TEST_CASE("ImageDataset gathers a long batch, rows in any order and repeated") {
    // 300 images of 37 bytes: rows that start anywhere in a cache line and end in the next.
    xg::ByteArray images = xt::zeros<std::uint8_t>({300, 37});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<std::uint8_t>((i * 7 + i / 37) % 251);
    xg::ByteArray labels = xt::zeros<std::uint8_t>({300});
    for (std::size_t i = 0; i < labels.size(); ++i) labels(i) = static_cast<std::uint8_t>(i % 10);
    const xg::ImageDataset data(images, labels, 10, false);
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < 260; ++r) rows.push_back((r * 113 + 5) % 300);
    rows.push_back(rows.front());
    xg::Array x, y;
    data.gather(rows, x, y);
    REQUIRE(x.shape() == xg::Shape{rows.size(), 37});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t f = 0; f < 37; ++f) REQUIRE(x(r, f) == static_cast<float>(images(rows[r], f)) / 255.0f);
        CHECK(y(r) == static_cast<float>(rows[r] % 10));
    }
}

TEST_CASE("ImageDataset of no images has no samples and the sample shape of its extents") {
    const xg::ByteArray images = xt::zeros<std::uint8_t>({0, 4, 3});
    const xg::ByteArray labels = xt::zeros<std::uint8_t>({0});
    const xg::ImageDataset data(images, labels, 10);
    CHECK(data.size() == 0);
    CHECK(data.x_shape() == xg::Shape{12});
    xg::Array x, y;
    data.gather(std::vector<std::size_t>{}, x, y);
    CHECK(x.shape() == xg::Shape{0, 12});
    CHECK_THROWS_AS(data.gather(std::vector<std::size_t>{0}, x, y), xg::ShapeError);
}
