// import_onnx: models exported by torch.onnx.export (Debian's PyTorch, generated here at test time
// when python3 has torch and onnx) predict as PyTorch does and fine-tune with fit; bad files are
// IoErrors naming the file, unsupported content an OnnxUnsupportedError naming the node.
#include "xgrad/io/onnx_import.hpp"

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <functional>
#include <limits>
#include <optional>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <xtensor/xadapt.hpp>
#include <xtensor/xview.hpp>

#include "module_outputs.hpp"
#include "scratch_dir.hpp"
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/graph/op_graph.hpp"
#include "xgrad/io/onnx_export.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/train/model.hpp"

using xg::test::ScratchDir;

namespace {

// A Python with torch and onnx (Debian's python3-torch lives in the system Python, which another
// python3 on PATH may hide); empty when there is none.
std::string python_with_torch() {
    for (const char* python : {"python3", "/usr/bin/python3"}) {
        if (std::system(fmt::format("{} -c 'import torch, onnx' >/dev/null 2>&1", python).c_str()) == 0) return python;
    }
    return {};
}

// Writes mlp.onnx and convnet.onnx into `dir`, each with a sample input and PyTorch's output (.pb).
const char* torch_script = R"(
import sys, torch, onnx
from onnx import numpy_helper
out = sys.argv[1]
torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                          torch.nn.Linear(16, 5), torch.nn.Softmax(dim=1))
conv = torch.nn.Sequential(
    torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.BatchNorm2d(6), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(6, 8, 3, stride=2), torch.nn.Sigmoid(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
    torch.nn.Linear(8, 4), torch.nn.LogSoftmax(dim=1))
class ViewNet(torch.nn.Module):
    """Flattens with x.view(x.size(0), -1): a Shape, Gather, Unsqueeze, Concat, Reshape chain in ONNX."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)
        self.fc = torch.nn.Linear(3 * 4 * 4, 5)
    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))
view = ViewNet()
class ResizeNet(torch.nn.Module):
    """Resizes (F.interpolate: Resize, with a scale, and with a size computed by Shape, Slice and
    Concat; bilinear, and nearest, which PyTorch exports as asymmetric coordinates rounded down)
    and crops by slicing (Slice)."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)
        self.fc = torch.nn.Linear(3 * 5 * 7, 5)
    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = torch.nn.functional.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = torch.nn.functional.interpolate(x, scale_factor=1.5, mode="nearest")
        x = x[:, :, 1:7, 2:]
        x = torch.nn.functional.interpolate(x, size=(6, 9), mode="nearest")
        x = torch.nn.functional.interpolate(x, size=(5, 7), mode="bilinear", align_corners=False)
        return self.fc(x.flatten(1))
resize = ResizeNet()
class PoolNet(torch.nn.Module):
    """Padded poolings as PyTorch writes them (explicit pads): ResNet's stem max_pool2d(3, 2,
    padding=1), avg_pool2d counting its pads (PyTorch's default) and not, and ceil_mode."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 3 * 3, 5)
    def forward(self, x):
        x = self.conv(x)
        x = torch.nn.functional.max_pool2d(x, 3, 2, padding=1)
        x = torch.nn.functional.avg_pool2d(x, 3, 1, padding=1)
        x = torch.nn.functional.avg_pool2d(x, 2, 1, padding=1, count_include_pad=False)
        x = torch.nn.functional.max_pool2d(x, 3, 2, ceil_mode=True)
        return self.fc(x.flatten(1))
pool = PoolNet()
class SeqNet(torch.nn.Module):
    """Sequences (N, C, L): Conv1d padded, strided and dilated, max_pool1d padded, avg_pool1d and a
    ConvTranspose1d, as PyTorch writes them (Conv, MaxPool, AveragePool, ConvTranspose of rank 3)."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(3, 6, 3, padding=1)
        self.dilated = torch.nn.Conv1d(6, 4, 3, stride=2, dilation=2)
        self.up = torch.nn.ConvTranspose1d(4, 4, 2, stride=2)
        self.fc = torch.nn.Linear(4 * 8, 5)
    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = torch.nn.functional.max_pool1d(x, 3, 1, padding=1)
        x = torch.nn.functional.avg_pool1d(self.dilated(x), 2)
        return self.fc(self.up(x).flatten(1))
seq = SeqNet()
class RecurrentNet(torch.nn.Module):
    """torch.nn.LSTM (two layers, both directions) into torch.nn.GRU, batch first, as
    torch.onnx.export writes them: LSTM and GRU nodes (the GRU's reset after its product), their
    zero initial states made by ConstantOfShape for a batch of any size."""
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = torch.nn.GRU(12, 5, batch_first=True)
        self.fc = torch.nn.Linear(5, 3)
    def forward(self, x):
        y, _ = self.lstm(x)
        _, h = self.gru(y)
        return self.fc(h[-1])
recurrent = RecurrentNet()
with torch.no_grad():
    bn = conv[1]
    bn.running_mean.uniform_(-0.5, 0.5); bn.running_var.uniform_(0.5, 2.0)
    bn.weight.uniform_(0.5, 1.5); bn.bias.uniform_(-0.5, 0.5)
for name, model, shape in (("mlp", mlp, (7, 20)), ("convnet", conv, (7, 3, 12, 12)), ("viewnet", view, (7, 2, 6, 6)),
                           ("resizenet", resize, (7, 2, 6, 6)), ("poolnet", pool, (7, 2, 9, 9)),
                           ("seqnet", seq, (7, 3, 20)), ("recurrentnet", recurrent, (7, 9, 4))):
    model.eval()
    x = torch.randn(*shape)
    torch.onnx.export(model, x, f"{out}/{name}.onnx", opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with torch.no_grad():
        y = model(x)
    for kind, t in (("x", x), ("y", y)):
        with open(f"{out}/{name}_{kind}.pb", "wb") as f:
            f.write(numpy_helper.from_array(t.numpy()).SerializeToString())
)";

using xg::test::max_abs_diff;
using xg::test::predict;

std::string write_model(const ScratchDir& dir, const onnx::ModelProto& m) {
    const std::string path = dir / "m.onnx";
    std::ofstream f(path, std::ios::binary);
    REQUIRE(m.SerializeToOstream(&f));
    return path;
}

// A one-node model: y = op(x), x and y float (2, 3).
onnx::ModelProto one_node(const std::string& op, int opset = 13) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(opset);
    auto* g = m.mutable_graph();
    for (auto* v : {g->add_input(), g->add_output()}) {
        v->set_name(v == &g->input(0) ? "x" : "y");
        auto* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_value(2);
        t->mutable_shape()->add_dim()->set_dim_value(3);
    }
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name("the_node");
    n->add_input("x");
    n->add_output("y");
    return m;
}

void add_string(onnx::NodeProto* n, const char* name, const char* value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
}

void add_int(onnx::NodeProto* n, const char* name, long value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
}

void add_ints(onnx::NodeProto* n, const char* name, const std::vector<long>& values) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (long v : values) a->add_ints(v);
}

}  // namespace

TEST_CASE("models exported by torch.onnx.export predict as in PyTorch and fine-tune with fit") {
    const std::string python = python_with_torch();
    if (python.empty()) {
        MESSAGE("skipped: no python3 with torch and onnx (python3-torch, python3-onnx)");
        return;
    }
    ScratchDir dir;
    {
        std::ofstream(dir / "make.py") << torch_script;
    }
    REQUIRE(std::system(fmt::format("{} {} {}", python, dir / "make.py", dir / "").c_str()) == 0);

    for (const std::string name : {"mlp", "convnet", "viewnet", "resizenet", "poolnet", "seqnet", "recurrentnet"}) {
        CAPTURE(name);
        auto model = xg::import_onnx(dir / (name + ".onnx"));
        const xg::Array x = xg::read_onnx_tensor(dir / (name + "_x.pb"));
        const xg::Array y = xg::read_onnx_tensor(dir / (name + "_y.pb"));
        CHECK(max_abs_diff(predict(*model, x), y) <= 1e-5f);
        CHECK(model->parameter_count() > 0);

        // Its graph draws, and it exports again to a model with the same predictions.
        {
            const xg::Tensor out = (*model)(xg::Tensor(x, true));
            const bool drew_conv = xg::ops_to_dot(out).find("conv2d") != std::string::npos;
            CHECK(drew_conv == (name != "mlp" && name != "recurrentnet"));
            xg::Tape::current().clear();
        }
        xg::export_onnx(*model, x, dir / (name + "_again.onnx"));
        auto again = xg::import_onnx(dir / (name + "_again.onnx"));
        CHECK(max_abs_diff(predict(*again, x), y) <= 1e-5f);

        // Fine-tuning: fit lowers the loss towards targets of its own.
        const std::size_t classes = y.shape()[1];
        xg::Array targets = xt::zeros<float>({x.shape()[0], classes});
        for (std::size_t i = 0; i < x.shape()[0]; ++i) targets(i, i % classes) = 1.0f;
        xg::Model trainer(model);
        trainer.compile("adam", name == "mlp" ? "categorical_crossentropy" : "mse");
        xg::FitOptions options;
        options.epochs = 30;
        options.batch_size = 7;
        options.verbose = 0;
        const xg::History h = trainer.fit(x, targets, options);
        const auto& loss = h["loss"];
        CHECK(loss.back() < loss.front());
        CHECK(max_abs_diff(predict(*model, x), y) > 1e-3f);  // the weights did change
    }
}

TEST_CASE("import_onnx names the file for what is not an ONNX model") {
    ScratchDir dir;
    CHECK_THROWS_WITH_AS(xg::import_onnx(dir / "missing.onnx"), doctest::Contains("missing.onnx: cannot open"),
                         xg::IoError);
    std::ofstream(dir / "junk.onnx") << "\x08\x07 this is not protobuf \xff\xff";
    CHECK_THROWS_WITH_AS(xg::import_onnx(dir / "junk.onnx"), doctest::Contains("junk.onnx: not an ONNX model"),
                         xg::IoError);
    std::ofstream(dir / "empty.onnx");
    CHECK_THROWS_WITH_AS(xg::import_onnx(dir / "empty.onnx"), doctest::Contains("no graph"), xg::IoError);
}

TEST_CASE("read_onnx_tensor reads float tensors, and int and bool ones as the whole numbers they hold") {
    ScratchDir dir;
    const auto written = [&](const onnx::TensorProto& t, const std::string& name) {
        const std::string path = dir / name;
        std::ofstream(path, std::ios::binary) << t.SerializeAsString();
        return path;
    };
    onnx::TensorProto floats;
    floats.set_data_type(onnx::TensorProto::FLOAT);
    floats.add_dims(2);
    for (float v : {1.5f, -2.0f}) floats.add_float_data(v);
    CHECK(xg::read_onnx_tensor(written(floats, "floats.pb")) == xg::Array{1.5f, -2.0f});
    onnx::TensorProto indices;
    indices.set_data_type(onnx::TensorProto::INT64);
    indices.add_dims(2);
    indices.add_dims(1);
    for (long v : {3L, -2L}) indices.add_int64_data(v);
    xg::Array column = {3.0f, -2.0f};
    column.reshape({2, 1});
    CHECK(xg::read_onnx_tensor(written(indices, "indices.pb")) == column);
    // Bool: one byte per value in raw_data, or int32_data.
    onnx::TensorProto truths;
    truths.set_data_type(onnx::TensorProto::BOOL);
    truths.add_dims(3);
    truths.set_raw_data(std::string("\x01\x00\x01", 3));
    CHECK(xg::read_onnx_tensor(written(truths, "raw_truths.pb")) == xg::Array{1.0f, 0.0f, 1.0f});
    truths.clear_raw_data();
    for (int v : {0, 1, 1}) truths.add_int32_data(v);
    CHECK(xg::read_onnx_tensor(written(truths, "truths.pb")) == xg::Array{0.0f, 1.0f, 1.0f});
    truths.add_int32_data(0);
    CHECK_THROWS_WITH_AS(xg::read_onnx_tensor(written(truths, "short.pb")), doctest::Contains("holds 4 values; expected 3"),
                         xg::IoError);
    // An integer a float does not hold exactly, and types xgrad does not read, are refused by name.
    indices.set_int64_data(0, (1L << 24) + 1);
    CHECK_THROWS_WITH_AS(xg::read_onnx_tensor(written(indices, "wide.pb")),
                         doctest::Contains("value 16777217 of data type INT64; expected integers a float holds exactly"),
                         xg::OnnxUnsupportedError);
    onnx::TensorProto doubles;
    doubles.set_data_type(onnx::TensorProto::DOUBLE);
    doubles.add_dims(1);
    doubles.add_double_data(1.0);
    CHECK_THROWS_WITH_AS(xg::read_onnx_tensor(written(doubles, "doubles.pb")), doctest::Contains("data type DOUBLE"),
                         xg::OnnxUnsupportedError);
    std::ofstream(dir / "junk.pb") << "\x08\x07 this is not protobuf \xff\xff";
    CHECK_THROWS_WITH_AS(xg::read_onnx_tensor(dir / "junk.pb"), doctest::Contains("not a serialized ONNX tensor"),
                         xg::IoError);
}

TEST_CASE("import_onnx names the node and the reason for what xgrad does not run") {
    ScratchDir dir;
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, one_node("Einsum"))),
                         doctest::Contains("node 'the_node' (Einsum) uses op Einsum, which xgrad does not run"),
                         xg::OnnxUnsupportedError);
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, one_node("Relu", 99))),
                         doctest::Contains("opset 99 of the default domain; expected 6 to 17"), xg::OnnxUnsupportedError);

    onnx::ModelProto ints = one_node("Relu");
    ints.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, ints)), doctest::Contains("input 'x' has type INT64"),
                         xg::OnnxUnsupportedError);

    onnx::ModelProto dangling = one_node("Relu");
    dangling.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, dangling)),
                         doctest::Contains("node 'the_node' (Relu) reads 'nowhere', which no input"), xg::IoError);

    onnx::ModelProto grouped = one_node("Conv");
    auto* w = grouped.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    for (int d : {2, 1, 1, 1}) w->add_dims(d);
    w->add_float_data(1), w->add_float_data(2);
    grouped.mutable_graph()->mutable_node(0)->add_input("w");
    auto* group = grouped.mutable_graph()->mutable_node(0)->add_attribute();
    group->set_name("group");
    group->set_type(onnx::AttributeProto::INT);
    group->set_i(2);
    auto model = xg::import_onnx(write_model(dir, grouped));
    // A group per channel is a depthwise convolution: channel c times its own 1x1 filter, w[c].
    const xg::Array depthwise = (*model)(xg::Tensor(xg::Array(xt::ones<float>({1, 2, 3, 3})))).value();
    CHECK(depthwise == xt::concatenate(xt::xtuple(xt::ones<float>({1, 1, 3, 3}), 2.0f * xt::ones<float>({1, 1, 3, 3})), 1));
    // With 4 channels, two groups of two read W (C_out, 2, 1, 1): this W is not one.
    CHECK_THROWS_WITH_AS((*model)(xg::Tensor(xg::Array(xt::ones<float>({1, 4, 3, 3})))),
                         doctest::Contains("node 'the_node' (Conv): W (2, 1, 1, 1) for X (1, 4, 3, 3) and group 2; "
                                           "expected (C_out, 2, KH, KW) with C_out a multiple of 2"),
                         xg::ValueError);
    // Nor are 3 channels in two groups.
    CHECK_THROWS_WITH_AS((*model)(xg::Tensor(xg::Array(xt::ones<float>({1, 3, 3, 3})))),
                         doctest::Contains("group 2 for X (1, 3, 3, 3); expected a divisor of its 3 channels"),
                         xg::ValueError);
    // No groups at all is not a model, even for an image without channels.
    group->set_i(0);
    auto no_groups = xg::import_onnx(write_model(dir, grouped));
    CHECK_THROWS_WITH_AS((*no_groups)(xg::Tensor(xg::Array(xt::ones<float>({1, 0, 3, 3})))),
                         doctest::Contains("node 'the_node' (Conv): group 0; expected >= 1"), xg::ValueError);

    // ConvTranspose: what it cannot run, and W, B or attributes that do not fit, are refused
    // before anything is computed (a huge stride would ask for gigabytes).
    auto conv_transpose = [&](const std::function<void(onnx::NodeProto*)>& edit, std::vector<int> b_dims) {
        onnx::ModelProto m = one_node("ConvTranspose");
        auto* g = m.mutable_graph();
        auto* weights = g->add_initializer();
        weights->set_name("w");
        weights->set_data_type(onnx::TensorProto::FLOAT);
        for (int d : {2, 1, 2, 2}) weights->add_dims(d);
        for (int i = 0; i < 8; ++i) weights->add_float_data(0.5f);
        g->mutable_node(0)->add_input("w");
        if (!b_dims.empty()) {
            auto* b = g->add_initializer();
            b->set_name("b");
            b->set_data_type(onnx::TensorProto::FLOAT);
            int count = 1;
            for (int d : b_dims) b->add_dims(d), count *= d;
            for (int i = 0; i < count; ++i) b->add_float_data(1.0f);
            g->mutable_node(0)->add_input("b");
        }
        edit(g->mutable_node(0));
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Tensor image(xg::Array(xt::ones<float>({1, 2, 3, 3})));
    auto fits = conv_transpose([](onnx::NodeProto*) {}, {1});
    CHECK((*fits)(image).value() == xt::full_like(xg::Array(xt::zeros<float>({1, 1, 4, 4})), 1.0f) +
                                        xg::Array{{{{1, 2, 2, 1}, {2, 4, 4, 2}, {2, 4, 4, 2}, {1, 2, 2, 1}}}});
    auto wrong_bias = conv_transpose([](onnx::NodeProto*) {}, {2});
    CHECK_THROWS_WITH_AS((*wrong_bias)(image), doctest::Contains("B (2,); expected (1,)"), xg::ValueError);
    // output_padding reaches past the window only below the stride or the dilation.
    auto padded_too_far = conv_transpose([&](onnx::NodeProto* n) {
        add_ints(n, "dilations", {2, 1});
        add_ints(n, "output_padding", {2, 0});
    }, {});
    CHECK_THROWS_WITH_AS((*padded_too_far)(image),
                         doctest::Contains("output_padding (2, 0); expected each below the larger of its stride (1, 1) and "
                                           "dilation (2, 1)"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*fits)(xg::Tensor(xg::Array(xt::ones<float>({1, 2, 0, 3})))),
                         doctest::Contains("X (1, 2, 0, 3) has images without pixels; expected H, W >= 1"), xg::ValueError);
    auto too_dilated = conv_transpose([&](onnx::NodeProto* n) { add_ints(n, "dilations", {8192, 1}); }, {});
    CHECK_THROWS_WITH_AS((*too_dilated)(image),
                         doctest::Contains("(ConvTranspose): dilations (8192, 1); expected dilations up to 4096"),
                         xg::OnnxUnsupportedError);
    auto far = conv_transpose([&](onnx::NodeProto* n) { add_ints(n, "strides", {1L << 40, 1}); }, {});
    CHECK_THROWS_WITH_AS((*far)(image), doctest::Contains("strides (1099511627776, 1); expected strides up to 4096"),
                         xg::OnnxUnsupportedError);
    auto wrong_window = conv_transpose([&](onnx::NodeProto* n) { add_ints(n, "kernel_shape", {3, 3}); }, {});
    CHECK_THROWS_WITH_AS((*wrong_window)(image), doctest::Contains("kernel_shape (3, 3) differs from W (2, 1, 2, 2)"),
                         xg::ValueError);

    onnx::ModelProto short_weights = one_node("Add");
    auto* b = short_weights.mutable_graph()->add_initializer();
    b->set_name("b");
    b->set_data_type(onnx::TensorProto::FLOAT);
    b->add_dims(3);
    b->add_float_data(1);
    short_weights.mutable_graph()->mutable_node(0)->add_input("b");
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, short_weights)),
                         doctest::Contains("initializer 'b' holds 1 values; expected 3"), xg::IoError);

    // An empty initializer whose other extents no array could hold, wherever its 0 stands.
    for (const std::vector<long>& dims : {std::vector<long>{0, 1L << 40, 1L << 40}, std::vector<long>{1L << 40, 0}}) {
        onnx::ModelProto vast = one_node("Add");
        auto* v = vast.mutable_graph()->add_initializer();
        v->set_name("v");
        v->set_data_type(onnx::TensorProto::INT64);
        for (long d : dims) v->add_dims(d);
        vast.mutable_graph()->mutable_node(0)->add_input("v");
        CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, vast)),
                             doctest::Contains("expected extents >= 0 with fewer than 2^31 elements"), xg::IoError);
    }
}

namespace {

// Appends a node of `op` reading `in` and writing `out` to graph g.
onnx::NodeProto* add_node_to(onnx::GraphProto* g, const char* op, std::vector<const char*> in, const char* out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    for (const char* v : in) n->add_input(v);
    n->add_output(out);
    return n;
}

void add_initializer(onnx::GraphProto* g, const std::string& name, std::vector<long> dims, std::vector<float> floats,
                     std::vector<long> ints = {}) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(ints.empty() ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT64);
    for (long d : dims) t->add_dims(d);
    for (float v : floats) t->add_float_data(v);
    for (long v : ints) t->add_int64_data(v);
}

// A 1-D bool initializer of g, its truths as bytes (raw_data: any byte but 0 is true).
void add_bool_initializer(onnx::GraphProto* g, const std::string& name, const std::string& bytes) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::BOOL);
    t->add_dims(static_cast<long>(bytes.size()));
    t->set_raw_data(bytes);
}

// x (1, 1, 2, 3) = [[0, 1, 2], [3, 4, 5]]: a linear function of the pixel, which bilinear
// interpolation reproduces exactly wherever it reads.
xg::Tensor ramp() {
    xg::Array x = {0, 1, 2, 3, 4, 5};
    x.reshape({1, 1, 2, 3});
    return xg::Tensor(x);
}

}  // namespace

TEST_CASE("import_onnx runs Resize and Slice as far as xgrad's ops reach, and names what it does not run") {
    ScratchDir dir;
    // Resize of x by scales (1, 1, 2, 2) or to sizes, with the given string attributes.
    auto resize = [&](std::vector<std::pair<const char*, const char*>> settings, std::vector<float> scales,
                      std::vector<long> sizes = {}) {
        onnx::ModelProto m = one_node("Resize");
        auto* g = m.mutable_graph();
        auto* n = g->mutable_node(0);
        n->add_input("");
        if (!scales.empty()) {
            add_initializer(g, "scales", {4}, scales);
            n->add_input("scales");
        } else {
            add_initializer(g, "sizes", {4}, {}, sizes);
            n->add_input("");
            n->add_input("sizes");
        }
        for (const auto& [key, value] : settings) add_string(n, key, value);
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Tensor x = ramp();
    // Nearest, halves up, asymmetric: output pixel (r, c) reads (round(r / 2), round(c / 2)) within
    // the image (ONNX's reference gives the same).
    auto nearest = resize({{"mode", "nearest"}, {"nearest_mode", "round_prefer_ceil"},
                           {"coordinate_transformation_mode", "asymmetric"}}, {1, 1, 2, 2});
    xg::Array doubled = {0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 5, 5, 3, 4, 4, 5, 5, 5, 3, 4, 4, 5, 5, 5};
    doubled.reshape({1, 1, 4, 6});
    CHECK((*nearest)(x).value() == doubled);
    // Each rounding at asymmetric coordinates, where column c's source c / 2 is a tie at odd c;
    // the half-pixel default has no ties at scale 2 and doubles each pixel.
    const std::vector<std::pair<const char*, std::vector<float>>> roundings{
        {"round_prefer_floor", {0, 0, 1, 1, 2, 2}},
        {"round_prefer_ceil", {0, 1, 1, 2, 2, 2}},
        {"floor", {0, 0, 1, 1, 2, 2}},
        {"ceil", {0, 1, 1, 2, 2, 2}}};
    for (const auto& [name, columns] : roundings) {
        const char* rounding = name;  // a plain variable: CAPTURE's lambda cannot take a structured binding in clang
        CAPTURE(rounding);
        auto m = resize({{"nearest_mode", rounding}, {"coordinate_transformation_mode", "asymmetric"}}, {1, 1, 2, 2});
        const xg::Array first_row = xt::view((*m)(x).value(), 0, 0, 0, xt::all());
        CHECK(first_row == xg::Array(xt::adapt(columns)));
    }
    xg::Array pixels_doubled = {0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5};
    pixels_doubled.reshape({1, 1, 4, 6});
    CHECK((*resize({}, {1, 1, 2, 2}))(x).value() == pixels_doubled);
    // Linear, align_corners, to (3, 5): row r and column c read the input at (r / 2, c / 2).
    auto corners = resize({{"mode", "linear"}, {"coordinate_transformation_mode", "align_corners"}}, {}, {1, 1, 3, 5});
    const xg::Array y = (*corners)(x).value();
    REQUIRE(y.shape() == xg::Shape{1, 1, 3, 5});
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t c = 0; c < 5; ++c) CHECK(y(0, 0, r, c) == doctest::Approx(1.5 * r + 0.5 * c));
    }

    auto refused = [&](std::vector<std::pair<const char*, const char*>> settings, std::vector<float> scales,
                       const char* message) {
        auto m = resize(std::move(settings), std::move(scales));
        CHECK_THROWS_WITH_AS((*m)(x), doctest::Contains(message), xg::OnnxUnsupportedError);
    };
    refused({{"mode", "cubic"}}, {1, 1, 2, 2}, "(Resize): mode 'cubic'; expected linear or nearest");
    CHECK_THROWS_WITH_AS((*resize({{"nearest_mode", "round"}}, {1, 1, 2, 2}))(x),
                         doctest::Contains("nearest_mode 'round'; expected round_prefer_floor, round_prefer_ceil, floor "
                                           "or ceil"),
                         xg::ValueError);
    refused({{"mode", "linear"}, {"coordinate_transformation_mode", "tf_crop_and_resize"}}, {1, 1, 2, 2},
            "coordinate_transformation_mode 'tf_crop_and_resize'");
    refused({{"mode", "linear"}}, {2, 1, 2, 2}, "scales (2, 1, 2, 2); expected (1, 1, scale_h, scale_w)");
    refused({{"mode", "linear"}}, {1, 1, 1000, 1000},
            "an output of 2000 x 3000 pixels from 2 x 3; expected at most 1024 times as many pixels");
    // Upsample, Resize's predecessor: asymmetric coordinates, nearest rounding down; its scales an
    // attribute before opset 9 and an input from it.
    {
        onnx::ModelProto m = one_node("Upsample", 9);
        add_initializer(m.mutable_graph(), "scales", {4}, {1, 1, 2, 1.5f});
        m.mutable_graph()->mutable_node(0)->add_input("scales");
        xg::Array expected = {0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5, 3, 3, 4, 5};
        expected.reshape({1, 1, 4, 4});
        CHECK((*xg::import_onnx(write_model(dir, m)))(x).value() == expected);

        onnx::ModelProto linear = one_node("Upsample", 7);
        auto* n = linear.mutable_graph()->mutable_node(0);
        add_string(n, "mode", "linear");
        auto* scales = n->add_attribute();
        scales->set_name("scales");
        scales->set_type(onnx::AttributeProto::FLOATS);
        for (float v : {1.0f, 1.0f, 2.0f, 2.0f}) scales->add_floats(v);
        const xg::Array y = (*xg::import_onnx(write_model(dir, linear)))(x).value();
        REQUIRE(y.shape() == xg::Shape{1, 1, 4, 6});
        for (std::size_t r = 0; r < 4; ++r) {
            for (std::size_t c = 0; c < 6; ++c) {
                CHECK(y(0, 0, r, c) == doctest::Approx(3.0 * std::min(r / 2.0, 1.0) + std::min(c / 2.0, 2.0)));
            }
        }
        scales->set_floats(2, 0.5f);
        CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, linear)))(x),
                             doctest::Contains("(Upsample): scale 0.5 for an extent of 2; expected a scale >= 1"),
                             xg::ValueError);
        n->mutable_attribute()->RemoveLast();
        CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, linear)))(x),
                             doctest::Contains("(Upsample): no scales attribute"), xg::ValueError);
        onnx::ModelProto deprecated = one_node("Upsample", 10);
        add_initializer(deprecated.mutable_graph(), "scales", {4}, {1, 1, 2, 2});
        deprecated.mutable_graph()->mutable_node(0)->add_input("scales");
        CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, deprecated)))(x),
                             doctest::Contains("Upsample of opset 10; expected opsets 7 to 9"), xg::OnnxUnsupportedError);
    }
    // Sizes whose ratio is no float: each source computed from integers, so that floor lands on
    // the pixel PyTorch's F.interpolate(size=(2, 4), mode="nearest") reads (rows 0 and 3 of 6).
    {
        xg::Array six = xt::arange<float>(36.0f);
        six.reshape({1, 1, 6, 6});
        auto m = resize({{"nearest_mode", "floor"}, {"coordinate_transformation_mode", "asymmetric"}}, {}, {1, 1, 2, 4});
        CHECK((*m)(xg::Tensor(six)).value() == xg::Array{{{{0, 1, 3, 4}, {18, 19, 21, 22}}}});
        auto corners = resize({{"nearest_mode", "floor"}, {"coordinate_transformation_mode", "align_corners"}}, {},
                              {1, 1, 2, 2});
        xg::Array three = xt::arange<float>(9.0f);
        three.reshape({1, 1, 3, 3});
        CHECK((*corners)(xg::Tensor(three)).value() == xg::Array{{{{0, 2}, {6, 8}}}});
        // pytorch_half_pixel to one pixel reads the first, linear or nearest.
        for (const char* mode : {"linear", "nearest"}) {
            CAPTURE(mode);
            auto one = resize({{"mode", mode}, {"coordinate_transformation_mode", "pytorch_half_pixel"}}, {},
                              {1, 1, 1, 1});
            const xg::Array first = (*one)(xg::Tensor(three)).value();
            CHECK(first.shape() == xg::Shape{1, 1, 1, 1});
            CHECK(first(0, 0, 0, 0) == 0.0f);
        }
    }
    // The output's extent from a scale is counted in float, as ONNX Runtime and PyTorch count it:
    // 0.7f is a hair below 0.7, and 10 pixels still make 7.
    {
        const xg::Tensor ten(xt::ones<float>({1, 1, 10, 10}));
        CHECK((*resize({}, {1, 1, 0.7f, 0.7f}))(ten).shape() == xg::Shape{1, 1, 7, 7});
        // No image: only the shape is made, however large.
        auto huge = resize({{"mode", "linear"}}, {}, {0, 1, 10'000'000, 10'000'000});
        CHECK((*huge)(xg::Tensor(xt::zeros<float>({0, 1, 1'000'000, 1'000'000}))).shape() ==
              xg::Shape{0, 1, 10'000'000, 10'000'000});
    }
    // Nearest gathers the shrinking axis first: a row of 5000 pixels to a column of 5000 never
    // holds 5000 x 5000 values between its two gathers, and the budget counts what it holds
    // (output 5000, between 1, index tables 5001).
    {
        auto turn = resize({}, {1, 1, 5000, 1.01f / 5000});
        turn->limit_values(100'000);
        const xg::Tensor row(xt::ones<float>({1, 1, 1, 5000}));
        CHECK((*turn)(row).shape() == xg::Shape{1, 1, 5000, 1});
        turn->limit_values(5000);
        CHECK_THROWS_WITH_AS((*turn)(row), doctest::Contains("an output of 5000 x 1 pixels of 10002 values"),
                             xg::OnnxUnsupportedError);
    }
    // Chained, each Resize within bounds of its own input still meets the limit of the whole run:
    // the default (65536 times the 4096 values a small model counts as), or one of the caller's.
    {
        onnx::ModelProto m = one_node("Resize");
        auto* g = m.mutable_graph();
        add_initializer(g, "scales", {4}, {1, 1, 32, 32});
        add_string(g->mutable_node(0), "mode", "linear");
        g->mutable_node(0)->add_input("");
        g->mutable_node(0)->add_input("scales");
        g->mutable_node(0)->set_output(0, "y0");
        for (const char* step : {"y1", "y"}) {
            auto* n = g->add_node();
            *n = g->node(0);
            n->set_input(0, g->node(g->node_size() - 2).output(0));
            n->set_output(0, step);
        }
        auto chain = xg::import_onnx(write_model(dir, m));
        CHECK_THROWS_WITH_AS((*chain)(x), doctest::Contains("of 6442450944 values would take this run past its limit of "
                                                            "268435456"),
                             xg::OnnxUnsupportedError);
        chain->limit_values(4'194'304);
        CHECK_THROWS_WITH_AS((*chain)(x), doctest::Contains("of 6291456 values would take this run past its limit of "
                                                            "4194304 (OnnxModel::limit_values; 6144 computed so far)"),
                             xg::OnnxUnsupportedError);
    }
    // A Pad within its per-side limit, before it allocates.
    {
        onnx::ModelProto m = one_node("Pad");
        add_initializer(m.mutable_graph(), "pads", {4}, {}, {4096, 4096, 4096, 4096});
        m.mutable_graph()->mutable_node(0)->add_input("pads");
        auto padded = xg::import_onnx(write_model(dir, m));
        padded->limit_values(4'194'304);
        xg::Array small = {{1, 2, 3}, {4, 5, 6}};
        CHECK_THROWS_WITH_AS((*padded)(xg::Tensor(small)), doctest::Contains("(Pad): an output of 67149830 values"),
                             xg::OnnxUnsupportedError);
    }
    // Broadcasting, before it allocates: a column times a row, or compared with one.
    for (const char* op : {"Mul", "Greater"}) {
        CAPTURE(op);
        onnx::ModelProto m = one_node(op);
        add_initializer(m.mutable_graph(), "row", {1, 2048}, std::vector<float>(2048, 1.0f));
        m.mutable_graph()->mutable_node(0)->add_input("row");
        auto outer = xg::import_onnx(write_model(dir, m));
        outer->limit_values(1'000'000);
        const xg::Array column = xt::ones<float>({2048, 1});
        CHECK_THROWS_WITH_AS((*outer)(xg::Tensor(column)),
                             doctest::Contains(fmt::format("({}): its output of 4194304 values", op).c_str()),
                             xg::OnnxUnsupportedError);
        outer->limit_values(0);  // the default: 65536 times the 4096 values held and fed
        CHECK((*outer)(xg::Tensor(column)).shape() == xg::Shape{2048, 2048});
    }
    // Outputs that are their input's values cost nothing: 3000 Identity nodes under a limit of 100.
    {
        onnx::ModelProto m = one_node("Identity");
        auto* g = m.mutable_graph();
        g->mutable_node(0)->set_output(0, "v0");
        for (int i = 1; i < 3000; ++i) {
            auto* n = g->add_node();
            n->set_op_type("Identity");
            n->set_name(fmt::format("n{}", i));
            n->add_input(fmt::format("v{}", i - 1));
            n->add_output(i == 2999 ? "y" : fmt::format("v{}", i));
        }
        auto identities = xg::import_onnx(write_model(dir, m));
        identities->limit_values(100);
        xg::Array small = {{1, 2, 3}, {4, 5, 6}};
        CHECK((*identities)(xg::Tensor(small)).value() == small);
    }
    auto vanishing = resize({{"mode", "linear"}}, {1, 1, 0.1f, 1});
    CHECK_THROWS_WITH_AS((*vanishing)(x), doctest::Contains("scale 0.1 for an extent of 2"), xg::ValueError);

    // Slice: negative starts count from the end, ends past it are clamped.
    auto slice = [&](std::vector<long> starts, std::vector<long> ends, std::vector<long> axes, std::vector<long> steps) {
        onnx::ModelProto m = one_node("Slice");
        auto* g = m.mutable_graph();
        for (auto& [name, values] : {std::pair{"starts", starts}, std::pair{"ends", ends}, std::pair{"axes", axes},
                                     std::pair{"steps", steps}}) {
            add_initializer(g, name, {static_cast<long>(values.size())}, {}, values);
            g->mutable_node(0)->add_input(name);
        }
        return xg::import_onnx(write_model(dir, m));
    };
    xg::Array flat = {0, 1, 2, 3, 4, 5};
    flat.reshape({2, 3});
    auto tail = slice({-2}, {1L << 62}, {1}, {1});
    CHECK((*tail)(xg::Tensor(flat)).value() == xg::Array{{1, 2}, {4, 5}});
    auto both = slice({1, 0}, {2, 1}, {0, -1}, {1, 1});
    CHECK((*both)(xg::Tensor(flat)).value() == xg::Array(3.0f * xt::ones<float>({1, 1})));
    // Steps other than 1: every step-th index; going backwards, starts and ends clamped to
    // [0, extent - 1] and [-1, extent - 1], the lowest int64 end reaching the first index.
    const long lowest = std::numeric_limits<long>::min(), highest = std::numeric_limits<long>::max();
    auto strided = slice({0}, {3}, {1}, {2});
    CHECK((*strided)(xg::Tensor(flat)).value() == xg::Array{{0, 2}, {3, 5}});
    auto reversed = slice({-1}, {lowest}, {1}, {-1});
    CHECK((*reversed)(xg::Tensor(flat)).value() == xg::Array{{2, 1, 0}, {5, 4, 3}});
    auto reversed_rows = slice({highest, 2}, {lowest, 0}, {0, 1}, {-1, -2});
    const auto column = [](xg::Array values) {
        values.reshape({values.size(), 1});
        return values;
    };
    CHECK((*reversed_rows)(xg::Tensor(flat)).value() == column({5, 2}));
    auto far_steps = slice({0, -1}, {3, -4}, {0, 1}, {highest, lowest});
    CHECK((*far_steps)(xg::Tensor(flat)).value() == column({2}));
    xg::Array no_columns = xt::zeros<float>({2, 0});
    CHECK((*reversed)(xg::Tensor(no_columns)).shape() == xg::Shape{2, 0});
    auto nothing = slice({0}, {3}, {1}, {-1});
    CHECK((*nothing)(xg::Tensor(flat)).shape() == xg::Shape{2, 0});
    auto still = slice({0}, {3}, {1}, {0});
    CHECK_THROWS_WITH_AS((*still)(xg::Tensor(flat)), doctest::Contains("(Slice): a step of 0 for axis 1"),
                         xg::ValueError);
    // The gradient of a reversed slice goes back to the indices it took.
    xg::Tensor leaf(flat, true);
    xg::sum((*reversed_rows)(leaf) * xg::Tensor(column({1, 2}))).backward();
    CHECK(leaf.grad() == xg::Array{{0, 0, 0}, {0, 0, 1}} + xg::Array{{0, 0, 2}, {0, 0, 0}});
    auto uneven = slice({0}, {3}, {1}, {1, 1});
    CHECK_THROWS_WITH_AS((*uneven)(xg::Tensor(flat)), doctest::Contains("2 steps"), xg::ValueError);
    onnx::ModelProto old = one_node("Slice", 9);  // starts and ends as attributes
    auto* starts = old.mutable_graph()->mutable_node(0)->add_attribute();
    starts->set_name("starts");
    starts->set_type(onnx::AttributeProto::INTS);
    starts->add_ints(1);
    auto no_ends = xg::import_onnx(write_model(dir, old));
    CHECK_THROWS_WITH_AS((*no_ends)(xg::Tensor(flat)), doctest::Contains("no starts or no ends attribute"),
                         xg::ValueError);
    auto twice = slice({0, 1}, {3, 2}, {1, 1}, {1, 1});
    CHECK_THROWS_WITH_AS((*twice)(xg::Tensor(flat)), doctest::Contains("axis 1 is sliced twice"), xg::ValueError);
}

TEST_CASE("import_onnx runs LayerNormalization with Scale and B broadcast to the normalized axes") {
    ScratchDir dir;
    auto layer_norm = [&](std::vector<long> scale_dims, std::vector<float> scale) {
        onnx::ModelProto m = one_node("LayerNormalization", 17);
        add_initializer(m.mutable_graph(), "scale", std::move(scale_dims), std::move(scale));
        m.mutable_graph()->mutable_node(0)->add_input("scale");
        return xg::import_onnx(write_model(dir, m));
    };
    // Each row (mean 1, variance 2/3) normalized, times a Scale of one value; no B.
    const xg::Tensor x(xg::Array{{0, 1, 2}, {4, 3, 2}});
    const float z = 1.0f / std::sqrt(2.0f / 3.0f + 1e-5f);
    const xg::Array y = (*layer_norm({1}, {2.0f}))(x).value();
    CHECK(xt::allclose(y, xg::Array{{-2 * z, 0, 2 * z}, {2 * z, 0, -2 * z}}, 1e-5, 1e-6));
    CHECK_THROWS_WITH_AS((*layer_norm({2}, {1.0f, 1.0f}))(x), doctest::Contains("(LayerNormalization): broadcast_to"),
                         xg::ShapeError);
}

TEST_CASE("import_onnx runs Gather on float data by constant indices of any rank, along any axis") {
    ScratchDir dir;
    auto gather = [&](std::vector<long> dims, std::vector<long> indices, long axis) {
        onnx::ModelProto m = one_node("Gather");
        add_initializer(m.mutable_graph(), "indices", std::move(dims), {}, std::move(indices));
        auto* n = m.mutable_graph()->mutable_node(0);
        n->add_input("indices");
        auto* a = n->add_attribute();
        a->set_name("axis");
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(axis);
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Tensor x(xg::Array{{0, 1, 2}, {3, 4, 5}});
    // A scalar index drops the axis; indices of rank 2 put two axes in its place; negative ones
    // count from the end.
    CHECK((*gather({}, {-1}, 1))(x).value() == xg::Array{2, 5});
    const xg::Array y = (*gather({2, 2}, {0, 2, 1, 1}, 1))(x).value();
    CHECK(y == xg::Array{{{0, 2}, {1, 1}}, {{3, 5}, {4, 4}}});
    CHECK((*gather({3}, {1, 0, 1}, 0))(x).value() == xg::Array{{3, 4, 5}, {0, 1, 2}, {3, 4, 5}});
    CHECK_THROWS_WITH_AS((*gather({1}, {3}, 1))(x),
                         doctest::Contains("(Gather): index 3 for axis 1 of data (2, 3); expected -3 to 2"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*gather({1}, {0}, 2))(x), doctest::Contains("axis 2 is out of range for rank 2"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*gather({1}, {-1}, 1))(xg::Tensor(xg::Array(xt::zeros<float>({2, 0})))),
                         doctest::Contains("(Gather): axis 1 of data (2, 0) is empty; expected no indices"),
                         xg::ValueError);
    onnx::ModelProto floats = one_node("Gather");
    add_initializer(floats.mutable_graph(), "indices", {1}, {0.0f});
    floats.mutable_graph()->mutable_node(0)->add_input("indices");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, floats)))(x),
                         doctest::Contains("float indices, or indices computed at run time other than a Cast to an integer type; expected constant int64"),
                         xg::OnnxUnsupportedError);
}

TEST_CASE("import_onnx runs Split by lengths or into equal parts, and names lengths that do not fit") {
    ScratchDir dir;
    // x (2, 3) split along its last axis into `parts` outputs, by `lengths` if given; the model's
    // output is the last part.
    auto split = [&](int opset, std::size_t parts, std::optional<std::vector<long>> lengths) {
        onnx::ModelProto m = one_node("Split", opset);
        auto* g = m.mutable_graph();
        auto* n = g->mutable_node(0);
        n->clear_output();
        auto* a = n->add_attribute();
        a->set_name("axis");
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(-1);
        if (lengths && opset >= 13) {
            add_initializer(g, "lengths", {static_cast<long>(lengths->size())}, {}, *lengths);
            n->add_input("lengths");
        } else if (lengths) {
            auto* l = n->add_attribute();
            l->set_name("split");
            l->set_type(onnx::AttributeProto::INTS);
            for (long v : *lengths) l->add_ints(v);
        }
        for (std::size_t k = 0; k < parts; ++k) n->add_output(k + 1 == parts ? "y" : fmt::format("part{}", k));
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Tensor x(xg::Array{{0, 1, 2}, {3, 4, 5}});
    CHECK((*split(13, 3, std::nullopt))(x).value() == xg::Array(xt::transpose(xg::Array{{2.0f, 5.0f}})));
    CHECK((*split(11, 2, std::vector<long>{1, 2}))(x).value() == xg::Array{{1, 2}, {4, 5}});
    CHECK((*split(13, 2, std::vector<long>{2, 1}))(x).value() == xg::Array(xt::transpose(xg::Array{{2.0f, 5.0f}})));
    CHECK((*split(13, 2, std::vector<long>{3, 0}))(x).shape() == xg::Shape{2, 0});
    CHECK((*split(11, 3, std::vector<long>{}))(x).value() == xg::Array(xt::transpose(xg::Array{{2.0f, 5.0f}})));
    CHECK_THROWS_WITH_AS((*split(13, 2, std::nullopt))(x),
                         doctest::Contains("(Split): cannot split axis 1 (extent 3) into 2 equal parts; expected split "
                                           "lengths or an extent divisible by the number of outputs"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*split(13, 2, std::vector<long>{1, 1}))(x),
                         doctest::Contains("split lengths 1, 1 of axis 1 of extent 3; expected lengths >= 0 summing to it"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*split(11, 2, std::vector<long>{4, -1}))(x), doctest::Contains("split lengths 4, -1"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*split(13, 2, std::vector<long>{1, 1, 1}))(x),
                         doctest::Contains("3 split lengths for 2 outputs; expected one per output"), xg::ValueError);
    // Lengths where the node's opset does not read them would be ignored: refused.
    onnx::ModelProto attribute_at_13 = one_node("Split", 13);
    auto* l = attribute_at_13.mutable_graph()->mutable_node(0)->add_attribute();
    l->set_name("split");
    l->set_type(onnx::AttributeProto::INTS);
    l->add_ints(1);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, attribute_at_13)))(x),
                         doctest::Contains("a split attribute; from opset 13 the lengths are input 1"), xg::ValueError);
    onnx::ModelProto input_at_11 = one_node("Split", 11);
    add_initializer(input_at_11.mutable_graph(), "lengths", {1}, {}, {3});
    input_at_11.mutable_graph()->mutable_node(0)->add_input("lengths");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, input_at_11)))(x),
                         doctest::Contains("a second input; before opset 13 the lengths are the split attribute"),
                         xg::ValueError);
}

TEST_CASE("import_onnx runs Max and Min of any number of broadcast inputs, and ReduceMin") {
    ScratchDir dir;
    auto variadic = [&](const std::string& op, int opset = 13) {
        onnx::ModelProto m = one_node(op, opset);
        add_initializer(m.mutable_graph(), "row", {3}, {0.5f, 1.5f, 2.5f});
        add_initializer(m.mutable_graph(), "column", {2, 1}, {1.0f, 4.0f});
        m.mutable_graph()->mutable_node(0)->add_input("row");
        m.mutable_graph()->mutable_node(0)->add_input("column");
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Tensor x(xg::Array{{0, 1, 2}, {3, 4, 5}});
    CHECK((*variadic("Max"))(x).value() == xg::Array{{1, 1.5f, 2.5f}, {4, 4, 5}});
    CHECK((*variadic("Min"))(x).value() == xg::Array{{0, 1, 1}, {0.5f, 1.5f, 2.5f}});
    // Before opset 8 Max and Min do not broadcast.
    for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
        const std::string expected =
            fmt::format("({}): inputs of shapes (2, 3) and (3,); expected equal shapes before opset 8", op);
        CHECK_THROWS_WITH_AS((*variadic(op, 7))(x), doctest::Contains(expected.c_str()), xg::ValueError);
    }
    onnx::ModelProto reduce = one_node("ReduceMin");
    auto* keep = reduce.mutable_graph()->mutable_node(0)->add_attribute();
    keep->set_name("keepdims");
    keep->set_type(onnx::AttributeProto::INT);
    keep->set_i(0);
    CHECK((*xg::import_onnx(write_model(dir, reduce)))(x).value() == xg::scalar_array(0.0f));
}

TEST_CASE("an imported model's initializers are its parameters, a batch normalization's statistics its buffers") {
    onnx::ModelProto m = one_node("BatchNormalization");
    for (const char* name : {"scale", "bias", "mean", "var"}) {
        auto* t = m.mutable_graph()->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        t->add_dims(2);
        t->add_float_data(std::string(name) == "var" ? 4.0f : 1.0f);
        t->add_float_data(std::string(name) == "var" ? 4.0f : 1.0f);
        m.mutable_graph()->mutable_node(0)->add_input(name);
    }
    auto* type = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    type->mutable_dim(1)->set_dim_value(2);
    ScratchDir dir;
    auto model = xg::import_onnx(write_model(dir, m));
    CHECK(model->named_parameters().size() == 2);
    CHECK(model->named_buffers().size() == 2);
    // (x - 1) / sqrt(4 + 1e-5) * 1 + 1
    const xg::Array y = predict(*model, xg::Array(xt::ones<float>({1, 2}) * 3.0f));
    CHECK(y(0, 1) == doctest::Approx(2.0f).epsilon(1e-5));
}

TEST_CASE("import_onnx runs dilated Conv and ConvTranspose as direct loops do") {
    // Taps 2 rows and 1 column apart, so that a swap of the axes would show; distinct weights and
    // pixels, so that a flip would.
    const xg::Array w = xt::reshape_view(xg::Array{1, 2, 3, 4}, {2, 2});
    ScratchDir dir;

    // Conv with SAME_UPPER: the span is 3 x 2, so 2 rows are padded (1 before) and 1 column (after).
    onnx::ModelProto conv = one_node("Conv");
    add_initializer(conv.mutable_graph(), "w", {1, 1, 2, 2}, {1, 2, 3, 4});
    conv.mutable_graph()->mutable_node(0)->add_input("w");
    add_ints(conv.mutable_graph()->mutable_node(0), "dilations", {2, 1});
    add_string(conv.mutable_graph()->mutable_node(0), "auto_pad", "SAME_UPPER");
    const xg::Array x = xt::reshape_view(xt::arange<float>(1.0f, 31.0f), {1, 1, 5, 6});
    xg::Array expected = xt::zeros<float>({1, 1, 5, 6});
    for (long i = 0; i < 5; ++i)
        for (long j = 0; j < 6; ++j)
            for (long ty = 0; ty < 2; ++ty)
                for (long tx = 0; tx < 2; ++tx) {
                    const long r = i - 1 + 2 * ty, c = j + tx;
                    if (r >= 0 && r < 5 && c < 6) expected(0, 0, i, j) += w(ty, tx) * x(0, 0, r, c);
                }
    CHECK((*xg::import_onnx(write_model(dir, conv)))(xg::Tensor(x)).value() == expected);

    // ConvTranspose: each pixel spread over its taps; output_padding 1 adds a row past the last
    // window's reach, which ONNX allows below the dilation even where the stride is 1.
    onnx::ModelProto transposed = one_node("ConvTranspose");
    add_initializer(transposed.mutable_graph(), "w", {1, 1, 2, 2}, {1, 2, 3, 4});
    transposed.mutable_graph()->mutable_node(0)->add_input("w");
    add_ints(transposed.mutable_graph()->mutable_node(0), "dilations", {2, 1});
    add_ints(transposed.mutable_graph()->mutable_node(0), "output_padding", {1, 0});
    const xg::Array small = xt::reshape_view(xt::arange<float>(1.0f, 7.0f), {1, 1, 2, 3});
    xg::Array spread = xt::zeros<float>({1, 1, 5, 4});  // rows (2 - 1) + 3 + 1, columns (3 - 1) + 2
    for (long p = 0; p < 2; ++p)
        for (long q = 0; q < 3; ++q)
            for (long ty = 0; ty < 2; ++ty)
                for (long tx = 0; tx < 2; ++tx) spread(0, 0, p + 2 * ty, q + tx) += w(ty, tx) * small(0, 0, p, q);
    CHECK((*xg::import_onnx(write_model(dir, transposed)))(xg::Tensor(small)).value() == spread);
    // The padded row counts toward a crop: output_shape (4, 4) crops 1 of the 5 rows, before
    // (ONNX puts the larger half of a crop before, unless SAME_UPPER).
    add_ints(transposed.mutable_graph()->mutable_node(0), "output_shape", {4, 4});
    const xg::Array cropped = xt::view(spread, xt::all(), xt::all(), xt::range(1, 5), xt::all());
    CHECK((*xg::import_onnx(write_model(dir, transposed)))(xg::Tensor(small)).value() == cropped);
    // A window of no rows has no span to dilate.
    onnx::ModelProto empty = one_node("ConvTranspose");
    add_initializer(empty.mutable_graph(), "w", {1, 1, 0, 2}, {});
    empty.mutable_graph()->mutable_node(0)->add_input("w");
    add_ints(empty.mutable_graph()->mutable_node(0), "dilations", {2, 1});
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, empty)))(xg::Tensor(small)),
                         doctest::Contains("W (1, 1, 0, 2) has an empty window; expected KH, KW >= 1"), xg::ValueError);
}

TEST_CASE("import_onnx runs Conv, ConvTranspose and the pools over sequences (N, C, L), and names what does not fit") {
    // Two channels of seven steps, 1 ... 14: small integers, so every sum below is exact.
    const xg::Array x = xt::reshape_view(xt::arange<float>(1.0f, 15.0f), {1, 2, 7});
    const auto at = [&](long c, long t) { return t >= 0 && t < 7 ? x(0, c, t) : 0.0f; };  // zero outside
    ScratchDir dir;
    const auto with_weights = [](const std::string& op, std::vector<long> w_dims) {
        onnx::ModelProto m = one_node(op);
        add_initializer(m.mutable_graph(), "w", w_dims, {1, 2, 3, 4});
        m.mutable_graph()->mutable_node(0)->add_input("w");
        return m;
    };
    const auto run = [&](const onnx::ModelProto& m) { return (*xg::import_onnx(write_model(dir, m)))(xg::Tensor(x)).value(); };

    // Conv: one filter of two taps two steps apart, stride 2, pads 1 before and 2 after, a bias.
    onnx::ModelProto conv = with_weights("Conv", {1, 2, 2});  // w[0][c][t] = 1 + 2c + t
    add_initializer(conv.mutable_graph(), "b", {1}, {0.5f});
    auto* node = conv.mutable_graph()->mutable_node(0);
    node->add_input("b");
    add_ints(node, "dilations", {2});
    add_ints(node, "strides", {2});
    add_ints(node, "pads", {1, 2});
    xg::Array expected = xt::zeros<float>({1, 1, 4});  // (7 + 3 - 3) / 2 + 1 windows
    for (long o = 0; o < 4; ++o) {
        expected(0, 0, o) = 0.5f;
        for (long c = 0; c < 2; ++c)
            for (long t = 0; t < 2; ++t) expected(0, 0, o) += static_cast<float>(1 + 2 * c + t) * at(c, 2 * o + 2 * t - 1);
    }
    CHECK(run(conv) == expected);

    // ConvTranspose: each step spread over two outputs, stride 2.
    onnx::ModelProto transposed = with_weights("ConvTranspose", {2, 1, 2});  // w[c][0][t] = 1 + 2c + t
    add_ints(transposed.mutable_graph()->mutable_node(0), "strides", {2});
    xg::Array spread = xt::zeros<float>({1, 1, 14});
    for (long c = 0; c < 2; ++c)
        for (long p = 0; p < 7; ++p)
            for (long t = 0; t < 2; ++t) spread(0, 0, 2 * p + t) += static_cast<float>(1 + 2 * c + t) * x(0, c, p);
    CHECK(run(transposed) == spread);

    // MaxPool over three steps, stride 2, one step of padding each side (never the maximum);
    // AveragePool over pairs.
    onnx::ModelProto max_pool = one_node("MaxPool");
    add_ints(max_pool.mutable_graph()->mutable_node(0), "kernel_shape", {3});
    add_ints(max_pool.mutable_graph()->mutable_node(0), "strides", {2});
    add_ints(max_pool.mutable_graph()->mutable_node(0), "pads", {1, 1});
    onnx::ModelProto average = one_node("AveragePool");
    add_ints(average.mutable_graph()->mutable_node(0), "kernel_shape", {2});
    xg::Array maxima = xt::zeros<float>({1, 2, 4}), means = xt::zeros<float>({1, 2, 6});
    for (long c = 0; c < 2; ++c) {
        for (long o = 0; o < 4; ++o) maxima(0, c, o) = x(0, c, std::min(2 * o + 1, 6L));  // the steps rise
        for (long o = 0; o < 6; ++o) means(0, c, o) = (x(0, c, o) + x(0, c, o + 1)) / 2.0f;
    }
    CHECK(run(max_pool) == maxima);
    CHECK(run(average) == means);
    // MaxPool's two taps two steps apart, one step of padding before: the later tap wins.
    onnx::ModelProto dilated_pool = one_node("MaxPool");
    add_ints(dilated_pool.mutable_graph()->mutable_node(0), "kernel_shape", {2});
    add_ints(dilated_pool.mutable_graph()->mutable_node(0), "dilations", {2});
    add_ints(dilated_pool.mutable_graph()->mutable_node(0), "pads", {1, 0});
    const xg::Array later = xt::view(x, xt::all(), xt::all(), xt::range(1, 7));
    CHECK(run(dilated_pool) == later);

    // Attributes and weights of another rank are named as they are in the file.
    onnx::ModelProto two_strides = with_weights("Conv", {1, 2, 2});
    add_ints(two_strides.mutable_graph()->mutable_node(0), "strides", {1, 2});
    CHECK_THROWS_WITH_AS(run(two_strides), doctest::Contains("strides (1, 2); expected one value for sequences (N, C, L)"),
                         xg::ValueError);
    onnx::ModelProto one_pad = one_node("MaxPool");
    add_ints(one_pad.mutable_graph()->mutable_node(0), "kernel_shape", {2});
    add_ints(one_pad.mutable_graph()->mutable_node(0), "pads", {1});
    CHECK_THROWS_WITH_AS(run(one_pad),
                         doctest::Contains("pads (1); expected two values (begin, end) for sequences (N, C, L)"),
                         xg::ValueError);
    // What the 2-D op refuses names its shapes, and says where their row axis comes from.
    onnx::ModelProto wide_window = one_node("AveragePool");
    add_ints(wide_window.mutable_graph()->mutable_node(0), "kernel_shape", {9});
    CHECK_THROWS_WITH_AS(run(wide_window),
                         doctest::Contains("kernel_shape (1, 9) larger than X (1, 2, 1, 7) with pads (0, 0, 0, 0) (sequences "
                                           "(N, C, L) run as images of one row (N, C, 1, L))"),
                         xg::ValueError);
    onnx::ModelProto endless = one_node("MaxPool");
    add_ints(endless.mutable_graph()->mutable_node(0), "kernel_shape", {long{1} << 62});
    add_ints(endless.mutable_graph()->mutable_node(0), "dilations", {4});
    CHECK_THROWS_WITH_AS(run(endless), doctest::Contains("expected windows spanning at most 2147483648 pixels"),
                         xg::OnnxUnsupportedError);
    CHECK_THROWS_WITH_AS(run(with_weights("Conv", {1, 2, 1, 2})),
                         doctest::Contains("W (1, 2, 1, 2) for X (1, 2, 7); expected 3 axes, as X's"), xg::ValueError);
    const xg::Tensor volume(xg::Array(xt::zeros<float>({1, 2, 3, 3, 3})));
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, with_weights("Conv", {2, 2, 1, 1, 1}))))(volume),
                         doctest::Contains("input X (1, 2, 3, 3, 3); expected sequences (N, C, L) or images (N, C, H, W)"),
                         xg::OnnxUnsupportedError);
}

TEST_CASE("import_onnx runs LSTM, GRU and RNN nodes in either direction, and names the forms it does not run") {
    ScratchDir dir;
    // An RNN of 2 units over 3 steps of 2 features, batch 1: W (1, 2, 2), R (1, 2, 2), B (1, 4);
    // its output y is Y_h, or Y (every step's state) when `every_step`.
    const auto rnn = [](const std::string& direction, bool every_step = false) {
        onnx::ModelProto m = one_node("RNN");
        auto* g = m.mutable_graph();
        add_initializer(g, "w", {1, 2, 2}, {0.5f, -0.25f, 0.75f, 0.125f});
        add_initializer(g, "r", {1, 2, 2}, {0.25f, -0.5f, 0.375f, 0.625f});
        add_initializer(g, "b", {1, 4}, {0.1f, -0.2f, 0.05f, 0.3f});
        auto* n = g->mutable_node(0);
        for (const char* input : {"w", "r", "b"}) n->add_input(input);
        if (!every_step) {
            n->set_output(0, "");
            n->add_output("y");  // Y_h only: every step's state left unnamed, as ONNX's own tests do
        }
        g->mutable_output(0)->set_name("y");
        if (!direction.empty()) add_string(n, "direction", direction.c_str());
        return m;
    };
    const xg::Array x = xt::reshape_view(xg::Array{1, 2, -1, 0.5f, 0.25f, -2}, {3, 1, 2});
    const xg::Array backwards = xt::flip(x, 0);
    const xg::Array last = (*xg::import_onnx(write_model(dir, rnn(""))))(xg::Tensor(x)).value();
    // The same recurrence by hand: h = tanh(x W^T + h R^T + Wb + Rb).
    float h[2] = {0, 0};
    for (std::size_t t = 0; t < 3; ++t) {
        const float a = std::tanh(0.5f * x(t, 0, 0) - 0.25f * x(t, 0, 1) + 0.25f * h[0] - 0.5f * h[1] + 0.15f);
        const float b = std::tanh(0.75f * x(t, 0, 0) + 0.125f * x(t, 0, 1) + 0.375f * h[0] + 0.625f * h[1] + 0.1f);
        h[0] = a, h[1] = b;
    }
    REQUIRE(last.shape() == xg::Shape{1, 1, 2});
    CHECK(last(0, 0, 0) == doctest::Approx(h[0]).epsilon(1e-6));
    CHECK(last(0, 0, 1) == doctest::Approx(h[1]).epsilon(1e-6));
    // reverse reads the sequence from its end: the forward state of the flipped sequence.
    CHECK(max_abs_diff((*xg::import_onnx(write_model(dir, rnn("reverse"))))(xg::Tensor(backwards)).value(), last) <= 1e-6f);
    // Its Y keeps the steps in the input's order: Y[t] is the state after reading steps T-1 ... t.
    const xg::Array forward_states = (*xg::import_onnx(write_model(dir, rnn("", true))))(xg::Tensor(x)).value();
    const xg::Array reverse_states = (*xg::import_onnx(write_model(dir, rnn("reverse", true))))(xg::Tensor(backwards)).value();
    REQUIRE(forward_states.shape() == xg::Shape{3, 1, 1, 2});
    CHECK(max_abs_diff(reverse_states, xt::flip(forward_states, 0)) <= 1e-6f);
    // Both directions: (steps, 2, batch, units), the second direction's states at their own steps.
    onnx::ModelProto both = rnn("bidirectional", true);
    for (int i = 0; i < 3; ++i) {
        auto* t = both.mutable_graph()->mutable_initializer(i);
        const std::vector<float> once(t->float_data().begin(), t->float_data().end());
        for (float v : once) t->add_float_data(v);  // the same weights for both directions
        t->set_dims(0, 2);
    }
    const xg::Array both_states = (*xg::import_onnx(write_model(dir, both)))(xg::Tensor(x)).value();
    REQUIRE(both_states.shape() == xg::Shape{3, 2, 1, 2});
    CHECK(max_abs_diff(xt::view(both_states, xt::all(), xt::range(0, 1)), forward_states) <= 1e-6f);
    const xg::Array flipped_states = (*xg::import_onnx(write_model(dir, rnn("", true))))(xg::Tensor(backwards)).value();
    CHECK(max_abs_diff(xt::view(both_states, xt::all(), xt::range(1, 2)), xt::flip(flipped_states, 0)) <= 1e-6f);

    const auto refused = [&](onnx::ModelProto m, const char* message, bool unsupported) {
        const auto call = [&] { (*xg::import_onnx(write_model(dir, m)))(xg::Tensor(x)); };
        if (unsupported) {
            CHECK_THROWS_WITH_AS(call(), doctest::Contains(message), xg::OnnxUnsupportedError);
        } else {
            CHECK_THROWS_WITH_AS(call(), doctest::Contains(message), xg::ValueError);
        }
    };
    onnx::ModelProto sideways = rnn("sideways");
    refused(sideways, "direction 'sideways'; expected forward, reverse or bidirectional", false);
    onnx::ModelProto clipped = rnn("");
    auto* clip = clipped.mutable_graph()->mutable_node(0)->add_attribute();
    clip->set_name("clip");
    clip->set_type(onnx::AttributeProto::FLOAT);
    clip->set_f(3.0f);
    refused(clipped, "clip; expected none", true);
    onnx::ModelProto hard = rnn("");
    auto* functions = hard.mutable_graph()->mutable_node(0)->add_attribute();
    functions->set_name("activations");
    functions->set_type(onnx::AttributeProto::STRINGS);
    functions->add_strings("HardSigmoid");
    refused(hard, "activation HardSigmoid; expected Sigmoid, Tanh or Relu", true);
    onnx::ModelProto two_directions = rnn("bidirectional");  // W, R and B hold one direction
    refused(two_directions, "W (1, 2, 2); expected (2, 2, 2) for X (3, 1, 2), 2 direction(s) and hidden_size 2", false);
    onnx::ModelProto short_sequences = rnn("");
    add_initializer(short_sequences.mutable_graph(), "lengths", {1}, {}, {2});
    auto* node = short_sequences.mutable_graph()->mutable_node(0);
    node->add_input("lengths");
    refused(short_sequences, "sequence_lens (2); expected every one of the 1 sequences at its full length 3", true);
    // An initial state is named in the layout of the file: batch first in layout 1.
    onnx::ModelProto batch_first = rnn("");
    add_initializer(batch_first.mutable_graph(), "h0", {1, 3, 2}, {0, 0, 0, 0, 0, 0});
    auto* first = batch_first.mutable_graph()->mutable_node(0);
    first->add_input("");  // no sequence_lens
    first->add_input("h0");
    auto* layout = first->add_attribute();
    layout->set_name("layout");
    layout->set_type(onnx::AttributeProto::INT);
    layout->set_i(1);
    const auto call_batch_first = [&] {
        (*xg::import_onnx(write_model(dir, batch_first)))(xg::Tensor(xg::Array(xt::zeros<float>({1, 3, 2}))));
    };
    CHECK_THROWS_WITH_AS(call_batch_first(),
                         doctest::Contains("initial_h (1, 3, 2); expected (1, 1, 2) for X (1, 3, 2), 1 direction(s)"),
                         xg::ValueError);
    // Only the recurrent ops may leave their first output unnamed.
    onnx::ModelProto unnamed = one_node("Relu");
    unnamed.mutable_graph()->mutable_node(0)->set_output(0, "");
    unnamed.mutable_graph()->mutable_node(0)->add_output("y");
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, unnamed)), doctest::Contains("has no output; expected at least one"),
                         xg::IoError);
}

TEST_CASE("import_onnx runs a grouped convolution as each group's convolution, joined in order, and trains it") {
    // X (1, 4, 2, 2) in two groups of two channels; W (4, 2, 1, 1): filters 0-1 read channels 0-1,
    // filters 2-3 read channels 2-3.
    onnx::ModelProto m = one_node("Conv");
    add_initializer(m.mutable_graph(), "w", {4, 2, 1, 1}, {1, 2, 3, 4, 5, 6, 7, 8});
    add_initializer(m.mutable_graph(), "b", {4}, {0.5f, 0, 0, -1});
    m.mutable_graph()->mutable_node(0)->add_input("w");
    m.mutable_graph()->mutable_node(0)->add_input("b");
    auto* group = m.mutable_graph()->mutable_node(0)->add_attribute();
    group->set_name("group");
    group->set_type(onnx::AttributeProto::INT);
    group->set_i(2);
    ScratchDir dir;
    auto model = xg::import_onnx(write_model(dir, m));
    const xg::Array x = xt::reshape_view(xt::arange<float>(16.0f), {1, 4, 2, 2});
    const xg::Array w{1, 2, 3, 4, 5, 6, 7, 8}, b{0.5f, 0, 0, -1};
    xg::Array expected = xt::zeros<float>({1, 4, 2, 2});
    for (std::size_t o = 0; o < 4; ++o) {
        for (std::size_t j = 0; j < 2; ++j) {
            xt::view(expected, 0, o) += w(o * 2 + j) * xt::view(x, 0, (o / 2) * 2 + j);
        }
        xt::view(expected, 0, o) += b(o);
    }
    const xg::Tensor y = (*model)(xg::Tensor(x));
    CHECK(y.value() == expected);
    // It exports again (slices, a Conv per group and a Concat) to a model of the same predictions.
    xg::export_onnx(*model, x, dir / "grouped_again.onnx");
    CHECK(max_abs_diff(predict(*xg::import_onnx(dir / "grouped_again.onnx"), x), expected) <= 1e-6f);
    // Zero channels make no groups, whatever the count.
    CHECK_THROWS_WITH_AS((*model)(xg::Tensor(xg::Array(xt::ones<float>({1, 0, 2, 2})))),
                         doctest::Contains("group 2 for X (1, 0, 2, 2); expected a divisor of its 0 channels"),
                         xg::ValueError);
    // The gradient reaches W through each group's slice: d sum(y) / d W[o, j] sums channel (o / 2) * 2 + j.
    xg::sum(y).backward();
    xg::Tensor weights;
    for (auto& [name, p] : model->named_parameters()) {
        if (p.shape() == xg::Shape{4, 2, 1, 1}) weights = p;
    }
    REQUIRE(weights.defined());
    for (std::size_t o = 0; o < 4; ++o) {
        for (std::size_t j = 0; j < 2; ++j) {
            const float channel_sum = xt::sum(xt::view(x, 0, (o / 2) * 2 + j))();
            CHECK(weights.grad()(o, j, 0, 0) == channel_sum);
        }
    }
    xg::Tape::current().clear();
}

TEST_CASE("import_onnx pools with explicit pads: a maximum never taken from the padding, a mean counting the pads or not") {
    ScratchDir dir;
    auto pool = [&](const char* op, std::vector<std::pair<const char*, std::vector<long>>> ints, long count_include_pad = 0,
                    long ceil_mode = 0) {
        onnx::ModelProto m = one_node(op);
        auto* n = m.mutable_graph()->mutable_node(0);
        if (std::string(op) == "AveragePool") ints.emplace_back("count_include_pad", std::vector<long>{});
        for (const auto& [name, values] : ints) {
            auto* a = n->add_attribute();
            a->set_name(name);
            if (values.empty()) {
                a->set_type(onnx::AttributeProto::INT);
                a->set_i(count_include_pad);
            } else {
                a->set_type(onnx::AttributeProto::INTS);
                for (long v : values) a->add_ints(v);
            }
        }
        auto* ceil = n->add_attribute();
        ceil->set_name("ceil_mode");
        ceil->set_type(onnx::AttributeProto::INT);
        ceil->set_i(ceil_mode);
        return xg::import_onnx(write_model(dir, m));
    };
    // x (1, 1, 3, 3) = -1 ... -9, all below the zeros a padding of zeros would add.
    xg::Array x = xg::uninitialized({1, 1, 3, 3});
    for (std::size_t i = 0; i < 9; ++i) x.data()[i] = -1.0f - static_cast<float>(i);
    auto max_pool = pool("MaxPool", {{"kernel_shape", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"strides", {2, 2}}});
    CHECK(predict(*max_pool, x) == xg::Array{{{{-1.0f, -2.0f}, {-4.0f, -5.0f}}}});
    // Each 2x2 window at stride 2 over the image padded by one: the top-left holds one pixel.
    auto counted = pool("AveragePool", {{"kernel_shape", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"strides", {2, 2}}}, 1);
    auto uncounted = pool("AveragePool", {{"kernel_shape", {2, 2}}, {"pads", {1, 1, 1, 1}}, {"strides", {2, 2}}}, 0);
    CHECK(predict(*counted, x) == xg::Array{{{{-0.25f, -1.25f}, {-2.75f, -7.0f}}}});
    CHECK(predict(*uncounted, x) == xg::Array{{{{-1.0f, -2.5f}, {-5.5f, -7.0f}}}});
    // ceil_mode: a last window over the rows the floor leaves out (3 -> 2 windows of 2 at stride 2).
    auto ceiled = pool("MaxPool", {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}}, 0, 1);
    CHECK(predict(*ceiled, x) == xg::Array{{{{-1.0f, -3.0f}, {-7.0f, -9.0f}}}});
    // The gradient reaches the image through the padding.
    const xg::Tensor input = xg::parameter(x, "x");
    xg::sum((*uncounted)(input)).backward();
    CHECK(input.grad() == xg::Array{{{{1.0f, 0.5f, 0.5f}, {0.5f, 0.25f, 0.25f}, {0.5f, 0.25f, 0.25f}}}});
    xg::Tape::current().clear();

    const xg::Tensor image(x);
    CHECK_THROWS_WITH_AS((*pool("MaxPool", {{"kernel_shape", {2, 2}}, {"pads", {2, 0, 0, 0}}}))(image),
                         doctest::Contains("pads (2, 0, 0, 0) for kernel_shape (2, 2); expected each pad smaller than its window"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*pool("AveragePool", {{"kernel_shape", {2, 2}}}, 0, 1))(image),
                         doctest::Contains("ceil_mode 1 for AveragePool; expected 0"), xg::OnnxUnsupportedError);
    onnx::ModelProto same_ceil = one_node("MaxPool");
    auto* node = same_ceil.mutable_graph()->mutable_node(0);
    for (const auto& [name, value] : {std::pair<const char*, long>{"ceil_mode", 1}}) {
        auto* a = node->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(value);
    }
    auto* kernel = node->add_attribute();
    kernel->set_name("kernel_shape");
    kernel->set_type(onnx::AttributeProto::INTS);
    kernel->add_ints(2);
    kernel->add_ints(2);
    add_string(node, "auto_pad", "SAME_UPPER");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, same_ceil)))(image),
                         doctest::Contains("ceil_mode 1 with auto_pad SAME_UPPER; expected explicit pads"),
                         xg::OnnxUnsupportedError);
}

TEST_CASE("import_onnx runs the activations with ONNX's defaults and settings, Celu's alpha of either sign") {
    ScratchDir dir;
    auto activation = [&](const std::string& op, std::vector<std::pair<const char*, float>> settings = {}) {
        onnx::ModelProto m = one_node(op);
        for (const auto& [name, value] : settings) {
            auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
            a->set_name(name);
            a->set_type(onnx::AttributeProto::FLOAT);
            a->set_f(value);
        }
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Array x{{-2.0f, -0.5f, 0.0f}, {0.25f, 1.5f, 4.0f}};
    auto check_formula = [&](xg::Module& m, double (*formula)(double)) {
        const xg::Array y = predict(m, x);
        for (std::size_t i = 0; i < x.size(); ++i) {
            CAPTURE(x.data()[i]);
            CHECK(y.data()[i] == doctest::Approx(formula(x.data()[i])).epsilon(1e-6).scale(1e-7));
        }
    };
    check_formula(*activation("LeakyRelu"), [](double v) { return v > 0 ? v : 0.01 * v; });
    check_formula(*activation("HardSigmoid", {{"alpha", 0.3f}, {"beta", 0.4f}}),
                  [](double v) { return std::clamp(0.3 * v + 0.4, 0.0, 1.0); });
    check_formula(*activation("Selu", {{"alpha", 2.0f}, {"gamma", 3.0f}}), [](double v) { return 3.0 * (v > 0 ? v : 2.0 * std::expm1(v)); });
    check_formula(*activation("Celu", {{"alpha", 2.0f}}), [](double v) { return v > 0 ? v : 2.0 * std::expm1(v / 2.0); });
    // ONNX's max(0, x) + min(0, alpha (e^(x / alpha) - 1)): for alpha < 0 the second term is 0 below 0 too.
    check_formula(*activation("Celu", {{"alpha", -1.5f}}), [](double v) {
        return std::max(0.0, v) + std::min(0.0, -1.5 * std::expm1(v / -1.5));
    });
    CHECK_THROWS_WITH_AS(predict(*activation("Celu", {{"alpha", 0.0f}}), x),
                         doctest::Contains("(Celu): alpha 0; expected a finite alpha other than 0"), xg::ValueError);
    check_formula(*activation("Softplus"), [](double v) { return std::log1p(std::exp(v)); });
    check_formula(*activation("Erf"), [](double v) { return std::erf(v); });
    check_formula(*activation("ThresholdedRelu"), [](double v) { return v > 1.0 ? v : 0.0; });
    check_formula(*activation("ThresholdedRelu", {{"alpha", -0.75f}}), [](double v) { return v > -0.75 ? v : 0.0; });
    CHECK_THROWS_WITH_AS(predict(*activation("ThresholdedRelu", {{"alpha", std::numeric_limits<float>::infinity()}}), x),
                         doctest::Contains("(ThresholdedRelu): alpha inf; expected a finite number"), xg::ValueError);
}

TEST_CASE("import_onnx runs Greater, Less and their -OrEqual forms with broadcasting, and ArgMax and ArgMin as indices") {
    ScratchDir dir;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor x(xg::Array{{0.0f, 2.0f, -1.5f}, {1.0f, nan, 3.0f}});
    const auto against_row = [&](const std::string& op) {
        onnx::ModelProto m = one_node(op);
        add_initializer(m.mutable_graph(), "row", {3}, {0.0f, 1.0f, 3.0f});
        m.mutable_graph()->mutable_node(0)->add_input("row");
        return (*xg::import_onnx(write_model(dir, m)))(x).value();
    };
    CHECK(against_row("Greater") == xg::Array{{0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f}});
    CHECK(against_row("GreaterOrEqual") == xg::Array{{1.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 1.0f}});
    CHECK(against_row("Less") == xg::Array{{0.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 0.0f}});
    CHECK(against_row("LessOrEqual") == xg::Array{{1.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 1.0f}});

    const auto arg = [&](const std::string& op, std::vector<std::pair<const char*, long>> settings) {
        onnx::ModelProto m = one_node(op);
        for (const auto& [name, value] : settings) add_int(m.mutable_graph()->mutable_node(0), name, value);
        return xg::import_onnx(write_model(dir, m));
    };
    const xg::Tensor ties(xg::Array{{1.0f, 4.0f, 4.0f, 0.0f}, {2.0f, -1.0f, 2.0f, -1.0f}});
    // ONNX's defaults: axis 0, keepdims 1, the first of tied extrema.
    CHECK((*arg("ArgMax", {}))(ties).value() == xg::Array{{1.0f, 0.0f, 0.0f, 0.0f}});
    CHECK((*arg("ArgMax", {{"axis", -1}, {"keepdims", 0}}))(ties).value() == xg::Array{1.0f, 0.0f});
    CHECK((*arg("ArgMin", {{"axis", 1}, {"keepdims", 0}}))(ties).value() == xg::Array{3.0f, 1.0f});
    // select_last_index: the last of them.
    CHECK((*arg("ArgMax", {{"axis", 1}, {"keepdims", 0}, {"select_last_index", 1}}))(ties).value() ==
          xg::Array{2.0f, 2.0f});
    CHECK((*arg("ArgMin", {{"axis", 1}, {"keepdims", 0}, {"select_last_index", 1}}))(ties).value() ==
          xg::Array{3.0f, 3.0f});
    CHECK_THROWS_WITH_AS((*arg("ArgMax", {{"axis", 2}}))(ties), doctest::Contains("axis 2 is out of range for rank 2"),
                         xg::ValueError);

    // ArgMax's indices, cast to int64, pick rows of a table: a class's embedding, all on the tape.
    onnx::ModelProto pick = one_node("ArgMax");
    auto* graph = pick.mutable_graph();
    auto* argmax = graph->mutable_node(0);
    argmax->set_output(0, "index");
    add_int(argmax, "axis", 1);
    add_int(argmax, "keepdims", 0);
    auto* cast = graph->add_node();
    cast->set_op_type("Cast");
    cast->add_input("index");
    cast->add_output("ids");
    add_int(cast, "to", onnx::TensorProto::INT64);
    add_initializer(graph, "table", {4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
    auto* gather = graph->add_node();
    gather->set_op_type("Gather");
    gather->add_input("table");
    gather->add_input("ids");
    gather->add_output("y");
    CHECK((*xg::import_onnx(write_model(dir, pick)))(ties).value() == xg::Array{{10, 11}, {0, 1}});
}

TEST_CASE("import_onnx runs Where on a bool constant or a comparison, broadcasting, the gradient to the sides picked") {
    ScratchDir dir;
    // Where(mask, x, fallback): a bool mask held as bytes (raw_data) or as int32 values.
    const auto masked = [&](bool raw) {
        onnx::ModelProto m = one_node("Where");
        auto* g = m.mutable_graph();
        auto* mask = g->add_initializer();
        mask->set_name("mask");
        mask->set_data_type(onnx::TensorProto::BOOL);
        mask->add_dims(3);
        if (raw) {
            mask->set_raw_data(std::string("\x01\x00\x02", 3));  // any byte but 0 is true
        } else {
            for (int v : {1, 0, 1}) mask->add_int32_data(v);
        }
        add_initializer(g, "fallback", {}, {-1.0f});
        auto* n = g->mutable_node(0);
        n->set_input(0, "mask");
        n->add_input("x");
        n->add_input("fallback");
        return xg::import_onnx(write_model(dir, m));
    };
    xg::Tensor x = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, "x");
    for (bool raw : {true, false}) {
        CAPTURE(raw);
        const auto model = masked(raw);
        CHECK((*model)(x).value() == xg::Array{{1.0f, -1.0f, 3.0f}, {4.0f, -1.0f, 6.0f}});
        x.zero_grad();
        xg::sum((*model)(x)).backward();
        CHECK(x.grad() == xg::Array{{1.0f, 0.0f, 1.0f}, {1.0f, 0.0f, 1.0f}});
    }

    // The condition computed from the input: relu written as Where(Greater(x, 0), x, 0).
    onnx::ModelProto relu = one_node("Greater");
    auto* g = relu.mutable_graph();
    add_initializer(g, "zero", {}, {0.0f});
    g->mutable_node(0)->add_input("zero");
    g->mutable_node(0)->set_output(0, "positive");
    auto* where = g->add_node();
    where->set_op_type("Where");
    for (const char* v : {"positive", "x", "zero"}) where->add_input(v);
    where->add_output("y");
    const xg::Tensor signs(xg::Array{{-1.0f, 2.0f, 0.0f}, {3.0f, -4.0f, 5.0f}});
    CHECK((*xg::import_onnx(write_model(dir, relu)))(signs).value() == xg::Array{{0.0f, 2.0f, 0.0f}, {3.0f, 0.0f, 5.0f}});

    // An integer side a float cannot hold exactly is refused, as a comparison's.
    onnx::ModelProto big = one_node("Where");
    add_initializer(big.mutable_graph(), "large", {1}, {}, {(1L << 24) + 1});
    big.mutable_graph()->mutable_node(0)->add_input("large");
    big.mutable_graph()->mutable_node(0)->add_input("x");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, big)))(signs),
                         doctest::Contains("input 1 holds the integer 16777217"), xg::OnnxUnsupportedError);

    // A bool constant with the wrong number of values is a damaged file.
    onnx::ModelProto short_mask = one_node("Where");
    auto* bad = short_mask.mutable_graph()->add_initializer();
    bad->set_name("mask");
    bad->set_data_type(onnx::TensorProto::BOOL);
    bad->add_dims(3);
    bad->set_raw_data(std::string("\x01\x00", 2));
    short_mask.mutable_graph()->mutable_node(0)->set_input(0, "mask");
    CHECK_THROWS_WITH_AS(xg::import_onnx(write_model(dir, short_mask)), doctest::Contains("holds 2 values; expected 3"),
                         xg::IoError);
}

TEST_CASE("integer constants read as floats by several nodes give the same values in every run, and are not parameters") {
    // y = Where(mask, x, -1) * counts + counts: a bool mask and an int64 initializer, the latter
    // read as floats twice.
    onnx::ModelProto m = one_node("Where");
    auto* g = m.mutable_graph();
    add_bool_initializer(g, "mask", std::string("\x01\x00\x01", 3));
    add_initializer(g, "fallback", {}, {-1.0f});
    add_initializer(g, "counts", {3}, {}, {2, 3, 4});
    auto* where = g->mutable_node(0);
    where->set_input(0, "mask");
    where->add_input("x");
    where->add_input("fallback");
    where->set_output(0, "picked");
    add_node_to(g, "Mul", {"picked", "counts"}, "scaled");
    add_node_to(g, "Add", {"scaled", "counts"}, "y");
    ScratchDir dir;
    const auto model = xg::import_onnx(write_model(dir, m));
    CHECK(model->named_parameters().size() == 1);  // fallback
    xg::Tensor x = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, "x");
    for (int run = 0; run < 3; ++run) {
        CAPTURE(run);
        x.zero_grad();
        const xg::Tensor y = (*model)(x);
        CHECK(y.value() == xg::Array{{4.0f, 0.0f, 16.0f}, {10.0f, 0.0f, 28.0f}});
        xg::sum(y).backward();
        CHECK(x.grad() == xg::Array{{2.0f, 0.0f, 4.0f}, {2.0f, 0.0f, 4.0f}});
    }

    // An output that is the integer constant itself is the caller's own copy.
    onnx::ModelProto same = one_node("Identity");
    add_initializer(same.mutable_graph(), "counts", {3}, {}, {2, 3, 4});
    same.mutable_graph()->mutable_node(0)->set_input(0, "counts");
    const auto constant_out = xg::import_onnx(write_model(dir, same));
    xg::Tensor first = (*constant_out)(x);
    first.mutable_value()(0) = 99.0f;
    CHECK((*constant_out)(x).value() == xg::Array{2.0f, 3.0f, 4.0f});
}

TEST_CASE("import_onnx runs Trilu on float data with its gradient to the kept triangle, and on integer constants exactly") {
    ScratchDir dir;
    // Trilu(x, k) on x (2, 3): upper keeps j - i >= k, lower keeps j - i <= k.
    const auto trilu = [&](bool upper, long k) {
        onnx::ModelProto m = one_node("Trilu", 14);
        add_int(m.mutable_graph()->mutable_node(0), "upper", upper ? 1 : 0);
        add_initializer(m.mutable_graph(), "k", {}, {}, {k});
        m.mutable_graph()->mutable_node(0)->add_input("k");
        return xg::import_onnx(write_model(dir, m));
    };
    xg::Tensor x = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, "x");
    CHECK((*trilu(true, 0))(x).value() == xg::Array{{1.0f, 2.0f, 3.0f}, {0.0f, 5.0f, 6.0f}});
    CHECK((*trilu(true, 1))(x).value() == xg::Array{{0.0f, 2.0f, 3.0f}, {0.0f, 0.0f, 6.0f}});
    CHECK((*trilu(false, 0))(x).value() == xg::Array{{1.0f, 0.0f, 0.0f}, {4.0f, 5.0f, 0.0f}});
    CHECK((*trilu(false, -1))(x).value() == xg::Array{{0.0f, 0.0f, 0.0f}, {4.0f, 0.0f, 0.0f}});
    const auto lower = trilu(false, 0);
    xg::sum((*lower)(x) * 2.0f).backward();
    CHECK(x.grad() == xg::Array{{2.0f, 0.0f, 0.0f}, {2.0f, 2.0f, 0.0f}});

    // Integer data (a constant), the upper triangle of a stack of two 2x2 matrices.
    onnx::ModelProto ints = one_node("Trilu", 14);
    auto* g = ints.mutable_graph();
    add_initializer(g, "counts", {2, 2, 2}, {}, {1, 2, 3, 4, 5, 6, 7, 8});
    g->mutable_node(0)->set_input(0, "counts");
    g->mutable_node(0)->set_output(0, "upper");
    add_node_to(g, "Add", {"x", "upper"}, "y");
    const xg::Tensor zeros(xg::Array(xt::zeros<float>({2, 2, 2})));
    CHECK((*xg::import_onnx(write_model(dir, ints)))(zeros).value() ==
          xg::Array{{{1.0f, 2.0f}, {0.0f, 4.0f}}, {{5.0f, 6.0f}, {0.0f, 8.0f}}});

    // An empty stack of long rows is returned as it is, with no mask made for its rows.
    const xg::Array none = xt::zeros<float>({std::size_t{0}, std::size_t{100000}, std::size_t{100000}});
    CHECK((*trilu(true, 0))(xg::Tensor(none)).shape() == xg::Shape{0, 100000, 100000});

    onnx::ModelProto flat = one_node("Trilu", 14);
    auto* type = flat.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    type->mutable_dim()->RemoveLast();
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, flat)))(xg::Tensor(xg::Array{1.0f, 2.0f})),
                         doctest::Contains("input (2,) has 1 axis; expected at least 2"), xg::ValueError);

    // A stack of non-square matrices, upper and k left to their defaults (1 and 0), and a k past
    // the matrix's corner (nothing kept).
    onnx::ModelProto stacked = one_node("Trilu", 14);
    const xg::Array cube = xt::arange<float>(1.0f, 13.0f).reshape({2, 2, 3});
    CHECK((*xg::import_onnx(write_model(dir, stacked)))(xg::Tensor(cube)).value() ==
          xg::Array{{{1.0f, 2.0f, 3.0f}, {0.0f, 5.0f, 6.0f}}, {{7.0f, 8.0f, 9.0f}, {0.0f, 11.0f, 12.0f}}});
    CHECK((*trilu(true, 3))(xg::Tensor(cube)).value() == xg::Array(xt::zeros<float>({2, 2, 3})));
    CHECK((*trilu(false, -2))(xg::Tensor(cube)).value() == xg::Array(xt::zeros<float>({2, 2, 3})));

    // Integer data of non-square matrices: the lower triangle of (3, 2) with k = -1.
    onnx::ModelProto tall = one_node("Trilu", 14);
    auto* tg = tall.mutable_graph();
    add_int(tg->mutable_node(0), "upper", 0);
    add_initializer(tg, "column", {3, 2}, {}, {1, 2, 3, 4, 5, 6});
    add_initializer(tg, "k", {}, {}, {-1});
    tg->mutable_node(0)->set_input(0, "column");
    tg->mutable_node(0)->add_input("k");
    tg->mutable_node(0)->set_output(0, "lower");
    add_node_to(tg, "Add", {"x", "lower"}, "y");
    CHECK((*xg::import_onnx(write_model(dir, tall)))(xg::Tensor(xg::Array(xt::zeros<float>({3, 2})))).value() ==
          xg::Array{{0.0f, 0.0f}, {3.0f, 0.0f}, {5.0f, 6.0f}});
}

TEST_CASE("import_onnx runs GatherElements along either axis, the gradient added back as often as each element was read") {
    ScratchDir dir;
    const auto gather_elements = [&](long axis, const std::vector<long>& dims, const std::vector<long>& indices) {
        onnx::ModelProto m = one_node("GatherElements");
        add_int(m.mutable_graph()->mutable_node(0), "axis", axis);
        add_initializer(m.mutable_graph(), "indices", dims, {}, indices);
        m.mutable_graph()->mutable_node(0)->add_input("indices");
        return xg::import_onnx(write_model(dir, m));
    };
    xg::Tensor x = xg::parameter(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, "x");
    // Along axis 1: each row picks its own columns, -1 the last; a column read twice.
    const auto columns = gather_elements(1, {2, 2}, {2, 2, -1, 0});
    const xg::Tensor y = (*columns)(x);
    CHECK(y.value() == xg::Array{{3.0f, 3.0f}, {6.0f, 4.0f}});
    xg::sum(y).backward();
    CHECK(x.grad() == xg::Array{{0.0f, 0.0f, 2.0f}, {1.0f, 0.0f, 1.0f}});
    // Along axis 0: each column picks its rows.
    CHECK((*gather_elements(0, {1, 3}, {1, 0, 1}))(x).value() == xg::Array{{4.0f, 2.0f, 6.0f}});
    // Rank 3 along the middle axis: out[i][j][k] = data[i][indices[i][j][k]][k].
    const xg::Array cube = xt::arange<float>(0.0f, 12.0f).reshape({2, 3, 2});
    CHECK((*gather_elements(1, {2, 1, 2}, {2, 0, -1, 1}))(xg::Tensor(cube)).value() ==
          xg::Array{{{4.0f, 1.0f}}, {{10.0f, 9.0f}}});
    // Integer data stays exact integers: a shape picked in reverse order feeds a Reshape.
    onnx::ModelProto reversed = one_node("GatherElements");
    auto* rg = reversed.mutable_graph();
    add_initializer(rg, "shape", {2}, {}, {2, 3});
    add_initializer(rg, "order", {2}, {}, {1, 0});
    rg->mutable_node(0)->set_input(0, "shape");
    rg->mutable_node(0)->add_input("order");
    rg->mutable_node(0)->set_output(0, "swapped");
    add_node_to(rg, "Reshape", {"x", "swapped"}, "y");
    CHECK((*xg::import_onnx(write_model(dir, reversed)))(x).shape() == xg::Shape{3, 2});
    // An empty axis, and a missing input.
    onnx::ModelProto empty_axis = one_node("GatherElements");
    add_initializer(empty_axis.mutable_graph(), "indices", {2, 1}, {}, {0, 0});
    empty_axis.mutable_graph()->mutable_node(0)->add_input("indices");
    add_int(empty_axis.mutable_graph()->mutable_node(0), "axis", 1);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, empty_axis)))(xg::Tensor(xg::Array(xt::zeros<float>({2, 0})))),
                         doctest::Contains("axis 1 of data (2, 0) is empty; expected no indices"), xg::ValueError);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, one_node("GatherElements"))))(x),
                         doctest::Contains("input 1 is missing; expected 2 inputs (data, indices)"), xg::ValueError);

    CHECK_THROWS_WITH_AS((*gather_elements(0, {1, 3}, {1, 2, 0}))(x), doctest::Contains("index 2 for axis 0 of data (2, 3)"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*gather_elements(1, {3}, {0, 1, 2}))(x),
                         doctest::Contains("indices (3,) have rank 1, data (2, 3) rank 2; expected equal ranks"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*gather_elements(1, {3, 1}, {0, 1, 2}))(x),
                         doctest::Contains("axis 0 is longer than the data's; expected at most 2"), xg::ValueError);
}

TEST_CASE("import_onnx runs And, Or and Xor on truths computed from the input, with broadcasting") {
    // op(Greater(x, 2), mask) with mask (3,) = [1, 0, 1] as a bool constant; then op(x, mask) on
    // x's own values, of which any but 0 is true.
    ScratchDir dir;
    for (const auto& [op, expected] : std::vector<std::pair<const char*, xg::Array>>{
             {"And", xg::Array{{0.0f, 0.0f, 1.0f}, {1.0f, 0.0f, 1.0f}}},
             {"Or", xg::Array{{1.0f, 0.0f, 1.0f}, {1.0f, 1.0f, 1.0f}}},
             {"Xor", xg::Array{{1.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.0f}}}}) {
        CAPTURE(op);
        onnx::ModelProto m = one_node("Greater");
        auto* g = m.mutable_graph();
        add_initializer(g, "two", {}, {2.0f});
        g->mutable_node(0)->add_input("two");
        g->mutable_node(0)->set_output(0, "large");
        add_bool_initializer(g, "mask", std::string("\x01\x00\x01", 3));
        add_node_to(g, op, {"large", "mask"}, "y");
        CHECK((*xg::import_onnx(write_model(dir, m)))(xg::Tensor(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}})).value() ==
              expected);
    }
    const xg::Tensor values(xg::Array{{2.0f, -1.0f, 0.0f}, {0.0f, 0.0f, -3.0f}});
    for (const auto& [op, expected] : std::vector<std::pair<const char*, xg::Array>>{
             {"And", xg::Array{{1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}}},
             {"Or", xg::Array{{1.0f, 1.0f, 1.0f}, {1.0f, 0.0f, 1.0f}}},
             {"Xor", xg::Array{{0.0f, 1.0f, 1.0f}, {1.0f, 0.0f, 0.0f}}}}) {
        CAPTURE(op);
        onnx::ModelProto m = one_node(op);
        add_bool_initializer(m.mutable_graph(), "mask", std::string("\x01\x00\x01", 3));
        m.mutable_graph()->mutable_node(0)->add_input("mask");
        CHECK((*xg::import_onnx(write_model(dir, m)))(values).value() == expected);
    }
}

TEST_CASE("import_onnx runs Sin and Cos, Size, and Add, Sub and Mul of integer constants as exact shape arithmetic") {
    ScratchDir dir;
    const xg::Tensor x(xg::Array{{0.0f, 1.0f, -2.0f}, {3.0f, 0.5f, -0.25f}});
    for (const char* op : {"Sin", "Cos"}) {
        CAPTURE(op);
        const xg::Array y = (*xg::import_onnx(write_model(dir, one_node(op))))(x).value();
        const xg::Array expected = std::string(op) == "Sin" ? xg::Array(xt::sin(x.value())) : xg::Array(xt::cos(x.value()));
        CHECK(y == expected);
    }

    // y = Reshape(x, Concat(Size(x) - 1 - [2], [2])): the element count of x and integer
    // arithmetic on it, (2, 3) -> (3, 2).
    onnx::ModelProto m = one_node("Size");
    auto* g = m.mutable_graph();
    g->mutable_node(0)->set_output(0, "count");
    add_initializer(g, "one", {}, {}, {1});
    add_initializer(g, "two", {1}, {}, {2});
    add_node_to(g, "Sub", {"count", "one"}, "five");
    add_node_to(g, "Sub", {"five", "two"}, "three");  // a 0-d less a (1,): shape (1,)
    add_int(add_node_to(g, "Concat", {"three", "two"}, "shape"), "axis", 0);
    add_node_to(g, "Reshape", {"x", "shape"}, "y");
    CHECK((*xg::import_onnx(write_model(dir, m)))(x).shape() == xg::Shape{3, 2});

    // Mul of extents; overflow and mismatched shapes refused.
    const auto product = [&](std::vector<long> a_dims, std::vector<long> a, std::vector<long> b_dims,
                             std::vector<long> b) {
        onnx::ModelProto p = one_node("Mul");
        auto* pg = p.mutable_graph();
        for (const auto& [name, dims, values] : {std::tuple{"a", a_dims, a}, std::tuple{"b", b_dims, b}}) {
            auto* t = pg->add_initializer();  // int64 even when empty (add_initializer would make it float)
            t->set_name(name);
            t->set_data_type(onnx::TensorProto::INT64);
            for (long d : dims) t->add_dims(d);
            for (long v : values) t->add_int64_data(v);
        }
        auto* mul = pg->mutable_node(0);
        mul->set_input(0, "a");
        mul->add_input("b");
        mul->set_output(0, "ab");
        // The product's value reaches the output as the extent of a ConstantOfShape's zeros.
        auto* fill = pg->add_node();
        fill->set_op_type("ConstantOfShape");
        fill->add_input("ab");
        fill->add_output("zeros");
        auto* shape = pg->add_node();
        shape->set_op_type("Shape");
        shape->add_input("zeros");
        shape->add_output("extents");
        auto* cast = pg->add_node();
        cast->set_op_type("Cast");
        cast->add_input("extents");
        cast->add_output("y");
        add_int(cast, "to", onnx::TensorProto::FLOAT);
        return xg::import_onnx(write_model(dir, p));
    };
    CHECK((*product({2}, {3, 5}, {}, {2}))(x).value() == xg::Array{6.0f, 10.0f});
    // 4097 * 4097 = 16785409, which a float rounds to 16785408: less 16785408, 1 left, not 0.
    {
        onnx::ModelProto p = one_node("Mul");
        auto* pg = p.mutable_graph();
        add_initializer(pg, "a", {1}, {}, {4097});
        add_initializer(pg, "big", {1}, {}, {16'785'408});
        pg->mutable_node(0)->set_input(0, "a");
        pg->mutable_node(0)->add_input("a");
        pg->mutable_node(0)->set_output(0, "square");
        add_node_to(pg, "Sub", {"square", "big"}, "left");
        add_node_to(pg, "ConstantOfShape", {"left"}, "y");
        CHECK((*xg::import_onnx(write_model(dir, p)))(x).shape() == xg::Shape{1});
    }
    // One value against an empty side: an empty result, however high the value's rank.
    CHECK((*product({0}, {}, {}, {5}))(x).value().size() == 0);
    CHECK((*product({1, 1, 1}, {7}, {0}, {}))(x).value().size() == 0);
    CHECK_THROWS_WITH_AS((*product({1}, {4'611'686'018'427'387'904L}, {1}, {4}))(x),
                         doctest::Contains("4611686018427387904 Mul 4 overflows int64"), xg::ValueError);
    CHECK_THROWS_WITH_AS((*product({2}, {1, 2}, {3}, {1, 2, 3}))(x),
                         doctest::Contains("integer operands (2,) and (3,); expected one shape"),
                         xg::OnnxUnsupportedError);
    // int32 data stays within 32 bits.
    {
        onnx::ModelProto p = one_node("Add");
        auto* pg = p.mutable_graph();
        for (const char* name : {"a", "b"}) {
            auto* t = pg->add_initializer();
            t->set_name(name);
            t->set_data_type(onnx::TensorProto::INT32);
            t->add_int32_data(name == std::string("a") ? 2'147'483'647 : 1);
        }
        pg->mutable_node(0)->set_input(0, "a");
        pg->mutable_node(0)->add_input("b");
        CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, p)))(x),
                             doctest::Contains("2147483647 Add 1 overflows int32"), xg::ValueError);
    }
}

TEST_CASE("import_onnx negates and picks integer constants exactly: Neg and Where of a computed shape") {
    ScratchDir dir;
    const xg::Tensor x(xg::Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
    // Reshape(x, Where([1, 0], Neg([-3, 7]), [9, 2])) = Reshape(x, [3, 2]).
    onnx::ModelProto m = one_node("Neg");
    auto* g = m.mutable_graph();
    add_initializer(g, "v", {2}, {}, {-3, 7});
    add_initializer(g, "other", {2}, {}, {9, 2});
    add_bool_initializer(g, "mask", std::string("\x01\x00", 2));
    g->mutable_node(0)->set_input(0, "v");
    g->mutable_node(0)->set_output(0, "negated");
    add_node_to(g, "Where", {"mask", "negated", "other"}, "shape");
    add_node_to(g, "Reshape", {"x", "shape"}, "y");
    CHECK((*xg::import_onnx(write_model(dir, m)))(x).shape() == xg::Shape{3, 2});
    // Integers Where picks from are exact past 2^24.
    onnx::ModelProto big = one_node("Where");
    auto* bg = big.mutable_graph();
    add_initializer(bg, "cond", {}, {}, {1});
    add_initializer(bg, "large", {1}, {}, {(1L << 24) + 1});
    auto* where = bg->mutable_node(0);
    where->set_input(0, "cond");
    where->add_input("large");
    where->add_input("large");
    where->set_output(0, "picked");
    add_node_to(bg, "Sub", {"picked", "large"}, "zero");
    add_node_to(bg, "ConstantOfShape", {"zero"}, "y");
    CHECK((*xg::import_onnx(write_model(dir, big)))(x).shape() == xg::Shape{0});
    // Neg of the most negative int64 has no int64 result.
    onnx::ModelProto lowest = one_node("Neg");
    add_initializer(lowest.mutable_graph(), "min", {1}, {}, {std::numeric_limits<long>::min()});
    lowest.mutable_graph()->mutable_node(0)->set_input(0, "min");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, lowest)))(x), doctest::Contains("overflows int64"),
                         xg::ValueError);
    // A Where without one of its three inputs.
    onnx::ModelProto missing = one_node("Where");
    missing.mutable_graph()->mutable_node(0)->add_input("");
    missing.mutable_graph()->mutable_node(0)->add_input("x");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, missing)))(x),
                         doctest::Contains("input 1 is missing; expected 3 inputs (condition, X, Y)"), xg::ValueError);
}

TEST_CASE("import_onnx runs NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss with constant targets, the gradient to the scores") {
    ScratchDir dir;
    // Scores (2, 3) and constant targets (2,): the loss of each row's target class.
    const auto loss_model = [&](const std::string& op, std::vector<long> targets,
                                std::vector<std::pair<const char*, std::string>> settings = {}, long ignore = -100) {
        onnx::ModelProto m = one_node(op);
        auto* g = m.mutable_graph();
        add_initializer(g, "targets", {static_cast<long>(targets.size())}, {}, targets);
        auto* n = g->mutable_node(0);
        n->add_input("targets");
        for (const auto& [name, value] : settings) add_string(n, name, value.c_str());
        if (ignore != -100) add_int(n, "ignore_index", ignore);
        return m;
    };
    const xg::Array scores{{0.5f, -1.0f, 2.0f}, {1.5f, 0.25f, -0.5f}};
    // SoftmaxCrossEntropyLoss's mean is xgrad's sparse_softmax_cross_entropy; its gradient too.
    auto sce = xg::import_onnx(write_model(dir, loss_model("SoftmaxCrossEntropyLoss", {2, 0})));
    xg::Tensor x = xg::parameter(scores, "scores");
    xg::Tensor loss = (*sce)(x);
    loss.backward();
    xg::Tensor y = xg::parameter(scores, "reference");
    xg::Tensor reference = xg::sparse_softmax_cross_entropy(y, xg::constant(xg::Array{2.0f, 0.0f}));
    CHECK(loss.item() == doctest::Approx(reference.item()).epsilon(1e-6));
    reference.backward();
    CHECK(max_abs_diff(x.grad(), y.grad()) <= 1e-6f);
    // NegativeLogLikelihoodLoss reads the scores as log-probabilities: -x[n, t] per row.
    CHECK((*xg::import_onnx(write_model(dir, loss_model("NegativeLogLikelihoodLoss", {1, 2}, {{"reduction", "none"}}))))(
              xg::Tensor(scores))
              .value() == xg::Array{1.0f, 0.5f});
    CHECK((*xg::import_onnx(write_model(dir, loss_model("NegativeLogLikelihoodLoss", {1, 2}, {{"reduction", "sum"}}))))(
              xg::Tensor(scores))
              .item() == 1.5f);
    // An ignored target counts for nothing, also in the mean's count.
    CHECK((*xg::import_onnx(write_model(dir, loss_model("NegativeLogLikelihoodLoss", {1, 7}, {}, 7))))(
              xg::Tensor(scores))
              .item() == 1.0f);
    // What is not run, or not right, is named.
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, loss_model("NegativeLogLikelihoodLoss", {1, 3}))))(
                             xg::Tensor(scores)),
                         doctest::Contains("target 3 (element 1 of the targets); expected a class from 0 to 2"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, loss_model("NegativeLogLikelihoodLoss", {1, 2},
                                                                           {{"reduction", "average"}}))))(
                             xg::Tensor(scores)),
                         doctest::Contains("reduction 'average'; expected none, sum or mean"), xg::ValueError);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, loss_model("NegativeLogLikelihoodLoss", {1, 2, 0}))))(
                             xg::Tensor(scores)),
                         doctest::Contains("targets (3,) for input (2, 3); expected (2,)"), xg::ValueError);
    onnx::ModelProto weighted = loss_model("NegativeLogLikelihoodLoss", {1, 2});
    add_initializer(weighted.mutable_graph(), "weight", {2}, {1.0f, 2.0f});
    weighted.mutable_graph()->mutable_node(0)->add_input("weight");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, weighted)))(xg::Tensor(scores)),
                         doctest::Contains("weight (2,) for 3 classes; expected (3,)"), xg::ValueError);
    // A second output of NegativeLogLikelihoodLoss does not exist; an input of no classes has no loss.
    onnx::ModelProto two_outputs = loss_model("NegativeLogLikelihoodLoss", {1, 2});
    two_outputs.mutable_graph()->mutable_node(0)->add_output("z");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, two_outputs)))(xg::Tensor(scores)),
                         doctest::Contains("output 1 is requested; expected only the first"), xg::OnnxUnsupportedError);
    onnx::ModelProto no_classes = loss_model("NegativeLogLikelihoodLoss", {-1, -1}, {}, -1);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, no_classes)))(xg::Tensor(xt::zeros<float>({2, 0}))),
                         doctest::Contains("input (2, 0) of no classes; expected at least one along axis 1"),
                         xg::ValueError);
    onnx::ModelProto float_targets = one_node("NegativeLogLikelihoodLoss");
    add_initializer(float_targets.mutable_graph(), "targets", {2}, {1.0f, 2.0f});
    float_targets.mutable_graph()->mutable_node(0)->add_input("targets");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, float_targets)))(xg::Tensor(scores)),
                         doctest::Contains("expected constant integer targets"), xg::OnnxUnsupportedError);
}

TEST_CASE("NegativeLogLikelihoodLoss over (N, C, d): class weights, a negative ignore_index whose scores never enter, log_prob") {
    ScratchDir dir;
    const float inf = std::numeric_limits<float>::infinity();
    // Scores (2, 3, 2): sample n, class c, position d. The ignored element (n 1, d 0) holds -inf at
    // every class, and class 0's weight is huge: neither may reach the loss.
    const xg::Array scores{{{-0.5f, -1.0f}, {-2.0f, -0.25f}, {-3.0f, -4.0f}}, {{-inf, -1.5f}, {-inf, -0.75f}, {-inf, -2.5f}}};
    onnx::ModelProto m = one_node("NegativeLogLikelihoodLoss");
    auto* g = m.mutable_graph();
    add_initializer(g, "targets", {2, 2}, {}, {2, 1, -1, 0});
    add_initializer(g, "weight", {3}, {1e30f, 2.0f, 0.5f});
    auto* n = g->mutable_node(0);
    n->add_input("targets");
    n->add_input("weight");
    add_int(n, "ignore_index", -1);
    // Kept: (0, 0) class 2, (0, 1) class 1, (1, 1) class 0: losses 0.5 * 3, 2 * 0.25, 1e30 * 1.5.
    add_string(n, "reduction", "none");
    const xg::Array each = (*xg::import_onnx(write_model(dir, m)))(xg::Tensor(scores)).value();
    REQUIRE(each.shape() == xg::Shape{2, 2});
    CHECK(each(0, 0) == 1.5f);
    CHECK(each(0, 1) == 0.5f);
    CHECK(each(1, 0) == 0.0f);
    CHECK(each(1, 1) == doctest::Approx(1.5e30f));
    // The mean divides by the weights of the kept elements: (1.5 + 0.5) / (0.5 + 2) without class 0's.
    add_initializer(g, "sane_weight", {3}, {4.0f, 2.0f, 0.5f});
    n->set_input(2, "sane_weight");
    n->mutable_attribute(1)->set_s("mean");
    CHECK((*xg::import_onnx(write_model(dir, m)))(xg::Tensor(scores)).item() ==
          doctest::Approx((1.5 + 0.5 + 4.0 * 1.5) / (0.5 + 2.0 + 4.0)));
    // SoftmaxCrossEntropyLoss's second output is the log-probabilities over the classes (axis 1).
    n->set_op_type("SoftmaxCrossEntropyLoss");
    n->add_output("log_prob");
    auto* out = g->add_output();
    out->set_name("log_prob");
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    const xg::Array finite = xt::where(xt::isinf(scores), 0.0f, scores);
    const std::vector<xg::Tensor> both = xg::import_onnx(write_model(dir, m))->run({xg::Tensor(finite)});
    REQUIRE(both.size() == 2);
    CHECK(max_abs_diff(both[1].value(), xg::log_softmax(xg::Tensor(finite), 1).value()) <= 1e-6f);
    CHECK(std::isfinite(both[0].item()));
}

TEST_CASE("import_onnx refuses integer constants a float cannot hold in a comparison, and ArgMax keeps its axis as asked") {
    ScratchDir dir;
    onnx::ModelProto m = one_node("Equal");
    add_initializer(m.mutable_graph(), "big", {1}, {}, {(1L << 24) + 1});
    m.mutable_graph()->mutable_node(0)->add_input("big");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, m)))(xg::Tensor(xt::zeros<float>({2, 3}))),
                         doctest::Contains("input 1 holds the integer 16777217; expected integers a float holds exactly"),
                         xg::OnnxUnsupportedError);
    onnx::ModelProto arg = one_node("ArgMax");
    add_int(arg.mutable_graph()->mutable_node(0), "axis", 1);
    add_int(arg.mutable_graph()->mutable_node(0), "select_last_index", 1);
    xg::Array last = {2.0f, 2.0f};  // keepdims 1, ONNX's default: (2, 1)
    last.reshape({2, 1});
    CHECK((*xg::import_onnx(write_model(dir, arg)))(xg::Tensor(xg::Array{{1.0f, 4.0f, 4.0f}, {0.0f, 3.0f, 3.0f}})).value() ==
          last);
}

TEST_CASE("import_onnx runs Cast, Equal and Not on the 0 and 1 that stand for booleans, and a Cast of ids as a Gather's indices") {
    ScratchDir dir;
    const auto cast_to = [](long to) {
        onnx::ModelProto m = one_node("Cast");
        auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
        a->set_name("to");
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(to);
        return m;
    };
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const xg::Tensor x(xg::Array{{0.0f, 2.0f, -1.5f}, {0.0f, nan, 3.0f}});
    CHECK((*xg::import_onnx(write_model(dir, cast_to(onnx::TensorProto::BOOL))))(x).value() ==
          xg::Array{{0.0f, 1.0f, 1.0f}, {0.0f, 1.0f, 1.0f}});
    const xg::Array same = (*xg::import_onnx(write_model(dir, cast_to(onnx::TensorProto::DOUBLE))))(x).value();
    CHECK(same(0, 2) == -1.5f);
    CHECK(std::isnan(same(1, 1)));
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, cast_to(onnx::TensorProto::FLOAT16))))(x),
                         doctest::Contains("a cast to FLOAT16; expected FLOAT, DOUBLE, BOOL or an integer type"),
                         xg::OnnxUnsupportedError);
    // An integer cast would round: refused where its values are used as numbers.
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, cast_to(onnx::TensorProto::INT64))))(x),
                         doctest::Contains("'y' is a Cast of values computed at run time to an integer type, used other "
                                           "than as a Gather's indices"),
                         xg::OnnxUnsupportedError);

    // Equal against one value, then Not: the mask of steps that are not padding.
    onnx::ModelProto mask = one_node("Equal");
    add_initializer(mask.mutable_graph(), "zero", {}, {0.0f});
    auto* equal = mask.mutable_graph()->mutable_node(0);
    equal->add_input("zero");
    equal->set_output(0, "is_zero");
    auto* negate = mask.mutable_graph()->add_node();
    negate->set_op_type("Not");
    negate->add_input("is_zero");
    negate->add_output("y");
    CHECK((*xg::import_onnx(write_model(dir, mask)))(x).value() == xg::Array{{0.0f, 1.0f, 1.0f}, {0.0f, 1.0f, 1.0f}});
    // The single value first: the same comparison.
    equal->set_input(0, "zero");
    equal->set_input(1, "x");
    CHECK((*xg::import_onnx(write_model(dir, mask)))(x).value() == xg::Array{{0.0f, 1.0f, 1.0f}, {0.0f, 1.0f, 1.0f}});
    // Not of any number is ONNX's of its truth (nonzero): 0.
    onnx::ModelProto not_only = one_node("Not");
    CHECK((*xg::import_onnx(write_model(dir, not_only)))(x).value() == xg::Array{{1.0f, 0.0f, 0.0f}, {1.0f, 0.0f, 0.0f}});
    // Equal of two tensors: elementwise (NaN equal to nothing).
    onnx::ModelProto pairwise = one_node("Equal");
    add_initializer(pairwise.mutable_graph(), "other", {2, 3}, {0, 2, 0, 1, nan, 3});
    pairwise.mutable_graph()->mutable_node(0)->add_input("other");
    CHECK((*xg::import_onnx(write_model(dir, pairwise)))(x).value() == xg::Array{{1.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});

    // Cast of float ids to INT64, then Gather of a table's rows: an embedding lookup.
    onnx::ModelProto lookup = cast_to(onnx::TensorProto::INT64);
    lookup.mutable_graph()->mutable_node(0)->set_output(0, "ids");
    add_initializer(lookup.mutable_graph(), "table", {4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
    auto* gather = lookup.mutable_graph()->add_node();
    gather->set_op_type("Gather");
    gather->add_input("table");
    gather->add_input("ids");
    gather->add_output("y");
    auto embedded = xg::import_onnx(write_model(dir, lookup));
    const xg::Array rows = (*embedded)(xg::Tensor(xg::Array{{3.0f, 0.0f, 1.0f}, {2.0f, 2.0f, 0.0f}})).value();
    CHECK(rows == xg::Array{{{30, 31}, {0, 1}, {10, 11}}, {{20, 21}, {20, 21}, {0, 1}}});
    CHECK_THROWS_WITH_AS((*embedded)(xg::Tensor(xg::Array{{4.0f, 0.0f, 1.0f}, {2.0f, 2.0f, 0.0f}})),
                         doctest::Contains("id 4 (element 0 of ids (2, 3)); expected a whole number from 0 to 3"),
                         xg::ValueError);
    // Along axis -2 of the table is along its rows too; a table of rank 1 is not run.
    auto* axis = gather->add_attribute();
    axis->set_name("axis");
    axis->set_type(onnx::AttributeProto::INT);
    axis->set_i(-2);
    CHECK((*xg::import_onnx(write_model(dir, lookup)))(xg::Tensor(xg::Array{{3.0f, 0.0f, 1.0f}, {2.0f, 2.0f, 0.0f}})).value() ==
          rows);
    lookup.mutable_graph()->mutable_initializer(0)->clear_dims();
    lookup.mutable_graph()->mutable_initializer(0)->add_dims(8);
    axis->set_i(0);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, lookup)))(x),
                         doctest::Contains("indices computed at run time into data (8,) along axis 0; expected rows of a "
                                           "matrix"),
                         xg::OnnxUnsupportedError);
    // Passed on by Identity, the cast still reaches no output.
    onnx::ModelProto passed = cast_to(onnx::TensorProto::INT32);
    passed.mutable_graph()->mutable_node(0)->set_output(0, "ids");
    auto* identity = passed.mutable_graph()->add_node();
    identity->set_op_type("Identity");
    identity->add_input("ids");
    identity->add_output("y");
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, passed)))(x), doctest::Contains("'ids' is a Cast of values"),
                         xg::OnnxUnsupportedError);

    // A constant cast to an integer type is truncated into int64 data: here Reshape's shape.
    onnx::ModelProto reshape = one_node("Reshape");
    add_initializer(reshape.mutable_graph(), "float_shape", {2}, {3.9f, 2.0f});
    auto* shape_cast = reshape.mutable_graph()->add_node();
    shape_cast->set_op_type("Cast");
    shape_cast->add_input("float_shape");
    shape_cast->add_output("shape");
    auto* to = shape_cast->add_attribute();
    to->set_name("to");
    to->set_type(onnx::AttributeProto::INT);
    to->set_i(onnx::TensorProto::INT64);
    reshape.mutable_graph()->mutable_node(0)->add_input("shape");
    std::swap(*reshape.mutable_graph()->mutable_node(0), *reshape.mutable_graph()->mutable_node(1));  // the cast first
    CHECK((*xg::import_onnx(write_model(dir, reshape)))(x).shape() == xg::Shape{3, 2});
    reshape.mutable_graph()->mutable_initializer(0)->set_float_data(0, 300.0f);
    to->set_i(onnx::TensorProto::UINT8);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, reshape)))(x),
                         doctest::Contains("a constant 300 cast to UINT8, which cannot hold it; expected values from 0 to 255"),
                         xg::OnnxUnsupportedError);
}

TEST_CASE("import_onnx runs TopK with K as an input or, before opset 10, an attribute, and names a bad K") {
    ScratchDir dir;
    const xg::Tensor x(xg::Array{{1.0f, 5.0f, 3.0f}, {6.0f, 2.0f, 4.0f}});
    // Values and indices both as graph outputs; the indices come as floats.
    const auto top = [&](std::vector<long> k, long largest, int opset) {
        onnx::ModelProto m = one_node("TopK", opset);
        auto* g = m.mutable_graph();
        auto* n = g->mutable_node(0);
        if (opset < 10) {
            add_int(n, "k", k[0]);
        } else {
            add_initializer(g, "k", {static_cast<long>(k.size())}, {}, k);
            n->add_input("k");
        }
        if (opset >= 11) add_int(n, "largest", largest);
        n->add_output("where");
        *g->add_output() = g->output(0);
        g->mutable_output(1)->set_name("where");
        return xg::import_onnx(write_model(dir, m));
    };
    const std::vector<xg::Tensor> largest = top({2}, 1, 13)->run({x});
    REQUIRE(largest.size() == 2);
    CHECK(largest[0].value() == xg::Array{{5.0f, 3.0f}, {6.0f, 4.0f}});
    CHECK(largest[1].value() == xg::Array{{1.0f, 2.0f}, {0.0f, 2.0f}});
    // largest (from opset 11) = 0: the smallest; before opset 10, k an attribute.
    const xg::Tensor smallest = top({1}, 0, 11)->run({x})[0];
    CHECK(smallest.shape() == xg::Shape{2, 1});
    CHECK(smallest.value()(0, 0) == 1.0f);
    CHECK(smallest.value()(1, 0) == 2.0f);
    CHECK(top({3}, 1, 9)->run({x})[1].value() == xg::Array{{1.0f, 2.0f, 0.0f}, {0.0f, 2.0f, 1.0f}});
    CHECK_THROWS_WITH_AS(top({4}, 1, 13)->run({x}), doctest::Contains("(TopK): K = 4 for axis 1 of input (2, 3); expected 0 to 3"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(top({1, 2}, 1, 13)->run({x}), doctest::Contains("(TopK): K holds 2 values; expected one"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS((*xg::import_onnx(write_model(dir, one_node("TopK", 9))))(x),
                         doctest::Contains("(TopK): attribute k is missing"), xg::ValueError);
}

TEST_CASE("import_onnx keeps a Pow's one-value exponent trainable when it is a weight, and fixed when it is a Constant") {
    ScratchDir dir;
    const xg::Array x_values{{0.5f, 1.0f, 2.0f}, {3.0f, 1.5f, 4.0f}};
    // y = x ** p with p an initializer of one value: a parameter, its gradient sum(x^p ln x).
    onnx::ModelProto weighted = one_node("Pow");
    add_initializer(weighted.mutable_graph(), "p", {}, {2.0f});
    weighted.mutable_graph()->mutable_node(0)->add_input("p");
    auto model = xg::import_onnx(write_model(dir, weighted));
    const auto parameters = model->named_parameters();
    REQUIRE(parameters.size() == 1);
    const xg::Tensor p = parameters[0].second;
    const xg::Tensor y = (*model)(xg::Tensor(x_values));
    CHECK(max_abs_diff(y.value(), x_values * x_values) < 1e-6f);
    xg::sum(y).backward();
    REQUIRE(p.grad().size() == 1);
    double expected = 0;
    for (float v : x_values) expected += double(v) * v * std::log(double(v));
    CHECK(p.grad().data()[0] == doctest::Approx(expected).epsilon(1e-5));
    // The same exponent from a Constant node: no parameter, the same values.
    onnx::ModelProto fixed = one_node("Pow");
    auto* c = fixed.mutable_graph()->add_node();
    c->set_op_type("Constant");
    c->add_output("p");
    auto* value = c->add_attribute();
    value->set_name("value");
    value->set_type(onnx::AttributeProto::TENSOR);
    value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    value->mutable_t()->add_float_data(2.0f);
    fixed.mutable_graph()->mutable_node()->SwapElements(0, 1);
    fixed.mutable_graph()->mutable_node(1)->add_input("p");
    auto constant_model = xg::import_onnx(write_model(dir, fixed));
    CHECK(constant_model->named_parameters().empty());
    CHECK(max_abs_diff(predict(*constant_model, x_values), x_values * x_values) < 1e-6f);
}
