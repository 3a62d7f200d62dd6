// The tape's cost per op on the smallest tensors: a micrograd-style scalar expression of
// 100,000 ops (a chain of tanh neurons, x <- tanh(x * w[k] + b[k]), with 16 weights and
// biases reused along the chain), forward and backward, through xgrad's ops and tape and
// through a plain C++ loop that does the same scalar arithmetic (it keeps the chain's values
// for the backward sweep, as any reverse mode must). Both must give the same gradients.
//
// Prints one line of JSON: ns per op for each (medians), the median of the rounds' ratios (a
// round is one run of each, back to back), and the largest gradient gap.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

constexpr std::size_t kParams = 16;
constexpr std::size_t kOpsPerNeuron = 3;  // mul, add, tanh

struct Gradients {
    float loss = 0;
    std::vector<float> w, b;
};

float weight(std::size_t k) { return 0.5f + 0.05f * static_cast<float>(k); }
float bias(std::size_t k) { return 0.1f - 0.02f * static_cast<float>(k); }

// The chain through the tape: every mul, add and tanh is a recorded op on 0-d tensors.
Gradients with_tape(std::size_t neurons) {
    std::vector<xg::Tensor> w, b;
    for (std::size_t k = 0; k < kParams; ++k) {
        w.push_back(xg::Tensor::scalar(weight(k), true));
        b.push_back(xg::Tensor::scalar(bias(k), true));
    }
    xg::Tensor x = xg::Tensor::scalar(0.3f);
    for (std::size_t i = 0; i < neurons; ++i) x = xg::tanh(x * w[i % kParams] + b[i % kParams]);
    x.backward();
    Gradients g{x.item(), {}, {}};
    for (std::size_t k = 0; k < kParams; ++k) {
        g.w.push_back(w[k].grad().data()[0]);
        g.b.push_back(b[k].grad().data()[0]);
    }
    return g;
}

// The same arithmetic by hand: forward keeps each neuron's input and output, backward walks
// them in reverse.
Gradients plain_loop(std::size_t neurons) {
    std::vector<float> inputs(neurons), outputs(neurons);
    float w[kParams], b[kParams];
    for (std::size_t k = 0; k < kParams; ++k) {
        w[k] = weight(k);
        b[k] = bias(k);
    }
    float x = 0.3f;
    for (std::size_t i = 0; i < neurons; ++i) {
        inputs[i] = x;
        x = std::tanh(x * w[i % kParams] + b[i % kParams]);
        outputs[i] = x;
    }
    Gradients g{x, std::vector<float>(kParams, 0.0f), std::vector<float>(kParams, 0.0f)};
    float dx = 1.0f;
    for (std::size_t i = neurons; i-- > 0;) {
        const float dz = dx * (1.0f - outputs[i] * outputs[i]);
        g.b[i % kParams] += dz;
        g.w[i % kParams] += dz * inputs[i];
        dx = dz * w[i % kParams];
    }
    return g;
}

template <class F>
double seconds(F&& run, Gradients& result) {
    const auto start = std::chrono::steady_clock::now();
    result = run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t ops = 100000;
    int repeats = 21;
    CLI::App app{"Per-op cost of the tape on scalars: a 100k-op tanh chain, forward and backward, against a plain loop"};
    app.add_option("--ops", ops, "Ops in the expression (a multiple of 3: mul, add, tanh)")->check(CLI::Range(3, 100000000));
    app.add_option("--repeats", repeats, "Timed rounds (a run of each); medians are reported")->check(CLI::Range(1, 10000));
    CLI11_PARSE(app, argc, argv);
    const std::size_t neurons = ops / kOpsPerNeuron;
    ops = neurons * kOpsPerNeuron;

    Gradients tape_grads, loop_grads;
    with_tape(neurons);  // warm-up: first-touch allocations
    // Rounds of one tape run and one loop run: the two see the same machine load, which on a
    // shared host changes from second to second; the ratio is the median of the rounds' ratios.
    std::vector<double> tape_times, loop_times, ratios;
    for (int r = 0; r < repeats; ++r) {
        tape_times.push_back(seconds([&] { return with_tape(neurons); }, tape_grads));
        loop_times.push_back(seconds([&] { return plain_loop(neurons); }, loop_grads));
        ratios.push_back(tape_times.back() / loop_times.back());
    }
    const double tape_s = median(tape_times), loop_s = median(loop_times);

    float gap = std::abs(tape_grads.loss - loop_grads.loss);
    for (std::size_t k = 0; k < kParams; ++k) {
        gap = std::max({gap, std::abs(tape_grads.w[k] - loop_grads.w[k]), std::abs(tape_grads.b[k] - loop_grads.b[k])});
    }
    if (!(gap <= 1e-3f)) {
        std::cerr << fmt::format("small_ops: the tape and the plain loop disagree by {} (expected the same gradients)\n", gap);
        return 1;
    }
    const double tape_ns = tape_s / static_cast<double>(ops) * 1e9, loop_ns = loop_s / static_cast<double>(ops) * 1e9;
    fmt::print("{{\"impl\": \"small-ops\", \"ops\": {}, \"tape_seconds\": {:.6f}, \"loop_seconds\": {:.6f}, "
               "\"tape_ns_per_op\": {:.1f}, \"loop_ns_per_op\": {:.2f}, \"ratio\": {:.2f}, \"max_gradient_gap\": {:.3g}}}\n",
               ops, tape_s, loop_s, tape_ns, loop_ns, median(ratios), gap);
    return 0;
}
