// Defining your own model: SpiralNet (spirals_model.hpp) is built from ops and parameters,
// with a skip connection and two branches joined by a sum, which Sequential cannot express.
// The app trains it on interleaved spirals it generates, either with Model::compile/fit
// (--loop keras) or with a hand-written loop (--loop manual), and reports the accuracy on
// a held-out set drawn with another seed. docs/custom_models.md walks through this file.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "spirals_model.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/graph/op_graph.hpp"
#include "xgrad/graph/render.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/loss.hpp"
#include "xgrad/train/metric.hpp"
#include "xgrad/train/model.hpp"

namespace {

using spirals::SpiralData;
using spirals::SpiralNet;

struct Flags {
    std::size_t points = 500;
    std::size_t classes = 2;
    std::size_t hidden = 32;
    float noise = 0.05f;
    std::size_t epochs = 60;
    std::size_t batch_size = 32;
    double learning_rate = 0.01;
    std::string optimizer = "adam";
    std::string loop = "keras";
    std::uint64_t seed = 1;
    std::string graph;
    bool json = false;
};

// What a training run reports, whichever loop ran it.
struct Result {
    std::vector<double> loss, accuracy;  // per epoch, on the training batches
    double train_seconds = 0.0;
};

std::shared_ptr<xg::Optimizer> make_optimizer(const Flags& flags, std::vector<xg::Tensor> parameters) {
    const auto learning_rate = static_cast<float>(flags.learning_rate);
    if (flags.optimizer == "rmsprop") {
        return std::make_shared<xg::RMSprop>(std::move(parameters), xg::RMSpropOptions{.learning_rate = learning_rate});
    }
    return std::make_shared<xg::Adam>(std::move(parameters), xg::AdamOptions{.learning_rate = learning_rate});
}

void print_parameters(const SpiralNet& net, std::ostream& out) {
    out << fmt::format("Model: {} ({})\n", net.name(), net.kind());
    out << fmt::format("{:<18} {:<10} {:>7}\n", "parameter", "shape", "count");
    for (const auto& [name, tensor] : net.named_parameters()) {
        out << fmt::format("{:<18} {:<10} {:>7}\n", name, xg::format_shape(tensor.shape()), tensor.size());
    }
    out << fmt::format("Total parameters: {}\n\n", net.parameter_count());
}

// A line every tenth of the run, and for the last epoch.
void report_epoch(std::size_t epoch, const Flags& flags, double loss, double accuracy, std::ostream& out) {
    const std::size_t every = std::max<std::size_t>(1, flags.epochs / 10);
    if ((epoch + 1) % every != 0 && epoch + 1 != flags.epochs) return;
    out << fmt::format("epoch {:>4}/{}  loss {:.4f}  accuracy {:.4f}\n", epoch + 1, flags.epochs, loss, accuracy);
}

// Records one training step's forward pass and loss, writes its graph, and discards it.
void write_step_graph(SpiralNet& net, const SpiralData& train, const Flags& flags) {
    std::vector<std::size_t> rows(std::min(flags.batch_size, train.labels.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    xg::Array xb, yb;
    xg::ArrayDataset(train.x, train.labels).gather(rows, xb, yb);
    xg::Tensor labels = xg::constant(std::move(yb));
    labels.set_name("labels");
    const xg::Activated out = net.call_with_logits(xg::input(std::move(xb), "points"));
    xg::Tensor loss = xg::sparse_categorical_crossentropy(out.logits, labels, /*from_logits=*/true);
    xg::GraphOptions options;
    options.gradient_path = true;
    xg::write_graph(xg::ops_to_dot(loss, options), flags.graph);
    xg::Tape::current().clear();
}

// The Keras way: compile, then fit; a callback prints progress.
Result train_with_fit(xg::Model& model, const SpiralData& train, const Flags& flags, std::ostream& out) {
    model.compile(make_optimizer(flags, model.network().parameters()), "sparse_categorical_crossentropy", {"accuracy"});
    xg::FitOptions fit;
    fit.epochs = flags.epochs;
    fit.batch_size = flags.batch_size;
    fit.verbose = 0;
    auto progress = [&](xg::Model&, std::size_t epoch, const xg::Logs& logs) {
        report_epoch(epoch, flags, xg::log_value(logs, "loss"), xg::log_value(logs, "accuracy"), out);
    };
    fit.callbacks.push_back(std::make_shared<xg::LambdaCallback>(progress));
    const auto start = std::chrono::steady_clock::now();
    const xg::History history = model.fit(train.x, train.labels, fit);
    return {history["loss"], history["accuracy"],
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

// The PyTorch way: shuffle, batch, forward, loss, zero_grad, backward, step.
Result train_by_hand(SpiralNet& net, const SpiralData& train, const Flags& flags, std::ostream& out) {
    auto optimizer = make_optimizer(flags, net.parameters());
    const xg::ArrayDataset data(train.x, train.labels);
    Result result;
    xg::Array xb, yb;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t epoch = 0; epoch < flags.epochs; ++epoch) {
        const std::vector<std::size_t> order = xg::epoch_order(data.size(), true);
        xg::Mean epoch_loss;
        xg::Accuracy epoch_accuracy(xg::AccuracyKind::sparse);
        for (std::size_t first = 0; first < order.size(); first += flags.batch_size) {
            const std::size_t count = std::min(flags.batch_size, order.size() - first);
            data.gather(std::span(order).subspan(first, count), xb, yb);
            const xg::Tensor x = xg::input(xb), y = xg::constant(yb);

            // The loss on the logits: the fused, exact softmax_cross_entropy.
            const xg::Activated out = net.call_with_logits(x);
            const xg::Tensor probabilities = out.output;
            const xg::Tensor loss = xg::sparse_categorical_crossentropy(out.logits, y, /*from_logits=*/true);
            optimizer->zero_grad();
            loss.backward();
            optimizer->step();

            epoch_loss.add(loss.item(), static_cast<double>(count));
            epoch_accuracy.update(probabilities.value(), yb);
        }
        result.loss.push_back(epoch_loss.result());
        result.accuracy.push_back(epoch_accuracy.result());
        report_epoch(epoch, flags, result.loss.back(), result.accuracy.back(), out);
    }
    result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

// Loss and accuracy over a whole set, in one batch, without recording.
xg::Logs evaluate_by_hand(SpiralNet& net, const SpiralData& data) {
    xg::NoGradGuard no_grad;
    const xg::Activated out = net.call_with_logits(xg::input(data.x));
    const xg::Tensor probabilities = out.output;
    const xg::Tensor loss = xg::sparse_categorical_crossentropy(out.logits, xg::constant(data.labels), /*from_logits=*/true);
    xg::Accuracy accuracy(xg::AccuracyKind::sparse);
    accuracy.update(probabilities.value(), data.labels);
    return {{"loss", loss.item()}, {"accuracy", accuracy.result()}};
}

int run(const Flags& flags) {
    xg::manual_seed(flags.seed);
    std::ostream& out = std::cout;

    const SpiralData train = spirals::make_spirals(flags.points, flags.classes, flags.noise, flags.seed);
    const SpiralData test = spirals::make_spirals(flags.points, flags.classes, flags.noise, flags.seed + 1);
    out << fmt::format("{} spirals: {} training points, {} test points (noise {})\n\n", flags.classes,
                       train.labels.size(), test.labels.size(), flags.noise);

    auto net = std::make_shared<SpiralNet>(2, flags.hidden, flags.classes, "spiral_net");
    print_parameters(*net, out);
    if (!flags.graph.empty()) {
        write_step_graph(*net, train, flags);
        out << fmt::format("Wrote the training-step graph to {}\n\n", flags.graph);
    }

    xg::Model model(net);
    Result result;
    xg::Logs train_logs, test_logs;
    if (flags.loop == "keras") {
        result = train_with_fit(model, train, flags, out);
        train_logs = model.evaluate(train.x, train.labels, flags.batch_size);
        test_logs = model.evaluate(test.x, test.labels, flags.batch_size);
    } else {
        result = train_by_hand(*net, train, flags, out);
        train_logs = evaluate_by_hand(*net, train);
        test_logs = evaluate_by_hand(*net, test);
    }
    const double train_accuracy = xg::log_value(train_logs, "accuracy");
    const double test_accuracy = xg::log_value(test_logs, "accuracy");
    const double test_loss = xg::log_value(test_logs, "loss");
    out << fmt::format("\ntrained in {:.2f} s ({} loop)\ntrain_acc: {:.4f}\ntest_loss: {:.4f}\ntest_acc: {:.4f}\n",
                       result.train_seconds, flags.loop, train_accuracy, test_loss, test_accuracy);

    if (flags.json) {
        const nlohmann::json j = {
            {"loop", flags.loop},
            {"optimizer", flags.optimizer},
            {"classes", flags.classes},
            {"points", flags.points},
            {"epochs", flags.epochs},
            {"batch_size", flags.batch_size},
            {"learning_rate", flags.learning_rate},
            {"seed", flags.seed},
            {"parameters", net->parameter_count()},
            {"train_accuracy", train_accuracy},
            {"test_accuracy", test_accuracy},
            {"test_loss", test_loss},
            {"train_seconds", result.train_seconds},
            {"train_loss", result.loss},
        };
        out << j.dump() << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Flags flags;
    CLI::App app{"Trains SpiralNet, a model defined from ops (a skip connection and two branches joined by a sum), "
                 "on interleaved spirals"};
    app.add_option("--points", flags.points, "Points per class, in the training set and in the test set")
        ->check(CLI::PositiveNumber);
    app.add_option("--classes", flags.classes, "Spiral arms, one per class")->check(CLI::Range(2, 16));
    app.add_option("--hidden", flags.hidden, "Width of the hidden layers")->check(CLI::PositiveNumber);
    app.add_option("--noise", flags.noise, "Standard deviation of the noise on each coordinate")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--epochs", flags.epochs, "Passes over the training set")->check(CLI::PositiveNumber);
    app.add_option("--batch-size", flags.batch_size, "Samples per step")->check(CLI::PositiveNumber);
    app.add_option("--learning-rate", flags.learning_rate, "Optimizer learning rate")->check(CLI::PositiveNumber);
    app.add_option("--optimizer", flags.optimizer, "adam or rmsprop")->check(CLI::IsMember({"adam", "rmsprop"}));
    app.add_option("--loop", flags.loop, "keras (Model::compile and fit) or manual (a hand-written loop)")
        ->check(CLI::IsMember({"keras", "manual"}));
    app.add_option("--seed", flags.seed, "Seed for the weights, the shuffling and the training points (test points: "
                                         "seed + 1)");
    app.add_option("--graph", flags.graph, "Write the graph of one training step (.dot, .gv, .svg, .png, .pdf)");
    app.add_flag("--json", flags.json, "End with one line of JSON: test_accuracy, train_seconds, ...");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return run(flags);
    } catch (const std::exception& e) {
        std::cerr << "spirals: error: " << e.what() << "\n";
        return 1;
    }
}
