// Tests for lib/xgrad/core/depthwise_kernels.cpp: the channel layout (c * M + m), the two
// gradients as adjoints of the forward pass, and results that do not depend on the threads.
#include <numeric>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/core/depthwise_kernels.hpp"
#include "xgrad/core/threads.hpp"

TEST_CASE("depthwise_forward puts filter m of channel c in output channel c * M + m and adds the bias") {
    // One 2x2 image, 2 channels: channel 0 all ones, channel 1 all twos; a 2x2 kernel, M = 2.
    xg::Array x = xt::zeros<float>({1, 2, 2, 2});
    for (std::size_t p = 0; p < 4; ++p) {
        x.data()[2 * p] = 1.0f;
        x.data()[2 * p + 1] = 2.0f;
    }
    // w[a, b, c, m] = 1 + m + 10 c: filter sums 4, 8 (channel 0) and 44, 48 (channel 1).
    xg::Array w = xt::zeros<float>({2, 2, 2, 2});
    for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t m = 0; m < 2; ++m) w.data()[(t * 2 + c) * 2 + m] = float(1 + m + 10 * c);
    const xg::Array bias{0.5f, 0.25f, 0.125f, 0.0625f};
    const xg::Window2d g = xg::window_geometry(x.shape(), {2, 2}, {1, 1}, xg::Padding::valid, "test", "kernel");
    const xg::Array y = xg::depthwise_forward(x.data(), w.data(), bias.data(), g, 2);
    REQUIRE(y.shape() == xg::Shape{1, 1, 1, 4});
    CHECK(y(0, 0, 0, 0) == 4.0f * 1 + 0.5f);
    CHECK(y(0, 0, 0, 1) == 4.0f * 2 + 0.25f);
    CHECK(y(0, 0, 0, 2) == 4.0f * 2 * 11 + 0.125f);
    CHECK(y(0, 0, 0, 3) == 4.0f * 2 * 12 + 0.0625f);
}

TEST_CASE("both gradients are adjoints of the forward pass: <f(x, w), dy> = <x, dx> = <w, dw>") {
    xt::random::seed(4);
    for (xg::Padding p : {xg::Padding::valid, xg::Padding::same}) {
        for (xg::Size2 s : {xg::Size2{1, 1}, xg::Size2{2, 1}, xg::Size2{2, 3}}) {
            for (std::size_t m : {std::size_t{1}, std::size_t{3}}) {
                const xg::Window2d g = xg::window_geometry({9, 6, 7, 3}, {3, 2}, s, p, "test", "kernel");
                const xg::Array x = xt::random::rand<float>({9, 6, 7, 3}, -1.0f, 1.0f);
                const xg::Array w = xt::random::rand<float>(xg::Shape{3, 2, 3, m}, -1.0f, 1.0f);
                const xg::Array y = xg::depthwise_forward(x.data(), w.data(), nullptr, g, m);
                const xg::Array dy = xt::random::rand<float>(y.shape(), -1.0f, 1.0f);
                const xg::Array dx = xg::depthwise_input_grad(dy.data(), w.data(), g, m);
                const xg::Array dw = xg::depthwise_kernel_grad(x.data(), dy.data(), g, m);
                const double forward = std::inner_product(y.begin(), y.end(), dy.begin(), 0.0);
                CHECK(std::inner_product(x.begin(), x.end(), dx.begin(), 0.0) == doctest::Approx(forward).epsilon(1e-5));
                CHECK(std::inner_product(w.begin(), w.end(), dw.begin(), 0.0) == doctest::Approx(forward).epsilon(1e-5));
            }
        }
    }
}

TEST_CASE("depthwise kernels give the same bits on one thread and on three") {
    // Large enough that every loop is split: 9 images (chunks of 2, the last one partial) of
    // 30x30 with 32 channels.
    xt::random::seed(6);
    const xg::Array x = xt::random::rand<float>({9, 30, 30, 32}, -1.0f, 1.0f);
    const xg::Array w = xt::random::rand<float>({3, 3, 32, 2}, -1.0f, 1.0f);
    const xg::Window2d g = xg::window_geometry(x.shape(), {3, 3}, {1, 1}, xg::Padding::same, "test", "kernel");
    const xg::Array dy = xt::random::rand<float>({9, 30, 30, 64}, -1.0f, 1.0f);
    const int threads = xg::num_threads();
    xg::set_num_threads(1);
    const xg::Array y1 = xg::depthwise_forward(x.data(), w.data(), nullptr, g, 2);
    const xg::Array dx1 = xg::depthwise_input_grad(dy.data(), w.data(), g, 2);
    const xg::Array dw1 = xg::depthwise_kernel_grad(x.data(), dy.data(), g, 2);
    xg::set_num_threads(3);
    CHECK(xg::depthwise_forward(x.data(), w.data(), nullptr, g, 2) == y1);
    CHECK(xg::depthwise_input_grad(dy.data(), w.data(), g, 2) == dx1);
    CHECK(xg::depthwise_kernel_grad(x.data(), dy.data(), g, 2) == dw1);
    xg::set_num_threads(threads);
}
