#include "xgrad/io/weights.hpp"

#include <cstring>
#include <filesystem>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "scratch_dir.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/sequential.hpp"

using namespace xg;
using nlohmann::json;
using xg::test::ScratchDir;

namespace {

// A layer with a 0-d parameter, next to Dense's 2-d kernel and 1-d bias.
class Scale : public Module {
public:
    explicit Scale(float value) : Module("Scale", "scale") { register_parameter("factor", Tensor(scalar_array(value))); }
    Tensor forward(const Tensor& x) override { return x; }
};

// dense_1 (in, hidden), dense_2 (hidden, 2) and scale; every value differs between seeds.
std::unique_ptr<Sequential> make_model(std::size_t in, std::size_t hidden, float seed, bool with_scale = true,
                                       bool second_dense = true) {
    auto model = std::make_unique<Sequential>("model");
    auto fill = [seed](float offset) {
        return [seed, offset](const Shape& shape) {
            Array a = uninitialized(shape);
            for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = seed * 100.0f + offset + static_cast<float>(i);
            return a;
        };
    };
    model->emplace<Dense>(in, hidden, DenseOptions{.kernel_initializer = fill(1), .bias_initializer = fill(2), .name = "dense_1"});
    if (second_dense) {
        model->emplace<Dense>(hidden, 2, DenseOptions{.kernel_initializer = fill(3), .bias_initializer = fill(4), .name = "dense_2"});
    }
    if (with_scale) model->emplace<Scale>(seed);
    return model;
}

// Copies of every parameter value, to show that a failed load changed nothing.
std::vector<Array> snapshot(const Module& model) {
    std::vector<Array> out;
    for (auto& t : model.parameters()) out.push_back(t.value());
    return out;
}

bool same_values(const Module& a, const Module& b) {
    const auto pa = a.named_parameters(), pb = b.named_parameters();
    if (pa.size() != pb.size()) return false;
    for (std::size_t i = 0; i < pa.size(); ++i) {
        if (pa[i].first != pb[i].first || pa[i].second.value() != pb[i].second.value()) return false;
    }
    return true;
}

std::string load_error(Module& model, const std::string& path) {
    try {
        load_weights(model, path);
        return "";
    } catch (const IoError& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("save_weights and load_weights round trip a model's parameters") {
    ScratchDir dir;
    const std::string path = dir / "model.npz";
    auto saved = make_model(4, 3, 1.0f);
    save_weights(*saved, path);
    auto loaded = make_model(4, 3, 2.0f);
    CHECK(!same_values(*saved, *loaded));
    const Tensor kernel_handle = loaded->named_parameters()[0].second;
    const float* storage = kernel_handle.value().data();
    load_weights(*loaded, path);
    CHECK(same_values(*saved, *loaded));
    // Values are copied into the existing tensors, so every holder of a handle sees them.
    CHECK(kernel_handle.value().data() == storage);
    CHECK(kernel_handle.value() == saved->named_parameters()[0].second.value());
    CHECK(dir.entries() == std::vector<std::string>{"model.npz"});
}

TEST_CASE("the same model built twice in one program loads the other's weights") {
    // Default names, as a user writes it: names are counted within each Sequential.
    auto build = [] {
        auto model = std::make_unique<Sequential>();
        model->emplace<Dense>(4, 3, "relu");
        model->emplace<Dense>(3, 2, "softmax");
        return model;
    };
    ScratchDir dir;
    const std::string path = dir / "twice.npz";
    manual_seed(1);
    auto first = build();
    save_weights(*first, path);
    manual_seed(2);
    auto second = build();
    CHECK(!same_values(*first, *second));
    load_weights(*second, path);
    CHECK(same_values(*first, *second));
    CHECK(second->named_parameters()[2].first == "dense_2/kernel");
}

TEST_CASE("a weights file holds one .npy member per parameter plus the manifest") {
    ScratchDir dir;
    const std::string path = dir / "model.npz";
    auto model = make_model(4, 3, 1.0f);
    save_weights(*model, path, json{{"epoch", 7}, {"summary", "Dense 4 -> 3"}}.dump());

    const NpzContents contents = read_npz_contents(path);
    std::vector<std::string> names;
    for (auto& [name, array] : contents.arrays) names.push_back(name);
    CHECK(names == std::vector<std::string>{"dense_1/bias", "dense_1/kernel", "dense_2/bias", "dense_2/kernel", "scale/factor"});
    CHECK(contents.files.size() == 1);
    CHECK(contents.files.count(weights_manifest_name) == 1);
    CHECK(contents.arrays.at("scale/factor").dimension() == 0);

    const json manifest = json::parse(read_manifest(path));
    CHECK(manifest["format"] == "xgrad.weights");
    CHECK(manifest["version"] == weights_format_version);
    CHECK(manifest["metadata"] == json{{"epoch", 7}, {"summary", "Dense 4 -> 3"}});
    REQUIRE(manifest["parameters"].size() == 5);
    const json& first = manifest["parameters"][0];
    CHECK(first["name"] == "dense_1/kernel");
    CHECK(first["shape"] == json::array({4, 3}));
    CHECK(first["dtype"] == "<f4");
    CHECK(first["crc32"] == npy_data_crc32(model->named_parameters()[0].second.value()));
    CHECK(manifest["parameters"][4]["shape"] == json::array());

    save_weights(*model, dir / "plain.npz");
    CHECK(json::parse(read_manifest(dir / "plain.npz"))["metadata"] == json::object());
}

TEST_CASE("load_weights names the parameter and both shapes when a model has another shape") {
    ScratchDir dir;
    save_weights(*make_model(4, 3, 1.0f), dir / "model.npz");
    auto other = make_model(4, 5, 2.0f);
    const auto before = snapshot(*other);
    const std::string message = load_error(*other, dir / "model.npz");
    CHECK(message == "load_weights: " + (dir / "model.npz") +
                         ": parameter 'dense_1/kernel' has shape (4, 3) in the file; expected (4, 5)");
    CHECK(snapshot(*other) == before);
}

TEST_CASE("load_weights names missing and unexpected parameters and changes nothing") {
    ScratchDir dir;
    save_weights(*make_model(4, 3, 1.0f, false), dir / "no_scale.npz");
    save_weights(*make_model(4, 3, 1.0f, true, false), dir / "no_dense_2.npz");

    auto model = make_model(4, 3, 2.0f);
    const auto before = snapshot(*model);
    std::string message = load_error(*model, dir / "no_scale.npz");
    CAPTURE(message);
    CHECK(message.find("parameter 'scale/factor' is missing from the file") != std::string::npos);
    CHECK(snapshot(*model) == before);

    message = load_error(*model, dir / "no_dense_2.npz");
    CHECK(message.find("parameters 'dense_2/kernel', 'dense_2/bias' are missing from the file") != std::string::npos);
    CHECK(snapshot(*model) == before);

    auto small = make_model(4, 3, 3.0f, false);
    const auto small_before = snapshot(*small);
    save_weights(*model, dir / "full.npz");
    message = load_error(*small, dir / "full.npz");
    CHECK(message.find("the file has parameter 'scale/factor' that the model does not") != std::string::npos);
    CHECK(snapshot(*small) == small_before);
}

TEST_CASE("named tensors save and load like a model, for optimizer state") {
    ScratchDir dir;
    const std::string path = dir / "state.npz";
    const NamedTensors state = {{"step", Tensor(scalar_array(12.0f))},
                                {"dense_1/kernel/m", Tensor(Array{{1.0f, 2.0f}, {3.0f, 4.0f}})},
                                {"dense_1/kernel/v", Tensor(Array{5.0f, 6.0f})}};
    save_weights(state, path, R"({"optimizer": "Adam"})");
    const NamedTensors target = {{"step", Tensor(scalar_array(0.0f))},
                                 {"dense_1/kernel/m", Tensor(Array{{0.0f, 0.0f}, {0.0f, 0.0f}})},
                                 {"dense_1/kernel/v", Tensor(Array{0.0f, 0.0f})}};
    load_weights(target, path);
    for (std::size_t i = 0; i < state.size(); ++i) CHECK(target[i].second.value() == state[i].second.value());
    CHECK(json::parse(read_manifest(path))["metadata"]["optimizer"] == "Adam");
    CHECK(read_npz(path).at("dense_1/kernel/m") == Array{{1.0f, 2.0f}, {3.0f, 4.0f}});
}

TEST_CASE("save_weights and load_weights check their arguments") {
    ScratchDir dir;
    const std::string path = dir / "w.npz";
    const NamedTensors twice = {{"a", Tensor(Array{1.0f})}, {"a", Tensor(Array{2.0f})}};
    CHECK_THROWS_WITH_AS(save_weights(twice, path), doctest::Contains("'a' appears twice"), ValueError);
    CHECK_THROWS_AS(load_weights(twice, path), ValueError);
    CHECK_THROWS_AS(save_weights(NamedTensors{{"", Tensor(Array{1.0f})}}, path), ValueError);
    CHECK_THROWS_WITH_AS(save_weights(NamedTensors{{"empty", Tensor()}}, path), doctest::Contains("empty handle"), ValueError);
    CHECK_THROWS_WITH_AS(save_weights(*make_model(2, 2, 1.0f), path, "[1, 2]"),
                         doctest::Contains("metadata is a JSON array; expected an object"), ValueError);
    CHECK_THROWS_WITH_AS(save_weights(*make_model(2, 2, 1.0f), path, "{\"bad\": \"\xff\xfe\"}"),
                         doctest::Contains("save_weights: metadata is not JSON"), ValueError);
    CHECK_THROWS_WITH_AS(save_weights(*make_model(2, 2, 1.0f), path, "{\"epoch\": "),
                         doctest::Contains("save_weights: metadata is not JSON"), ValueError);
    CHECK_THROWS_WITH_AS(save_weights(*make_model(2, 2, 1.0f), path, "null"),
                         doctest::Contains("metadata is a JSON null; expected an object"), ValueError);
    CHECK(dir.entries().empty());
}

TEST_CASE("load_weights accepts a plain np.savez archive without a manifest") {
    ScratchDir dir;
    auto source = make_model(3, 2, 1.0f);
    std::vector<NpzArray> arrays;
    for (auto& [name, t] : source->named_parameters()) arrays.emplace_back(name, &t.value());
    write_npz(dir / "plain.npz", arrays);
    auto model = make_model(3, 2, 2.0f);
    load_weights(*model, dir / "plain.npz");
    CHECK(same_values(*source, *model));
    CHECK_THROWS_WITH_AS(read_manifest(dir / "plain.npz"), doctest::Contains("no __manifest__.json member"), IoError);
}

TEST_CASE("load_weights checks the manifest against the arrays") {
    ScratchDir dir;
    const Array w = Array{{1.0f, 2.0f}};
    const Array other = Array{{1.0f, 2.5f}};
    auto manifest_for = [](const Array& a, const std::string& name) {
        return json{{"format", "xgrad.weights"},
                    {"version", 1},
                    {"parameters", json::array({json{{"name", name}, {"shape", {1, 2}}, {"dtype", "<f4"}, {"crc32", npy_data_crc32(a)}}})},
                    {"metadata", json::object()}};
    };
    const NamedTensors target = {{"w", Tensor(Array{{0.0f, 0.0f}})}};
    auto error_with = [&](const std::string& manifest) {
        const std::string path = dir / "m.npz";
        write_npz(path, {{"w", &w}}, {{weights_manifest_name, manifest}});
        try {
            load_weights(target, path);
            return std::string();
        } catch (const IoError& e) {
            return std::string(e.what());
        }
    };
    CHECK(error_with(manifest_for(w, "w").dump()) == "");
    CHECK(target[0].second.value() == w);
    // Array bytes whose ZIP CRC is right but that are not what was saved.
    CHECK(error_with(manifest_for(other, "w").dump()).find("parameter 'w' does not match its checksum") != std::string::npos);
    CHECK(error_with(manifest_for(w, "v").dump()).find("manifest lists parameter 'v'") != std::string::npos);
    json wrong_shape = manifest_for(w, "w");
    wrong_shape["parameters"][0]["shape"] = {2, 1};
    CHECK(error_with(wrong_shape.dump()).find("shape (1, 2) in its array but (2, 1) in the manifest") != std::string::npos);
    json newer = manifest_for(w, "w");
    newer["version"] = 2;
    CHECK(error_with(newer.dump()).find("format version 2; expected 1 to 1") != std::string::npos);
    json no_dtype = manifest_for(w, "w");
    no_dtype["parameters"][0]["dtype"] = "<f8";
    CHECK(error_with(no_dtype.dump()).find("no dtype") != std::string::npos);
    CHECK(error_with("{\"format\": ").find("manifest is not valid JSON") != std::string::npos);
    CHECK(error_with("[1, 2]").find("manifest is a JSON array") != std::string::npos);
    CHECK(error_with(std::string(100000, '[') + std::string(100000, ']')).find("nests deeper than 64") !=
          std::string::npos);
    CHECK(target[0].second.value() == w);
}

TEST_CASE("load_weights leaves the model untouched when the file is corrupt or truncated") {
    ScratchDir dir;
    const std::string path = dir / "model.npz";
    save_weights(*make_model(3, 2, 1.0f), path);
    const std::string good = test::read_bytes(path);
    auto model = make_model(3, 2, 2.0f);
    const auto before = snapshot(*model);

    std::string flipped = good;
    flipped[30 + std::string("dense_1/kernel.npy").size() + 128 + 1] ^= 0x40;
    test::write_bytes(path, flipped);
    CHECK(load_error(*model, path).find("member 'dense_1/kernel.npy' is corrupt") != std::string::npos);

    for (std::size_t n = 0; n < good.size(); n += 7) {
        test::write_bytes(path, good.substr(0, n));
        CHECK(load_error(*model, path) != "");
    }
    CHECK(snapshot(*model) == before);
}

TEST_CASE("a failed save leaves the previous weights file intact and no temporary file") {
    ScratchDir dir;
    const std::string path = dir / "model.npz";
    auto first = make_model(3, 2, 1.0f);
    save_weights(*first, path);
    const std::string previous = test::read_bytes(path);

    CHECK_THROWS_WITH_AS(save_weights(*first, dir / "missing/model.npz"),
                         doctest::Contains("save_weights: "), IoError);

    auto big = make_model(300, 200, 2.0f);
    {
        test::FileSizeLimit limit(100000);
        CHECK_THROWS_WITH_AS(save_weights(*big, path), doctest::Contains("writing failed"), IoError);
    }
    CHECK(test::read_bytes(path) == previous);
    CHECK(dir.entries() == std::vector<std::string>{"model.npz"});
    auto loaded = make_model(3, 2, 3.0f);
    load_weights(*loaded, path);
    CHECK(same_values(*first, *loaded));
}

namespace {

// A layer with a parameter and a buffer (moving statistics, say).
class Tracked : public Module {
public:
    explicit Tracked(float value) : Module("Tracked", "tracked") {
        register_parameter("gain", Tensor(Array{value, value}));
        register_buffer("moving", Tensor(Array{value + 1, value + 2, value + 3}));
    }
    Tensor forward(const Tensor& x) override { return x; }
};

}  // namespace

TEST_CASE("save_weights and load_weights keep buffers beside the parameters") {
    ScratchDir dir;
    const std::string path = dir / "tracked.npz";
    Tracked saved(1.0f), loaded(5.0f);
    save_weights(saved, path);
    const json manifest = json::parse(read_manifest(path));
    REQUIRE(manifest["parameters"].size() == 2);
    CHECK(manifest["parameters"][0]["name"] == "gain");
    CHECK(manifest["parameters"][1]["name"] == "moving");
    load_weights(loaded, path);
    CHECK(loaded.own_buffers()[0].second.value() == Array{2.0f, 3.0f, 4.0f});
    CHECK(loaded.own_parameters()[0].second.value() == Array{1.0f, 1.0f});
    // A file without the buffer (parameters only) does not fit a model that has one.
    save_weights(saved.named_parameters(), path);
    CHECK(load_error(loaded, path).find("'moving'") != std::string::npos);
}
