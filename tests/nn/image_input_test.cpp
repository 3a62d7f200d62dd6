// The image-batch input checks: batches and shapes with a pixel pass, the rest are ShapeErrors
// naming the layer and the shape.
#include "xgrad/nn/image_input.hpp"

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

TEST_CASE("check_image_batch takes (batch, height, width, channels) with at least one pixel") {
    CHECK_NOTHROW(xg::check_image_batch({2, 3, 4, 1}, "layer"));
    CHECK_NOTHROW(xg::check_image_batch({0, 3, 4, 0}, "layer"));  // no images, no channels: nothing to check
    CHECK_THROWS_WITH_AS(xg::check_image_batch({3, 4, 1}, "pool"),
                         doctest::Contains("pool: input has shape (3, 4, 1); expected (batch, height, width, channels)"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::check_image_batch({2, 0, 4, 1}, "pool"), xg::ShapeError);
    CHECK_THROWS_AS(xg::check_image_batch({2, 3, 0, 1}, "pool"), xg::ShapeError);
}

TEST_CASE("check_image_shape takes (height, width, channels) with at least one pixel") {
    CHECK_NOTHROW(xg::check_image_shape({3, 4, 2}, "layer"));
    CHECK_THROWS_WITH_AS(xg::check_image_shape({28, 28}, "zoom"),
                         doctest::Contains("zoom: input shape (28, 28) without the batch axis; expected (height, width, "
                                           "channels) with at least one pixel"),
                         xg::ShapeError);
    CHECK_THROWS_AS(xg::check_image_shape({0, 4, 1}, "zoom"), xg::ShapeError);
}
