// Forward and backward of the three convolutions of the book's MNIST convnet at batch 64
// (Conv2D(32, 3x3) on 28x28x1, Conv2D(64, 3x3) on 13x13x32, Conv2D(64, 3x3) on 5x5x64, each
// with its bias, valid padding), as one training step runs them: the first layer computes no
// gradient for its input. tools/peers/conv_torch.py times the same layers in PyTorch.
//
// Prints one line of JSON: per layer and in total, the median over rounds of the wall and
// CPU milliseconds of one forward + backward.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/threads.hpp"
#include "xgrad/ops/ops.hpp"
#include "timing.hpp"

namespace {

struct Layer {
    const char* name;
    xg::Shape x, kernel;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"conv2d forward + backward on the book's convnet layers"};
    int rounds = 30;
    int threads = 0;
    std::size_t batch = 64;
    bool unfused = false;
    app.add_option("--rounds", rounds, "timed rounds (one warm-up round is added)")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "Threads (0: OpenBLAS's default: OPENBLAS_NUM_THREADS, else the cores)")->check(CLI::NonNegativeNumber);
    app.add_option("--batch", batch, "images per batch")->check(CLI::PositiveNumber);
    app.add_flag("--unfused", unfused, "conv2d then a broadcast add of the bias, instead of conv2d_with_bias");
    CLI11_PARSE(app, argc, argv);
    if (threads > 0) xg::set_num_threads(threads);

    const std::vector<Layer> layers{{"conv1", {batch, 28, 28, 1}, {3, 3, 1, 32}},
                                    {"conv2", {batch, 13, 13, 32}, {3, 3, 32, 64}},
                                    {"conv3", {batch, 5, 5, 64}, {3, 3, 64, 64}}};
    xt::random::seed(1);
    std::vector<xg::Tensor> xs, ks, bs;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        xs.push_back(xg::Tensor(xt::random::rand<float>(layers[i].x, -1.0f, 1.0f), i > 0));
        ks.push_back(xg::parameter(xt::random::rand<float>(layers[i].kernel, -0.1f, 0.1f), "kernel"));
        bs.push_back(xg::parameter(xt::zeros<float>({layers[i].kernel[3]}), "bias"));
    }
    std::vector<std::vector<double>> wall(layers.size()), cpu(layers.size());
    std::vector<double> total_wall, total_cpu;
    for (int r = 0; r <= rounds; ++r) {
        double round_wall = 0, round_cpu = 0;
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const auto w0 = std::chrono::steady_clock::now();
            const double c0 = bench::cpu_seconds();
            const xg::Tensor y = unfused ? xg::conv2d(xs[i], ks[i]) + bs[i] : xg::conv2d_with_bias(xs[i], ks[i], bs[i]);
            y.backward(xt::ones<float>(y.shape()));
            const double c = bench::cpu_seconds() - c0;
            const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
            ks[i].zero_grad();
            bs[i].zero_grad();
            xs[i].zero_grad();
            if (r == 0) continue;  // warm-up: the buffer pool and OpenBLAS's threads start here
            wall[i].push_back(w * 1e3);
            cpu[i].push_back(c * 1e3);
            round_wall += w * 1e3;
            round_cpu += c * 1e3;
        }
        if (r > 0) {
            total_wall.push_back(round_wall);
            total_cpu.push_back(round_cpu);
        }
    }
    std::cout << fmt::format("{{\"peer\": \"{}\", \"batch\": {}, \"blas_threads\": {}", unfused ? "xgrad-unfused" : "xgrad",
                             batch, xg::num_threads());
    for (std::size_t i = 0; i < layers.size(); ++i) {
        std::cout << fmt::format(", \"{}_ms\": {:.3f}, \"{}_cpu_ms\": {:.3f}", layers[i].name, bench::median(wall[i]),
                                 layers[i].name, bench::median(cpu[i]));
    }
    std::cout << fmt::format(", \"total_ms\": {:.3f}, \"total_cpu_ms\": {:.3f}}}\n", bench::median(total_wall), bench::median(total_cpu));
    return 0;
}
