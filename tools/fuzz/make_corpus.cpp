// Writes the seed corpus of the fuzz targets into <folder>/{idx,npy,npz,model_file,onnx_model,checkpoint}: a few tiny valid files and
// a few near misses of each kind. Its output is committed under tools/fuzz/corpus; run it again only
// when a format changes:  build-fuzz/tools/fuzz/fuzz_make_corpus tools/fuzz/corpus
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <initializer_list>

#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "xgrad/core/random.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/io/model_file.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/npz.hpp"
#include "xgrad/io/onnx_export.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/bidirectional.hpp"
#include "xgrad/nn/layer_normalization.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/depthwise_conv2d.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/image_augmentation.hpp"
#include "xgrad/nn/image_crop.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/rescaling.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/nn/separable_conv2d.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/simple_rnn.hpp"
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

// The archive `zip` (no comment) as a zip64 writer lays it out: each directory entry's sizes and offset
// in a zip64 extra field, and a zip64 end record and locator before an end record of 0xffff... markers.
std::string as_zip64(const std::string& zip) {
    auto get = [&](std::size_t at, int n) {
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(zip[at + i])) << (8 * i);
        return v;
    };
    auto put = [](std::string& out, std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    const std::size_t end = zip.size() - 22;
    const std::uint64_t count = get(end + 10, 2), directory_offset = get(end + 16, 4);
    std::string out = zip.substr(0, directory_offset), directory;
    for (std::size_t at = directory_offset, i = 0; i < count; ++i) {
        const std::size_t name_length = get(at + 28, 2);
        const std::uint64_t size = get(at + 24, 4), offset = get(at + 42, 4);
        directory += zip.substr(at, 6);
        put(directory, 45, 2);  // version needed: zip64
        directory += zip.substr(at + 8, 12);
        put(directory, 0xffffffff, 4);
        put(directory, 0xffffffff, 4);
        put(directory, name_length, 2);
        put(directory, 28, 2);  // extra field: id 1, 24 bytes
        directory += zip.substr(at + 32, 10);
        put(directory, 0xffffffff, 4);
        directory += zip.substr(at + 46, name_length);
        put(directory, 1, 2);
        put(directory, 24, 2);
        put(directory, size, 8);
        put(directory, size, 8);
        put(directory, offset, 8);
        at += 46 + name_length;
    }
    out += directory;
    const std::uint64_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);  // size of the rest of the record
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 8);  // disks
    put(out, count, 8);
    put(out, count, 8);
    put(out, directory.size(), 8);
    put(out, directory_offset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
    put(out, 0x06054b50, 4);
    put(out, 0, 4);
    put(out, 0xffff, 2);
    put(out, 0xffff, 2);
    put(out, 0xffffffff, 4);
    put(out, 0xffffffff, 4);
    put(out, 0, 2);
    return out;
}

void npz_seeds(const fs::path& dir) {
    // The model of npz_fuzz.cpp, with its initializers' values for seed 3.
    xg::manual_seed(3);
    xg::Sequential net;
    net.emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    net.emplace<xg::Dense>(4, 2, xg::DenseOptions{.name = "out"});
    xg::save_weights(net, (dir / "weights.npz").string(), R"({"epoch": 2})");

    // Named tensors as a checkpoint of that model holds them: parameters and RMSprop slots.
    xg::NamedTensors checkpoint;
    for (const auto& [name, t] : net.named_parameters()) {
        checkpoint.emplace_back("model/" + name, t);
        checkpoint.emplace_back("optimizer/rms/" + name, xg::Tensor(xg::Array(xt::zeros<float>(t.shape()))));
    }
    xg::save_weights(checkpoint, (dir / "checkpoint.npz").string(), R"({"epochs_done": 2})");

    // One array, as np.savez writes it (no manifest), and the same in zip64 form.
    const xg::Array bias = xg::Array{0.5f, -1.0f};
    xg::write_npz((dir / "plain.npz").string(), {{"out/bias", &bias}});
    write_file(dir / "zip64.npz", as_zip64(read_file(dir / "plain.npz")));
    write_file(dir / "empty.npz", "");
    write_file(dir / "not_zip.npz", "PK\x05\x06 this is not an archive");
}

void model_file_seeds(const fs::path& dir) {
    // A Sequential that travels whole (Dense, Activation, Softmax), and a custom module's file.
    xg::manual_seed(3);
    xg::Sequential net;
    net.emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    net.emplace<xg::Dense>(4, 2, xg::DenseOptions{.use_bias = false, .name = "out"});
    net.emplace<xg::LayerNormalization>(2, xg::LayerNormalizationOptions{.center = false});
    net.emplace<xg::Activation>("tanh");
    net.emplace<xg::Softmax>();
    xg::save_model(net, (dir / "sequential.npz").string());
    struct Custom : xg::Module {
        Custom() : Module("Custom") { register_parameter("w", xg::Tensor(xg::Array{1.0f, 2.0f})); }
        xg::Tensor forward(const xg::Tensor& x) override { return x; }
    } custom;
    xg::save_model(custom, (dir / "custom.npz").string());
    xg::save_weights(net, (dir / "weights_only.npz").string());
    // A convnet on 4 x 4 x 1 images: every image layer's settings and the batch norm's moving statistics.
    xg::Sequential conv;
    conv.emplace<xg::Conv2D>(1, 2, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "relu", .padding = "same"});
    conv.emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    conv.emplace<xg::BatchNormalization>(2);
    conv.emplace<xg::Dropout>(0.25f);
    conv.emplace<xg::AveragePooling2D>(xg::Size2{2, 2}, xg::Pooling2DOptions{.strides = {1, 1}});
    conv.emplace<xg::Flatten>();
    conv.emplace<xg::Dense>(2, 3, "softmax");
    xg::save_model(conv, (dir / "convnet.npz").string());
    // The Xception-style layers on 5 x 5 x 2 images: separable, depthwise (dilated), global pooling.
    xg::Sequential separable;
    separable.emplace<xg::SeparableConv2D>(2, 3, xg::Size2{3, 3},
                                           xg::SeparableConv2DOptions{.padding = "same", .depth_multiplier = 2});
    separable.emplace<xg::DepthwiseConv2D>(
        3, xg::Size2{2, 2}, xg::DepthwiseConv2DOptions{.activation = "relu", .dilation_rate = {2, 1}});
    separable.emplace<xg::GlobalMaxPooling2D>(xg::GlobalPooling2DOptions{.keepdims = true});
    separable.emplace<xg::GlobalAveragePooling2D>();
    separable.emplace<xg::Dense>(3, 2, "softmax");
    xg::save_model(separable, (dir / "separable.npz").string());
    // Raw pixels rescaled, then every augmentation layer's settings: factor ranges, fill modes, interpolation.
    xg::Sequential augmented;
    augmented.emplace<xg::Rescaling>(1.0f / 255.0f, -0.5f);
    augmented.emplace<xg::RandomFlip>(xg::FlipMode::horizontal);
    augmented.emplace<xg::RandomRotation>(xg::FactorRange{-0.1f, 0.2f},
                                          xg::ImageAugmentationOptions{.fill_mode = xg::FillMode::constant, .fill_value = 1.0f});
    augmented.emplace<xg::RandomZoom>(0.2f, xg::RandomZoomOptions{.width_factor = 0.1f, .interpolation = xg::Interpolation::nearest});
    augmented.emplace<xg::RandomTranslation>(0.1f, 0.3f, xg::ImageAugmentationOptions{.fill_mode = xg::FillMode::wrap});
    augmented.emplace<xg::Flatten>();
    augmented.emplace<xg::Dense>(16, 2, "softmax");
    xg::save_model(augmented, (dir / "augmented.npz").string());
    // Resizing with its settings and the two crop layers.
    xg::Sequential resized;
    resized.emplace<xg::Resizing>(6, 5, xg::ResizingOptions{.interpolation = xg::Interpolation::nearest,
                                                            .crop_to_aspect_ratio = true});
    resized.emplace<xg::RandomCrop>(5, 4);
    resized.emplace<xg::CenterCrop>(4, 4);
    resized.emplace<xg::Flatten>();
    resized.emplace<xg::Dense>(16, 2, "softmax");
    xg::save_model(resized, (dir / "resized.npz").string());
    // LayerNormalization over two trailing axes together (its "normalized_shape" setting).
    xg::Sequential normalized;
    normalized.emplace<xg::LayerNormalization>(xg::Shape{2, 3});
    normalized.emplace<xg::Flatten>();
    normalized.emplace<xg::Dense>(6, 2, "softmax");
    xg::save_model(normalized, (dir / "normalized.npz").string());
}

// A model of one node written by hand: x (`in`) into the graph's output y (`out`), the node
// reading x and then `weights` (initializers of small varied values), with INTS, INT and STRING
// attributes, writing `outputs` (y among them).
struct OneNode {
    std::string op;
    std::vector<long> in, out;
    std::vector<std::pair<std::string, std::vector<long>>> weights;
    std::vector<std::pair<std::string, std::vector<long>>> ints;
    std::vector<std::pair<std::string, long>> int_values;
    std::vector<std::pair<std::string, std::string>> texts;
    std::vector<std::string> outputs = {"y"};
};

void write_one_node(const fs::path& path, const OneNode& spec) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(14);
    auto* g = m.mutable_graph();
    g->set_name(spec.op);
    for (auto [value, extents] : {std::pair{g->add_input(), spec.in}, std::pair{g->add_output(), spec.out}}) {
        value->set_name(value == &g->input(0) ? "x" : "y");
        auto* type = value->mutable_type()->mutable_tensor_type();
        type->set_elem_type(onnx::TensorProto::FLOAT);
        for (long e : extents) type->mutable_shape()->add_dim()->set_dim_value(e);
    }
    auto* n = g->add_node();
    n->set_op_type(spec.op);
    n->set_name(spec.op + "_node");
    n->add_input("x");
    for (const auto& [name, extents] : spec.weights) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        long count = 1;
        for (long e : extents) t->add_dims(e), count *= e;
        for (long i = 0; i < count; ++i) t->add_float_data(static_cast<float>(i % 7) / 7.0f - 0.4f);
        n->add_input(name);
    }
    for (const auto& output : spec.outputs) n->add_output(output);
    for (const auto& [name, values] : spec.ints) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (long v : values) a->add_ints(v);
    }
    for (const auto& [name, value] : spec.int_values) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(value);
    }
    for (const auto& [name, text] : spec.texts) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::STRING);
        a->set_s(text);
    }
    write_file(path, m.SerializeAsString());
}

void onnx_model_seeds(const fs::path& dir) {
    // Exported by xgrad: a small MLP and a small convnet with every windowed op (a dilated
    // convolution among them) and batch normalization.
    xg::manual_seed(4);
    xg::Sequential mlp;
    mlp.emplace<xg::Dense>(3, 4, "relu");
    mlp.emplace<xg::Dense>(4, 2, "softmax");
    xg::export_onnx(mlp, xg::Array(xt::ones<float>({1, 3})), (dir / "mlp.onnx").string());
    xg::Sequential conv;
    conv.emplace<xg::Conv2D>(1, 2, xg::Size2{3, 3},
                             xg::Conv2DOptions{.activation = "tanh", .dilation_rate = {2, 2}, .padding = "same"});
    conv.emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    conv.emplace<xg::BatchNormalization>(2);
    conv.emplace<xg::AveragePooling2D>(xg::Size2{2, 2}, xg::Pooling2DOptions{.strides = {1, 1}});
    conv.emplace<xg::Flatten>();
    conv.emplace<xg::Dense>(8, 3, "softmax");
    xg::export_onnx(conv, xg::Array(xt::ones<float>({1, 6, 6, 1})), (dir / "convnet.onnx").string());
    // Grouped (depthwise) Conv nodes and a global pooling head.
    xg::Sequential separable;
    separable.emplace<xg::SeparableConv2D>(1, 3, xg::Size2{3, 3}, xg::SeparableConv2DOptions{.depth_multiplier = 2});
    separable.emplace<xg::DepthwiseConv2D>(3, xg::Size2{2, 2}, xg::DepthwiseConv2DOptions{.activation = "relu"});
    separable.emplace<xg::GlobalAveragePooling2D>();
    separable.emplace<xg::Dense>(3, 2, "softmax");
    xg::export_onnx(separable, xg::Array(xt::ones<float>({1, 6, 6, 1})), (dir / "separable.onnx").string());
    // Constant nodes (Rescaling's scale and offset) ahead of the weights.
    xg::Sequential rescaled;
    rescaled.emplace<xg::Rescaling>(2.0f, -1.0f);
    rescaled.emplace<xg::Dense>(3, 2, "softmax");
    xg::export_onnx(rescaled, xg::Array(xt::ones<float>({1, 3})), (dir / "rescaled.onnx").string());
    // Resize with its sizes computed from the input's shape (Shape, Slice, Concat), a nearest
    // resize (two Gathers) and Slice.
    xg::Sequential resized;
    resized.emplace<xg::Resizing>(6, 8);
    resized.emplace<xg::Resizing>(5, 6, xg::ResizingOptions{.interpolation = xg::Interpolation::nearest});
    resized.emplace<xg::CenterCrop>(4, 4);
    resized.emplace<xg::Flatten>();
    resized.emplace<xg::Dense>(16, 2, "softmax");
    xg::export_onnx(resized, xg::Array(xt::ones<float>({1, 3, 4, 1})), (dir / "resized.onnx").string());
    // Recurrent layers as xgrad exports them, with the steps dynamic: LSTM, GRU and RNN nodes of
    // layout 0 between Transposes and Squeezes, a reversal as a Slice of step -1.
    xg::Sequential recurrent;
    recurrent.emplace<xg::LSTM>(2, 3, xg::LSTMOptions{.return_sequences = true, .go_backwards = true});
    recurrent.emplace<xg::Bidirectional>(std::make_shared<xg::GRU>(3, 2, xg::GRUOptions{.return_sequences = true}));
    recurrent.emplace<xg::SimpleRNN>(4, 2);
    xg::export_onnx(recurrent, xg::Array(xt::ones<float>({1, 3, 2})), (dir / "recurrent.onnx").string(),
                    {.dynamic_axes = {1}});
    // A tagger over padded ids: the Embedding's Cast and Gather, the mask's Equal, Not and Cast,
    // an LSTM unrolled over the mask, a Dense over every step (MatMul, Add).
    xg::Sequential tagger;
    tagger.emplace<xg::Embedding>(5, 2, xg::EmbeddingOptions{.mask_zero = true});
    tagger.emplace<xg::LSTM>(2, 2, xg::LSTMOptions{.return_sequences = true});
    tagger.emplace<xg::Dense>(2, 3, "softmax");
    xg::export_onnx(tagger, xg::Array{{1.0f, 4.0f, 0.0f}}, (dir / "tagger.onnx").string());
    // Nodes xgrad does not export, written by hand: a grouped Conv (two groups of two channels,
    // padded), a Conv over sequences (strided, dilated, padded), a bidirectional LSTM and a GRU of
    // layout 1 resetting after its product. The recurrent ones name only their last state.
    write_one_node(dir / "grouped.onnx", {.op = "Conv", .in = {1, 4, 5, 5}, .out = {1, 4, 5, 5},
                                          .weights = {{"w", {4, 2, 3, 3}}, {"b", {4}}},
                                          .ints = {{"pads", {1, 1, 1, 1}}}, .int_values = {{"group", 2}}});
    write_one_node(dir / "conv1d.onnx", {.op = "Conv", .in = {1, 2, 7}, .out = {1, 3, 4},
                                         .weights = {{"w", {3, 2, 2}}, {"b", {3}}},
                                         .ints = {{"strides", {2}}, {"dilations", {2}}, {"pads", {1, 2}}}});
    write_one_node(dir / "lstm.onnx", {.op = "LSTM", .in = {3, 1, 2}, .out = {2, 1, 2},
                                       .weights = {{"w", {2, 8, 2}}, {"r", {2, 8, 2}}, {"b", {2, 16}}},
                                       .int_values = {{"hidden_size", 2}}, .texts = {{"direction", "bidirectional"}},
                                       .outputs = {"", "y"}});
    write_one_node(dir / "gru.onnx", {.op = "GRU", .in = {1, 3, 2}, .out = {1, 1, 2},
                                      .weights = {{"w", {1, 6, 2}}, {"r", {1, 6, 2}}},
                                      .int_values = {{"layout", 1}, {"linear_before_reset", 1}}, .outputs = {"", "y"}});
    const std::string whole = read_file(dir / "mlp.onnx");
    write_file(dir / "truncated.onnx", whole.substr(0, whole.size() / 2));
    write_file(dir / "empty.onnx", "");
}

// The metadata texts of checkpoints of checkpoint_fuzz.cpp's model: after two epochs (a NaN in
// the history, stored as null) and before any.
void checkpoint_seeds(const fs::path& dir) {
    xg::manual_seed(5);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(3, 4, xg::DenseOptions{.activation = "relu", .name = "hidden"});
    net->emplace<xg::Dense>(4, 2, xg::DenseOptions{.name = "out"});
    xg::Model model(net);
    model.compile(std::make_shared<xg::RMSprop>(net->parameters()), "categorical_crossentropy");
    const fs::path folder = dir / "scratch";
    auto metadata_of = [&](std::size_t epochs_done, const xg::History& history) {
        xg::save_checkpoint(folder.string(), model, epochs_done, history);
        const auto manifest = nlohmann::json::parse(xg::read_manifest(xg::checkpoint_path(folder.string())));
        fs::remove_all(folder);
        return manifest["metadata"].dump();
    };
    write_file(dir / "fresh.json", metadata_of(0, {}));
    xg::History history;
    history.values["loss"] = {0.5, 0.25};
    history.values["accuracy"] = {0.75, 0.875};
    history.values["val_loss"] = {std::nan(""), 0.375};
    history.epoch_seconds = {1.5, 1.25};
    model.optimizer().set_iterations(8);
    write_file(dir / "two_epochs.json", metadata_of(2, history));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_make_corpus FOLDER\n";
        return 2;
    }
    try {
        const fs::path root = argv[1];
        for (const char* target : {"idx", "npy", "npz", "model_file", "onnx_model", "checkpoint"})
            fs::create_directories(root / target);
        idx_seeds(root / "idx");
        npy_seeds(root / "npy");
        npz_seeds(root / "npz");
        model_file_seeds(root / "model_file");
        onnx_model_seeds(root / "onnx_model");
        checkpoint_seeds(root / "checkpoint");
    } catch (const std::exception& e) {
        std::cerr << "fuzz_make_corpus: error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
