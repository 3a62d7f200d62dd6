// Elementwise ops over shapes that broadcast: xgrad's kernel (map_elements, which walks the
// output by rows) beside the xtensor expression it replaced, on the same arrays, in
// interleaved rounds; then the kernel alone, call after call, as a training step calls its
// loops. The function is a multiply-add, as a bias, a scale or a mask applies. Prints one row
// per shape: the medians in microseconds and the ratio of the interleaved ones.
#include <chrono>
#include <cstdlib>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "timing.hpp"
#include "xgrad/core/elementwise.hpp"
#include "xgrad/core/threads.hpp"

namespace {

xg::Array filled(const xg::Shape& shape) {
    xg::Array a = xg::uninitialized(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(i % 7) - 3.0f;
    return a;
}

template <class F>
double microseconds(const F& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 41;
    int threads = 0;
    CLI::App app{"Times elementwise ops over broadcast shapes: xgrad's row kernel beside an xtensor expression."};
    app.add_option("--rounds", rounds, "Interleaved rounds per shape (medians)")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "Threads (default: the cores)")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    if (threads > 0) xg::set_num_threads(threads);

    const auto f = [](float x, float y) { return x * y + 1.0f; };
    const std::vector<std::pair<xg::Shape, xg::Shape>> cases = {
        {{128, 512}, {512}},          // a dense layer's bias
        {{64, 13, 13, 32}, {32}},     // a convolution's per-channel scale
        {{1, 4, 512, 512}, {}},       // a scalar
        {{4, 512, 512}, {1, 512, 512}},  // a mask over heads
        {{256, 1}, {1, 256}},         // an outer product
        {{64, 26, 26, 3}, {3}},       // three channels: rows widened, the (3,) cycling along them
        {{32, 10}, {10}},             // a small bias
    };
    fmt::print("{:<18} {:<14} {:>12} {:>12} {:>7} {:>16}\n", "a", "b", "xtensor us", "rows us", "ratio",
               "rows in a row us");
    for (const auto& [sa, sb] : cases) {
        const xg::Array a = filled(sa);
        const xg::Array b = filled(sb);
        const xg::Array expected = xt::make_lambda_xfunction(f, a, b);
        if (xg::map_elements(a, b, f) != expected) {
            fmt::print(stderr, "bench_broadcast: the kernels disagree for {} and {}\n", xg::format_shape(sa),
                       xg::format_shape(sb));
            return EXIT_FAILURE;
        }
        std::vector<double> old_times, new_times;
        for (int r = 0; r < rounds; ++r) {
            old_times.push_back(microseconds([&] { const xg::Array y = xt::make_lambda_xfunction(f, a, b); }));
            new_times.push_back(microseconds([&] { const xg::Array y = xg::map_elements(a, b, f); }));
        }
        std::vector<double> in_a_row;
        for (int r = 0; r < rounds; ++r) {
            in_a_row.push_back(microseconds([&] { const xg::Array y = xg::map_elements(a, b, f); }));
        }
        const double old_us = bench::median(old_times);
        const double new_us = bench::median(new_times);
        fmt::print("{:<18} {:<14} {:>12.1f} {:>12.1f} {:>6.1f}x {:>16.1f}\n", xg::format_shape(sa), xg::format_shape(sb),
                   old_us, new_us, old_us / new_us, bench::median(in_a_row));
    }
    return EXIT_SUCCESS;
}
