// One training step of a recurrent text classifier, the shape of Deep Learning with Python's
// 6.2: Embedding(vocabulary, units) -> SimpleRNN/LSTM/GRU(units) -> Dense(1) on sequences of
// `steps` word ids, binary cross-entropy on the logit, RMSprop. tools/peers/recurrent_torch.py
// times the same model in PyTorch (nn.RNN/LSTM/GRU).
//
// Prints one line of JSON: the median over rounds of the wall and CPU milliseconds of a step
// (forward, backward, update).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/xgrad.hpp"
#include "timing.hpp"

namespace {

void run(const std::string& layer, int rounds, int threads, std::size_t batch, std::size_t steps, std::size_t units,
         std::size_t vocabulary) {
    if (threads > 0) xg::set_num_threads(threads);

    xg::manual_seed(1);
    xg::Sequential model;
    model.emplace<xg::Embedding>(vocabulary, units);
    if (layer == "simple_rnn") {
        model.emplace<xg::SimpleRNN>(units, units);
    } else if (layer == "lstm") {
        model.emplace<xg::LSTM>(units, units);
    } else {
        model.emplace<xg::GRU>(units, units);
    }
    model.emplace<xg::Dense>(units, 1);
    xg::RMSprop optimizer(model.parameters());

    // Fixed ids spread over the vocabulary and alternating labels: the time does not depend on them.
    xg::Array ids = xg::uninitialized({batch, steps});
    for (std::size_t i = 0; i < ids.size(); ++i) ids.data()[i] = static_cast<float>((i * 7919) % vocabulary);
    xg::Array labels = xg::uninitialized({batch, 1});
    for (std::size_t i = 0; i < batch; ++i) labels.data()[i] = static_cast<float>(i % 2);

    std::vector<double> wall, cpu;
    for (int r = 0; r <= rounds; ++r) {
        const auto w0 = std::chrono::steady_clock::now();
        const double c0 = bench::cpu_seconds();
        const xg::Tensor loss = xg::binary_crossentropy(model(xg::input(ids)), xg::constant(labels), /*from_logits=*/true);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        const double c = bench::cpu_seconds() - c0;
        const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
        if (r == 0) continue;  // warm-up: the buffer pool and OpenBLAS's threads start here
        wall.push_back(w * 1e3);
        cpu.push_back(c * 1e3);
    }
    std::cout << fmt::format("{{\"peer\": \"xgrad\", \"layer\": \"{}\", \"batch\": {}, \"steps\": {}, \"units\": {}, "
                             "\"threads\": {}, \"step_ms\": {:.3f}, \"step_cpu_ms\": {:.3f}}}\n",
                             layer, batch, steps, units, xg::num_threads(), bench::median(wall), bench::median(cpu));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"a training step of Embedding -> recurrent layer -> Dense(1)"};
    std::string layer = "lstm";
    int rounds = 30;
    int threads = 0;
    std::size_t batch = 128, steps = 100, units = 32, vocabulary = 10000;
    app.add_option("--layer", layer, "simple_rnn, lstm or gru")->check(CLI::IsMember({"simple_rnn", "lstm", "gru"}));
    app.add_option("--rounds", rounds, "timed rounds (one warm-up round is added)")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads, "Threads (0: OpenBLAS's default: OPENBLAS_NUM_THREADS, else the cores)")->check(CLI::NonNegativeNumber);
    app.add_option("--batch", batch, "sequences per batch")->check(CLI::PositiveNumber);
    app.add_option("--steps", steps, "word ids per sequence")->check(CLI::PositiveNumber);
    app.add_option("--units", units, "the embedding's width and the recurrent layer's units")->check(CLI::PositiveNumber);
    app.add_option("--vocabulary", vocabulary, "the embedding's rows")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    // Word ids travel as floats: above 2^24 they would no longer be exact.
    if (vocabulary > (std::size_t{1} << 24)) {
        std::cerr << "bench_recurrent: --vocabulary " << vocabulary << "; expected at most 16777216\n";
        return 1;
    }
    try {
        run(layer, rounds, threads, batch, steps, units, vocabulary);
    } catch (const std::exception& e) {
        std::cerr << "bench_recurrent: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
