// Tests for lib/xgrad/nn/feature_input.cpp: the last-axis feature checks, errors naming the layer.
#include "xgrad/nn/feature_input.hpp"

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("a batch of (..., features) passes; another last axis, or no batch axis, is a ShapeError naming the layer") {
    CHECK_NOTHROW(xg::check_feature_batch({2, 3}, 3, "norm"));
    CHECK_NOTHROW(xg::check_feature_batch({0, 5, 5, 3}, 3, "norm"));
    CHECK_THROWS_WITH_AS(xg::check_feature_batch({2, 4}, 3, "norm"),
                         "norm: input shape (4,) without the batch axis; expected (..., 3)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::check_feature_batch({3}, 3, "norm"), "norm: input has shape (3,); expected (batch, ..., 3)",
                         xg::ShapeError);
    CHECK_NOTHROW(xg::check_feature_shape({5, 3}, 3, "norm"));
    CHECK_THROWS_AS(xg::check_feature_shape({}, 3, "norm"), xg::ShapeError);
    CHECK_THROWS_AS(xg::check_feature_shape({3, 2}, 3, "norm"), xg::ShapeError);
}
