// libFuzzer target: the weights and checkpoint loaders on an arbitrary file. The bytes are written to
// "checkpoint.npz" in a private folder (on /dev/shm when there is one), then read as an .npz
// (read_npz_contents), as a weights manifest (read_manifest), as weights (load_weights) and as a
// checkpoint (load_checkpoint) of a small compiled model. Anything but success or an IoError is a finding.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/model.hpp"

namespace {

// The model of the seed corpus (tools/fuzz/make_corpus.cpp): Dense(3, 4, relu) "hidden", Dense(4, 2) "out", RMSprop.
struct Target {
    std::string dir, path;
    std::shared_ptr<xg::Sequential> net;
    std::unique_ptr<xg::Model> model;

    Target() {
        const std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
        std::string pattern = (base / "xgrad-fuzz-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) std::abort();
        dir = pattern;
        path = xg::checkpoint_path(dir);
        net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
        net->emplace<xg::Dense>(4, 2, xg::DenseOptions{.name = "out"});
        model = std::make_unique<xg::Model>(net);
        model->compile(std::make_shared<xg::RMSprop>(net->parameters()), "mse");
    }
    ~Target() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
};

Target& target() {
    static Target t;
    return t;
}

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    if (std::fclose(f) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Target& t = target();
    write_file(t.path, data, size);
    try {
        xg::read_npz_contents(t.path);
    } catch (const xg::IoError&) {
    }
    try {
        xg::read_manifest(t.path);
    } catch (const xg::IoError&) {
    }
    try {
        xg::load_weights(*t.net, t.path);
    } catch (const xg::IoError&) {
    }
    try {
        xg::load_checkpoint(t.dir, *t.model);
    } catch (const xg::IoError&) {
    }
    return 0;
}
