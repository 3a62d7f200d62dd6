// Single-image inference latency of the reference model (Dense(784->512, relu) ->
// Dense(512->10, softmax); --hidden for other hidden layers): `Model::predict` on one
// (1, 784) image, timed call by call after warm-up calls, as an application serving one
// request at a time would call it. The weights are the initializer's and the image is random:
// neither changes the work. Prints one line of JSON with the median and 90th percentile.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/core/random.hpp"
#include "xgrad/core/threads.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/train/model.hpp"

int main(int argc, char** argv) {
    int calls = 10000;
    int threads = 0;
    std::vector<std::size_t> hidden{512};
    CLI::App app{"Times single-image Model::predict calls of the reference MNIST model (median over warm calls)."};
    app.add_option("--calls", calls, "Timed calls (a tenth as many warm-up calls go first)")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "Threads (default: OpenBLAS's own choice: OPENBLAS_NUM_THREADS, else the cores)")->check(CLI::PositiveNumber);
    app.add_option("--hidden", hidden, "The hidden widths, e.g. 2048,2048 (default: 512)")
        ->delimiter(',')
        ->check(CLI::Range(1, 1 << 20));
    CLI11_PARSE(app, argc, argv);

    try {
        if (threads > 0) xg::set_num_threads(threads);
        xg::manual_seed(1);
        auto network = std::make_shared<xg::Sequential>();
        std::size_t width = 784;
        for (std::size_t units : hidden) {
            network->emplace<xg::Dense>(width, units, "relu");
            width = units;
        }
        network->emplace<xg::Dense>(width, 10, "softmax");
        xg::Model model(network);

        xg::Array image = xg::uninitialized({1, 784});
        for (std::size_t i = 0; i < 784; ++i) image.data()[i] = static_cast<float>((i * 37) % 256) / 255.0f;

        std::vector<double> micros;
        micros.reserve(static_cast<std::size_t>(calls));
        double sink = 0.0;
        const int warm = std::max(1, calls / 10);
        for (int i = 0; i < warm + calls; ++i) {
            const auto start = std::chrono::steady_clock::now();
            const xg::Array p = model.predict(image);
            const auto stop = std::chrono::steady_clock::now();
            sink += p.data()[0];
            if (i >= warm) micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
        }
        std::sort(micros.begin(), micros.end());
        fmt::print("{{\"impl\": \"ours\", \"threads\": {}, \"calls\": {}, \"median_us\": {:.3f}, \"p90_us\": {:.3f}, "
                   "\"checksum\": {:.6f}}}\n",
                   xg::num_threads(), calls, micros[micros.size() / 2], micros[micros.size() * 9 / 10], sink);
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_latency: {}\n", e.what());
        return 1;
    }
}
