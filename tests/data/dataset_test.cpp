// Datasets: ArrayDataset and SubsetDataset gathering rows into reused buffers, epoch order
// and its shuffling, and the row copy they share.
#include "xgrad/data/dataset.hpp"

#include <algorithm>
#include <numeric>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"

namespace {

// x (5, 2, 3) holds 100 r + k for row r and element k; y (5,) holds r.
xg::Array make_x() {
    xg::Array x = xg::uninitialized({5, 2, 3});
    for (std::size_t r = 0; r < 5; ++r) {
        for (std::size_t k = 0; k < 6; ++k) x.data()[r * 6 + k] = static_cast<float>(100 * r + k);
    }
    return x;
}

xg::Array make_y() { return {0.0f, 1.0f, 2.0f, 3.0f, 4.0f}; }

void check_rows(const xg::Array& x, const xg::Array& y, const std::vector<std::size_t>& expected) {
    REQUIRE(x.shape() == xg::Shape{expected.size(), 2, 3});
    REQUIRE(y.shape() == xg::Shape{expected.size()});
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CHECK(y(i) == static_cast<float>(expected[i]));
        for (std::size_t k = 0; k < 6; ++k) CHECK(x.data()[i * 6 + k] == static_cast<float>(100 * expected[i] + k));
    }
}

}  // namespace

TEST_CASE("ArrayDataset reports sizes and sample shapes without the batch axis") {
    const xg::Array x = make_x(), y = make_y();
    const xg::ArrayDataset data(x, y);
    CHECK(data.size() == 5);
    CHECK(data.x_shape() == xg::Shape{2, 3});
    CHECK(data.y_shape() == xg::Shape{});
    const xg::Array y2 = xt::zeros<float>({5, 10});
    CHECK(xg::ArrayDataset(x, y2).y_shape() == xg::Shape{10});
}

TEST_CASE("gather copies the asked rows in order, repeats included") {
    const xg::Array x = make_x(), y = make_y();
    const xg::ArrayDataset data(x, y);
    xg::Array bx, by;
    const std::vector<std::size_t> rows = {3, 0, 3, 4};
    data.gather(rows, bx, by);
    check_rows(bx, by, rows);
}

TEST_CASE("gather reuses the buffers' memory when the batch shape is unchanged") {
    const xg::Array x = make_x(), y = make_y();
    const xg::ArrayDataset data(x, y);
    xg::Array bx, by;
    data.gather(std::vector<std::size_t>{0, 1}, bx, by);
    const float* x_memory = bx.data();
    const float* y_memory = by.data();
    data.gather(std::vector<std::size_t>{4, 2}, bx, by);
    CHECK(bx.data() == x_memory);
    CHECK(by.data() == y_memory);
    check_rows(bx, by, {4, 2});
    // A smaller last batch gets its own shape.
    data.gather(std::vector<std::size_t>{1}, bx, by);
    check_rows(bx, by, {1});
    data.gather(std::vector<std::size_t>{}, bx, by);
    CHECK(bx.shape() == xg::Shape{0, 2, 3});
}

// It refers to its arrays: a temporary (to_categorical(labels) written in place) would be freed
// before the first gather, so the compiler refuses one.
static_assert(std::is_constructible_v<xg::ArrayDataset, const xg::Array&, const xg::Array&>);
static_assert(!std::is_constructible_v<xg::ArrayDataset, xg::Array, const xg::Array&>);
static_assert(!std::is_constructible_v<xg::ArrayDataset, const xg::Array&, xg::Array>);
static_assert(!std::is_constructible_v<xg::ArrayDataset, xg::Array, xg::Array>);
static_assert(!std::is_constructible_v<xg::ArrayDataset, const xg::Array, const xg::Array&>);
static_assert(!std::is_constructible_v<xg::ArrayDataset, const xg::Array&, const xg::Array>);
static_assert(!std::is_constructible_v<xg::ArrayDataset, const xg::Array, const xg::Array>);
static_assert(!std::is_constructible_v<xg::SubsetDataset, xg::ArrayDataset, std::size_t, std::size_t>);
static_assert(!std::is_constructible_v<xg::SubsetDataset, const xg::ArrayDataset, std::size_t, std::size_t>);

TEST_CASE("ArrayDataset refuses arrays that do not pair up, and rows out of range") {
    const xg::Array x = make_x();
    const xg::Array four = xt::zeros<float>({4}), five = xt::zeros<float>({5}), one = xg::scalar_array(1.0f);
    CHECK_THROWS_AS(xg::ArrayDataset(x, four), xg::ShapeError);
    CHECK_THROWS_AS(xg::ArrayDataset(x, one), xg::ShapeError);
    CHECK_THROWS_AS(xg::ArrayDataset(one, five), xg::ShapeError);
    const xg::Array y = make_y();
    const xg::ArrayDataset data(x, y);
    xg::Array bx, by;
    try {
        data.gather(std::vector<std::size_t>{1, 5}, bx, by);
        FAIL("expected ShapeError");
    } catch (const xg::ShapeError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("row 5") != std::string::npos);
        CHECK(msg.find("(5, 2, 3)") != std::string::npos);
    }
}

TEST_CASE("SubsetDataset maps its rows onto a range of the base") {
    const xg::Array x = make_x(), y = make_y();
    const xg::ArrayDataset data(x, y);
    const xg::SubsetDataset tail(data, 2, 5);
    CHECK(tail.size() == 3);
    CHECK(tail.x_shape() == xg::Shape{2, 3});
    xg::Array bx, by;
    tail.gather(std::vector<std::size_t>{2, 0}, bx, by);
    check_rows(bx, by, {4, 2});
    CHECK_THROWS_AS(tail.gather(std::vector<std::size_t>{3}, bx, by), xg::ShapeError);

    const xg::SubsetDataset empty(data, 5, 5);
    CHECK(empty.size() == 0);
    const xg::SubsetDataset nested(tail, 1, 3);
    nested.gather(std::vector<std::size_t>{0, 1}, bx, by);
    check_rows(bx, by, {3, 4});
    CHECK_THROWS_AS(xg::SubsetDataset(data, 3, 2), xg::ShapeError);
    CHECK_THROWS_AS(xg::SubsetDataset(data, 0, 6), xg::ShapeError);
}

TEST_CASE("epoch_order is 0..n-1, or a permutation fixed by the seed when shuffled") {
    CHECK(xg::epoch_order(4, false) == std::vector<std::size_t>{0, 1, 2, 3});
    CHECK(xg::epoch_order(0, true).empty());
    xg::manual_seed(3);
    const auto a = xg::epoch_order(100, true);
    const auto a_next = xg::epoch_order(100, true);
    xg::manual_seed(3);
    const auto b = xg::epoch_order(100, true);
    CHECK(a == b);
    CHECK(a != a_next);
    CHECK(a != xg::epoch_order(100, false));
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == xg::epoch_order(100, false));
}

TEST_CASE("gather_rows_into copies rows of any rank") {
    const xg::Array m = {{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}};
    xg::Array out;
    xg::gather_rows_into(m, std::vector<std::size_t>{2, 2, 0}, out);
    CHECK(out == xg::Array{{5.0f, 6.0f}, {5.0f, 6.0f}, {1.0f, 2.0f}});
    CHECK_THROWS_AS(xg::gather_rows_into(m, std::vector<std::size_t>{3}, out), xg::ShapeError);
}
