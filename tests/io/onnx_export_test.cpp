// export_onnx: the dense and convnet models of the examples written as ONNX, checked by ONNX's
// own checker (full shape inference), read back by import_onnx and, when ONNX Runtime is
// installed (tools/setup puts onnxruntime-node under tools/onnxruntime), run there: the softmax
// outputs must agree with xgrad's within 1e-5.
#include "xgrad/io/onnx_export.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <xtensor/xview.hpp>

#include "module_outputs.hpp"
#include "scratch_dir.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/mnist.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/onnx_import.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/bidirectional.hpp"
#include "xgrad/nn/layer_normalization.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/masking.hpp"
#include "xgrad/nn/conv1d.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/conv2d_transpose.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/depthwise_conv2d.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/embedding.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/global_pooling.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/image_augmentation.hpp"
#include "xgrad/nn/image_crop.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/prelu.hpp"
#include "xgrad/nn/rescaling.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/nn/separable_conv2d.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/simple_rnn.hpp"
#include "xgrad/ops/ops.hpp"

using xg::test::ScratchDir;

namespace {

std::shared_ptr<xg::Sequential> dense_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Dense>(784, 512, "relu");
    net->emplace<xg::Dropout>(0.5f);
    net->emplace<xg::Dense>(512, 10, "softmax");
    return net;
}

// The examples' convnet plus the layers it lacks: batch normalization, average pooling, `same` padding and strides.
std::shared_ptr<xg::Sequential> conv_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Conv2D>(1, 8, xg::Size2{3, 3}, "relu");
    net->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    net->emplace<xg::BatchNormalization>(8);
    net->emplace<xg::Conv2D>(8, 16, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "tanh", .strides = {2, 2},
                                                                        .padding = "same"});
    net->emplace<xg::AveragePooling2D>(xg::Size2{2, 2}, xg::Pooling2DOptions{.strides = {1, 1}, .padding = "same"});
    net->emplace<xg::Conv2D>(16, 16, xg::Size2{3, 3}, "sigmoid");
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(16 * 5 * 5, 32, "relu");
    net->emplace<xg::BatchNormalization>(32);
    net->emplace<xg::Dense>(32, 10, "softmax");
    return net;
}

// A convnet of the Xception kind: separable and depthwise convolutions (ONNX's grouped Conv),
// and global pooling heads in place of Flatten, both kinds, with and without keepdims.
std::shared_ptr<xg::Sequential> separable_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::SeparableConv2D>(1, 8, xg::Size2{3, 3},
                                      xg::SeparableConv2DOptions{.activation = "relu", .strides = {2, 2}, .padding = "same",
                                                                 .depth_multiplier = 2});
    net->emplace<xg::DepthwiseConv2D>(8, xg::Size2{3, 2}, xg::DepthwiseConv2DOptions{.activation = "relu"});
    net->emplace<xg::BatchNormalization>(8);
    net->emplace<xg::GlobalMaxPooling2D>(xg::GlobalPooling2DOptions{.keepdims = true});
    net->emplace<xg::DepthwiseConv2D>(8, xg::Size2{1, 1}, xg::DepthwiseConv2DOptions{.depth_multiplier = 2});
    net->emplace<xg::GlobalAveragePooling2D>();
    net->emplace<xg::Dense>(16, 10, "softmax");
    // Biases away from zero, so that the exported ones are checked too.
    for (auto& [name, p] : net->named_parameters()) {
        if (name.ends_with("bias")) p.mutable_value() += 0.1f;
    }
    return net;
}

// A decoder: a strided convolution down, transposed convolutions up, with `same` and `valid`
// padding and a window narrower than its stride (ONNX's output_padding).
std::shared_ptr<xg::Sequential> decoder_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "relu", .strides = {2, 2}, .padding = "same"});
    net->emplace<xg::Conv2DTranspose>(4, 3, xg::Size2{3, 3},
                                      xg::Conv2DTransposeOptions{.activation = "relu", .strides = {2, 2}, .padding = "same"});
    net->emplace<xg::Conv2DTranspose>(3, 2, xg::Size2{1, 2}, xg::Conv2DTransposeOptions{.strides = {3, 2}});
    net->emplace<xg::Conv2DTranspose>(2, 2, xg::Size2{3, 3}, xg::Conv2DTransposeOptions{.activation = "tanh"});
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(32 * 26 * 2, 10, "softmax");
    for (auto& [name, p] : net->named_parameters()) {
        if (name.ends_with("bias")) p.mutable_value() += 0.1f;
    }
    return net;
}

// Every convolution layer with its kernel's taps apart (ONNX's dilations), with both paddings,
// a stride, a different rate per axis, and a dilated window narrower than its stride
// (output_padding).
std::shared_ptr<xg::Sequential> dilated_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3},
                             xg::Conv2DOptions{.activation = "relu", .dilation_rate = {2, 2}, .padding = "same"});
    net->emplace<xg::DepthwiseConv2D>(4, xg::Size2{3, 2}, xg::DepthwiseConv2DOptions{.dilation_rate = {1, 3}});
    net->emplace<xg::SeparableConv2D>(4, 6, xg::Size2{2, 2},
                                      xg::SeparableConv2DOptions{.activation = "relu", .strides = {2, 2},
                                                                 .dilation_rate = {2, 1}, .padding = "same"});
    net->emplace<xg::Conv2DTranspose>(6, 2, xg::Size2{3, 3},
                                      xg::Conv2DTransposeOptions{.strides = {2, 1}, .dilation_rate = {2, 2}});
    // Spans 1 x 3 with strides 2 x 4: a row and a column of each step no window reaches.
    net->emplace<xg::Conv2DTranspose>(2, 2, xg::Size2{1, 2},
                                      xg::Conv2DTransposeOptions{.strides = {2, 4}, .dilation_rate = {1, 2}});
    net->emplace<xg::GlobalAveragePooling2D>();
    net->emplace<xg::Dense>(2, 10, "softmax");
    for (auto& [name, p] : net->named_parameters()) {
        if (name.ends_with("bias")) p.mutable_value() += 0.1f;
    }
    return net;
}

// Keras's activations under the names a model file gives them, and the ops' settings other
// than Keras's defaults under names of their own.
void register_test_activations() {
    xg::register_activation("gelu_tanh", [](const xg::Tensor& x) { return xg::gelu(x, true); });
    xg::register_activation("elu_0.5", [](const xg::Tensor& x) { return xg::elu(x, 0.5f); });
    xg::register_activation("leaky_relu_0.01", [](const xg::Tensor& x) { return xg::leaky_relu(x, 0.01f); });
    xg::register_activation("hard_sigmoid_0.3_0.4", [](const xg::Tensor& x) { return xg::hard_sigmoid(x, 0.3f, 0.4f); });
    xg::register_activation("thresholded_relu_0.5", [](const xg::Tensor& x) { return xg::thresholded_relu(x, 0.5f); });
    xg::register_activation("clipped_square", [](const xg::Tensor& x) { return xg::clip(xg::square(x), 0.0f, 0.5f); });
}

// One activation of a Dense layer that is the output, so that every difference shows; Rescaling
// brings the pixels to [-2, 2], so that the layer feeds its activation values of both signs.
std::shared_ptr<xg::Sequential> activation_model(const char* activation) {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Rescaling>(4.0f, -2.0f);
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(9 * 11, 10, activation);
    return net;
}

// A model that takes raw pixels and augments them in training: at inference the random layers
// pass images through (no node at all), Rescaling is a Mul and an Add.
std::shared_ptr<xg::Sequential> augmented_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Rescaling>(2.0f, -1.0f);
    net->emplace<xg::RandomFlip>();
    net->emplace<xg::RandomRotation>(0.1f);
    net->emplace<xg::RandomZoom>(0.2f);
    net->emplace<xg::RandomTranslation>(0.1f, 0.1f);
    net->emplace<xg::RandomBrightness>(0.1f, xg::ImageAdjustmentOptions{.value_range = {-1.0f, 1.0f}});
    net->emplace<xg::RandomContrast>(0.2f, xg::ImageAdjustmentOptions{.value_range = {-1.0f, 1.0f}});
    net->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3}, "relu");
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(4 * 7 * 9, 10, "softmax");
    return net;
}

// A model that brings its images to one size: Resizing (bilinear, and nearest after a crop to
// the aspect ratio), RandomCrop (in inference the window of the target's aspect ratio, resized)
// and CenterCrop: Slice and Resize nodes.
std::shared_ptr<xg::Sequential> resized_model() {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Resizing>(14, 12);
    net->emplace<xg::RandomCrop>(12, 10);
    net->emplace<xg::CenterCrop>(8, 8);
    net->emplace<xg::Resizing>(16, 16, xg::ResizingOptions{.interpolation = xg::Interpolation::nearest,
                                                           .crop_to_aspect_ratio = true});
    net->emplace<xg::Conv2D>(1, 2, xg::Size2{3, 3}, "relu");
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(14 * 14 * 2, 10, "softmax");
    return net;
}

// Moving statistics away from 0 and 1, so that the exported normalization is really checked.
void perturb_buffers(xg::Module& m) {
    for (auto& [name, t] : m.named_buffers()) {
        xg::Array& v = t.mutable_value();
        for (std::size_t i = 0; i < v.size(); ++i) {
            v.data()[i] = name.find("variance") != std::string::npos ? 0.5f + 0.1f * static_cast<float>(i % 7)
                                                                      : 0.05f * static_cast<float>(i % 5);
        }
    }
}

xg::Array random_input(const xg::Shape& shape) {
    xg::Array x = xg::uninitialized(shape);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 7919) % 256) / 255.0f;
    return x;
}

using xg::test::max_abs_diff;
using xg::test::predict;

// A Python with the onnx module (Debian's python3-onnx lives in the system Python, which another
// python3 on PATH may hide); empty when there is none.
std::string python_with_onnx() {
    for (const char* python : {"python3", "/usr/bin/python3"}) {
        if (std::system(fmt::format("{} -c 'import onnx' >/dev/null 2>&1", python).c_str()) == 0) return python;
    }
    return {};
}

std::string ort_dir() { return std::string(XGRAD_SOURCE_ROOT) + "/tools/onnxruntime/node_modules/onnxruntime-node"; }

// Runs `model` in ONNX Runtime on the .npy input; returns the output, of `output_shape` ((batch,
// 10) when empty), or nothing when ONNX Runtime is absent.
std::optional<xg::Array> run_onnxruntime(const ScratchDir& dir, const std::string& model, const xg::Array& x,
                                         xg::Shape output_shape = {}) {
    if (!std::filesystem::exists(ort_dir()) || std::system("node --version >/dev/null 2>&1") != 0) {
        MESSAGE("skipped: ONNX Runtime (onnxruntime-node, installed by tools/setup) or Node.js is not present");
        return std::nullopt;
    }
    const std::string in = dir / "x.bin", out = dir / "y.bin", script = dir / "run.js";
    {
        std::ofstream f(in, std::ios::binary);
        f.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * sizeof(float)));
    }
    std::string dims;
    for (auto d : x.shape()) dims += fmt::format("{},", d);
    std::ofstream(script) << fmt::format(
        "const ort = require('{}');\n"
        "const fs = require('fs');\n"
        "(async () => {{\n"
        "  const s = await ort.InferenceSession.create('{}', {{intraOpNumThreads: 1, interOpNumThreads: 1}});\n"
        "  const b = fs.readFileSync('{}');\n"
        "  const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);\n"
        "  const r = await s.run({{input: new ort.Tensor('float32', x, [{}])}});\n"
        "  fs.writeFileSync('{}', Buffer.from(r.output.data.buffer));\n"
        "}})().catch(e => {{ console.error(e); process.exit(1); }});\n",
        ort_dir(), model, in, dims, out);
    REQUIRE(std::system(("node " + script).c_str()) == 0);
    std::ifstream f(out, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (output_shape.empty()) output_shape = {x.shape()[0], 10};
    xg::Array y = xg::uninitialized(output_shape);
    REQUIRE(bytes.size() == y.size() * sizeof(float));
    if (!bytes.empty()) std::memcpy(y.data(), bytes.data(), bytes.size());  // an empty batch has no data pointer
    return y;
}

// The ops of the ONNX file at `path`, in order, separated by spaces.
std::string onnx_ops(const std::string& path) {
    onnx::ModelProto m;
    std::ifstream f(path, std::ios::binary);
    REQUIRE(m.ParseFromIstream(&f));
    std::string ops;
    for (const auto& n : m.graph().node()) ops += n.op_type() + " ";
    return ops;
}

// Exports `model` for inputs of `sample`'s shape; checks the file with ONNX's Python checker,
// import_onnx and ONNX Runtime. The imported model has `extra_parameters` more than `model`
// (the zero state biases of ONNX's recurrent nodes).
void check_exported(xg::Module& model, const xg::Shape& sample, std::size_t extra_parameters = 0) {
    ScratchDir dir;
    const std::string path = dir / "model.onnx";
    xg::Shape example{1};
    example.insert(example.end(), sample.begin(), sample.end());
    xg::export_onnx(model, random_input(example), path);
    CHECK(model.training());  // restored

    if (const std::string python = python_with_onnx(); !python.empty()) {
        const std::string cmd = fmt::format(
            "{} -c \"import onnx; m = onnx.load('{}'); onnx.checker.check_model(m, full_check=True); "
            "assert m.opset_import[0].version == 13; assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param\"",
            python, path);
        CHECK(std::system(cmd.c_str()) == 0);
    } else {
        MESSAGE("skipped the Python checker: python3-onnx is not installed (the C++ checker ran in export_onnx)");
    }

    // A batch of another size than the example's: the batch axis is dynamic.
    xg::Shape batch{37};
    batch.insert(batch.end(), sample.begin(), sample.end());
    const xg::Array x = random_input(batch);
    const xg::Array expected = predict(model, x);

    auto imported = xg::import_onnx(path);
    CHECK(max_abs_diff(predict(*imported, x), expected) <= 1e-5f);
    CHECK(imported->parameter_count() == model.parameter_count() + extra_parameters);
    if (auto ort = run_onnxruntime(dir, path, x, expected.shape())) CHECK(max_abs_diff(*ort, expected) <= 1e-5f);
}

}  // namespace

TEST_CASE("export_onnx writes the dense model that the checker, import_onnx and ONNX Runtime accept") {
    xg::manual_seed(1);
    auto model = dense_model();
    check_exported(*model, {784});
}

TEST_CASE("export_onnx writes a convnet with batch normalization, same padding and strides") {
    xg::manual_seed(2);
    auto model = conv_model();
    perturb_buffers(*model);
    check_exported(*model, {28, 28, 1});
}

TEST_CASE("export_onnx writes separable and depthwise convolutions and global pooling") {
    xg::manual_seed(3);
    auto model = separable_model();
    perturb_buffers(*model);
    check_exported(*model, {9, 11, 1});
}

TEST_CASE("export_onnx writes transposed convolutions as ConvTranspose, output_padding where a window is narrower than its stride") {
    xg::manual_seed(4);
    auto model = decoder_model();
    check_exported(*model, {9, 11, 1});
}

TEST_CASE("export_onnx writes dilated convolutions with their dilations, transposed ones too") {
    xg::manual_seed(11);
    auto model = dilated_model();
    CHECK(model->output_shape({13, 12, 1}) == xg::Shape{10});
    check_exported(*model, {13, 12, 1});
}

TEST_CASE("export_onnx writes every Keras activation, as one node or as the nodes of its formula") {
    register_test_activations();
    // The nodes after the Gemm (Constants left out): opset 13 has no Gelu, Swish, Mish or HardSwish.
    const std::vector<std::pair<const char*, std::string>> cases{
        {"gelu", "Mul Erf Add Mul Mul"},
        {"gelu_tanh", "Mul Mul Mul Add Mul Tanh Add Mul Mul"},
        {"swish", "Sigmoid Mul"},
        {"silu", "Sigmoid Mul"},
        {"mish", "Softplus Tanh Mul"},
        {"hard_swish", "HardSigmoid Mul"},
        {"leaky_relu", "LeakyRelu"},
        {"leaky_relu_0.01", "LeakyRelu"},
        {"relu6", "Clip"},
        {"thresholded_relu_0.5", "ThresholdedRelu"},
        {"elu", "Elu"},
        {"elu_0.5", "Elu"},
        {"selu", "Selu"},
        {"softplus", "Softplus"},
        {"softsign", "Abs Add Div"},
        {"hard_sigmoid", "HardSigmoid"},
        {"hard_sigmoid_0.3_0.4", "HardSigmoid"},
        {"exponential", "Exp"},
        {"log_softmax", "LogSoftmax"},
    };
    const xg::Array x = random_input({37, 9, 11, 1});
    for (const auto& [activation, nodes] : cases) {
        const std::string name = activation;
        CAPTURE(name);
        xg::manual_seed(12);
        auto model = activation_model(activation);
        ScratchDir dir;
        const std::string path = dir / "m.onnx";
        xg::export_onnx(*model, random_input({1, 9, 11, 1}), path);
        onnx::ModelProto m;
        std::ifstream f(path, std::ios::binary);
        REQUIRE(m.ParseFromIstream(&f));
        std::string after_gemm;
        bool seen_gemm = false;
        for (const auto& n : m.graph().node()) {
            if (seen_gemm && n.op_type() != "Constant" && n.op_type() != "Identity") after_gemm += n.op_type() + " ";
            seen_gemm = seen_gemm || n.op_type() == "Gemm";
        }
        CHECK(after_gemm == nodes + " ");
        const xg::Array expected = predict(*model, x);
        CHECK(max_abs_diff(predict(*xg::import_onnx(path), x), expected) <= 1e-5f);
        if (auto ort = run_onnxruntime(dir, path, x)) CHECK(max_abs_diff(*ort, expected) <= 1e-5f);
    }
}

TEST_CASE("a convolution's activation stays channels-first, a formula of several nodes as one of one node, square and clip too") {
    register_test_activations();
    xg::manual_seed(13);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Rescaling>(4.0f, -2.0f);
    net->emplace<xg::Conv2D>(1, 10, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "gelu_tanh", .padding = "same"});
    net->emplace<xg::Conv2D>(10, 10, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "elu_0.5", .padding = "same"});
    net->emplace<xg::Conv2D>(10, 10, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "clipped_square", .padding = "same"});
    net->emplace<xg::GlobalAveragePooling2D>();
    check_exported(*net, {9, 11, 1});
    ScratchDir dir;
    xg::export_onnx(*net, random_input({1, 9, 11, 1}), dir / "m.onnx");
    onnx::ModelProto m;
    std::ifstream f(dir / "m.onnx", std::ios::binary);
    REQUIRE(m.ParseFromIstream(&f));
    std::string ops;
    for (const auto& n : m.graph().node()) {
        if (n.op_type() != "Constant") ops += n.op_type() + " ";
    }
    CHECK(ops.find("Transpose Conv Mul Mul Mul Add Mul Tanh Add Mul Mul Conv Elu Conv Mul Clip Transpose") != std::string::npos);
}

TEST_CASE("export_onnx writes the ReLU and PReLU layers: their ops, PReLU's learned slopes as initializers") {
    xg::manual_seed(14);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Rescaling>(4.0f, -2.0f);
    net->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3}, xg::Conv2DOptions{.padding = "same"});
    auto per_channel = net->emplace<xg::PReLU>(xg::Shape{9, 11, 4}, xg::PReLUOptions{.shared_axes = {1, 2}});
    net->emplace<xg::ReLU>(4.0f, 0.1f, 0.5f);
    net->emplace<xg::Conv2D>(4, 4, xg::Size2{3, 3});
    net->emplace<xg::ReLU>(6.0f);
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(7 * 9 * 4, 10);
    auto per_unit = net->emplace<xg::PReLU>(xg::Shape{10});
    net->emplace<xg::ReLU>(std::nullopt, 0.0f, 0.25f);
    // Slopes of either sign, not the initial 0, so that a slope lost or misplaced would show.
    xg::Tensor(per_channel->alpha()).mutable_value() = random_input({1, 1, 4});
    xg::Tensor(per_unit->alpha()).mutable_value() = random_input({10});
    check_exported(*net, {9, 11, 1});
}

TEST_CASE("export_onnx writes the 1-D layers: Conv1D (causal and dilated too) as Conv over one row, the poolings, their global forms") {
    xg::manual_seed(15);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Conv1D>(3, 6, 5, xg::Conv1DOptions{.activation = "relu"});
    net->emplace<xg::MaxPooling1D>(2);
    net->emplace<xg::Conv1D>(6, 6, 3, xg::Conv1DOptions{.dilation_rate = 2, .padding = "causal"});
    net->emplace<xg::AveragePooling1D>(3, xg::Pooling1DOptions{.strides = 2, .padding = "same"});
    net->emplace<xg::Conv1D>(6, 8, 2, xg::Conv1DOptions{.activation = "tanh", .strides = 2, .padding = "same"});
    net->emplace<xg::GlobalMaxPooling1D>();
    net->emplace<xg::Dense>(8, 10);
    CHECK(net->output_shape({24, 3}) == xg::Shape{10});
    check_exported(*net, {24, 3});
    auto averaged = std::make_shared<xg::Sequential>();
    averaged->emplace<xg::Conv1D>(3, 10, 3, xg::Conv1DOptions{.padding = "same", .use_bias = false});
    averaged->emplace<xg::GlobalAveragePooling1D>();
    check_exported(*averaged, {7, 3});
}

TEST_CASE("export_onnx writes an Embedding as Cast and Gather, the ids an input of the graph") {
    xg::manual_seed(16);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Embedding>(50, 6);
    net->emplace<xg::Conv1D>(6, 8, 3, xg::Conv1DOptions{.activation = "relu", .padding = "causal"});
    net->emplace<xg::GlobalMaxPooling1D>();
    net->emplace<xg::Dense>(8, 10);
    xg::Array ids = xg::uninitialized({37, 12});
    for (std::size_t i = 0; i < ids.size(); ++i) ids.data()[i] = static_cast<float>((i * 17 + 5) % 50);
    ScratchDir dir;
    const std::string path = dir / "m.onnx";
    // Exported with one example's ids, run on others: a Gather of constant ids would give the example's rows.
    xg::export_onnx(*net, xg::Array(xt::view(ids, xt::range(0, 1))), path);
    onnx::ModelProto m;
    std::ifstream f(path, std::ios::binary);
    REQUIRE(m.ParseFromIstream(&f));
    CHECK(m.graph().node(0).op_type() == "Cast");
    CHECK(m.graph().node(1).op_type() == "Gather");
    if (auto ort = run_onnxruntime(dir, path, ids)) CHECK(max_abs_diff(*ort, predict(*net, ids)) <= 1e-5f);
    // import_onnx reads the Cast of the ids and the Gather back as an embedding lookup, on the
    // tape: exported again, the lookup still takes the caller's ids, not the example's.
    auto imported = xg::import_onnx(path);
    CHECK(max_abs_diff(predict(*imported, ids), predict(*net, ids)) <= 1e-5f);
    const std::string again = dir / "again.onnx";
    xg::export_onnx(*imported, xg::Array(xt::view(ids, xt::range(0, 1))), again);
    CHECK(max_abs_diff(predict(*xg::import_onnx(again), ids), predict(*net, ids)) <= 1e-5f);
}

TEST_CASE("export_onnx writes recurrent layers as ONNX's LSTM, GRU and RNN nodes, the batch still dynamic") {
    xg::manual_seed(17);
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::LSTM>(3, 8, xg::LSTMOptions{.return_sequences = true, .dropout = 0.3f});
    net->emplace<xg::GRU>(8, 6, xg::GRUOptions{.return_sequences = true, .go_backwards = true,
                                               .bias_initializer = xg::initializers::random_uniform()});
    net->emplace<xg::Bidirectional>(std::make_shared<xg::SimpleRNN>(6, 5, xg::SimpleRNNOptions{.return_sequences = true}));
    net->emplace<xg::LSTM>(10, 4, xg::LSTMOptions{.activation = "relu", .recurrent_activation = "tanh",
                                                  .use_bias = false, .return_sequences = true, .go_backwards = true});
    net->emplace<xg::SimpleRNN>(4, 5, xg::SimpleRNNOptions{.recurrent_dropout = 0.3f});
    net->emplace<xg::Dense>(5, 10);
    ScratchDir dir;
    xg::export_onnx(*net, random_input({1, 7, 3}), dir / "m.onnx");
    // One node per layer, none per step. The GRU's reversed outputs are put back in order by a
    // Slice of step -1; the Bidirectional's backward layer's two reversals cancel.
    CHECK(onnx_ops(dir / "m.onnx") ==
          "Transpose LSTM Squeeze GRU Squeeze Transpose Slice Transpose RNN Squeeze Transpose RNN Squeeze Transpose "
          "Concat Transpose LSTM Squeeze Transpose Slice Transpose RNN Squeeze Gemm Identity ");
    // Exported in inference mode: no dropout masks in the graph. ONNX's B holds a state's bias
    // beside the input's: zeros for LSTM and RNN (4 * 8 + 3 * 5 values), GRU's second row.
    check_exported(*net, {7, 3}, 4 * 8 + 3 * 5);
}

// A GRU applied to x and to 2x, in a row or with an op between the calls.
class TwoCalls : public xg::Module {
public:
    explicit TwoCalls(bool in_a_row) : Module("TwoCalls"), in_a_row_(in_a_row) {
        gru_ = register_module("gru", std::make_shared<xg::GRU>(3, 5, xg::GRUOptions{}));
        dense_ = register_module("dense", std::make_shared<xg::Dense>(5, 10));  // ONNX Runtime's check reads 10
    }
    xg::Tensor forward(const xg::Tensor& x) override {
        xg::Tensor doubled, first;
        if (in_a_row_) doubled = x * 2.0f;
        first = (*gru_)(x);
        if (!in_a_row_) doubled = x * 2.0f;
        return (*dense_)(first + (*gru_)(doubled));
    }

private:
    bool in_a_row_;
    std::shared_ptr<xg::GRU> gru_;
    std::shared_ptr<xg::Dense> dense_;
};

TEST_CASE("a recurrent layer with no ONNX node of its form is written unrolled over the example's steps") {
    xg::manual_seed(19);
    ScratchDir dir;
    SUBCASE("an activation ONNX's recurrent nodes do not name") {
        xg::LSTM lstm(3, 10, xg::LSTMOptions{.activation = "elu"});
        xg::export_onnx(lstm, random_input({1, 5, 3}), dir / "m.onnx");
        const std::string ops = onnx_ops(dir / "m.onnx");
        CHECK(ops.find("LSTM") == std::string::npos);
        CHECK(ops.find("Elu") != std::string::npos);
        check_exported(lstm, {5, 3});
    }
    SUBCASE("a layer called twice in a row: its records are not one call's") {
        TwoCalls model(true);
        xg::export_onnx(model, random_input({1, 4, 3}), dir / "m.onnx");
        CHECK(onnx_ops(dir / "m.onnx").find("GRU") == std::string::npos);
        check_exported(model, {4, 3});
    }
}

TEST_CASE("a recurrent layer called on its own output, or whose function was registered over, is written unrolled") {
    xg::manual_seed(37);
    ScratchDir dir;
    SUBCASE("called on its own output: two calls in one run of records") {
        class Chained : public xg::Module {
        public:
            Chained() : Module("Chained") {
                lstm_ = register_module("lstm", std::make_shared<xg::LSTM>(4, 4, xg::LSTMOptions{.return_sequences = true}));
                pool_ = register_module("pool", std::make_shared<xg::GlobalAveragePooling1D>());
                dense_ = register_module("dense", std::make_shared<xg::Dense>(4, 10));
            }
            xg::Tensor forward(const xg::Tensor& x) override { return (*dense_)((*pool_)((*lstm_)((*lstm_)(x)))); }

        private:
            std::shared_ptr<xg::LSTM> lstm_;
            std::shared_ptr<xg::GlobalAveragePooling1D> pool_;
            std::shared_ptr<xg::Dense> dense_;
        };
        Chained model;
        xg::export_onnx(model, random_input({1, 5, 4}), dir / "m.onnx");
        CHECK(onnx_ops(dir / "m.onnx").find("LSTM") == std::string::npos);
        check_exported(model, {5, 4});
    }
    SUBCASE("tanh registered over: the layer computes what it was given, not ONNX's Tanh") {
        const xg::ActivationFn builtin = xg::activation_by_name("tanh");
        xg::register_activation("tanh", [](const xg::Tensor& x) { return xg::relu(x); });
        xg::LSTM lstm(3, 10);
        xg::register_activation("tanh", builtin);  // xgrad's own again, for what follows
        xg::export_onnx(lstm, random_input({1, 5, 3}), dir / "m.onnx");
        CHECK(onnx_ops(dir / "m.onnx").find("LSTM") == std::string::npos);
        check_exported(lstm, {5, 3});
        xg::LSTM restored(3, 10);
        xg::export_onnx(restored, random_input({1, 5, 3}), dir / "m.onnx");
        CHECK(onnx_ops(dir / "m.onnx").find("LSTM") != std::string::npos);
    }
}

TEST_CASE("a recurrent layer called twice apart is two nodes sharing one W, R and B") {
    xg::manual_seed(23);
    TwoCalls model(false);
    ScratchDir dir;
    xg::export_onnx(model, random_input({1, 4, 3}), dir / "m.onnx");
    onnx::ModelProto m;
    std::ifstream f(dir / "m.onnx", std::ios::binary);
    REQUIRE(m.ParseFromIstream(&f));
    std::vector<std::vector<std::string>> gru_inputs;
    for (const auto& n : m.graph().node()) {
        if (n.op_type() == "GRU") gru_inputs.emplace_back(n.input().begin() + 1, n.input().end());
    }
    REQUIRE(gru_inputs.size() == 2);
    CHECK(gru_inputs[0] == std::vector<std::string>{"gru/W", "gru/R", "gru/B"});
    CHECK(gru_inputs[1] == gru_inputs[0]);
    check_exported(model, {4, 3});
}

// An encoder's last state starting a decoder (call_with_state), the sequence's features split
// between the two: (batch, steps, 3 + 2).
template <class Layer, class Options>
class EncoderDecoder : public xg::Module {
public:
    EncoderDecoder() : Module("EncoderDecoder") {
        encoder_ = register_module("encoder", std::make_shared<Layer>(3, 6, Options{}));
        decoder_ = register_module("decoder", std::make_shared<Layer>(2, 6, Options{}));
        dense_ = register_module("dense", std::make_shared<xg::Dense>(6, 10));
    }
    xg::Tensor forward(const xg::Tensor& x) override {
        const xg::RecurrentOutput encoded = encoder_->call_with_state(xg::slice(x, -1, 0, 3));
        return (*dense_)(decoder_->call_with_state(xg::slice(x, -1, 3, 5), encoded.state).output);
    }

private:
    std::shared_ptr<Layer> encoder_, decoder_;
    std::shared_ptr<xg::Dense> dense_;
};

TEST_CASE("a layer started from a given state, or whose inner state is used, is written unrolled and computes the same") {
    ScratchDir dir;
    SUBCASE("GRU: the encoder's state is its output, so the encoder stays one node") {
        xg::manual_seed(29);
        EncoderDecoder<xg::GRU, xg::GRUOptions> model;
        xg::export_onnx(model, random_input({1, 4, 5}), dir / "m.onnx");
        const std::string ops = onnx_ops(dir / "m.onnx");
        CHECK(ops.find("GRU") != std::string::npos);
        CHECK(ops.find("GRU") == ops.rfind("GRU"));
        check_exported(model, {4, 5});
    }
    SUBCASE("LSTM: the encoder's cell state is used after it") {
        xg::manual_seed(31);
        EncoderDecoder<xg::LSTM, xg::LSTMOptions> model;
        xg::export_onnx(model, random_input({1, 4, 5}), dir / "m.onnx");
        CHECK(onnx_ops(dir / "m.onnx").find("LSTM") == std::string::npos);
        check_exported(model, {4, 5});
    }
}

TEST_CASE("a mask travels as ops of the input: Equal, Not and Cast, the recurrent layers unrolled over it") {
    ScratchDir dir;
    const std::string path = dir / "m.onnx";
    SUBCASE("Embedding(mask_zero) -> LSTM -> Dense") {
        xg::manual_seed(33);
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Embedding>(20, 4, xg::EmbeddingOptions{.mask_zero = true});
        net->emplace<xg::LSTM>(4, 6);
        net->emplace<xg::Dense>(6, 10);
        // Sequences padded in front, behind and in the middle, by as many zeros as they need.
        xg::Array ids = xg::uninitialized({37, 6});
        for (std::size_t i = 0; i < ids.size(); ++i) ids.data()[i] = static_cast<float>((i * 7 + 3) % 20);
        for (std::size_t n = 0; n < 37; ++n) {
            ids(n, n % 6) = 0.0f;
            ids(n, (n / 6) % 6) = 0.0f;
        }
        // The example has no padding: a mask frozen at the example's would be all ones.
        xg::export_onnx(*net, xg::Array{{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}}, path);
        const std::string ops = onnx_ops(path);
        CHECK(ops.find("Equal Not Cast") != std::string::npos);
        CHECK(ops.find("LSTM") == std::string::npos);
        if (auto ort = run_onnxruntime(dir, path, ids)) CHECK(max_abs_diff(*ort, predict(*net, ids)) <= 1e-5f);
        // import_onnx reads it back: the Embedding's Cast and Gather, the mask's Equal, Not and Cast.
        CHECK(max_abs_diff(predict(*xg::import_onnx(path), ids), predict(*net, ids)) <= 1e-5f);
    }
    SUBCASE("Embedding(mask_zero) -> LSTM(return_sequences) -> Dense per step: a tagger") {
        xg::manual_seed(35);
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Embedding>(20, 4, xg::EmbeddingOptions{.mask_zero = true});
        net->emplace<xg::LSTM>(4, 6, xg::LSTMOptions{.return_sequences = true});
        net->emplace<xg::Dense>(6, 3, "softmax");
        xg::Array ids = xg::uninitialized({37, 6});
        for (std::size_t i = 0; i < ids.size(); ++i) ids.data()[i] = static_cast<float>((i * 5 + 1) % 20);
        for (std::size_t n = 0; n < 37; ++n) {
            for (std::size_t s = 6 - n % 4; s < 6; ++s) ids(n, s) = 0.0f;
        }
        xg::export_onnx(*net, xg::Array{{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}}, path);
        CHECK(onnx_ops(path).find("Equal Not Cast") != std::string::npos);
        if (auto ort = run_onnxruntime(dir, path, ids, {37, 6, 3})) CHECK(max_abs_diff(*ort, predict(*net, ids)) <= 1e-5f);
        CHECK(max_abs_diff(predict(*xg::import_onnx(path), ids), predict(*net, ids)) <= 1e-5f);
    }
    SUBCASE("Masking -> Bidirectional(GRU) -> GlobalAveragePooling1D -> Dense") {
        xg::manual_seed(34);
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::Masking>(-1.0f);
        net->emplace<xg::Bidirectional>(std::make_shared<xg::GRU>(3, 4, xg::GRUOptions{.return_sequences = true}));
        net->emplace<xg::GlobalAveragePooling1D>();
        net->emplace<xg::Dense>(8, 10);
        xg::Array x = random_input({37, 5, 3});
        for (std::size_t n = 0; n < 37; ++n) xt::view(x, n, n % 5) = -1.0f;
        xt::view(x, 0) = -1.0f;  // a sequence of padding alone
        xg::export_onnx(*net, random_input({1, 5, 3}), path);
        const std::string ops = onnx_ops(path);
        CHECK(ops.find("Equal Not Cast ReduceMax") != std::string::npos);  // any feature differs
        CHECK(ops.find("GRU") == std::string::npos);
        if (auto ort = run_onnxruntime(dir, path, x)) CHECK(max_abs_diff(*ort, predict(*net, x)) <= 1e-5f);
        CHECK(max_abs_diff(predict(*xg::import_onnx(path), x), predict(*net, x)) <= 1e-5f);
    }
}

TEST_CASE("export_onnx with dynamic_axes writes a sequence model that runs on sequences of any length") {
    xg::manual_seed(29);
    ScratchDir dir;
    const auto dims = [&](const std::string& path, bool output) {
        onnx::ModelProto m;
        std::ifstream f(path, std::ios::binary);
        REQUIRE(m.ParseFromIstream(&f));
        const auto& value = output ? m.graph().output(0) : m.graph().input(0);
        std::vector<std::string> out;
        for (const auto& d : value.type().tensor_type().shape().dim()) {
            out.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
        }
        return out;
    };
    // The exported sequence model against xgrad's, in import_onnx and ONNX Runtime, on 1, 4 and
    // 12 steps of 3 features.
    const auto check_any_steps = [&](xg::Module& net, const std::string& path) {
        auto imported = xg::import_onnx(path);
        for (std::size_t steps : {1, 4, 12}) {
            CAPTURE(steps);
            const xg::Array x = random_input({5, steps, 3});
            const xg::Array expected = predict(net, x);
            CHECK(max_abs_diff(predict(*imported, x), expected) <= 1e-5f);
            if (auto ort = run_onnxruntime(dir, path, x, xg::Shape(expected.shape().begin(), expected.shape().end()))) {
                CHECK(max_abs_diff(*ort, expected) <= 1e-5f);
            }
        }
    };
    SUBCASE("a classifier: the steps in, a class out") {
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::LSTM>(3, 8, xg::LSTMOptions{.return_sequences = true, .go_backwards = true});
        net->emplace<xg::Bidirectional>(std::make_shared<xg::GRU>(8, 6, xg::GRUOptions{.return_sequences = true}));
        net->emplace<xg::GlobalAveragePooling1D>();
        net->emplace<xg::Dense>(12, 10, "softmax");
        const std::string path = dir / "m.onnx";
        xg::export_onnx(*net, random_input({1, 7, 3}), path, {.dynamic_axes = {1}});
        CHECK(dims(path, false) == std::vector<std::string>{"batch", "axis_1", "3"});
        CHECK(dims(path, true) == std::vector<std::string>{"batch", "10"});
        check_any_steps(*net, path);
    }
    SUBCASE("a tagger: a class per step, the Dense over every step") {
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::GRU>(3, 8, xg::GRUOptions{.return_sequences = true});
        net->emplace<xg::Dense>(8, 4, "softmax");
        const std::string path = dir / "m.onnx";
        xg::export_onnx(*net, random_input({1, 7, 3}), path, {.dynamic_axes = {1}});
        CHECK(onnx_ops(path).find("MatMul Add Softmax") != std::string::npos);
        CHECK(dims(path, true) == std::vector<std::string>{"batch", "axis_1", "4"});
        check_any_steps(*net, path);
    }
    SUBCASE("convolutions and pooling over sequences and images, strided same padding left to the runtime") {
        auto seq = std::make_shared<xg::Sequential>();
        seq->emplace<xg::Conv1D>(3, 4, 3, xg::Conv1DOptions{.activation = "relu", .strides = 2, .padding = "same"});
        seq->emplace<xg::MaxPooling1D>(2);
        seq->emplace<xg::Conv1D>(4, 4, 2, xg::Conv1DOptions{.padding = "causal"});
        seq->emplace<xg::Conv1D>(4, 4, 3, xg::Conv1DOptions{.dilation_rate = 2, .padding = "same"});
        seq->emplace<xg::GlobalAveragePooling1D>();
        seq->emplace<xg::Dense>(4, 10);
        const std::string path = dir / "seq.onnx";
        xg::export_onnx(*seq, random_input({1, 9, 3}), path, {.dynamic_axes = {1}});
        auto imported = xg::import_onnx(path);
        for (std::size_t steps : {4, 13, 20}) {
            CAPTURE(steps);
            const xg::Array x = random_input({2, steps, 3});
            CHECK(max_abs_diff(predict(*imported, x), predict(*seq, x)) <= 1e-5f);
            if (auto ort = run_onnxruntime(dir, path, x)) CHECK(max_abs_diff(*ort, predict(*seq, x)) <= 1e-5f);
        }
        // The sequence becomes an image of one row by Unsqueeze, not by a Reshape holding the
        // steps: an empty batch runs too.
        CHECK(onnx_ops(path).find("Unsqueeze") != std::string::npos);
        if (auto ort = run_onnxruntime(dir, path, xt::zeros<float>({0, 6, 3}), {0, 10})) CHECK(ort->size() == 0);
        // Pads that fit 5 and 6 rows (none) but not 7: the runtime works them out (SAME_UPPER).
        auto image = std::make_shared<xg::Sequential>();
        image->emplace<xg::Conv2D>(1, 2, xg::Size2{2, 1}, xg::Conv2DOptions{.strides = {3, 1}, .padding = "same"});
        image->emplace<xg::MaxPooling2D>(xg::Size2{2, 1});
        const std::string image_path = dir / "image.onnx";
        xg::export_onnx(*image, random_input({1, 5, 2, 1}), image_path, {.dynamic_axes = {1, 2}});
        // Shape inference proves nothing of the rows and columns: named, not the example's.
        CHECK(dims(image_path, true) == std::vector<std::string>{"batch", "output_axis_1", "output_axis_2", "2"});
        for (std::size_t rows : {7, 12}) {
            CAPTURE(rows);
            const xg::Array x = random_input({1, rows, 3, 1});
            const xg::Array expected = predict(*image, x);
            CHECK(max_abs_diff(predict(*xg::import_onnx(image_path), x), expected) <= 1e-5f);
            if (auto ort = run_onnxruntime(dir, image_path, x, xg::Shape(expected.shape().begin(), expected.shape().end()))) {
                CHECK(max_abs_diff(*ort, expected) <= 1e-5f);
            }
        }
        // A fully convolutional classifier: images of any size.
        auto classifier = std::make_shared<xg::Sequential>();
        classifier->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3}, xg::Conv2DOptions{.activation = "relu", .strides = {2, 2}});
        classifier->emplace<xg::GlobalAveragePooling2D>();
        classifier->emplace<xg::Dense>(4, 10, "softmax");
        const std::string classifier_path = dir / "classifier.onnx";
        xg::export_onnx(*classifier, random_input({1, 9, 9, 1}), classifier_path, {.dynamic_axes = {1, 2}});
        CHECK(dims(classifier_path, true) == std::vector<std::string>{"batch", "10"});
        const xg::Array other_size = random_input({3, 14, 11, 1});
        if (auto ort = run_onnxruntime(dir, classifier_path, other_size)) {
            CHECK(max_abs_diff(*ort, predict(*classifier, other_size)) <= 1e-5f);
        }
    }
    SUBCASE("every step's output: the output's steps follow the input's") {
        xg::SimpleRNN rnn(3, 4, xg::SimpleRNNOptions{.activation = "relu", .return_sequences = true});
        const std::string path = dir / "m.onnx";
        xg::export_onnx(rnn, random_input({2, 5, 3}), path, {.dynamic_axes = {0, 1, 1}});  // 0 and repeats are no-ops
        CHECK(dims(path, false) == std::vector<std::string>{"batch", "axis_1", "3"});
        CHECK(dims(path, true) == std::vector<std::string>{"batch", "axis_1", "4"});
        const xg::Array x = random_input({3, 9, 3});
        if (auto ort = run_onnxruntime(dir, path, x, {3, 9, 4})) CHECK(max_abs_diff(*ort, predict(rnn, x)) <= 1e-5f);
    }
}

TEST_CASE("export_onnx refuses a dynamic axis the graph depends on, names it and writes nothing") {
    xg::manual_seed(31);
    ScratchDir dir;
    const std::string path = dir / "m.onnx";
    SUBCASE("a recurrent layer unrolled over the steps") {
        xg::LSTM lstm(3, 4, xg::LSTMOptions{.activation = "elu"});
        CHECK_THROWS_WITH_AS(xg::export_onnx(lstm, random_input({1, 5, 3}), path, {.dynamic_axes = {1}}),
                             doctest::Contains("axis 1 of the input cannot be dynamic: the graph of LSTM 'lstm_"),
                             xg::ValueError);
    }
    SUBCASE("a Dense after a Flatten of the steps") {
        auto net = std::make_shared<xg::Sequential>();
        net->emplace<xg::GRU>(3, 4, xg::GRUOptions{.return_sequences = true});
        net->emplace<xg::Flatten>();
        net->emplace<xg::Dense>(5 * 4, 10);
        CHECK_THROWS_WITH_AS(xg::export_onnx(*net, random_input({1, 5, 3}), path, {.dynamic_axes = {1}}),
                             doctest::Contains("takes (1, 5, 3) but not (1, 6, 3) (dense_"), xg::ValueError);
    }
    SUBCASE("same padding with strides and dilations: pads that ONNX Runtime cannot work out") {
        xg::Conv1D conv(3, 10, 3, xg::Conv1DOptions{.strides = 2, .dilation_rate = 2, .padding = "same"});
        CHECK_THROWS_WITH_AS(xg::export_onnx(conv, random_input({1, 9, 3}), path, {.dynamic_axes = {1}}),
                             doctest::Contains("same padding with strides (1, 2) and dilations (1, 2)"), xg::ValueError);
        xg::export_onnx(conv, random_input({1, 9, 3}), path);  // the example's length: explicit pads
        CHECK(std::filesystem::exists(path));
        std::filesystem::remove(path);
    }
    SUBCASE("an axis of the example that is empty: nothing to check it with") {
        xg::Activation relu("relu");
        CHECK_THROWS_WITH_AS(xg::export_onnx(relu, xt::zeros<float>({1, 0, 3}), path, {.dynamic_axes = {1}}),
                             doctest::Contains("dynamic axis 1 of an example_input (1, 0, 3) is empty"), xg::ValueError);
    }
    SUBCASE("an axis the input does not have") {
        auto net = dense_model();
        CHECK_THROWS_WITH_AS(xg::export_onnx(*net, random_input({1, 784}), path, {.dynamic_axes = {2}}),
                             doctest::Contains("dynamic axis 2 of an example_input (1, 784); expected an axis below 2"),
                             xg::ValueError);
    }
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK(xg::Tape::current().size() == 0);  // the traces' records dropped
}

TEST_CASE("export_onnx leaves the augmentation layers out and writes Rescaling as arithmetic") {
    xg::manual_seed(5);
    auto model = augmented_model();
    check_exported(*model, {9, 11, 1});
}

TEST_CASE("export_onnx writes resizing as Resize and cropping as Slice, the batch still dynamic") {
    xg::manual_seed(6);
    auto model = resized_model();
    check_exported(*model, {9, 11, 1});
}

TEST_CASE("export_onnx writes LayerNormalization as its arithmetic (ReduceMean, Sub, Mul, Sqrt, Div)") {
    xg::manual_seed(7);
    xg::Sequential model;
    model.emplace<xg::Dense>(6, 8, "relu");
    auto norm = model.emplace<xg::LayerNormalization>(8);
    model.emplace<xg::Dense>(8, 10, "softmax");
    // Not the initial 1 and 0, so that a gamma or beta left out would show.
    xg::Tensor(norm->gamma()).mutable_value() = random_input({8}) + 1.0f;
    xg::Tensor(norm->beta()).mutable_value() = random_input({8});
    check_exported(model, {6});
}

TEST_CASE("export_onnx writes normalizations without a learned scale or shift, their fixed 1 and 0 as constants") {
    // BatchNormalization and LayerNormalization make a fixed gamma or beta on each call when
    // scale or center is off: they travel as Constant nodes, and the model has only the rest.
    xg::manual_seed(12);
    xg::Sequential model;
    model.emplace<xg::Dense>(6, 8, "relu");
    auto shifted = model.emplace<xg::BatchNormalization>(8, xg::BatchNormalizationOptions{.scale = false});
    model.emplace<xg::BatchNormalization>(8, xg::BatchNormalizationOptions{.center = false, .scale = false});
    auto scaled = model.emplace<xg::LayerNormalization>(8, xg::LayerNormalizationOptions{.center = false});
    model.emplace<xg::LayerNormalization>(8, xg::LayerNormalizationOptions{.center = false, .scale = false});
    model.emplace<xg::Dense>(8, 10, "softmax");
    perturb_buffers(model);
    // Not the initial 0 and 1, so that a learned shift or scale left out would show.
    xg::Tensor(shifted->beta()).mutable_value() = random_input({8});
    xg::Tensor(scaled->gamma()).mutable_value() = random_input({8}) + 1.0f;
    check_exported(model, {6});
}

TEST_CASE("export_onnx writes maximum, minimum and min as Max, Min and ReduceMin") {
    // A hinge of each side of a learned level, less each row's smallest value. The 0.25 is a
    // Tensor made in forward: a constant of the computation, not a weight.
    class Clamped : public xg::Module {
    public:
        Clamped() : Module("Clamped") {
            w_ = register_parameter("w", xg::Tensor(random_input({6, 10})));
            level_ = register_parameter("level", xg::Tensor(random_input({10})));
        }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor h = xg::matmul(x, w_);
            return xg::maximum(h, level_) + xg::minimum(h, xg::Tensor::scalar(0.25f)) - xg::min(h, 1, true);
        }

    private:
        xg::Tensor w_, level_;
    };
    xg::manual_seed(8);
    Clamped model;
    check_exported(model, {6});
}

TEST_CASE("export_onnx writes pow with a tensor of exponents as Pow, broadcast as xgrad does") {
    // A learned exponent per unit over a positive base: ONNX Runtime and the import must broadcast
    // the exponents along the batch as xgrad does.
    class Powered : public xg::Module {
    public:
        Powered() : Module("Powered") {
            w_ = register_parameter("w", xg::Tensor(random_input({6, 10})));
            exponent_ = register_parameter("exponent", xg::Tensor(random_input({10}) * 2.0f));
        }
        xg::Tensor forward(const xg::Tensor& x) override {
            return xg::pow(xg::sigmoid(xg::matmul(x, w_)) + 0.5f, exponent_);
        }

    private:
        xg::Tensor w_, exponent_;
    };
    xg::manual_seed(9);
    Powered model;
    check_exported(model, {6});
}

TEST_CASE("export_onnx writes top_k's values and indices as TopK, the indices cast to float") {
    // The three largest units of each row and where they are, and the two smallest of each column
    // of units across the features: both settings of largest, two axes.
    class Ranked : public xg::Module {
    public:
        Ranked() : Module("Ranked") { w_ = register_parameter("w", xg::Tensor(random_input({6, 10}))); }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor h = xg::reshape(xg::matmul(x, w_), {-1, 2, 5});
            const xg::TopK top = xg::top_k(h, 3);
            const xg::TopK low = xg::top_k(h, 1, 1, false);
            return xg::reshape(xg::sum(top.values * top.indices, 2, true) + low.values - low.indices, {-1, 10});
        }

    private:
        xg::Tensor w_;
    };
    xg::manual_seed(11);
    Ranked model;
    check_exported(model, {6});
}

TEST_CASE("export_onnx writes the comparisons and ArgMax, ArgMin, each cast to float as xgrad holds them") {
    // A gate of each unit against a learned level, counts of units above and below fixed values,
    // and each row's winning and losing unit as numbers: every comparison and both indices.
    class Gated : public xg::Module {
    public:
        Gated() : Module("Gated") {
            w_ = register_parameter("w", xg::Tensor(random_input({6, 10})));
            level_ = register_parameter("level", xg::Tensor(random_input({10})));
        }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor h = xg::matmul(x, w_);
            const xg::Tensor gate = xg::greater(h, level_);
            const xg::Tensor same = xg::equal(gate, 1.0f - xg::less_equal(h, level_));  // 1 everywhere
            const xg::Tensor high = xg::sum(xg::greater_equal(h, xg::Tensor::scalar(0.5f)), 1, true);
            const xg::Tensor low = xg::sum(xg::less(h, xg::Tensor::scalar(-0.5f)), 1, true);
            return h * gate + same + high - 2.0f * low + xg::argmax(h, 1, true) - 0.5f * xg::argmin(h, -1, true);
        }

    private:
        xg::Tensor w_, level_;
    };
    xg::manual_seed(10);
    Gated model;
    check_exported(model, {6});
    ScratchDir dir;
    xg::export_onnx(model, random_input({1, 6}), dir / "gated.onnx");
    const std::vector<std::string> ops = xg::import_onnx(dir / "gated.onnx")->op_types();
    for (const char* op : {"Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Equal", "ArgMax", "ArgMin", "Cast"}) {
        CAPTURE(op);
        CHECK(std::find(ops.begin(), ops.end(), op) != ops.end());
    }
}

TEST_CASE("export_onnx writes where as a Cast of the condition to BOOL and a Where") {
    // A leaky unit written with where (its slope learned), and each row kept or negated whole by
    // a condition of one column: conditions computed from data, broadcast against both sides.
    class Piecewise : public xg::Module {
    public:
        Piecewise() : Module("Piecewise") {
            w_ = register_parameter("w", xg::Tensor(random_input({6, 10})));
            slope_ = register_parameter("slope", xg::Tensor(random_input({10})));
        }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor h = xg::matmul(x, w_);
            const xg::Tensor leaky = xg::where(xg::greater(h, xg::Tensor::scalar(0.0f)), h, h * slope_);
            const xg::Tensor any_high = xg::max(xg::greater(h, xg::Tensor::scalar(0.8f)), 1, true);
            return xg::where(any_high, leaky, -leaky);
        }

    private:
        xg::Tensor w_, slope_;
    };
    xg::manual_seed(12);
    Piecewise model;
    check_exported(model, {6});
    ScratchDir dir;
    xg::export_onnx(model, random_input({1, 6}), dir / "piecewise.onnx");
    const std::vector<std::string> ops = xg::import_onnx(dir / "piecewise.onnx")->op_types();
    CHECK(std::count(ops.begin(), ops.end(), "Where") == 2);
}

TEST_CASE("export_onnx writes sin and cos as Sin and Cos") {
    // Periodic features of a learned projection, as a positional encoding or a Fourier feature.
    class Periodic : public xg::Module {
    public:
        Periodic() : Module("Periodic") { w_ = register_parameter("w", xg::Tensor(random_input({6, 5}) * 3.0f)); }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor z = xg::matmul(x, w_);
            return xg::concat({xg::sin(z), xg::cos(z)}, 1);
        }

    private:
        xg::Tensor w_;
    };
    xg::manual_seed(14);
    Periodic model;
    check_exported(model, {6});
    ScratchDir dir;
    xg::export_onnx(model, random_input({1, 6}), dir / "periodic.onnx");
    const std::vector<std::string> ops = xg::import_onnx(dir / "periodic.onnx")->op_types();
    for (const char* op : {"Sin", "Cos"}) CHECK(std::count(ops.begin(), ops.end(), op) == 1);
}

TEST_CASE("export_onnx writes tan, the inverse circular and hyperbolic functions, and the rounding ones, one node each") {
    // Each smooth function of a projection squashed into (-1, 1), scaled into its domain; the
    // rounding ones of 3x - 1.5, which both runtimes compute to the same bits (a product of
    // different kernels could land on the other side of a jump).
    class Functions : public xg::Module {
    public:
        Functions() : Module("Functions") { w_ = register_parameter("w", xg::Tensor(random_input({6, 5}) - 0.5f)); }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor z = xg::tanh(xg::matmul(x, w_)), steps = 3.0f * x - 1.5f;
            return xg::concat({xg::tan(z), xg::asin(0.9f * z), xg::acos(0.9f * z), xg::atan(3.0f * z),
                               xg::sinh(2.0f * z), xg::cosh(2.0f * z), xg::asinh(3.0f * z), xg::acosh(2.0f + z),
                               xg::atanh(0.9f * z), xg::floor(steps), xg::ceil(steps), xg::round(steps), xg::sign(steps)},
                              1);
        }

    private:
        xg::Tensor w_;
    };
    Functions model;
    check_exported(model, {6});
    ScratchDir dir;
    xg::export_onnx(model, random_input({1, 6}), dir / "functions.onnx");
    const std::vector<std::string> ops = xg::import_onnx(dir / "functions.onnx")->op_types();
    for (const char* op : {"Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Floor", "Ceil",
                           "Round", "Sign"}) {
        CAPTURE(op);
        CHECK(std::count(ops.begin(), ops.end(), op) == 1);
    }
}

TEST_CASE("export_onnx writes a product of stacks of matrices as one MatMul, the stacks broadcast") {
    // Self-attention's arithmetic without its projections: each example's (3, 4) features against
    // themselves, scores softmaxed, then the weighted values times a (4, 2) read-out shared by all.
    class Attending : public xg::Module {
    public:
        Attending() : Module("Attending") { w_ = register_parameter("w", xg::Tensor(random_input({1, 4, 2}) - 0.5f)); }
        xg::Tensor forward(const xg::Tensor& x) override {
            const long batch = static_cast<long>(x.shape()[0]);
            const xg::Tensor q = xg::reshape(x, {batch, 3, 4});
            const xg::Tensor scores = xg::softmax(xg::matmul(q, xg::transpose(q, {0, 2, 1})), -1);
            return xg::reshape(xg::matmul(xg::matmul(scores, q), w_), {batch, 6});
        }

    private:
        xg::Tensor w_;
    };
    Attending model;
    check_exported(model, {12});
    ScratchDir dir;
    xg::export_onnx(model, random_input({1, 12}), dir / "attending.onnx");
    const std::vector<std::string> ops = xg::import_onnx(dir / "attending.onnx")->op_types();
    CHECK(std::count(ops.begin(), ops.end(), "MatMul") == 3);
}

TEST_CASE("export_onnx writes a LayerNormalization of several axes, the batch still dynamic") {
    xg::manual_seed(9);
    xg::Sequential model;
    auto norm = model.emplace<xg::LayerNormalization>(xg::Shape{2, 3});
    model.emplace<xg::Flatten>();
    model.emplace<xg::Dense>(6, 10, "softmax");
    xg::Tensor(norm->gamma()).mutable_value() = random_input({2, 3}) + 1.0f;
    xg::Tensor(norm->beta()).mutable_value() = random_input({2, 3});
    check_exported(model, {2, 3});
}

TEST_CASE("ONNX Runtime predicts the 10,000 MNIST test images as xgrad does, dense and convnet") {
    if (!std::filesystem::exists(std::string(XGRAD_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz")) {
        MESSAGE("skipped: no MNIST data in " << XGRAD_MNIST_DIR);
        return;
    }
    const xg::MnistData data = xg::load_mnist(XGRAD_MNIST_DIR);
    const xg::Array flat = xg::images_to_float(data.test_images);  // (10000, 784)
    xg::Array images = flat;
    images.reshape({flat.shape()[0], 28, 28, 1});
    xg::manual_seed(5);
    auto dense = dense_model();
    // The examples' convnet (apps/mnist --model convnet).
    auto convnet = std::make_shared<xg::Sequential>();
    convnet->emplace<xg::Conv2D>(1, 32, xg::Size2{3, 3}, "relu");
    convnet->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    convnet->emplace<xg::Conv2D>(32, 64, xg::Size2{3, 3}, "relu");
    convnet->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    convnet->emplace<xg::Conv2D>(64, 64, xg::Size2{3, 3}, "relu");
    convnet->emplace<xg::Flatten>();
    convnet->emplace<xg::Dense>(3 * 3 * 64, 64, "relu");
    convnet->emplace<xg::Dense>(64, 10, "softmax");
    for (auto& [model, x] : {std::pair{dense, flat}, std::pair{convnet, images}}) {
        ScratchDir dir;
        xg::Shape example(x.shape().begin(), x.shape().end());
        example[0] = 1;
        xg::export_onnx(*model, xt::zeros<float>(example), dir / "model.onnx");
        const xg::Array expected = predict(*model, x);
        if (auto ort = run_onnxruntime(dir, dir / "model.onnx", x)) {
            CHECK(max_abs_diff(*ort, expected) <= 1e-5f);
        } else {
            return;
        }
    }
}

TEST_CASE("an imported model exports again and keeps its predictions") {
    xg::manual_seed(3);
    auto model = conv_model();
    perturb_buffers(*model);
    ScratchDir dir;
    const xg::Array x = random_input({4, 28, 28, 1});
    xg::export_onnx(*model, x, dir / "a.onnx");
    auto first = xg::import_onnx(dir / "a.onnx");
    xg::export_onnx(*first, x, dir / "b.onnx");
    auto second = xg::import_onnx(dir / "b.onnx");
    CHECK(max_abs_diff(predict(*second, x), predict(*model, x)) <= 1e-5f);

    // An imported depthwise kernel is an op's result (W reshaped and transposed), exported as ops.
    auto separable = separable_model();
    const xg::Array images = random_input({4, 9, 11, 1});
    xg::export_onnx(*separable, images, dir / "c.onnx");
    auto imported = xg::import_onnx(dir / "c.onnx");
    xg::export_onnx(*imported, images, dir / "d.onnx");
    CHECK(max_abs_diff(predict(*xg::import_onnx(dir / "d.onnx"), images), predict(*separable, images)) <= 1e-5f);
}

TEST_CASE("a convnet's layers stay channels-first between its first and last Transpose") {
    auto net = std::make_shared<xg::Sequential>();
    net->emplace<xg::Conv2D>(1, 4, xg::Size2{3, 3}, "relu");
    net->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    net->emplace<xg::Conv2D>(4, 4, xg::Size2{3, 3}, "relu");
    net->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    net->emplace<xg::Flatten>();
    net->emplace<xg::Dense>(4 * 5 * 5, 10, "softmax");
    ScratchDir dir;
    xg::export_onnx(*net, xt::zeros<float>({1, 28, 28, 1}), dir / "m.onnx");
    onnx::ModelProto m;
    std::ifstream f(dir / "m.onnx", std::ios::binary);
    REQUIRE(m.ParseFromIstream(&f));
    std::string ops;
    for (const auto& n : m.graph().node()) ops += n.op_type() + " ";
    CHECK(ops == "Transpose Conv Relu MaxPool Conv Relu MaxPool Transpose Flatten Gemm Softmax Identity ");
    std::vector<std::string> initializers;
    for (const auto& t : m.graph().initializer()) initializers.push_back(t.name());
    CHECK(initializers == std::vector<std::string>{"conv2d_1/kernel", "conv2d_1/bias", "conv2d_2/kernel", "conv2d_2/bias",
                                                   "dense_1/kernel", "dense_1/bias"});
}

TEST_CASE("the constants of a computation travel as Constant nodes and come back as constants, not parameters") {
    // x * 2 + w, squared by pow, clipped: only w is a weight.
    class Scaled : public xg::Module {
    public:
        Scaled() : Module("Scaled") { w_ = register_parameter("w", xg::Tensor(xg::Array{0.5f, -0.25f, 0.125f})); }
        xg::Tensor forward(const xg::Tensor& x) override { return xg::clip(xg::pow(x * 2.0f + w_, 3.0f), -1.5f, 2.5f); }

    private:
        xg::Tensor w_;
    };
    Scaled m;
    ScratchDir dir;
    const xg::Array x = {{0.1f, 0.4f, -0.3f}, {0.9f, -0.8f, 0.2f}};
    xg::export_onnx(m, x, dir / "m.onnx");
    onnx::ModelProto proto;
    std::ifstream in(dir / "m.onnx", std::ios::binary);
    REQUIRE(proto.ParseFromIstream(&in));
    std::vector<std::string> initializers, ops;
    for (const auto& t : proto.graph().initializer()) initializers.push_back(t.name());
    for (const auto& n : proto.graph().node()) ops.push_back(n.op_type());
    REQUIRE(initializers.size() == 1);
    CHECK(initializers[0].ends_with("w"));
    CHECK(std::count(ops.begin(), ops.end(), "Constant") == 4);  // 2, the exponent, both bounds
    auto imported = xg::import_onnx(dir / "m.onnx");
    CHECK(imported->parameter_count() == 3);
    CHECK(max_abs_diff(predict(*imported, x), predict(m, x)) <= 1e-6f);
}

TEST_CASE("a convolution's kernel made in forward travels as a Constant, not a weight") {
    // A fixed smoothing filter (not a parameter) after a learned scale.
    class Smoothed : public xg::Module {
    public:
        Smoothed() : Module("Smoothed") { scale_ = register_parameter("scale", xg::Tensor(xg::Array{1.5f})); }
        xg::Tensor forward(const xg::Tensor& x) override {
            const xg::Tensor filter = xg::constant(xt::ones<float>({3, 3, 1, 1}) / 9.0f);
            return xg::conv2d(x * scale_, filter);
        }

    private:
        xg::Tensor scale_;
    };
    Smoothed m;
    ScratchDir dir;
    const xg::Array x = random_input({2, 5, 6, 1});
    xg::export_onnx(m, x, dir / "m.onnx");
    auto imported = xg::import_onnx(dir / "m.onnx");
    CHECK(imported->parameter_count() == 1);
    CHECK(max_abs_diff(predict(*imported, x), predict(m, x)) <= 1e-6f);
}

TEST_CASE("export_onnx names an op that has no ONNX form") {
    class Rows : public xg::Module {
    public:
        Rows() : Module("Rows") { w_ = register_parameter("w", xg::Tensor(xg::Array(xt::ones<float>({3})))); }
        xg::Tensor forward(const xg::Tensor& x) override { return xg::scatter_add(x * w_, {0, 0}, 3); }

    private:
        xg::Tensor w_;
    };
    Rows m;
    ScratchDir dir;
    CHECK_THROWS_WITH_AS(xg::export_onnx(m, xg::Array(xt::ones<float>({2, 3})), dir / "m.onnx"),
                         doctest::Contains("op 'scatter_add' (in 'rows_1') has no ONNX form"), xg::ValueError);
    CHECK(dir.entries().empty());
}

TEST_CASE("export_onnx rejects an empty example batch") {
    auto model = dense_model();
    ScratchDir dir;
    CHECK_THROWS_AS(xg::export_onnx(*model, xg::Array(xt::zeros<float>({0, 784})), dir / "m.onnx"), xg::ShapeError);
}
