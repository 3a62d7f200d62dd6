// Model: compile, fit (learning, validation, output, determinism, divergence, memory),
// evaluate, predict, train_step, and the errors of each.
#include "xgrad/train/model.hpp"

#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/core/threads.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/train/confusion_metrics.hpp"
#include "xgrad/train/progress.hpp"
#include "quiet_fit.hpp"

namespace {

const xg::Array xor_x = {{0.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {1.0f, 1.0f}};
const xg::Array xor_y = xt::reshape_view(xg::Array{0.0f, 1.0f, 1.0f, 0.0f}, {4, 1});

// Two Gaussian blobs around (-1, -1) and (1, 1); sample i has class i % 2, one-hot.
struct Blobs {
    xg::Array x, y;
};

Blobs blobs(std::size_t n, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> noise(0.0f, 0.4f);
    Blobs b{xg::uninitialized({n, 2}), xt::zeros<float>(xg::Shape{n, 2})};
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 2;
        const float center = c == 0 ? -1.0f : 1.0f;
        b.x(i, 0) = center + noise(engine);
        b.x(i, 1) = center + noise(engine);
        b.y(i, c) = 1.0f;
    }
    return b;
}

std::shared_ptr<xg::Sequential> classifier(std::size_t hidden = 8) {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(2, hidden, "relu");
    net->emplace<xg::Dense>(hidden, 2, "softmax");
    return net;
}

xg::Array rows(const xg::Array& a, std::size_t begin, std::size_t end) {
    return xt::view(a, xt::range(begin, end), xt::all());
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

using xg::test::quiet_fit;

}  // namespace

TEST_CASE("fit learns XOR to 100% training accuracy") {
    xg::manual_seed(1);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(2, 16, "tanh");
    net->emplace<xg::Dense>(16, 1, "sigmoid");
    xg::Model model(net);
    model.compile(std::make_shared<xg::Adam>(net->parameters(), xg::AdamOptions{.learning_rate = 0.05f}),
                  "binary_crossentropy", {"accuracy"});
    const xg::History history = model.fit(xor_x, xor_y, quiet_fit(300, 4));
    CHECK(history.epochs() == 300);
    CHECK(history["accuracy"].back() == 1.0);
    CHECK(history["loss"].back() < 0.1);
    CHECK(history["loss"].back() < history["loss"].front());
    const xg::Logs logs = model.evaluate(xor_x, xor_y);
    REQUIRE(logs.size() == 2);
    CHECK(logs[0].first == "loss");
    CHECK(logs[1].first == "accuracy");
    CHECK(logs[1].second == 1.0);
    const xg::Array p = model.predict(xor_x);
    CHECK(p(0, 0) < 0.5f);
    CHECK(p(1, 0) > 0.5f);
    CHECK(p(2, 0) > 0.5f);
    CHECK(p(3, 0) < 0.5f);
}

TEST_CASE("fit separates two Gaussian blobs with RMSprop by name") {
    xg::manual_seed(2);
    const Blobs data = blobs(64, 7);
    auto net = classifier();
    xg::Model model(net);
    model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});
    CHECK(model.optimizer().kind() == "RMSprop");
    CHECK(model.optimizer().learning_rate() == 0.001f);
    CHECK(model.loss_name() == "categorical_crossentropy");
    model.optimizer().set_learning_rate(0.02f);
    const xg::History history = model.fit(data.x, data.y, quiet_fit(40, 16));
    CHECK(history["accuracy"].back() == 1.0);
    CHECK(xg::log_value(model.evaluate(data.x, data.y), "accuracy") == 1.0);
}

TEST_CASE("fit, evaluate and predict give every layer back its own mode: a frozen layer stays in evaluation mode") {
    xg::manual_seed(2);
    const Blobs data = blobs(32, 7);
    auto net = classifier();
    net->children().at(0)->eval();  // frozen by the user; the model as a whole trains
    xg::Model model(net);
    model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});
    model.fit(data.x, data.y, quiet_fit(1, 8));
    model.evaluate(data.x, data.y);
    model.predict(data.x);
    CHECK(net->training());
    CHECK_FALSE(net->children().at(0)->training());
    CHECK(net->children().at(1)->training());
}

TEST_CASE("a layer frozen with set_trainable(false) keeps its weights through fit; the rest learns") {
    xg::manual_seed(2);
    const Blobs data = blobs(64, 7);
    auto net = classifier();
    auto& frozen = *net->children().at(0);
    frozen.set_trainable(false);
    std::vector<xg::Array> frozen_before, head_before;
    for (const auto& t : frozen.parameters()) frozen_before.push_back(t.value());
    for (const auto& t : net->children().at(1)->parameters()) head_before.push_back(t.value());
    xg::Model model(net);
    model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});
    CHECK(model.optimizer().parameters().size() == 2);  // the head's kernel and bias only
    model.optimizer().set_learning_rate(0.02f);
    const xg::History history = model.fit(data.x, data.y, quiet_fit(10, 16));
    CHECK(history["loss"].back() < history["loss"].front());
    for (std::size_t i = 0; i < frozen_before.size(); ++i) CHECK(frozen.parameters()[i].value() == frozen_before[i]);
    for (std::size_t i = 0; i < head_before.size(); ++i) {
        CHECK_FALSE(net->children().at(1)->parameters()[i].value() == head_before[i]);
    }

    // Frozen after compiling: the optimizer still lists the parameters, but they get no
    // gradient, so its steps leave them alone.
    auto& head = *net->children().at(1);
    head.set_trainable(false);
    frozen.set_trainable(true);
    std::vector<xg::Array> head_frozen;
    for (const auto& t : head.parameters()) head_frozen.push_back(t.value());
    model.fit(data.x, data.y, quiet_fit(2, 16));
    for (std::size_t i = 0; i < head_frozen.size(); ++i) CHECK(head.parameters()[i].value() == head_frozen[i]);

    // An optimizer handed a frozen parameter says what to pass instead.
    CHECK_THROWS_WITH_AS(xg::RMSprop(net->parameters()), doctest::Contains("Module::trainable_parameters()"),
                         xg::ValueError);
}

TEST_CASE("the same seed gives identical losses and weights") {
    const Blobs data = blobs(50, 3);
    auto run = [&]() {
        xg::manual_seed(1234);
        auto net = classifier();
        xg::Model model(net);
        model.compile("adam", "categorical_crossentropy", {"accuracy"});
        const xg::History h = model.fit(data.x, data.y, quiet_fit(3, 8));  // shuffled: the seed fixes the order too
        return std::make_pair(h["loss"], net->parameters()[0].value());
    };
    const auto [loss_a, kernel_a] = run();
    const auto [loss_b, kernel_b] = run();
    REQUIRE(loss_a.size() == 3);
    CHECK(loss_a == loss_b);
    CHECK(kernel_a == kernel_b);
    CHECK(loss_a[0] != loss_a[2]);
}

namespace {

// `n` samples of `features` noise values, sample i of class (7 i) % classes, one-hot; fixed by `seed`.
Blobs noise_problem(std::size_t n, std::size_t features, std::size_t classes, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> value(0.0f, 1.0f);
    Blobs p{xg::uninitialized({n, features}), xt::zeros<float>(xg::Shape{n, classes})};
    for (float& v : p.x) v = value(engine);
    for (std::size_t i = 0; i < n; ++i) p.y(i, (i * 7) % classes) = 1.0f;
    return p;
}

struct Trained {
    std::vector<double> losses;
    std::vector<xg::Array> weights;
};

// Seeds this thread's engine, builds a fresh model and fits it (shuffled, so the seed fixes the order too).
Trained train_seeded(const Blobs& data, std::uint64_t seed, std::size_t hidden, std::size_t epochs,
                     const std::string& optimizer) {
    xg::manual_seed(seed);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(data.x.shape()[1], hidden, "relu");
    net->emplace<xg::Dense>(hidden, data.y.shape()[1], "softmax");
    xg::Model model(net);
    model.compile(optimizer, "categorical_crossentropy", {"accuracy"});
    const xg::History h = model.fit(data.x, data.y, quiet_fit(epochs, 32));
    Trained out{h["loss"], {}};
    for (auto& t : net->parameters()) out.weights.push_back(t.value());
    return out;
}

}  // namespace

TEST_CASE("with two threads splitting each product, the same seed gives identical losses run after run") {
    xg::set_num_threads(2);
    REQUIRE(xg::num_threads() == 2);
    // (32, 256) . (256, 256) and larger: big enough that each product is split between the threads.
    const Blobs data = noise_problem(192, 256, 4, 21);
    const Trained a = train_seeded(data, 99, 256, 2, "rmsprop");
    const Trained b = train_seeded(data, 99, 256, 2, "rmsprop");
    const Trained c = train_seeded(data, 99, 256, 2, "rmsprop");
    xg::set_num_threads(1);
    REQUIRE(a.losses.size() == 2);
    CHECK(a.losses == b.losses);
    CHECK(a.losses == c.losses);
    CHECK(a.weights == b.weights);
    CHECK(a.weights == c.weights);
}

TEST_CASE("two models fitted at once on two threads end exactly as when fitted one after the other") {
    // Each thread has its own tape and its own random engine, seeded by train_seeded.
    xg::set_num_threads(1);
    const Blobs first = noise_problem(96, 12, 3, 1);
    const Blobs second = noise_problem(80, 10, 4, 2);
    const Trained first_alone = train_seeded(first, 7, 16, 5, "rmsprop");
    const Trained second_alone = train_seeded(second, 8, 24, 5, "adam");

    Trained first_together, second_together;
    std::thread a([&] { first_together = train_seeded(first, 7, 16, 5, "rmsprop"); });
    std::thread b([&] { second_together = train_seeded(second, 8, 24, 5, "adam"); });
    a.join();
    b.join();
    CHECK(first_together.losses == first_alone.losses);
    CHECK(first_together.weights == first_alone.weights);
    CHECK(second_together.losses == second_alone.losses);
    CHECK(second_together.weights == second_alone.weights);
    CHECK(first_alone.losses != second_alone.losses);
}

TEST_CASE("validation_split holds out the last samples and adds val_ logs") {
    const Blobs data = blobs(40, 4);
    xg::manual_seed(3);
    auto net = classifier();
    xg::Model model(net);
    model.compile(std::make_shared<xg::SGD>(net->parameters(), xg::SGDOptions{.learning_rate = 0.1f}),
                  "categorical_crossentropy", {"accuracy"});
    xg::FitOptions options = quiet_fit(2, 30);
    options.shuffle = false;
    options.validation_split = 0.25;
    const xg::History history = model.fit(data.x, data.y, options);
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
        CAPTURE(key);
        CHECK(history[key].size() == 2);
    }
    // The validation values are those of the last 10 samples after the last epoch.
    const xg::Logs held_out = model.evaluate(rows(data.x, 30, 40), rows(data.y, 30, 40), 30);
    CHECK(history["val_loss"].back() == xg::log_value(held_out, "loss"));
    CHECK(history["val_accuracy"].back() == xg::log_value(held_out, "accuracy"));

    // And training saw exactly the first 30: the same run on them alone ends with the same weights.
    xg::manual_seed(3);
    auto twin = classifier();
    xg::Model twin_model(twin);
    twin_model.compile(std::make_shared<xg::SGD>(twin->parameters(), xg::SGDOptions{.learning_rate = 0.1f}),
                       "categorical_crossentropy", {"accuracy"});
    xg::FitOptions twin_options = quiet_fit(2, 30);
    twin_options.shuffle = false;
    twin_model.fit(rows(data.x, 0, 30), rows(data.y, 0, 30), twin_options);
    for (std::size_t i = 0; i < 4; ++i) CHECK(net->parameters()[i].value() == twin->parameters()[i].value());
}

TEST_CASE("validation_data is evaluated after every epoch") {
    const Blobs data = blobs(32, 5), val = blobs(12, 6);
    xg::manual_seed(4);
    xg::Model model(classifier());
    model.compile("sgd", "categorical_crossentropy", {"accuracy"});
    const xg::ArrayDataset val_set(val.x, val.y);
    xg::FitOptions options = quiet_fit(3, 8);
    options.validation_data = &val_set;
    const xg::History history = model.fit(data.x, data.y, options);
    CHECK(history["val_loss"].size() == 3);
    CHECK(history["val_accuracy"].size() == 3);
    CHECK(history["val_loss"].back() == xg::log_value(model.evaluate(val.x, val.y, 8), "loss"));

    options.validation_split = 0.5;
    CHECK_THROWS_AS(model.fit(data.x, data.y, options), xg::ValueError);
}

TEST_CASE("verbose 0 prints nothing; verbose 2 prints a header and one line per epoch") {
    const Blobs data = blobs(20, 8);
    xg::manual_seed(5);
    xg::Model model(classifier());
    model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});

    std::ostringstream silent;
    xg::FitOptions options = quiet_fit(2, 8);
    options.out = &silent;
    model.fit(data.x, data.y, options);
    CHECK(silent.str().empty());

    std::ostringstream out;
    options.out = &out;
    options.verbose = 2;
    options.validation_split = 0.2;
    const xg::History history = model.fit(data.x, data.y, options);
    const auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "Epoch 1/2");
    CHECK(lines[2] == "Epoch 2/2");
    CHECK(out.str().find('\r') == std::string::npos);
    for (std::size_t epoch = 0; epoch < 2; ++epoch) {
        const std::string& line = lines[2 * epoch + 1];
        CHECK(line.rfind("16/16 - ", 0) == 0);
        CHECK(line.find("- loss:") != std::string::npos);
        // The line ends with the epoch's logs as History recorded them.
        const xg::Logs logs = {{"loss", history["loss"][epoch]},
                               {"accuracy", history["accuracy"][epoch]},
                               {"val_loss", history["val_loss"][epoch]},
                               {"val_accuracy", history["val_accuracy"][epoch]}};
        const std::string tail = xg::format_logs(logs);
        REQUIRE(line.size() > tail.size());
        CHECK(line.substr(line.size() - tail.size()) == tail);
    }

    // verbose 1 into a stream that is not a terminal: the same lines, no redrawing.
    std::ostringstream piped;
    options.out = &piped;
    options.verbose = 1;
    options.validation_split = 0.0;
    options.epochs = 1;
    model.fit(data.x, data.y, options);
    const auto piped_lines = lines_of(piped.str());
    REQUIRE(piped_lines.size() == 2);
    CHECK(piped_lines[0] == "Epoch 1/1");
    CHECK(piped_lines[1].rfind("20/20 - ", 0) == 0);
    CHECK(piped.str().find('\r') == std::string::npos);
}

TEST_CASE("initial_epoch resumes the epoch count") {
    const Blobs data = blobs(16, 9);
    xg::Model model(classifier());
    model.compile("sgd", "categorical_crossentropy");
    std::ostringstream out;
    xg::FitOptions options = quiet_fit(3, 8);
    options.initial_epoch = 1;
    options.verbose = 2;
    options.out = &out;
    const xg::History history = model.fit(data.x, data.y, options);
    CHECK(history.epochs() == 2);
    CHECK(lines_of(out.str())[0] == "Epoch 2/3");
    CHECK(history.values.count("accuracy") == 0);
}

TEST_CASE("predict matches the network's forward pass, in batches, without recording") {
    xg::manual_seed(6);
    const Blobs data = blobs(23, 10);
    auto net = classifier(5);
    xg::Model model(net);  // predict needs no compile
    xg::Tape::current().clear();
    const xg::Array p = model.predict(data.x, 7);
    CHECK(p.shape() == xg::Shape{23, 2});
    CHECK(xg::Tape::current().size() == 0);
    CHECK(net->training());
    xg::NoGradGuard no_grad;
    const xg::Array direct = (*net)(xg::input(data.x)).value();
    for (std::size_t i = 0; i < p.size(); ++i) CHECK(p.data()[i] == doctest::Approx(direct.data()[i]).epsilon(1e-6));
    CHECK_THROWS_AS(model.predict(data.x, 0), xg::ValueError);
    CHECK_THROWS_AS(model.predict(xt::zeros<float>({0, 2})), xg::ShapeError);
    CHECK_THROWS_AS(model.predict(xt::zeros<float>({4, 3})), xg::ShapeError);
}

TEST_CASE("evaluate returns the mean loss and the metrics over all samples") {
    xg::manual_seed(7);
    const Blobs data = blobs(30, 11);
    xg::Model model(classifier(4));
    model.compile("sgd", "categorical_crossentropy", {"accuracy"});
    const xg::Logs logs = model.evaluate(data.x, data.y, 8);
    REQUIRE(logs.size() == 2);
    const xg::Array p = model.predict(data.x);
    const double loss = xg::categorical_crossentropy(xg::constant(p), xg::constant(data.y)).item();
    std::size_t right = 0;
    for (std::size_t i = 0; i < 30; ++i) right += (p(i, 1) > p(i, 0)) == (data.y(i, 1) == 1.0f);
    CHECK(xg::log_value(logs, "loss") == doctest::Approx(loss).epsilon(1e-5));
    CHECK(xg::log_value(logs, "accuracy") == doctest::Approx(static_cast<double>(right) / 30.0));
    CHECK(xg::log_value(model.evaluate(data.x, data.y, 30), "loss") == doctest::Approx(loss).epsilon(1e-5));
    CHECK(xg::Tape::current().size() == 0);
    CHECK_THROWS_AS(model.evaluate(data.x, data.y, 0), xg::ValueError);
    CHECK_THROWS_AS(model.evaluate(rows(data.x, 0, 0), rows(data.y, 0, 0)), xg::ValueError);
}

TEST_CASE("misuse is reported with typed errors") {
    const Blobs data = blobs(10, 12);
    CHECK_THROWS_AS(xg::Model(nullptr), xg::ValueError);
    xg::Model model(classifier());
    CHECK_THROWS_AS(model.fit(data.x, data.y, quiet_fit(1, 4)), xg::StateError);
    CHECK_THROWS_AS(model.evaluate(data.x, data.y), xg::StateError);
    CHECK_THROWS_AS(model.optimizer(), xg::StateError);
    CHECK_THROWS_AS(model.compile("adagrad", "categorical_crossentropy"), xg::ValueError);
    CHECK_THROWS_AS(model.compile("sgd", "hinge_loss"), xg::ValueError);
    CHECK_THROWS_AS(model.compile("sgd", "categorical_crossentropy", {"accuracy", "f1_score"}), xg::ValueError);
    CHECK_THROWS_AS(model.compile(std::shared_ptr<xg::Optimizer>(), "categorical_crossentropy"), xg::ValueError);

    model.compile("sgd", "categorical_crossentropy", {"accuracy"});
    CHECK_THROWS_AS(model.fit(data.x, data.y, quiet_fit(1, 0)), xg::ValueError);
    CHECK_THROWS_AS(model.fit(data.x, rows(data.y, 0, 9), quiet_fit(1, 4)), xg::ShapeError);
    CHECK_THROWS_AS(model.fit(data.x, xt::zeros<float>({10, 3}), quiet_fit(1, 4)), xg::ShapeError);
    xg::FitOptions split = quiet_fit(1, 4);
    split.validation_split = 1.0;
    CHECK_THROWS_AS(model.fit(data.x, data.y, split), xg::ValueError);
    split.validation_split = -0.1;
    CHECK_THROWS_AS(model.fit(data.x, data.y, split), xg::ValueError);
    CHECK(xg::Tape::current().size() == 0);
}

namespace {

// Fits y = 2x + 1 on [0, 8) by SGD at a rate that makes it explode within a few steps; returns the
// NumericError's message, or "" when there was none.
std::string fit_diverging(bool detect_anomaly) {
    xg::manual_seed(8);
    xg::Array x = xg::uninitialized({64, 1}), y = xg::uninitialized({64, 1});
    for (std::size_t i = 0; i < 64; ++i) {
        x(i, 0) = static_cast<float>(i) / 8.0f;
        y(i, 0) = 2.0f * x(i, 0) + 1.0f;
    }
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(1, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    net->emplace<xg::Dense>(4, 1, xg::DenseOptions{.name = "out"});
    xg::Model model(net);
    model.compile(std::make_shared<xg::SGD>(net->parameters(), xg::SGDOptions{.learning_rate = 1e6f}), "mse");
    const xg::AnomalyDetectionGuard anomaly(detect_anomaly);
    try {
        model.fit(x, y, quiet_fit(50, 8));
    } catch (const xg::NumericError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a diverging run throws NumericError at the first non-finite loss instead of going on with NaN") {
    const std::string message = fit_diverging(false);
    CAPTURE(message);
    CHECK(message.starts_with("train_step: loss is not finite ("));
    CHECK(message.find("); training diverged") != std::string::npos);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("with anomaly detection a diverging run names the first op that produced NaN or Inf") {
    const std::string message = fit_diverging(true);
    CAPTURE(message);
    // The predictions are still finite when the loss's square overflows to Inf.
    CHECK(message.starts_with("anomaly: op 'square' produced NaN or Inf in its output (8, 1); expected finite values"));
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("fit keeps memory flat: an empty tape, and as many live nodes after epoch 3 as after epoch 1") {
    xg::manual_seed(9);
    const Blobs data = blobs(100, 13);
    xg::Model model(classifier(16));
    model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});
    std::vector<long> live;
    xg::FitOptions options = quiet_fit(3, 16);
    options.validation_split = 0.2;
    options.callbacks.push_back(std::make_shared<xg::LambdaCallback>([&](xg::Model&, std::size_t, const xg::Logs&) {
        live.push_back(xg::detail::live_node_count());
        CHECK(xg::Tape::current().size() == 0);
    }));
    model.fit(data.x, data.y, options);
    REQUIRE(live.size() == 3);
    CHECK(live[2] == live[0]);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("train_step runs one update and releases its graph; forward_loss keeps it") {
    xg::manual_seed(10);
    const Blobs data = blobs(8, 14);
    auto net = classifier();
    xg::Model model(net);
    model.compile("sgd", "categorical_crossentropy");
    const xg::Array before = net->parameters()[0].value();
    xg::Tensor out;
    const xg::Tensor loss = model.train_step(xg::input(data.x), xg::constant(data.y), &out);
    CHECK(std::isfinite(loss.item()));
    CHECK(out.shape() == xg::Shape{8, 2});
    CHECK(xg::Tape::current().size() == 0);
    CHECK(net->parameters()[0].value() != before);
    CHECK(model.optimizer().iterations() == 1);

    const xg::Tensor recorded = model.forward_loss(xg::input(data.x), xg::constant(data.y));
    const xg::Tape& tape = xg::Tape::current();
    REQUIRE(tape.size() > 0);
    CHECK(tape[tape.size() - 1].op == "softmax_cross_entropy");
    xg::Tape::current().clear();
}

TEST_CASE("compile accepts a custom loss function") {
    xg::manual_seed(11);
    const Blobs data = blobs(16, 15);
    auto net = classifier();
    xg::Model model(net);
    int calls = 0;
    model.compile(std::make_shared<xg::SGD>(net->parameters()),
                  xg::Loss(
                      [&](const xg::Tensor& p, const xg::Tensor& y) {
                          ++calls;
                          return xg::mean_squared_error(p, y);
                      },
                      "my_mse"),
                  {"accuracy"});
    CHECK(model.loss_name() == "my_mse");
    const xg::History h = model.fit(data.x, data.y, quiet_fit(1, 4));
    CHECK(calls == 4);
    CHECK(h.values.count("accuracy") == 1);
}

namespace {

// Passes x through, noting whether each call ran in training mode.
class ModeProbe : public xg::Module {
public:
    ModeProbe() : Module("ModeProbe") {}
    xg::Tensor forward(const xg::Tensor& x) override {
        (training() ? training_calls : inference_calls) += 1;
        return x;
    }
    int training_calls = 0, inference_calls = 0;
};

}  // namespace

TEST_CASE("fit and train_step run in training mode, evaluate and predict in inference mode, each restoring the mode") {
    xg::manual_seed(8);
    const Blobs data = blobs(20, 11);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(2, 2, "softmax");
    auto probe = net->emplace<ModeProbe>();
    xg::Model model(net);
    model.compile("sgd", "categorical_crossentropy");

    for (bool start_training : {true, false}) {
        CAPTURE(start_training);
        net->train(start_training);
        probe->training_calls = probe->inference_calls = 0;
        xg::FitOptions options = quiet_fit(1, 5);
        options.validation_split = 0.5;  // validation inside fit is inference too
        model.fit(data.x, data.y, options);
        CHECK(probe->training_calls == 2);
        CHECK(probe->inference_calls == 2);
        CHECK(net->training() == start_training);
        CHECK(probe->training() == start_training);

        probe->training_calls = probe->inference_calls = 0;
        model.evaluate(data.x, data.y, 10);
        model.predict(data.x, 10);
        CHECK(probe->training_calls == 0);
        CHECK(probe->inference_calls == 4);
        CHECK(net->training() == start_training);

        model.train_step(xg::input(rows(data.x, 0, 4)), xg::constant(rows(data.y, 0, 4)));
        CHECK(probe->training_calls == 1);
        CHECK(net->training() == start_training);
    }
}

TEST_CASE("training loss, evaluate and val_loss are one formula, also for confident wrong predictions") {
    // One Dense(softmax) whose logits for the single sample are (60, 0, -60) while the target
    // is class 2: the crossentropy is 120, where clipped probabilities would give 16.1.
    auto net = std::make_shared<xg::Sequential>();
    auto dense = net->emplace<xg::Dense>(3, 3, "softmax");
    xg::Tensor kernel = dense->kernel();
    kernel.mutable_value() = xg::Array{{60.0f, 0.0f, -60.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f}};
    const xg::Array x = {{1.0f, 0.0f, 0.0f}};
    const xg::Array y = {{0.0f, 0.0f, 1.0f}};
    xg::Model model(net);
    // A negligible learning rate keeps the weights, so every figure is of the same network.
    model.compile(std::make_shared<xg::SGD>(net->parameters(), xg::SGDOptions{.learning_rate = 1e-20f}),
                  "categorical_crossentropy", {"accuracy"});
    xg::FitOptions options = quiet_fit(1, 1);
    const xg::ArrayDataset validation(x, y);
    options.validation_data = &validation;
    const xg::History h = model.fit(x, y, options);
    const double train_loss = h.values.at("loss").back();
    const double val_loss = h.values.at("val_loss").back();
    const double eval_loss = model.evaluate(x, y).front().second;
    CHECK(train_loss == doctest::Approx(120.0).epsilon(1e-5));
    CHECK(val_loss == doctest::Approx(train_loss).epsilon(1e-6));
    CHECK(eval_loss == doctest::Approx(train_loss).epsilon(1e-6));
    CHECK(model.train_step(xg::input(x), xg::constant(y)).item() == doctest::Approx(train_loss));
    // predict still gives probabilities.
    CHECK(model.predict(x)(0, 0) == doctest::Approx(1.0f));
}

TEST_CASE("compile takes Metric objects next to names") {
    auto net = classifier();
    xg::Model model(net);
    auto mine = std::make_shared<xg::Accuracy>(xg::AccuracyKind::categorical, "hits");
    model.compile("sgd", "categorical_crossentropy", {"accuracy", mine});
    const Blobs data = blobs(8, 3);
    const xg::Logs logs = model.evaluate(data.x, data.y);
    REQUIRE(logs.size() == 3);
    CHECK(logs[1].first == "accuracy");
    CHECK(logs[2].first == "hits");
    CHECK(logs[2].second == logs[1].second);
    CHECK(mine->result() == logs[2].second);
}

TEST_CASE("a regression trains with mse and reports mae, as the book's Boston housing model does") {
    // y = 2 x0 - x1 + 0.5 on 64 points, targets (64,) as the book's are: a Dense(1) learns it,
    // and mae falls with the loss.
    xg::manual_seed(21);
    xg::Array x = xt::random::rand<float>({64, 2}, -1.0f, 1.0f);
    xg::Array y = xg::uninitialized({64});
    for (std::size_t i = 0; i < 64; ++i) y(i) = 2.0f * x(i, 0) - x(i, 1) + 0.5f;
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(2, 1);
    xg::Model model(net);
    model.compile("rmsprop", "mse", {"mae"});
    model.optimizer().set_learning_rate(0.05f);
    xg::FitOptions options = quiet_fit(60, 16);
    options.validation_split = 0.25;
    const xg::History history = model.fit(x, y, options);
    CHECK(history["mae"].back() < 0.1);
    CHECK(history["val_mae"].back() < 0.1);
    CHECK(history["mae"].back() < history["mae"].front());
    const xg::Array p = model.predict(x);
    const double mae = xg::mean_absolute_error(xg::constant(p), xg::constant(y)).item();
    CHECK(xg::log_value(model.evaluate(x, y, 10), "mae") == doctest::Approx(mae).epsilon(1e-5));
}

TEST_CASE("a binary classifier reports precision, recall and AUC, epoch by epoch and in evaluate") {
    // Two overlapping Gaussian classes on a line, labels (n,): good but imperfect separation.
    xg::manual_seed(22);
    xt::random::seed(22);
    const std::size_t n = 200;
    xg::Array x = xt::random::randn<float>({n, std::size_t{2}});
    xg::Array y = xg::uninitialized({n});
    for (std::size_t i = 0; i < n; ++i) {
        y(i) = i % 2 == 0 ? 1.0f : 0.0f;
        x(i, 0) += y(i) == 1.0f ? 1.5f : -1.5f;
    }
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(2, 8, "relu");
    net->emplace<xg::Dense>(8, 1, "sigmoid");
    xg::Model model(net);
    model.compile("rmsprop", "binary_crossentropy", {"accuracy", "precision", "recall", "auc"});
    model.optimizer().set_learning_rate(0.01f);
    xg::FitOptions options = quiet_fit(30, 16);
    options.validation_split = 0.25;
    const xg::History history = model.fit(x, y, options);
    for (const char* key : {"precision", "recall", "auc", "val_precision", "val_recall", "val_auc"}) {
        CAPTURE(std::string(key));
        REQUIRE(history[key].size() == 30);
        CHECK(history[key].back() > 0.8);
        CHECK(history[key].back() <= 1.0);
    }
    // evaluate's figures are the metrics of predict's outputs.
    const xg::Logs logs = model.evaluate(x, y, 32);
    const xg::Array p = model.predict(x);
    xg::Precision precision;
    xg::Recall recall;
    xg::AUC auc;
    for (xg::Metric* m : std::initializer_list<xg::Metric*>{&precision, &recall, &auc}) {
        m->update(p, y);
        CHECK(xg::log_value(logs, m->name()) == m->result());
    }
}

namespace {

// Sequences of ids 1..9 padded with 0 behind to 6 steps (2 to 6 kept), tagged per step with
// id % 3; the tags at padding are `padding_tag` (anything: they must not count).
struct Tagged {
    xg::Array ids, tags;
};

Tagged tagged_sequences(std::size_t n, float padding_tag) {
    std::mt19937 engine(5);
    std::uniform_int_distribution<int> id(1, 9), length(2, 6);
    Tagged t{xt::zeros<float>({n, std::size_t{6}}), xt::zeros<float>({n, std::size_t{6}})};
    for (std::size_t i = 0; i < n; ++i) {
        const int kept = length(engine);
        for (int s = 0; s < 6; ++s) {
            const int token = id(engine);
            t.ids(i, s) = s < kept ? static_cast<float>(token) : 0.0f;
            t.tags(i, s) = s < kept ? static_cast<float>(token % 3) : padding_tag;
        }
    }
    return t;
}

// Embedding(10, 4) -> LSTM(8, return_sequences) -> Dense(3, softmax): a tag per step.
std::shared_ptr<xg::Sequential> tagger(bool mask_zero) {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Embedding>(10, 4, xg::EmbeddingOptions{.mask_zero = mask_zero});
    net->emplace<xg::LSTM>(4, 8, xg::LSTMOptions{.return_sequences = true});
    net->emplace<xg::Dense>(8, 3, "softmax");
    return net;
}

struct Fitted {
    xg::History history;
    std::vector<xg::Array> weights;
};

Fitted fit_tagger(bool mask_zero, const Tagged& data) {
    xg::manual_seed(17);
    auto net = tagger(mask_zero);
    xg::Model model(net);
    model.compile("rmsprop", "sparse_categorical_crossentropy", {"accuracy"});
    Fitted out{model.fit(data.ids, data.tags, quiet_fit(2, 16)), {}};
    for (const xg::Tensor& p : net->parameters()) out.weights.push_back(p.value());
    return out;
}

}  // namespace

TEST_CASE("fit counts a masked sequence output's kept steps alone: the tags at padding change nothing") {
    const Tagged zeros = tagged_sequences(64, 0.0f), twos = tagged_sequences(64, 2.0f);
    const Fitted a = fit_tagger(true, zeros), b = fit_tagger(true, twos);
    CHECK(a.history["loss"] == b.history["loss"]);
    CHECK(a.history["accuracy"] == b.history["accuracy"]);
    REQUIRE(a.weights.size() == b.weights.size());
    for (std::size_t i = 0; i < a.weights.size(); ++i) CHECK(xt::all(xt::equal(a.weights[i], b.weights[i])));
    // Without a mask the padding's tags are targets like any other, and they do change the run.
    const Fitted c = fit_tagger(false, zeros), d = fit_tagger(false, twos);
    CHECK(c.history["loss"] != d.history["loss"]);
}

TEST_CASE("a masked tagger learns its tags, and evaluate's accuracy is over the kept steps of predict's outputs") {
    const Tagged data = tagged_sequences(256, 0.0f);
    xg::manual_seed(19);
    auto net = tagger(true);
    xg::Model model(net);
    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    model.optimizer().set_learning_rate(0.02f);
    model.fit(data.ids, data.tags, quiet_fit(15, 32));
    // Evaluated against tags of 2 at the padding, which the outputs there (the last kept step's,
    // repeated) mostly miss: counted, they would lower the accuracy.
    const Tagged twos = tagged_sequences(256, 2.0f);
    const xg::Logs logs = model.evaluate(twos.ids, twos.tags, 32);
    const xg::Array p = model.predict(twos.ids);
    REQUIRE(p.shape() == xg::Shape{256, 6, 3});
    std::size_t right = 0, kept = 0, right_anywhere = 0;
    for (std::size_t i = 0; i < 256; ++i) {
        for (std::size_t s = 0; s < 6; ++s) {
            const auto row = xt::view(p, i, s);
            const bool hit = static_cast<float>(std::distance(row.begin(), std::max_element(row.begin(), row.end()))) ==
                             twos.tags(i, s);
            right_anywhere += hit;
            if (twos.ids(i, s) == 0.0f) continue;
            ++kept;
            right += hit;
        }
    }
    CHECK(xg::log_value(logs, "accuracy") == doctest::Approx(static_cast<double>(right) / kept));
    CHECK(static_cast<double>(right_anywhere) / p.size() * 3 < static_cast<double>(right) / kept - 0.05);
    CHECK(xg::log_value(logs, "accuracy") > 0.9);
}
