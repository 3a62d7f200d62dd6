// A diverging fit, with and without anomaly detection (what apps/mnist --detect-anomaly turns on):
// either way it stops with a NumericError instead of training on NaN; with detection on, the message
// names the first op whose output stopped being finite (and its layer, when it is inside one).
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/train/model.hpp"

namespace {

// y = 2x + 1 on [0, 8), fitted by SGD with a learning rate that makes it explode within a few steps.
std::size_t left_on_tape = 0;

std::string diverge(bool detect_anomaly) {
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
    model.compile(std::make_shared<xg::SGD>(net->parameters(), xg::SGDOptions{.learning_rate = 1e9f}), "mse");
    xg::FitOptions o;
    o.epochs = 50;
    o.batch_size = 8;
    o.verbose = 0;
    xg::set_anomaly_detection(detect_anomaly);
    std::string message;
    try {
        model.fit(x, y, o);
    } catch (const xg::NumericError& e) {
        message = e.what();
    }
    xg::set_anomaly_detection(false);
    left_on_tape = xg::Tape::current().size();
    xg::Tape::current().clear();
    return message;
}

}  // namespace

TEST_CASE("without anomaly detection a diverging fit stops at the first non-finite loss") {
    const std::string message = diverge(false);
    CHECK(message.find("train_step: loss is") == 0);
    CHECK(message.find("training diverged") != std::string::npos);
    CHECK(left_on_tape == 0);
}

TEST_CASE("with anomaly detection a diverging fit names the first op that produced NaN or Inf") {
    const std::string message = diverge(true);
    CAPTURE(message);
    // Here the prediction is still finite when the loss's square overflows.
    CHECK(message.find("anomaly: op 'square' produced NaN or Inf in its output (8, 1)") == 0);
    CHECK(left_on_tape == 0);
}
