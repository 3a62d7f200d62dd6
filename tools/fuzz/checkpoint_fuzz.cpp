// libFuzzer target: load_checkpoint on a checkpoint whose metadata is arbitrary text. The input is
// the manifest's "metadata" (epochs done, optimizer, random state, history), written by save_weights
// beside the arrays of a real checkpoint of a small compiled model; text that is not JSON is
// skipped (save_weights refuses it). The archive itself is the npz target's: a mutated byte in it
// breaks a checksum before the metadata is ever read, so mutations land here instead.
// load_checkpoint must succeed or throw an IoError, and when it throws it must leave the weights,
// the optimizer's slots, step count and learning rate and the random state as they were; anything
// else is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/model.hpp"
#include "scratch_folder.hpp"

namespace {

// The model of the seed corpus (tools/fuzz/make_corpus.cpp): Dense(3, 4, relu) "hidden",
// Dense(4, 2) "out", RMSprop, categorical cross-entropy.
struct Target {
    fuzz::ScratchFolder folder;
    std::shared_ptr<xg::Sequential> net;
    std::unique_ptr<xg::Model> model;
    xg::NamedTensors arrays;  // as a checkpoint of the model holds them

    Target() {
        net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
        net->emplace<xg::Dense>(4, 2, xg::DenseOptions{.name = "out"});
        model = std::make_unique<xg::Model>(net);
        model->compile(std::make_shared<xg::RMSprop>(net->parameters()), "categorical_crossentropy");
        for (const auto& [name, t] : net->named_parameters()) {
            arrays.emplace_back("model/" + name, xg::Tensor(xg::Array(t.value())));
            arrays.emplace_back("optimizer/rms/" + name, xg::Tensor(xg::Array(t.value() * 0.5f)));
        }
    }
};

Target& target() {
    static Target t;
    return t;
}

// Everything load_checkpoint may change, copied.
struct State {
    std::vector<xg::Array> arrays;
    std::size_t iterations = 0;
    float learning_rate = 0.0f;
    std::string random_state;

    explicit State(xg::Model& model) {
        for (const auto& p : model.network().parameters()) arrays.push_back(p.value());
        for (const auto& [name, slot] : model.optimizer().state()) arrays.push_back(*slot);
        iterations = model.optimizer().iterations();
        learning_rate = model.optimizer().learning_rate();
        random_state = xg::random_state();
    }

    bool operator==(const State& other) const {
        if (arrays.size() != other.arrays.size() || iterations != other.iterations ||
            std::memcmp(&learning_rate, &other.learning_rate, sizeof learning_rate) != 0 ||
            random_state != other.random_state) {
            return false;
        }
        for (std::size_t i = 0; i < arrays.size(); ++i) {
            const xg::Array& a = arrays[i];
            const xg::Array& b = other.arrays[i];
            if (a.shape() != b.shape() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0) return false;
        }
        return true;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Target& t = target();
    const std::string metadata(reinterpret_cast<const char*>(data), size);
    try {
        xg::save_weights(t.arrays, xg::checkpoint_path(t.folder.path()), metadata);
    } catch (const xg::ValueError&) {
        return 0;  // not JSON: nothing a checkpoint can hold
    }
    const State before(*t.model);
    try {
        xg::load_checkpoint(t.folder.path(), *t.model);
    } catch (const xg::IoError&) {
        if (!(State(*t.model) == before)) std::abort();  // a refused checkpoint changed the model
    }
    return 0;
}
