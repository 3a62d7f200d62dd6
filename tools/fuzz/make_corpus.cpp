// Writes the seed corpus of the fuzz targets into <folder>/{idx,npy,npz}: a few tiny valid files and
// a few near misses of each kind. Its output is committed under tools/fuzz/corpus; run it again only
// when a format changes:  build-fuzz/tools/fuzz/fuzz_make_corpus tools/fuzz/corpus
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xgrad/core/random.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/model.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out += static_cast<char>(v);
    return out;
}

void idx_seeds(const fs::path& dir) {
    xg::ByteArray labels = xg::ByteArray::from_shape({5});
    for (std::size_t i = 0; i < 5; ++i) labels(i) = static_cast<std::uint8_t>(i);
    xg::ByteArray images = xg::ByteArray::from_shape({2, 3, 3});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<std::uint8_t>(i * 14);
    xg::write_idx((dir / "labels.idx").string(), labels, false);
    xg::write_idx((dir / "images.idx").string(), images, false);
    xg::write_idx((dir / "images.idx.gz").string(), images, true);
    const std::string raw = read_file(dir / "images.idx");
    write_file(dir / "truncated.idx", raw.substr(0, raw.size() - 3));
    write_file(dir / "trailing.idx", read_file(dir / "labels.idx") + "x");
    write_file(dir / "float_type.idx", bytes({0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x3f}));
    write_file(dir / "huge_header.idx", bytes({0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    const std::string gz = read_file(dir / "images.idx.gz");
    write_file(dir / "truncated.idx.gz", gz.substr(0, gz.size() - 6));
}

void npy_seeds(const fs::path& dir) {
    write_file(dir / "matrix.npy", xg::encode_npy(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}));
    write_file(dir / "scalar.npy", xg::encode_npy(xg::scalar_array(7.0f)));
    write_file(dir / "empty.npy", xg::encode_npy(xt::zeros<float>({0})));
    // Version 2.0: a 4-byte header length instead of 2.
    const std::string v1 = xg::encode_npy(xg::Array{1.0f, 2.0f});
    std::string v2 = v1.substr(0, 6) + bytes({2, 0}) + v1.substr(8, 2) + bytes({0, 0}) + v1.substr(10);
    write_file(dir / "version2.npy", v2);
    std::string f8 = v1;
    f8.replace(f8.find("<f4"), 3, "<f8");
    write_file(dir / "float64.npy", f8);
    std::string fortran = v1;
    fortran.replace(fortran.find("False"), 5, "True ");
    write_file(dir / "fortran.npy", fortran);
}

void npz_seeds(const fs::path& dir) {
    // The model of npz_fuzz.cpp.
    xg::manual_seed(3);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    net->emplace<xg::Dense>(4, 2, xg::DenseOptions{.name = "out"});
    xg::Model model(net);
    model.compile(std::make_shared<xg::RMSprop>(net->parameters()), "mse");
    xg::FitOptions fit;
    fit.epochs = 2;
    fit.batch_size = 2;
    fit.verbose = 0;
    const xg::History history =
        model.fit(xg::Array{{0.f, 1.f, 2.f}, {1.f, 0.f, 1.f}, {2.f, 2.f, 0.f}}, xg::Array{{1.f, 0.f}, {0.f, 1.f}, {1.f, 1.f}}, fit);

    const fs::path scratch = dir / "scratch";
    xg::save_checkpoint(scratch.string(), model, 2, history);
    const std::string checkpoint = read_file(xg::checkpoint_path(scratch.string()));
    fs::remove_all(scratch);
    write_file(dir / "checkpoint.npz", checkpoint);
    write_file(dir / "checkpoint_truncated.npz", checkpoint.substr(0, checkpoint.size() / 2));
    xg::save_weights(*net, (dir / "weights.npz").string(), {{"epoch", 2}});
    std::vector<xg::NpzArray> arrays;
    for (auto& [name, t] : net->named_parameters()) arrays.emplace_back(name, &t.value());
    xg::write_npz((dir / "plain.npz").string(), arrays);  // as np.savez writes it: no manifest
    write_file(dir / "empty.npz", "");
    write_file(dir / "not_zip.npz", "PK\x05\x06 this is not an archive");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_make_corpus FOLDER\n";
        return 2;
    }
    try {
        const fs::path root = argv[1];
        for (const char* target : {"idx", "npy", "npz"}) fs::create_directories(root / target);
        idx_seeds(root / "idx");
        npy_seeds(root / "npy");
        npz_seeds(root / "npz");
    } catch (const std::exception& e) {
        std::cerr << "fuzz_make_corpus: error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
