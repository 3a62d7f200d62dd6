// Rescaling: x * scale + offset in both modes, its gradient, its config, and its errors.
#include "xgrad/nn/rescaling.hpp"

#include <cmath>

#include <doctest/doctest.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "test_arrays.hpp"

TEST_CASE("Rescaling multiplies by scale and adds offset, in training and inference alike") {
    const xg::Array x = xg::test::random_array({3, 4, 2}, 1, 0.0f, 255.0f);
    xg::Rescaling scale(1.0f / 255.0f);
    CHECK(scale.name() == "rescaling_1");
    CHECK(scale.parameters().empty());
    xg::test::check_close(scale(xg::input(x)).value(), x / 255.0f);
    xg::Rescaling centre(1.0f / 127.5f, -1.0f);
    for (bool training : {true, false}) {
        centre.train(training);
        xg::test::check_close(centre(xg::input(x)).value(), x / 127.5f - 1.0f);
    }
    CHECK(centre.output_shape({4, 2}) == xg::Shape{4, 2});
}

TEST_CASE("Rescaling's gradient is scale, and its config keeps both settings") {
    const xg::Tensor x = xg::parameter(xg::test::random_array({2, 3}, 2), "x");
    xg::Rescaling layer(0.5f, 2.0f);
    xg::sum(layer(x)).backward();
    CHECK(x.grad() == xt::full_like(x.value(), 0.5f));
    CHECK(*layer.config() == xg::LayerConfig{{"scale", "0.5"}, {"offset", "2"}});
}

TEST_CASE("Rescaling refuses scales and offsets that are not finite") {
    CHECK_THROWS_WITH_AS(xg::Rescaling(std::nanf("")), doctest::Contains("Rescaling: scale nan and offset 0"),
                         xg::ValueError);
    CHECK_THROWS_AS(xg::Rescaling(1.0f, INFINITY), xg::ValueError);
}
