// A model defined from ops and parameters (SpiralNet, the example of docs/custom_models.md
// and of the spirals app) trains with the same optimizers, losses and loops as Sequential.
#include "../../apps/spirals_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xmath.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/loss.hpp"
#include "xgrad/train/metric.hpp"
#include "xgrad/train/model.hpp"

using spirals::make_spirals;
using spirals::SpiralData;
using spirals::SpiralNet;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The net's result for the record made in `scope` by `op` on this thread's tape.
xg::Tensor recorded(const std::string& scope, const std::string& op) {
    for (const xg::Record& r : xg::Tape::current().records()) {
        if (r.scope == scope && r.op == op) return xg::Tensor(r.output);
    }
    FAIL("no '" << op << "' recorded in scope '" << scope << "'");
    return {};
}

// softsign(x) = x / (1 + |x|), the user-defined op of docs/custom_models.md.
xg::Tensor softsign(const xg::Tensor& x) {
    xg::Array denominator = 1.0f + xt::abs(x.value());
    xg::Array y = x.value() / denominator;
    return xg::record_op("softsign", {x}, std::move(y),
                         [denominator = std::move(denominator)](xg::GradientContext& ctx) {
        // d/dx x / (1 + |x|) = 1 / (1 + |x|)^2
        ctx.accumulate(0, ctx.grad() / (denominator * denominator));
    });
}

double accuracy_on(SpiralNet& net, const SpiralData& data) {
    xg::NoGradGuard no_grad;
    xg::Accuracy accuracy(xg::AccuracyKind::sparse);
    accuracy.update(net(xg::input(data.x)).value(), data.labels);
    return accuracy.result();
}

// The spirals app's defaults: 60 epochs over 1000 points take well under a second.
constexpr std::size_t points = 500, hidden = 32, epochs = 60, batch_size = 32;
constexpr float noise = 0.05f, learning_rate = 0.01f;

}  // namespace

TEST_CASE("make_spirals draws repeatable, labelled, interleaved arms") {
    const SpiralData a = make_spirals(100, 3, 0.05f, 7);
    CHECK(a.x.shape() == xg::Shape{300, 2});
    CHECK(a.labels.shape() == xg::Shape{300});
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(std::count(a.labels.begin(), a.labels.end(), static_cast<float>(c)) == 100);
    }
    // Within radius 1 plus a few standard deviations of noise.
    CHECK(xt::amax(xt::abs(a.x))() < 1.3f);

    const SpiralData same = make_spirals(100, 3, 0.05f, 7);
    CHECK(same.x == a.x);
    const SpiralData other = make_spirals(100, 3, 0.05f, 8);
    CHECK(other.x != a.x);

    // Without noise, every point lies on its arm: radius r at angle 2 pi (1.5 r + c / classes).
    const SpiralData clean = make_spirals(50, 2, 0.0f, 1);
    for (std::size_t i = 0; i < 100; ++i) {
        const double x = clean.x(i, 0), y = clean.x(i, 1);
        const double r = std::hypot(x, y);
        const double angle = 2.0 * std::numbers::pi * (1.5 * r + clean.labels(i) / 2.0);
        CHECK(x == doctest::Approx(r * std::cos(angle)).epsilon(1e-4));
        CHECK(y == doctest::Approx(r * std::sin(angle)).epsilon(1e-4));
    }

    CHECK_THROWS_AS(make_spirals(0, 2, 0.1f, 1), xg::ValueError);
    CHECK_THROWS_AS(make_spirals(10, 1, 0.1f, 1), xg::ValueError);
    CHECK_THROWS_AS(make_spirals(10, 2, -0.1f, 1), xg::ValueError);
}

TEST_CASE("SpiralNet names its parameters as documented") {
    SpiralNet net(2, 8, 3, "spiral_net");
    std::vector<std::pair<std::string, xg::Shape>> named;
    for (const auto& [name, tensor] : net.named_parameters()) named.emplace_back(name, tensor.shape());
    const std::vector<std::pair<std::string, xg::Shape>> documented = {
        {"stem/kernel", {2, 8}},     {"stem/bias", {8}},   {"residual/kernel", {8, 8}}, {"residual/bias", {8}},
        {"branch/kernel", {2, 8}},   {"branch/bias", {8}}, {"head/kernel", {8, 3}},     {"head/bias", {3}},
    };
    CHECK(named == documented);
    CHECK(net.parameter_count() == 2 * 8 + 8 + 8 * 8 + 8 + 2 * 8 + 8 + 8 * 3 + 3);
    // The tensors themselves carry the module's name, as graphs and weight files show them.
    CHECK(net.stem_w.name() == "spiral_net/stem/kernel");
    CHECK(net.head_b.name() == "spiral_net/head/bias");
    for (const auto& t : net.parameters()) CHECK(t.requires_grad());
    // The members forward reads are the registered handles, so optimizers update what forward uses.
    CHECK(net.parameters()[2].node() == net.residual_w.node());

    CHECK_THROWS_AS(SpiralNet(2, 8, 1), xg::ValueError);
    CHECK_THROWS_AS(net(xg::input(xt::zeros<float>({4, 3}))), xg::ShapeError);
}

TEST_CASE("SpiralNet's forward pass records each block in its own scope and returns probabilities") {
    SpiralNet net(2, 4, 3, "spiral_net");
    const SpiralData data = make_spirals(2, 3, 0.05f, 3);
    const xg::Tensor p = net(xg::input(data.x));
    CHECK(p.shape() == xg::Shape{6, 3});
    const xg::Array row_sums = xt::sum(p.value(), {1});
    for (float s : row_sums) CHECK(s == doctest::Approx(1.0f).epsilon(1e-5));

    std::vector<std::string> scopes;
    for (const auto& r : xg::Tape::current().records()) {
        if (std::find(scopes.begin(), scopes.end(), r.scope) == scopes.end()) scopes.emplace_back(r.scope);
    }
    CHECK(scopes == std::vector<std::string>{"spiral_net/stem", "spiral_net/residual", "spiral_net/branch",
                                             "spiral_net/head", "spiral_net"});
    xg::Tape::current().clear();

    // Evaluation under NoGradGuard records nothing.
    {
        xg::NoGradGuard no_grad;
        net(xg::input(data.x));
    }
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("SpiralNet's gradient with respect to its input and every parameter matches finite differences") {
    SpiralNet net(2, 4, 3, "spiral_net");
    const SpiralData data = make_spirals(2, 3, 0.05f, 5);
    // forward reads the net's members: point them at the tensors gradcheck perturbs.
    auto f = [&net](const std::vector<xg::Tensor>& t) {
        net.stem_w = t[1], net.stem_b = t[2], net.residual_w = t[3], net.residual_b = t[4];
        net.branch_w = t[5], net.branch_b = t[6], net.head_w = t[7], net.head_b = t[8];
        return net(t[0]);
    };
    std::vector<xg::Array> inputs{data.x};
    for (const auto& t : net.parameters()) {
        // Non-zero biases, so that every term of the rules is exercised.
        inputs.push_back(t.rank() == 1 ? xg::Array(xg::initializers::random_normal(0.0f, 0.5f)(t.shape())) : t.value());
    }
    REQUIRE(inputs.size() == 9);
    const auto result = xg::gradcheck(f, inputs);
    CHECK_MESSAGE(result.passed, result.report());
}

TEST_CASE("the skip connection gets gradient from both paths") {
    SpiralNet net(2, 4, 2, "spiral_net");
    const SpiralData data = make_spirals(3, 2, 0.05f, 9);
    const xg::Tensor loss = xg::sparse_categorical_crossentropy(net(xg::input(data.x)), xg::constant(data.labels));
    // h1 feeds both the residual block's linear map and the sum h2 = h1 + tanh(h1 . W + b).
    xg::Tensor h1 = recorded("spiral_net/stem", "tanh");
    xg::Tensor h2 = recorded("spiral_net/residual", "add");
    const xg::Array t = recorded("spiral_net/residual", "tanh").value();
    h1.retain_grad();
    h2.retain_grad();
    loss.backward();

    // dL/dh1 = dL/dh2 (the identity path) + (dL/dh2 * (1 - t^2)) . W^T (the residual path)
    const xg::Array& dh2 = h2.grad();
    xg::Array through_block;
    {
        xg::NoGradGuard no_grad;
        const xg::Tensor dz = xg::constant(dh2 * (1.0f - t * t));
        through_block = xg::matmul(dz, xg::transpose(net.residual_w)).value();
    }
    CHECK(xt::amax(xt::abs(through_block))() > 1e-4f);
    CHECK(xt::allclose(h1.grad(), dh2 + through_block, 1e-4, 1e-6));
    CHECK(net.stem_w.has_grad());
    CHECK(net.branch_w.has_grad());
}

TEST_CASE("SpiralNet learns two spirals with Model::compile and fit") {
    xg::manual_seed(1);
    const SpiralData train = make_spirals(points, 2, noise, 1), test = make_spirals(points, 2, noise, 2);
    auto net = std::make_shared<SpiralNet>(2, hidden, 2);
    xg::Model model(net);
    model.compile(std::make_shared<xg::RMSprop>(net->parameters(), xg::RMSpropOptions{.learning_rate = learning_rate}),
                  "categorical_crossentropy", {"accuracy"});
    const xg::Array train_y = xg::one_hot(xg::constant(train.labels), 2).value();
    const xg::Array test_y = xg::one_hot(xg::constant(test.labels), 2).value();
    const auto start = std::chrono::steady_clock::now();
    xg::FitOptions options;
    options.epochs = epochs;
    options.batch_size = batch_size;
    options.verbose = 0;
    const xg::History history = model.fit(train.x, train_y, options);
    MESSAGE("fit: " << seconds_since(start) << " s");
    CHECK(history["loss"].back() < history["loss"].front());
    const xg::Logs logs = model.evaluate(test.x, test_y);
    CHECK(xg::log_value(logs, "accuracy") >= 0.95);
}

TEST_CASE("SpiralNet learns two spirals with a hand-written loop") {
    xg::manual_seed(1);
    const SpiralData train = make_spirals(points, 2, noise, 1), test = make_spirals(points, 2, noise, 2);
    SpiralNet net(2, hidden, 2);
    xg::Adam optimizer(net.parameters(), {.learning_rate = learning_rate});
    const xg::ArrayDataset data(train.x, train.labels);
    xg::Array xb, yb;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        const std::vector<std::size_t> order = xg::epoch_order(data.size(), true);
        for (std::size_t first = 0; first < order.size(); first += batch_size) {
            const std::size_t count = std::min(batch_size, order.size() - first);
            data.gather(std::span(order).subspan(first, count), xb, yb);
            const xg::Tensor loss = xg::sparse_categorical_crossentropy(net(xg::input(xb)), xg::constant(yb));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
    }
    MESSAGE("hand-written loop: " << seconds_since(start) << " s");
    CHECK(xg::Tape::current().size() == 0);
    CHECK(accuracy_on(net, test) >= 0.95);
}

TEST_CASE("a user-defined op passes gradcheck and records in the scope it is called in") {
    const auto result = xg::gradcheck([](const std::vector<xg::Tensor>& t) { return softsign(t[0]); },
                                      {xg::Array{{-2.0f, -0.5f, 0.3f}, {1.0f, 2.5f, -1.5f}}});
    CHECK_MESSAGE(result.passed, result.report());

    const xg::Tensor w = xg::parameter(xg::Array{-1.0f, 3.0f}, "w");
    {
        xg::ScopeGuard scope("block");
        const xg::Tensor y = softsign(w);
        CHECK(y.value() == xg::Array{-0.5f, 0.75f});
    }
    REQUIRE(xg::Tape::current().size() == 1);
    CHECK(xg::Tape::current()[0].op == "softsign");
    CHECK(xg::Tape::current()[0].scope == "block");
    xg::Tape::current().clear();
}

namespace {

// The convnet of docs/custom_models.md, section 9, written from ops.
/// (n, height, width, 1) images -> (n, classes) probabilities: conv, batch norm, relu, pooling, dropout, dense.
struct SmallConvNet : xg::Module {
    SmallConvNet(std::size_t height, std::size_t width, std::size_t classes)
        : xg::Module("SmallConvNet", "convnet"), flat_((height - 2) / 2 * ((width - 2) / 2) * 16) {
        conv_w = register_parameter("conv/kernel", xg::Tensor(xg::initializers::glorot_uniform({3, 3, 1, 16})));
        conv_b = register_parameter("conv/bias", xg::Tensor(xg::initializers::zeros({16})));
        gamma = register_parameter("norm/gamma", xg::Tensor(xg::initializers::ones({16})));
        beta = register_parameter("norm/beta", xg::Tensor(xg::initializers::zeros({16})));
        // Updated by batch_norm itself in training mode; saved with the weights, never optimized.
        moving_mean = register_buffer("norm/moving_mean", xg::Tensor(xg::initializers::zeros({16})));
        moving_variance = register_buffer("norm/moving_variance", xg::Tensor(xg::initializers::ones({16})));
        head_w = register_parameter("head/kernel", xg::Tensor(xg::initializers::glorot_uniform({flat_, classes})));
        head_b = register_parameter("head/bias", xg::Tensor(xg::initializers::zeros({classes})));
    }

    xg::Tensor forward(const xg::Tensor& x) override {
        xg::Tensor h = xg::conv2d_with_bias(x, conv_w, conv_b);  // (n, height - 2, width - 2, 16)
        h = xg::batch_norm(h, gamma, beta, moving_mean, moving_variance, training());
        h = xg::max_pool2d(xg::relu(h), {2, 2});  // (n, (height - 2) / 2, (width - 2) / 2, 16)
        h = xg::reshape(h, {static_cast<long>(x.shape()[0]), static_cast<long>(flat_)});
        h = xg::dropout(h, 0.25f, training());  // drops only while training
        return xg::softmax(xg::linear(h, head_w, head_b));
    }

    std::size_t flat_;
    xg::Tensor conv_w, conv_b, gamma, beta, moving_mean, moving_variance, head_w, head_b;
};

// n noisy 10x10 images: a horizontal bar (class 0) or a vertical one (class 1) at a random place.
std::pair<xg::Array, xg::Array> bars(std::size_t n, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<std::size_t> place(0, 9);
    std::normal_distribution<float> noise(0.0f, 0.2f);
    xg::Array x = xg::uninitialized({n, 10, 10, 1});
    xg::Array y = xt::zeros<float>({n, std::size_t{2}});
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 2, at = place(engine);
        for (std::size_t r = 0; r < 10; ++r)
            for (std::size_t q = 0; q < 10; ++q) x(i, r, q, 0) = ((c == 0 ? r : q) == at ? 1.0f : 0.0f) + noise(engine);
        y(i, c) = 1.0f;
    }
    return {x, y};
}

}  // namespace

TEST_CASE("a convnet written from ops trains with fit; its moving statistics are buffers; inference is repeatable") {
    xg::manual_seed(3);
    auto net = std::make_shared<SmallConvNet>(10, 10, 2);
    CHECK(net->parameter_count() == 3 * 3 * 16 + 16 + 16 + 16 + 256 * 2 + 2);
    CHECK(net->buffer_count() == 32);
    const auto buffers = net->named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "norm/moving_mean");
    const auto [train_x, train_y] = bars(256, 1);
    const auto [test_x, test_y] = bars(128, 2);
    xg::Model model(net);
    model.compile("rmsprop", "categorical_crossentropy", {"accuracy"});
    CHECK(model.optimizer().parameters().size() == 6);  // gamma and beta, never the moving statistics
    model.fit(train_x, train_y, {.epochs = 12, .batch_size = 32, .verbose = 0});
    CHECK(xt::amax(xt::abs(net->moving_mean.value()))() > 0.0f);
    const xg::Logs scores = model.evaluate(test_x, test_y);
    MESSAGE("test accuracy ", xg::log_value(scores, "accuracy"));
    CHECK(xg::log_value(scores, "accuracy") >= 0.9);
    // Inference uses the moving statistics and no dropout: the same input gives the same output.
    CHECK(model.predict(test_x) == model.predict(test_x));
}

TEST_CASE("the same convnet from layers (docs/custom_models.md) has the same parameters, buffers and output shape") {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Conv2D>(1, 16, xg::Size2{3, 3});
    net->emplace<xg::BatchNormalization>(16);
    net->emplace<xg::Activation>("relu");
    net->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dropout>(0.25f);
    net->emplace<xg::Dense>(4 * 4 * 16, 2, "softmax");   // for 10 x 10 images
    SmallConvNet by_hand(10, 10, 2);
    CHECK(net->parameter_count() == by_hand.parameter_count());
    CHECK(net->buffer_count() == by_hand.buffer_count());
    CHECK(net->output_shape({10, 10, 1}) == xg::Shape{2});
    CHECK(net->summary({10, 10, 1}).find("Non-trainable params: 32\n") != std::string::npos);
}
