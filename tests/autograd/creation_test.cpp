#include "xgrad/autograd/creation.hpp"

#include <cmath>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"

TEST_CASE("zeros, ones and full take the shape as a shape, not as values") {
    const xg::Tensor z = xg::zeros({3, 4});
    CHECK(z.shape() == xg::Shape{3, 4});
    CHECK(xt::all(xt::equal(z.value(), 0.0f)));
    CHECK_FALSE(z.requires_grad());
    CHECK(z.role() == xg::Role::input);

    const xg::Tensor o = xg::ones({2}, true);
    CHECK(o.shape() == xg::Shape{2});
    CHECK(xt::all(xt::equal(o.value(), 1.0f)));
    CHECK(o.requires_grad());
    CHECK(o.role() == xg::Role::parameter);

    const xg::Tensor f = xg::full({2, 1, 3}, -2.5f);
    CHECK(f.shape() == xg::Shape{2, 1, 3});
    CHECK(xt::all(xt::equal(f.value(), -2.5f)));

    CHECK(xg::zeros({}).rank() == 0);
    CHECK(xg::zeros({}).item() == 0.0f);
    CHECK(xg::ones({0, 5}).size() == 0);
}

TEST_CASE("array fills a shape in row-major order and checks the count") {
    const xg::Tensor a = xg::array({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(a.shape() == xg::Shape{2, 3});
    CHECK(a.value()(0, 2) == 3.0f);
    CHECK(a.value()(1, 0) == 4.0f);
    CHECK(xg::array({4}, {1, 2, 3, 4}, true).requires_grad());
    CHECK_THROWS_WITH_AS(xg::array({2, 3}, {1, 2, 3}),
                         doctest::Contains("array: 3 values for shape (2, 3); expected 6"), xg::ShapeError);
}

TEST_CASE("random_normal and random_uniform follow their distribution and the seed") {
    xg::manual_seed(7);
    const xg::Tensor n = xg::random_normal({200, 100}, 1.0f, 0.5f);
    CHECK(n.shape() == xg::Shape{200, 100});
    const double mean = xt::mean(n.value())();
    const double stddev = std::sqrt(xt::variance(n.value())());
    CHECK(mean == doctest::Approx(1.0).epsilon(0.01));
    CHECK(stddev == doctest::Approx(0.5).epsilon(0.02));

    const xg::Tensor u = xg::random_uniform({100, 100}, 2.0f, 3.0f);
    CHECK(xt::amin(u.value())() >= 2.0f);
    CHECK(xt::amax(u.value())() < 3.0f);
    CHECK(xt::mean(u.value())() == doctest::Approx(2.5).epsilon(0.01));

    // Defaults as in PyTorch's randn and rand: N(0, 1) and U(0, 1).
    const xg::Tensor d = xg::random_normal({100, 100});
    CHECK(std::sqrt(xt::variance(d.value())()) == doctest::Approx(1.0).epsilon(0.03));
    const xg::Tensor du = xg::random_uniform({100, 100});
    CHECK(xt::amin(du.value())() >= 0.0f);
    CHECK(xt::amax(du.value())() < 1.0f);

    xg::manual_seed(11);
    const xg::Array first = xg::random_normal({8}).value();
    const xg::Array next = xg::random_normal({8}).value();
    xg::manual_seed(11);
    CHECK(xg::random_normal({8}).value() == first);
    CHECK(first != next);

    CHECK_THROWS_AS(xg::random_uniform({2}, 1.0f, 1.0f), xg::ValueError);
    CHECK_THROWS_AS(xg::random_normal({2}, 0.0f, -1.0f), xg::ValueError);
    CHECK(xg::random_uniform({3}, 0.0f, 1.0f, true).requires_grad());
}
