// Optimizer: argument checks, the step loop (hooks, skipped parameters, shape checks),
// learning-rate changes, iteration counting and named state, through a minimal subclass.
#include "xgrad/optim/optimizer.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"

namespace {

// w -= lr * g, and a "sum" slot that adds up every gradient seen; counts begin_step calls.
class Plain : public xg::Optimizer {
public:
    explicit Plain(std::vector<xg::Tensor> parameters, float lr = 0.5f) : Optimizer("Plain", std::move(parameters), lr) {
        add_slot("sum");
    }
    int begun = 0;
    bool recording_during_update = true;

protected:
    void begin_step() override { ++begun; }
    void update(std::size_t index, float* w, const float* g, std::size_t n) override {
        recording_during_update = xg::grad_enabled();
        float* s = slot(0, index).data();
        for (std::size_t i = 0; i < n; ++i) {
            s[i] += g[i];
            w[i] -= learning_rate() * g[i];
        }
    }
};

// Gives every parameter the gradient `c` through the loss sum(w * c).
void set_grads(xg::Optimizer& opt, const std::vector<xg::Tensor>& params, const std::vector<xg::Array>& c) {
    opt.zero_grad();
    xg::Tensor loss = xg::sum(params[0] * xg::constant(c[0]));
    for (std::size_t i = 1; i < params.size(); ++i) loss = loss + xg::sum(params[i] * xg::constant(c[i]));
    loss.backward();
}

}  // namespace

TEST_CASE("an optimizer needs trainable parameters and a positive learning rate") {
    CHECK_THROWS_AS(Plain({}), xg::ValueError);
    CHECK_THROWS_AS(xg::SGD({}), xg::ValueError);
    CHECK_THROWS_AS(xg::RMSprop({}), xg::ValueError);
    const xg::Tensor frozen(xt::ones<float>({2}), false);
    const xg::Tensor w = xg::parameter(xt::ones<float>({2}), "w");
    try {
        Plain({w, frozen});
        FAIL("expected ValueError");
    } catch (const xg::ValueError& e) {
        CHECK(std::string(e.what()).find("parameter 1") != std::string::npos);
    }
    CHECK_THROWS_AS(Plain({xg::Tensor()}), xg::ValueError);
    CHECK_THROWS_AS(Plain({w}, 0.0f), xg::ValueError);
    CHECK_THROWS_AS(Plain({w}, -0.1f), xg::ValueError);
    CHECK_THROWS_AS(Plain({w}, std::numeric_limits<float>::quiet_NaN()), xg::ValueError);
    CHECK_THROWS_AS(Plain({w}, std::numeric_limits<float>::infinity()), xg::ValueError);
    Plain ok({w});
    CHECK(ok.kind() == "Plain");
    CHECK(ok.learning_rate() == 0.5f);
    CHECK_THROWS_AS(ok.set_learning_rate(0.0f), xg::ValueError);
    CHECK(ok.learning_rate() == 0.5f);
}

TEST_CASE("step updates parameters in place, without recording, and counts iterations") {
    xg::Tape::current().clear();
    xg::Tensor w = xg::parameter({1.0f, 2.0f}, "w");
    xg::Tensor alias = w;  // another holder of the same parameter
    Plain opt({w});
    CHECK(opt.iterations() == 0);
    set_grads(opt, {w}, {{0.5f, -1.0f}});
    opt.step();
    CHECK(opt.begun == 1);
    CHECK(opt.iterations() == 1);
    CHECK_FALSE(opt.recording_during_update);
    CHECK(xg::grad_enabled());
    CHECK(alias.value()(0) == doctest::Approx(1.0 - 0.5 * 0.5));
    CHECK(alias.value()(1) == doctest::Approx(2.0 + 0.5 * 1.0));
    CHECK(xg::Tape::current().size() == 0);
    opt.set_iterations(10);
    opt.step();
    CHECK(opt.iterations() == 11);
}

TEST_CASE("set_learning_rate between steps takes effect at the next step") {
    xg::Tensor w = xg::parameter({0.0f}, "w");
    Plain opt({w}, 0.1f);
    set_grads(opt, {w}, {{1.0f}});
    opt.step();
    CHECK(w.value()(0) == doctest::Approx(-0.1));
    opt.set_learning_rate(0.25f);
    CHECK(opt.learning_rate() == 0.25f);
    set_grads(opt, {w}, {{1.0f}});
    opt.step();
    CHECK(w.value()(0) == doctest::Approx(-0.35));
}

TEST_CASE("zero_grad forgets gradients and step skips parameters without one") {
    xg::Tensor a = xg::parameter({1.0f}, "a");
    xg::Tensor b = xg::parameter({1.0f}, "b");
    Plain opt({a, b});
    // Gradient for a only.
    opt.zero_grad();
    xg::sum(a * xg::constant({2.0f})).backward();
    CHECK(a.has_grad());
    CHECK_FALSE(b.has_grad());
    opt.step();
    CHECK(a.value()(0) == doctest::Approx(0.0));
    CHECK(b.value()(0) == 1.0f);
    opt.zero_grad();
    CHECK_FALSE(a.has_grad());
    opt.step();
    CHECK(a.value()(0) == doctest::Approx(0.0));
    CHECK(opt.iterations() == 2);
}

TEST_CASE("gradients accumulate until zero_grad, as in a hand-written loop") {
    xg::Tensor w = xg::parameter({0.0f}, "w");
    Plain opt({w}, 1.0f);
    opt.zero_grad();
    xg::sum(w * xg::constant({1.0f})).backward();
    xg::sum(w * xg::constant({2.0f})).backward();
    opt.step();
    CHECK(w.value()(0) == doctest::Approx(-3.0));
}

TEST_CASE("a gradient of the wrong shape is a ShapeError naming the parameter") {
    xg::Tensor w = xg::parameter({1.0f, 2.0f}, "weights");
    Plain opt({w});
    set_grads(opt, {w}, {{1.0f, 1.0f}});
    w.mutable_grad() = xt::ones<float>({3});
    try {
        opt.step();
        FAIL("expected ShapeError");
    } catch (const xg::ShapeError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("weights") != std::string::npos);
        CHECK(msg.find("(3,)") != std::string::npos);
        CHECK(msg.find("(2,)") != std::string::npos);
    }
}

TEST_CASE("state names each slot by parameter path, and the arrays are live") {
    xg::Dense layer(3, 2);
    xg::Tensor unnamed(xt::zeros<float>({4}), true);
    auto params = layer.parameters();
    params.push_back(unnamed);
    Plain opt(params);
    auto state = opt.state();
    REQUIRE(state.size() == 3);
    CHECK(state[0].first == "sum/dense_1/kernel");
    CHECK(state[1].first == "sum/dense_1/bias");
    CHECK(state[2].first == "sum/param_2");
    CHECK(state[0].second->shape() == xg::Shape{3, 2});
    CHECK(xt::all(xt::equal(*state[1].second, 0.0f)));

    set_grads(opt, params, {xt::ones<float>({3, 2}), xg::Array{1.0f, 2.0f}, xt::ones<float>({4})});
    opt.step();
    CHECK((*state[1].second)(1) == 2.0f);
    // Writing through the pointer changes what the optimizer holds (checkpoint restore).
    (*state[1].second)(1) = 10.0f;
    CHECK((*opt.state()[1].second)(1) == 10.0f);

    xg::RMSprop rms(layer.parameters());
    auto rms_state = rms.state();
    REQUIRE(rms_state.size() == 2);
    CHECK(rms_state[0].first == "rms/dense_1/kernel");
    CHECK(rms_state[1].first == "rms/dense_1/bias");
}

TEST_CASE("a step keeps a 0-d parameter an inline scalar, so the ops on it keep their scalar path") {
    xg::Tape::current().clear();
    xg::Tensor w = xg::Tensor::scalar(2.0f, true);
    const xg::Array& seen = w.value();  // an Array handed out before the step follows the update
    Plain opt({w}, 0.5f);
    (w * w).backward();                 // dL/dw = 2w = 4
    opt.step();
    CHECK(w.node()->is_scalar());
    CHECK(w.item() == doctest::Approx(0.0f));  // 2 - 0.5 * 4
    CHECK(seen() == doctest::Approx(0.0f));
    const xg::Tensor y = w * 3.0f;
    REQUIRE(y.creator() != nullptr);
    CHECK((y.creator()->scalar_rule != nullptr));
    xg::Tape::current().clear();
}
