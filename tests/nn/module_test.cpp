// Module: naming, parameter registration and lookup by path, train/eval, recording scopes.
#include "xgrad/nn/module.hpp"

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// y = x * scale + shift, with two parameters of shape (3,).
class ScaleShift : public xg::Module {
public:
    explicit ScaleShift(std::string name = {}) : Module("ScaleShift", std::move(name)) {
        scale_ = register_parameter("scale", xg::Tensor(xt::ones<float>({3})));
        shift_ = register_parameter("shift", xg::Tensor(xt::zeros<float>({3})));
    }
    xg::Tensor forward(const xg::Tensor& x) override { return x * scale_ + shift_; }
    void register_scale_again() { register_parameter("scale", xg::Tensor(xt::ones<float>({3}))); }
    const xg::Tensor& scale() const { return scale_; }

private:
    xg::Tensor scale_, shift_;
};

// A module with one own parameter and two children, applied one after the other.
class Pipeline : public xg::Module {
public:
    explicit Pipeline(std::string name = {}) : Module("Pipeline", std::move(name)) {
        gain_ = register_parameter("gain", xg::Tensor(xt::ones<float>({1})));
        first_ = register_module(std::make_shared<ScaleShift>("first"));
        second_ = register_module(std::make_shared<ScaleShift>("second"));
    }
    xg::Tensor forward(const xg::Tensor& x) override { return (*second_)((*first_)(x * gain_)); }
    std::shared_ptr<ScaleShift> first_, second_;

private:
    xg::Tensor gain_;
};

// A module that only holds children, registered from outside (tests only).
class Holder : public xg::Module {
public:
    Holder() : Module("Holder") {}
    template <class M>
    std::shared_ptr<M> add(std::shared_ptr<M> child) { return register_module(std::move(child)); }
    template <class M>
    std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> child) { return register_module(name, std::move(child)); }
    xg::Tensor forward(const xg::Tensor& x) override { return x; }
};

// A module of any kind, to see the name it gets.
class Kind : public xg::Module {
public:
    explicit Kind(std::string kind) : Module(std::move(kind)) {}
    xg::Tensor forward(const xg::Tensor& x) override { return x; }
};

}  // namespace

TEST_CASE("default names are the kind in snake case, numbered within the parent") {
    ScaleShift a, b;
    ScaleShift named("mine");
    // Registered nowhere, every module is the first of its kind.
    CHECK(a.name() == "scale_shift_1");
    CHECK(b.name() == "scale_shift_1");
    CHECK(named.name() == "mine");
    CHECK(a.kind() == "ScaleShift");

    Holder holder;
    auto first = holder.add(std::make_shared<ScaleShift>());
    auto second = holder.add(std::make_shared<ScaleShift>());
    auto mine = holder.add(std::make_shared<ScaleShift>("mine"));
    auto third = holder.add(std::make_shared<ScaleShift>());
    CHECK(first->name() == "scale_shift_1");
    CHECK(second->name() == "scale_shift_2");
    CHECK(mine->name() == "mine");
    CHECK(third->name() == "scale_shift_3");
    // Parameters are renamed with their module, for graphs and messages.
    CHECK(second->scale().name() == "scale_shift_2/scale");

    // Another parent counts from 1 again: names do not depend on what else the program built.
    Holder other;
    CHECK(other.add(std::make_shared<ScaleShift>())->name() == "scale_shift_1");
}

TEST_CASE("register_module(name, child) names the child; names are unique per parent") {
    Holder holder;
    auto encoder = holder.add("encoder", std::make_shared<ScaleShift>("ignored"));
    CHECK(encoder->name() == "encoder");
    CHECK(encoder->scale().name() == "encoder/scale");
    CHECK(holder.named_parameters()[0].first == "encoder/scale");
    CHECK_THROWS_WITH_AS(holder.add("encoder", std::make_shared<ScaleShift>()),
                         doctest::Contains("a child named 'encoder' is registered twice"), xg::ValueError);
    CHECK_THROWS_AS(holder.add("a/b", std::make_shared<ScaleShift>()), xg::ValueError);
    CHECK_THROWS_AS(holder.add(std::shared_ptr<ScaleShift>()), xg::ValueError);
    // A module belongs to one parent: sharing weights is calling it twice.
    Holder other;
    CHECK_THROWS_WITH_AS(other.add(encoder), doctest::Contains("already registered"), xg::StateError);
    // An automatic name skips a name the user took.
    Holder skip;
    skip.add("scale_shift_1", std::make_shared<ScaleShift>());
    CHECK(skip.add(std::make_shared<ScaleShift>())->name() == "scale_shift_2");
}

TEST_CASE("two identical models built in one program name their parameters alike") {
    auto build = [] {
        auto p = std::make_shared<Holder>();
        p->add(std::make_shared<ScaleShift>());
        p->add("head", std::make_shared<ScaleShift>());
        return p;
    };
    auto a = build(), b = build();
    std::vector<std::string> names_a, names_b;
    for (auto& [name, t] : a->named_parameters()) names_a.push_back(name);
    for (auto& [name, t] : b->named_parameters()) names_b.push_back(name);
    CHECK(names_a == std::vector<std::string>{"scale_shift_1/scale", "scale_shift_1/shift", "head/scale", "head/shift"});
    CHECK(names_a == names_b);
}

TEST_CASE("summary lists the children a forward pass calls, for any module") {
    Pipeline p("pipe");
    const std::string s = p.summary({3});
    CHECK(s.find("Model: \"pipe\"") != std::string::npos);
    CHECK(s.find("pipe (own parameters)                                  1\n") != std::string::npos);
    CHECK(s.find("first (ScaleShift)           (None, 3)                 6\n") != std::string::npos);
    CHECK(s.find("second (ScaleShift)          (None, 3)                 6\n") != std::string::npos);
    CHECK(s.find("Total params: 13\n") != std::string::npos);
    CHECK(s.find("first") < s.find("second"));

    Holder unused;
    unused.add(std::make_shared<ScaleShift>());
    CHECK(unused.summary({3}).find("scale_shift_1 (ScaleShift)   (not called)              6\n") != std::string::npos);
    CHECK(ScaleShift("alone").summary({3}).find("alone (own parameters)") != std::string::npos);
}

TEST_CASE("summary still sees the calls after one that threw and was caught inside forward") {
    // A forward that tries a call its child refuses (a mask it cannot take), then calls it plainly.
    class Tolerant : public xg::Module {
    public:
        Tolerant() : Module("Tolerant") { child_ = register_module("child", std::make_shared<ScaleShift>()); }
        xg::Tensor forward(const xg::Tensor& x) override {
            try {
                child_->call_masked(x, xg::input(xt::ones<float>({x.shape()[0], std::size_t{3}})));
            } catch (const xg::ValueError&) {
                // refused: the layer takes no mask
            }
            return (*child_)(x);
        }

    private:
        std::shared_ptr<ScaleShift> child_;
    };
    Tolerant model;
    const std::string s = model.summary({3, 3});
    CAPTURE(s);
    CHECK(s.find("child (ScaleShift)           (None, 3, 3)") != std::string::npos);
}

TEST_CASE("registered parameters are trainable, named by path and shared with the module") {
    ScaleShift m("affine");
    const auto& own = m.own_parameters();
    REQUIRE(own.size() == 2);
    CHECK(own[0].first == "scale");
    CHECK(own[1].first == "shift");
    CHECK(m.scale().requires_grad());
    CHECK(m.scale().name() == "affine/scale");

    auto named = m.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "scale");
    CHECK(named[1].first == "shift");
    // The handles refer to the module's own nodes: updating one updates the module.
    CHECK(named[0].second.node() == m.scale().node());
    auto params = m.parameters();
    REQUIRE(params.size() == 2);
    params[0].mutable_value()(1) = 5.0f;
    CHECK(m.scale().value()(1) == 5.0f);
    CHECK(m.parameter_count() == 6);
}

TEST_CASE("registering a parameter name twice is a ValueError") {
    ScaleShift m("twice");
    CHECK_THROWS_AS(m.register_scale_again(), xg::ValueError);
    CHECK(m.own_parameters().size() == 2);
}

TEST_CASE("children's parameters follow the module's own, prefixed with the child's name") {
    Pipeline p("pipe");
    auto named = p.named_parameters();
    REQUIRE(named.size() == 5);
    CHECK(named[0].first == "gain");
    CHECK(named[1].first == "first/scale");
    CHECK(named[2].first == "first/shift");
    CHECK(named[3].first == "second/scale");
    CHECK(named[4].first == "second/shift");
    CHECK(p.children().size() == 2);
    CHECK(p.parameter_count() == 1 + 4 * 3);
    auto params = p.parameters();
    REQUIRE(params.size() == 5);
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(params[i].node() == named[i].second.node());
}

TEST_CASE("set_trainable freezes a subtree's parameters: no gradient, not trainable, counted as non-trainable") {
    Pipeline p;
    xg::Tensor x = xg::input(xt::ones<float>({2, 3}));
    xg::sum((*p.first_)(x) * 2.0f).backward();  // a gradient from before freezing
    REQUIRE(p.first_->parameters().at(0).has_grad());
    p.first_->set_trainable(false);
    CHECK_FALSE(p.first_->trainable());
    CHECK(p.second_->trainable());
    CHECK(p.trainable());
    for (const auto& t : p.first_->parameters()) {
        CHECK_FALSE(t.requires_grad());
        CHECK_FALSE(t.has_grad());  // dropped, so that no step applies it
    }
    std::vector<std::string> names;
    for (const auto& t : p.trainable_parameters()) names.push_back(t.name());
    CHECK(names == std::vector<std::string>{"pipeline_1/gain", "second/scale", "second/shift"});
    CHECK(p.parameters().size() == 5);  // frozen ones are still parameters (saved, loaded, broadcast)

    // backward reaches only what is trainable
    xg::sum(p(x)).backward();
    CHECK_FALSE(p.first_->parameters().at(0).has_grad());
    CHECK(p.second_->parameters().at(0).has_grad());

    const std::string summary = p.summary({3});
    CHECK(summary.find("Total params: 13") != std::string::npos);
    CHECK(summary.find("Trainable params: 7") != std::string::npos);
    CHECK(summary.find("Non-trainable params: 6") != std::string::npos);

    // The later call wins for what it reaches.
    p.set_trainable(false);
    CHECK(p.trainable_parameters().empty());
    p.second_->set_trainable(true);
    CHECK(p.trainable_parameters().size() == 2);
    p.set_trainable(true);
    CHECK(p.trainable_parameters().size() == 5);
    CHECK(p.first_->trainable());
}

TEST_CASE("train and eval switch the whole tree") {
    Pipeline p("modes");
    CHECK(p.training());
    p.eval();
    CHECK_FALSE(p.training());
    CHECK_FALSE(p.first_->training());
    CHECK_FALSE(p.second_->training());
    p.train();
    CHECK(p.second_->training());
    p.train(false);
    CHECK_FALSE(p.first_->training());
}

TEST_CASE("ModeGuard sets the whole tree's mode and gives every module back its own") {
    // A nested tree: the outer holder, a Pipeline inside it, and that pipeline's two children.
    Holder outer;
    auto inner = outer.add(std::make_shared<Pipeline>("inner"));
    auto last = outer.add(std::make_shared<ScaleShift>("last"));
    inner->second_->eval();  // a frozen piece inside a training model
    for (bool mode : {false, true}) {
        {
            xg::ModeGuard guard(outer, mode);
            CHECK(outer.training() == mode);
            CHECK(inner->training() == mode);
            CHECK(inner->first_->training() == mode);
            CHECK(inner->second_->training() == mode);
            CHECK(last->training() == mode);
        }
        CHECK(outer.training());
        CHECK(inner->training());
        CHECK(inner->first_->training());
        CHECK_FALSE(inner->second_->training());
        CHECK(last->training());
    }
    // The other way round: an evaluating model with one piece left training.
    outer.eval();
    inner->first_->train();
    {
        xg::ModeGuard guard(outer, true);
        CHECK(inner->second_->training());
    }
    CHECK_FALSE(outer.training());
    CHECK(inner->first_->training());
    CHECK_FALSE(inner->second_->training());
    CHECK_FALSE(last->training());
}

TEST_CASE("summary runs in inference mode and leaves every module's own mode as it was") {
    xg::Sequential net;
    net.emplace<xg::Conv2D>(1, 2, xg::Size2{3, 3});
    auto bn = net.emplace<xg::BatchNormalization>(2);
    bn->eval();
    const xg::Array moving_mean = bn->named_buffers().at(0).second.value();
    net.summary({5, 5, 1});
    CHECK(net.training());
    CHECK_FALSE(bn->training());
    CHECK(bn->named_buffers().at(0).second.value() == moving_mean);
}

TEST_CASE("calling a module records its ops under its name, nested for children") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    Pipeline p("outer");
    const xg::Tensor y = p(xg::input(xt::ones<float>({2, 3})));
    REQUIRE(tape.size() == 5);  // gain mul, then mul + add in each child
    CHECK(tape[0].scope == "outer");
    CHECK(tape[1].scope == "outer/first");
    CHECK(tape[2].scope == "outer/first");
    CHECK(tape[4].scope == "outer/second");
    CHECK(tape.scope().empty());
    tape.clear();
}

TEST_CASE("the scope is restored when forward throws") {
    xg::Tape::current().clear();
    ScaleShift m("throws");
    CHECK_THROWS_AS(m(xg::input(xt::ones<float>({2, 4}))), xg::ShapeError);
    CHECK(xg::Tape::current().scope().empty());
    xg::Tape::current().clear();
}

TEST_CASE("the default output_shape runs one sample without recording") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    ScaleShift m("shape");
    CHECK(m.output_shape({3}) == xg::Shape{3});
    CHECK(tape.size() == 0);
    CHECK(xg::grad_enabled());
}

namespace {

// Counts the samples it has seen in training mode: a buffer the module updates itself.
class SampleCounter : public xg::Module {
public:
    explicit SampleCounter(std::string name = {}) : Module("SampleCounter", std::move(name)) {
        weight_ = register_parameter("weight", xg::Tensor(xt::ones<float>({2})));
        seen_ = register_buffer("seen", xg::Tensor(xt::zeros<float>({1})));
    }
    xg::Tensor forward(const xg::Tensor& x) override {
        if (training()) seen_.mutable_value()(0) += static_cast<float>(x.shape()[0]);
        return x * weight_;
    }
    void register_weight_as_buffer() { register_buffer("weight", xg::Tensor(xt::zeros<float>({2}))); }
    const xg::Tensor& seen() const { return seen_; }

private:
    xg::Tensor weight_, seen_;
};

class CounterPair : public xg::Module {
public:
    CounterPair() : Module("CounterPair", "pair") {
        a_ = register_module(std::make_shared<SampleCounter>("a"));
        b_ = register_module(std::make_shared<SampleCounter>("b"));
    }
    xg::Tensor forward(const xg::Tensor& x) override { return (*b_)((*a_)(x)); }
    std::shared_ptr<SampleCounter> a_, b_;
};

}  // namespace

TEST_CASE("buffers are named by path, not trainable, and kept apart from the parameters") {
    CounterPair pair;
    auto buffers = pair.named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "a/seen");
    CHECK(buffers[1].first == "b/seen");
    CHECK_FALSE(buffers[0].second.requires_grad());
    CHECK(buffers[0].second.name() == "a/seen");
    CHECK(pair.buffer_count() == 2);
    CHECK(pair.parameter_count() == 4);
    for (const auto& p : pair.parameters()) CHECK(p.requires_grad());
    CHECK(pair.parameters().size() == 2);

    auto state = pair.named_state();
    REQUIRE(state.size() == 4);
    CHECK(state[0].first == "a/weight");
    CHECK(state[1].first == "b/weight");
    CHECK(state[2].first == "a/seen");
    CHECK(state[3].first == "b/seen");

    // The handles are the module's: its own updates show through them.
    pair(xg::input(xt::ones<float>({3, 2})));
    xg::Tape::current().clear();
    CHECK(buffers[0].second.value()(0) == 3.0f);
    CHECK(pair.buffers()[1].value()(0) == 3.0f);
    pair.eval();
    pair(xg::input(xt::ones<float>({5, 2})));
    CHECK(pair.a_->seen().value()(0) == 3.0f);
}

TEST_CASE("a buffer cannot share a name with another buffer or a parameter") {
    SampleCounter m("dup");
    CHECK_THROWS_AS(m.register_weight_as_buffer(), xg::ValueError);
    CHECK(m.own_buffers().size() == 1);
}

TEST_CASE("kinds become snake-case names as Keras makes them") {
    xg::Sequential model;
    CHECK(model.emplace<xg::Conv2D>(1, 2, xg::Size2{3, 3})->name() == "conv2d_1");
    CHECK(model.emplace<xg::MaxPooling2D>()->name() == "max_pooling2d_1");
    CHECK(model.emplace<xg::BatchNormalization>(2)->name() == "batch_normalization_1");
    CHECK(model.emplace<xg::Conv2D>(2, 2, xg::Size2{1, 1})->name() == "conv2d_2");
    // Keras's rule for a capital after a capital: a word starts where lower case follows.
    CHECK(Kind("Conv2DTranspose").name() == "conv2d_transpose_1");
    CHECK(Kind("MLPBlock").name() == "mlp_block_1");
    CHECK(Kind("GRU").name() == "gru_1");
    CHECK(Kind("ResNet50V2").name() == "res_net50v2_1");
    CHECK(Kind("LSTMCell").name() == "lstm_cell_1");
    CHECK(Kind("GlobalAveragePooling2D").name() == "global_average_pooling2d_1");
}
