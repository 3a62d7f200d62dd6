// libFuzzer target: the weights loader on an arbitrary file, as model weights and as checkpoints use it. The
// bytes are written to a file in a private folder (on /dev/shm when there is one), then read as a weights
// manifest (read_manifest, which reads only the non-array members), loaded into a small model (load_weights of a
// Module) and into named tensors laid out as a checkpoint's ("model/<parameter>", "optimizer/rms/<parameter>").
// Anything but success or an IoError is a finding.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "scratch_folder.hpp"

namespace {

// The model of the seed corpus (tools/fuzz/make_corpus.cpp): Dense(3, 4, relu) "hidden", Dense(4, 2) "out".
struct Target {
    fuzz::ScratchFolder folder;
    std::string path = folder.path() + "/weights.npz";
    std::shared_ptr<xg::Sequential> net;
    xg::NamedTensors checkpoint;

    Target() {
        net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
        net->emplace<xg::Dense>(4, 2, xg::DenseOptions{.name = "out"});
        for (const auto& [name, t] : net->named_parameters()) {
            checkpoint.emplace_back("model/" + name, t);
            checkpoint.emplace_back("optimizer/rms/" + name, xg::Tensor(xg::Array(t.value())));
        }
    }
};

Target& target() {
    static Target t;
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Target& t = target();
    fuzz::write_file(t.path, data, size);
    try {
        xg::read_manifest(t.path);
    } catch (const xg::IoError&) {
    }
    try {
        xg::load_weights(*t.net, t.path);
    } catch (const xg::IoError&) {
    }
    try {
        xg::load_weights(t.checkpoint, t.path);
    } catch (const xg::IoError&) {
    }
    return 0;
}
