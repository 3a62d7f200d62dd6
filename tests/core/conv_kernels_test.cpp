// Tests for lib/xgrad/core/conv_kernels.cpp: im2col's layout and col2im as its adjoint.
#include <numeric>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/core/conv_kernels.hpp"

TEST_CASE("im2col lays each window out as one row (KH, KW, C), zeros in the padding") {
    // One 3x3 image with 2 channels: pixel p holds (p, 10 + p).
    xg::Array x = xt::zeros<float>({1, 3, 3, 2});
    for (std::size_t p = 0; p < 9; ++p) {
        x.data()[2 * p] = float(p);
        x.data()[2 * p + 1] = float(10 + p);
    }
    const xg::Window2d g = xg::window_geometry(x.shape(), {2, 2}, {2, 2}, xg::Padding::same, "test", "kernel");
    REQUIRE(g.oh == 2);
    xg::Array col = xt::zeros<float>({4, 8});
    xg::im2col(x.data(), g, 0, 1, col.data());
    CHECK(xt::row(col, 0) == xg::Array{0, 10, 1, 11, 3, 13, 4, 14});
    CHECK(xt::row(col, 1) == xg::Array{2, 12, 0, 0, 5, 15, 0, 0});
    CHECK(xt::row(col, 3) == xg::Array{8, 18, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>") {
    xt::random::seed(2);
    for (xg::Padding p : {xg::Padding::valid, xg::Padding::same}) {
        for (xg::Size2 s : {xg::Size2{1, 1}, xg::Size2{2, 1}, xg::Size2{2, 3}}) {
            const xg::Window2d g = xg::window_geometry({2, 5, 7, 3}, {3, 2}, s, p, "test", "kernel");
            const std::size_t rows = g.n * g.oh * g.ow, k = g.kh * g.kw * g.c;
            const xg::Array x = xt::random::rand<float>({2, 5, 7, 3}, -1.0f, 1.0f);
            const xg::Array c = xt::random::rand<float>({rows, k}, -1.0f, 1.0f);
            xg::Array col = xt::zeros<float>({rows, k});
            xg::im2col(x.data(), g, 0, g.n, col.data());
            xg::Array back = xt::zeros<float>(x.shape());
            xg::col2im(c.data(), g, 0, g.n, back.data());
            const double left = std::inner_product(col.begin(), col.end(), c.begin(), 0.0);
            const double right = std::inner_product(x.begin(), x.end(), back.begin(), 0.0);
            CHECK(left == doctest::Approx(right).epsilon(1e-5));
        }
    }
}
