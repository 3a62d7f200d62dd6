#include "xgrad/io/onnx_import.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>

#include "xgrad/autograd/creation.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {
namespace {

// A constant of the graph: float data (weights) or integer data (shapes, axes; int64, int32, or
// bool masks as 1 and 0).
struct Constant {
    bool is_int = false;
    Array floats;
    std::vector<long> ints;
    Shape shape;
    bool int32 = false;  // int32 data, whose arithmetic must stay within 32 bits
};

struct Attribute {
    long i = 0;
    float f = 0;
    std::string s;
    std::vector<long> ints;
    std::vector<float> floats;
    std::vector<std::string> strings;
    std::shared_ptr<const Constant> t;
};

struct OpNode {
    std::string op, name;
    std::vector<std::string> inputs, outputs;
    std::map<std::string, Attribute> attributes;
};

// A value while the graph runs.
struct Value {
    Tensor tensor;                          // float values
    std::shared_ptr<const Constant> ints;   // integer values (only from constants), shared, not copied
    // Computed from the graph's inputs, not from initializers and Constant nodes alone: values
    // that change from call to call, which must stay ops on the tape (a trace of the imported
    // model, as export_onnx makes, would otherwise hold one call's values).
    bool computed = false;
    // Float values cast to an integer type at run time (an exported Embedding's ids): whole
    // numbers only as a Gather's indices, where xgrad checks them; elsewhere the cast's rounding
    // would be needed, which xgrad does not run.
    bool cast_to_integer = false;
    // The integer values as floats, made once however many nodes read them as floats (a mask that
    // every attention layer applies).
    Tensor ints_as_floats;
};

// The ONNX ops that are one xgrad function of one float tensor, attribute-free.
const std::map<std::string, Tensor (*)(const Tensor&)>& unary_functions() {
    static const std::map<std::string, Tensor (*)(const Tensor&)> functions{
        {"Abs", abs},   {"Acos", acos},   {"Acosh", acosh}, {"Asin", asin},   {"Asinh", asinh},       {"Atan", atan},
        {"Atanh", atanh}, {"Ceil", ceil}, {"Cos", cos},     {"Cosh", cosh},   {"Erf", erf},           {"Exp", exp},
        {"Floor", floor}, {"Log", log},   {"Relu", relu},   {"Round", round}, {"Sigmoid", sigmoid},   {"Sign", sign},
        {"Sin", sin},   {"Sinh", sinh},   {"Softplus", softplus}, {"Sqrt", sqrt}, {"Tan", tan},       {"Tanh", tanh}};
    return functions;
}

const std::set<std::string>& supported_ops() {
    static const std::set<std::string> ops = [] {
        std::set<std::string> names{
            "Add", "And", "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Cast", "Celu", "Clip", "Concat",
            "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Div", "Dropout", "Elu", "Equal", "Flatten",
            "Gather", "GatherElements", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual",
            "GRU", "HardSigmoid", "HardSwish", "Identity", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual",
            "LogSoftmax", "LSTM", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mul", "Neg",
            "NegativeLogLikelihoodLoss", "Not", "Or", "Pad", "Pow", "PRelu", "Reciprocal", "ReduceL1", "ReduceL2",
            "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "ReduceSumSquare",
            "Reshape", "Resize", "RNN", "Selu", "Size", "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softsign",
            "Split", "Squeeze", "Sub", "Sum", "ThresholdedRelu", "TopK", "Transpose", "Trilu", "Unsqueeze", "Upsample",
            "Where", "Xor",
            // On the int64 shapes a PyTorch `x.view(x.size(0), -1)` computes at run time only.
            "Shape"};
        for (const auto& [name, function] : unary_functions()) names.insert(name);
        return names;
    }();
    return ops;
}

// Integers a float holds exactly: xgrad holds every value as a float, so an integer constant
// compared with one, or an index or truth read from a file, must be at most this in size.
constexpr long kExactInFloat = long{1} << 24;

bool exact_in_float(long v) { return v >= -kExactInFloat && v <= kExactInFloat; }

// ONNX's comparisons and the xgrad op each runs as.
const std::map<std::string, Tensor (*)(const Tensor&, const Tensor&)>& comparison_ops() {
    static const std::map<std::string, Tensor (*)(const Tensor&, const Tensor&)> ops{
        {"Equal", &equal}, {"Greater", &greater}, {"GreaterOrEqual", &greater_equal}, {"Less", &less},
        {"LessOrEqual", &less_equal}};
    return ops;
}

std::string data_type_name(int type) {
    return onnx::TensorProto_DataType_IsValid(type)
               ? onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type))
               : fmt::format("{}", type);
}

// A TensorProto's contents; `what` names it in errors ("initializer 'fc1.weight'").
Constant decode(const onnx::TensorProto& t, const std::string& context, const std::string& what) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
        throw OnnxUnsupportedError(fmt::format("import_onnx: {}: {} keeps its data in an external file; expected "
                                               "data inside the model",
                                               context, what));
    }
    Constant c;
    // The extents other than 0 are bounded too: an empty (0, 2^40, 2^40) would still be a shape
    // no array can take, wherever its 0 stands.
    std::size_t n = 1, nonzero = 1;
    for (auto d : t.dims()) {
        if (d < 0 || (d > 0 && nonzero > (std::size_t{1} << 31) / static_cast<std::size_t>(d))) {
            throw IoError(fmt::format("import_onnx: {}: {} has dims ({}); expected extents >= 0 with fewer than 2^31 "
                                      "elements",
                                      context, what, fmt::join(t.dims(), ", ")));
        }
        n *= static_cast<std::size_t>(d);
        if (d > 0) nonzero *= static_cast<std::size_t>(d);
        c.shape.push_back(static_cast<std::size_t>(d));
    }
    const std::string& raw = t.raw_data();
    auto wrong_size = [&](std::size_t have) {
        return IoError(fmt::format("import_onnx: {}: {} holds {} values; expected {} for dims {}", context, what, have,
                                   n, format_shape(c.shape)));
    };
    switch (t.data_type()) {
        case onnx::TensorProto::FLOAT: {
            const bool in_raw = t.has_raw_data();
            const std::size_t have = in_raw ? raw.size() / sizeof(float) : static_cast<std::size_t>(t.float_data_size());
            if (have != n || (in_raw && raw.size() % sizeof(float) != 0)) throw wrong_size(have);
            c.floats = uninitialized(c.shape);
            if (in_raw) {
                if (n) std::memcpy(c.floats.data(), raw.data(), n * sizeof(float));
            } else {
                std::copy(t.float_data().begin(), t.float_data().end(), c.floats.data());
            }
            return c;
        }
        case onnx::TensorProto::INT64:
        case onnx::TensorProto::INT32: {
            c.is_int = true;
            const bool wide = t.data_type() == onnx::TensorProto::INT64;
            c.int32 = !wide;
            const std::size_t width = wide ? 8 : 4;
            if (t.has_raw_data()) {
                if (raw.size() != n * width) throw wrong_size(raw.size() / width);
                for (std::size_t i = 0; i < n; ++i) {
                    if (wide) {
                        std::int64_t v;
                        std::memcpy(&v, raw.data() + i * 8, 8);
                        c.ints.push_back(static_cast<long>(v));
                    } else {
                        std::int32_t v;
                        std::memcpy(&v, raw.data() + i * 4, 4);
                        c.ints.push_back(v);
                    }
                }
            } else if (wide) {
                if (static_cast<std::size_t>(t.int64_data_size()) != n) throw wrong_size(t.int64_data_size());
                c.ints.assign(t.int64_data().begin(), t.int64_data().end());
            } else {
                if (static_cast<std::size_t>(t.int32_data_size()) != n) throw wrong_size(t.int32_data_size());
                c.ints.assign(t.int32_data().begin(), t.int32_data().end());
            }
            return c;
        }
        case onnx::TensorProto::BOOL: {
            // Masks and conditions (a causal mask, Where's condition): 1 and 0, as xgrad's comparisons give them.
            c.is_int = true;
            if (t.has_raw_data()) {
                if (raw.size() != n) throw wrong_size(raw.size());
                for (char v : raw) c.ints.push_back(v != 0 ? 1 : 0);
            } else {
                if (static_cast<std::size_t>(t.int32_data_size()) != n) throw wrong_size(t.int32_data_size());
                for (auto v : t.int32_data()) c.ints.push_back(v != 0 ? 1 : 0);
            }
            return c;
        }
        default:
            throw OnnxUnsupportedError(fmt::format("import_onnx: {}: {} has data type {}; expected FLOAT (or INT64/INT32 "
                                                   "for shapes and axes, BOOL for masks)",
                                                   context, what, data_type_name(t.data_type())));
    }
}

// An integer constant's values as a float tensor (a mask or a shape fed to a float op).
Tensor floats_of(const Constant& c) {
    Array a = uninitialized(c.shape);
    std::transform(c.ints.begin(), c.ints.end(), a.begin(), [](long x) { return static_cast<float>(x); });
    return constant(std::move(a));
}

}  // namespace

struct OnnxModel::Graph {
    std::string context;
    long opset = 0;
    std::vector<OpNode> nodes;
    std::vector<std::string> inputs, outputs;
    std::vector<std::pair<std::string, std::shared_ptr<const Constant>>> initializers;
    std::set<std::string> statistics;  // BatchNormalization's running mean and variance
};

namespace {

using Graph = OnnxModel::Graph;

std::shared_ptr<Graph> parse(const onnx::ModelProto& m, const std::string& context) {
    auto g = std::make_shared<Graph>();
    g->context = context;
    for (const auto& o : m.opset_import()) {
        if (o.domain().empty() || o.domain() == "ai.onnx") g->opset = o.version();
    }
    if (!m.has_graph()) throw IoError(fmt::format("import_onnx: {}: no graph; expected an ONNX model", context));
    if (g->opset == 0) g->opset = m.opset_import_size() == 0 ? 1 : 0;
    if (g->opset < 6 || g->opset > 17) {
        throw OnnxUnsupportedError(fmt::format("import_onnx: {}: opset {} of the default domain; expected 6 to 17",
                                               context, g->opset));
    }
    const onnx::GraphProto& graph = m.graph();
    std::set<std::string> defined;
    for (const auto& t : graph.initializer()) {
        const std::string what = fmt::format("initializer '{}'", t.name());
        if (t.name().empty() || !defined.insert(t.name()).second) {
            throw IoError(fmt::format("import_onnx: {}: {} is unnamed or named twice; expected unique names", context,
                                      what));
        }
        g->initializers.emplace_back(t.name(), std::make_shared<const Constant>(decode(t, context, what)));
    }
    for (const auto& v : graph.input()) {
        if (defined.contains(v.name())) continue;  // an initializer's default, not fed by the caller
        const auto& type = v.type();
        if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
            throw OnnxUnsupportedError(fmt::format(
                "import_onnx: {}: input '{}' has type {}; expected a FLOAT tensor", context, v.name(),
                type.has_tensor_type() ? data_type_name(type.tensor_type().elem_type()) : "other than a tensor"));
        }
        if (v.name().empty() || !defined.insert(v.name()).second) {
            throw IoError(fmt::format("import_onnx: {}: input '{}' is unnamed or named twice; expected unique names",
                                      context, v.name()));
        }
        g->inputs.push_back(v.name());
    }
    for (int i = 0; i < graph.node_size(); ++i) {
        const auto& n = graph.node(i);
        OpNode node;
        node.op = n.op_type();
        node.name = n.name().empty() ? fmt::format("#{} ({})", i, n.op_type()) : fmt::format("'{}' ({})", n.name(), n.op_type());
        if (!n.domain().empty() && n.domain() != "ai.onnx") {
            throw OnnxUnsupportedError(fmt::format("import_onnx: {}: node {} is from domain '{}'; expected the default "
                                                   "ONNX domain",
                                                   context, node.name, n.domain()));
        }
        if (!supported_ops().contains(node.op)) {
            throw OnnxUnsupportedError(fmt::format("import_onnx: {}: node {} uses op {}, which xgrad does not run; "
                                                   "expected one of {}",
                                                   context, node.name, node.op, fmt::join(supported_ops(), ", ")));
        }
        for (const auto& in : n.input()) {
            if (!in.empty() && !defined.contains(in)) {
                throw IoError(fmt::format("import_onnx: {}: node {} reads '{}', which no input, initializer or earlier "
                                          "node defines; expected nodes in topological order",
                                          context, node.name, in));
            }
            node.inputs.push_back(in);
        }
        for (const auto& out : n.output()) {
            if (!out.empty() && !defined.insert(out).second) {
                throw IoError(fmt::format("import_onnx: {}: node {} writes '{}', which is already defined; expected each "
                                          "value defined once",
                                          context, node.name, out));
            }
            node.outputs.push_back(out);
        }
        // The recurrent ops may leave their first output (every step's state) unnamed; the others
        // write their result there.
        const bool recurrent = node.op == "LSTM" || node.op == "GRU" || node.op == "RNN";
        if (std::all_of(node.outputs.begin(), node.outputs.end(), [](const std::string& o) { return o.empty(); }) ||
            (!recurrent && node.outputs[0].empty())) {
            throw IoError(fmt::format("import_onnx: {}: node {} has no output; expected at least one", context,
                                      node.name));
        }
        for (const auto& a : n.attribute()) {
            Attribute attr;
            attr.i = static_cast<long>(a.i());
            attr.f = a.f();
            attr.s = a.s();
            attr.ints.assign(a.ints().begin(), a.ints().end());
            attr.floats.assign(a.floats().begin(), a.floats().end());
            attr.strings.assign(a.strings().begin(), a.strings().end());
            if (a.has_t()) {
                attr.t = std::make_shared<const Constant>(
                    decode(a.t(), context, fmt::format("attribute '{}' of node {}", a.name(), node.name)));
            }
            if (a.type() == onnx::AttributeProto::GRAPH || a.type() == onnx::AttributeProto::GRAPHS) {
                throw OnnxUnsupportedError(fmt::format("import_onnx: {}: node {} has a subgraph attribute '{}'; "
                                                       "expected none",
                                                       context, node.name, a.name()));
            }
            node.attributes[a.name()] = std::move(attr);
        }
        if (node.op == "BatchNormalization") {
            for (std::size_t k = 3; k < node.inputs.size() && k < 5; ++k) g->statistics.insert(node.inputs[k]);
        }
        g->nodes.push_back(std::move(node));
    }
    for (const auto& v : graph.output()) {
        if (!defined.contains(v.name())) {
            throw IoError(fmt::format("import_onnx: {}: output '{}' is not defined by any node; expected a node's "
                                      "output",
                                      context, v.name()));
        }
        g->outputs.push_back(v.name());
    }
    if (g->outputs.empty()) {
        throw IoError(fmt::format("import_onnx: {}: the graph has no outputs; expected at least one", context));
    }
    return g;
}

// Runs a graph's nodes: one instance per call of OnnxModel::run.
class Runner {
public:
    Runner(const Graph& g, std::unordered_map<std::string, Value> values, std::size_t value_limit)
        : g_(g), values_(std::move(values)), limit_(value_limit) {
        if (limit_ == 0) {
            std::size_t held = 0;
            for (const auto& [name, v] : values_) held += size_of(v);
            limit_ = kDefaultGrowth * std::max(held, kMinLimitBase);
        }
    }

    void run(const OpNode& n) {
        n_ = &n;
        try {
            afford(bound_of_output(n), "its output");
            step(n);
            charge_outputs(n);
        } catch (const OnnxUnsupportedError& e) {
            throw OnnxUnsupportedError(fmt::format("OnnxModel: {}: node {}: {}", g_.context, n.name, e.what()));
        } catch (const ShapeError& e) {
            throw ShapeError(fmt::format("OnnxModel: {}: node {}: {}", g_.context, n.name, e.what()));
        } catch (const ValueError& e) {
            throw ValueError(fmt::format("OnnxModel: {}: node {}: {}", g_.context, n.name, e.what()));
        }
    }

    // A graph output that is a constant (an integer initializer read as floats, passed on by an
    // Identity or a Cast) is a copy: the float view is the model's, shared by every run, and the
    // caller may change what it is given.
    Tensor output(const std::string& name) {
        const Tensor t = tensor_value(name);
        return t.role() == Role::constant ? constant(t.value()) : t;
    }

private:
    // The value limit (OnnxModel::limit_values): what the run has computed, checked before a node
    // allocates. The default is far above what networks compute (a few thousand times their
    // weights and inputs for the deepest image models), yet keeps a tiny file from asking for more
    // than about a gigabyte.
    static constexpr std::size_t kDefaultGrowth = 65536;
    // What one index of a Gather or GatherElements costs in values before the gather's output is
    // charged: its position, and the copies of the index list the gather op keeps for its
    // gradient and its attributes.
    static constexpr double kIndexCost = 16;
    static constexpr std::size_t kMinLimitBase = 4096;
    // Ops whose output can outgrow their inputs bound it from the input shapes here
    // (broadcasting, Concat, MatMul, Gemm) or in their own code (Resize, Upsample, Pad, Conv,
    // ConvTranspose, Gather);
    // an output that shares an input's values (Identity, a Reshape) costs nothing.
    static std::size_t size_of(const Value& v) {
        return v.tensor.defined() ? v.tensor.size() : v.ints ? v.ints->ints.size() : 0;
    }
    void afford(double elements, const std::string& what) const {
        if (elements > static_cast<double>(limit_ - spent_)) {
            unsupported(fmt::format("{} of {} values would take this run past its limit of {} (OnnxModel::"
                                    "limit_values; {} computed so far)",
                                    what, elements, limit_, spent_));
        }
    }
    // An upper bound of node n's output size from its inputs' shapes, for the ops that can
    // outgrow them; 0 for the others.
    double bound_of_output(const OpNode& n) {
        static const std::set<std::string> broadcasting{"Add", "Sub", "Mul", "Div", "Pow", "Sum", "Mean", "Max",
                                                        "Min", "PRelu", "Where", "And", "Or", "Xor"};
        std::vector<Shape> shapes;
        for (std::size_t k = 0; k < n.inputs.size(); ++k) {
            if (n.inputs[k].empty()) continue;
            auto it = values_.find(n.inputs[k]);
            if (it == values_.end()) return 0;  // the op reports the missing value itself
            shapes.push_back(it->second.tensor.defined() ? it->second.tensor.shape() : it->second.ints->shape);
        }
        if (shapes.empty()) return 0;
        auto count = [](const Shape& s) {
            double c = 1;
            for (std::size_t e : s) c *= static_cast<double>(e);
            return c;
        };
        // numpy broadcasting: per axis from the last, the largest extent.
        auto broadcast = [&count](const std::vector<Shape>& of) {
            std::size_t rank = 0;
            for (const Shape& s : of) rank = std::max(rank, s.size());
            Shape out(rank, 1);
            for (const Shape& s : of) {
                for (std::size_t a = 0; a < s.size(); ++a) out[rank - s.size() + a] = std::max(out[rank - s.size() + a], s[a]);
            }
            return count(out);
        };
        if (broadcasting.contains(n.op) || comparison_ops().contains(n.op)) return broadcast(shapes);
        if (n.op == "Concat") {
            double c = 0;
            for (const Shape& s : shapes) c += count(s);
            return c;
        }
        if (shapes.size() < 2 || shapes[0].empty() || shapes[1].empty()) return 0;
        const Shape& a = shapes[0];
        const Shape& b = shapes[1];
        if (n.op == "Gemm" && a.size() == 2 && b.size() == 2) {
            const double m = static_cast<double>(int_attr("transA", 0) ? a[1] : a[0]);
            const double cols = static_cast<double>(int_attr("transB", 0) ? b[0] : b[1]);
            return m * cols;
        }
        if (n.op == "MatMul") {
            // The stacks broadcast; each matrix is A's rows by B's columns.
            const double m = a.size() >= 2 ? static_cast<double>(a[a.size() - 2]) : 1.0;
            const double cols = b.size() >= 2 ? static_cast<double>(b.back()) : 1.0;
            const Shape stack_a(a.begin(), a.end() - std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(a.size())));
            const Shape stack_b(b.begin(), b.end() - std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(b.size())));
            return broadcast({stack_a, stack_b}) * m * cols;
        }
        return 0;
    }
    // Outputs of node n that are not an input's own value count against the limit.
    void charge_outputs(const OpNode& n) {
        for (const auto& name : n.outputs) {
            auto it = values_.find(name);
            if (name.empty() || it == values_.end()) continue;
            const Value& v = it->second;
            bool shared = false;
            for (const auto& input : n.inputs) {
                auto in = values_.find(input);
                shared = shared || (!input.empty() && in != values_.end() && v.tensor.defined() &&
                                    in->second.tensor.defined() && in->second.tensor.node() == v.tensor.node());
            }
            if (shared) continue;
            afford(static_cast<double>(size_of(v)), "its output");
            spent_ += size_of(v);
        }
    }

    [[noreturn]] void unsupported(const std::string& what) const {
        throw OnnxUnsupportedError(what);
    }
    [[noreturn]] void invalid(const std::string& what) const {
        throw ValueError(what);
    }

    bool has_input(std::size_t k) const { return k < n_->inputs.size() && !n_->inputs[k].empty(); }
    const Value& value(const std::string& name) {
        auto it = values_.find(name);
        if (it == values_.end()) invalid(fmt::format("value '{}' is not computed", name));
        return it->second;
    }
    Tensor tensor_value(const std::string& name) {
        auto it = values_.find(name);
        if (it == values_.end()) invalid(fmt::format("value '{}' is not computed", name));
        Value& v = it->second;
        if (v.cast_to_integer) {
            unsupported(fmt::format("'{}' is a Cast of values computed at run time to an integer type, used other "
                                    "than as a Gather's indices; expected the cast's rounding only where the values "
                                    "are whole (a Gather's indices)",
                                    name));
        }
        if (!v.tensor.defined()) {
            // Integer data read as floats (an integer constant fed to a float op).
            if (!v.ints_as_floats.defined()) v.ints_as_floats = floats_of(*v.ints);
            return v.ints_as_floats;
        }
        return v.tensor;
    }
    Tensor in(std::size_t k) {
        if (!has_input(k)) invalid(fmt::format("input {} is missing; expected {} inputs", k, k + 1));
        return tensor_value(n_->inputs[k]);
    }
    std::vector<long> ints_in(std::size_t k) {
        if (!has_input(k)) invalid(fmt::format("input {} is missing; expected {} inputs", k, k + 1));
        const Value& v = value(n_->inputs[k]);
        if (!v.ints) {
            unsupported(fmt::format("input {} ('{}') is {}; expected a constant int64 tensor", k, n_->inputs[k],
                                    v.computed ? "computed at run time" : "float data"));
        }
        return v.ints->ints;
    }
    float scalar_in(std::size_t k, float fallback) {
        if (!has_input(k)) return fallback;
        const Value& v = value(n_->inputs[k]);
        if (v.tensor.defined() && v.tensor.role() == Role::result) {
            unsupported(fmt::format("input {} is computed at run time; expected a constant", k));
        }
        const Tensor t = tensor_value(n_->inputs[k]);
        if (t.size() != 1) unsupported(fmt::format("input {} has shape {}; expected one value", k, format_shape(t.shape())));
        return t.value().data()[0];
    }
    const Attribute* attr(const std::string& key) const {
        auto it = n_->attributes.find(key);
        return it == n_->attributes.end() ? nullptr : &it->second;
    }
    long int_attr(const std::string& key, long fallback) const {
        const Attribute* a = attr(key);
        return a ? a->i : fallback;
    }
    float float_attr(const std::string& key, float fallback) const {
        const Attribute* a = attr(key);
        return a ? a->f : fallback;
    }
    std::string text_attr(const std::string& key, const std::string& fallback) const {
        const Attribute* a = attr(key);
        return a ? a->s : fallback;
    }
    std::optional<std::vector<long>> ints_attr(const std::string& key) const {
        const Attribute* a = attr(key);
        if (!a) return std::nullopt;
        return a->ints;
    }
    void set(std::size_t k, Tensor t) {
        if (k < n_->outputs.size() && !n_->outputs[k].empty()) {
            values_[n_->outputs[k]] = Value{std::move(t), {}, reads_computed()};
        }
    }
    // Whether any input of the node is computed from the graph's inputs.
    bool reads_computed() const {
        return std::any_of(n_->inputs.begin(), n_->inputs.end(), [this](const std::string& name) {
            auto it = values_.find(name);
            return it != values_.end() && it->second.computed;
        });
    }
    void set_ints(std::size_t k, std::shared_ptr<const Constant> c) {
        if (k < n_->outputs.size() && !n_->outputs[k].empty()) values_[n_->outputs[k]] = Value{{}, std::move(c)};
    }
    void set_ints(std::size_t k, Constant c) { set_ints(k, std::make_shared<const Constant>(std::move(c))); }
    // An axis in [-rank, rank) as an index.
    std::size_t axis(long a, std::size_t rank) const {
        const long r = static_cast<long>(rank);
        if (a < -r || a >= r) invalid(fmt::format("axis {} is out of range for rank {}; expected -{} to {}", a, rank, r, r - 1));
        return static_cast<std::size_t>(a < 0 ? a + r : a);
    }
    void only_one_output() {
        for (std::size_t k = 1; k < n_->outputs.size(); ++k) {
            if (!n_->outputs[k].empty()) unsupported(fmt::format("output {} is requested; expected only the first", k));
        }
    }

    static Tensor reshape_to(const Tensor& x, const Shape& s) { return reshape(x, std::vector<long>(s.begin(), s.end())); }

    // x (N, C, H, W) -> (N, H, W, C) and back.
    static Tensor channels_last(const Tensor& x) { return transpose(x, {0, 2, 3, 1}); }
    static Tensor channels_first(const Tensor& x) { return transpose(x, {0, 3, 1, 2}); }

    // Far more than any network pads, strides or dilates by; it keeps a few bytes of a file from asking for gigabytes.
    static constexpr long kMaxPad = 4096;
    // The same for one Resize: more pixels than a network upsamples by in one step (32 x 32, FCN-32s).
    static constexpr std::size_t kMaxResizeGrowth = 1024;
    // What one step of a recurrent node counts as at least, in values (recurrent).
    static constexpr double kStepCost = 1024;

    void require_no_dilation() {
        if (auto d = ints_attr("dilations"); d && std::any_of(d->begin(), d->end(), [](long v) { return v != 1; })) {
            unsupported(fmt::format("dilations ({}); expected 1", fmt::join(*d, ", ")));
        }
    }

    // A kernel_shape attribute, when there is one, must be W's window (KH, KW).
    void require_kernel_shape(Size2 k, const Tensor& w) {
        if (auto ks = ints_attr("kernel_shape");
            ks && (ks->size() != 2 || (*ks)[0] != static_cast<long>(k[0]) || (*ks)[1] != static_cast<long>(k[1]))) {
            invalid(fmt::format("kernel_shape ({}) differs from W {}", fmt::join(*ks, ", "), format_shape(w.shape())));
        }
    }

    // The auto_pad attribute: NOTSET (the default), SAME_UPPER, SAME_LOWER or VALID.
    std::string auto_pad() {
        const std::string pad = text_attr("auto_pad", "NOTSET");
        if (pad != "NOTSET" && pad != "VALID" && pad != "SAME_UPPER" && pad != "SAME_LOWER") {
            invalid(fmt::format("auto_pad '{}'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID", pad));
        }
        return pad;
    }

    // A convolution's dilations: how far apart its kernel's taps are.
    Size2 dilations() {
        const Size2 d = pair_attr("dilations", {1, 1});
        if (static_cast<long>(std::max(d[0], d[1])) > kMaxPad) {
            unsupported(fmt::format("dilations ({}, {}); expected dilations up to {}", d[0], d[1], kMaxPad));
        }
        return d;
    }

    // The pads (top, left, bottom, right) of a 2-D window op on x (N, C, H, W) whose window of
    // k taps, d apart, spans (k - 1) * d + 1 pixels.
    std::array<long, 4> window_pads(const Shape& x, Size2 k, Size2 s, Size2 d = {1, 1}) {
        const std::string pad = auto_pad();
        std::array<long, 4> p{0, 0, 0, 0};
        if (pad == "SAME_UPPER" || pad == "SAME_LOWER") {
            for (int a = 0; a < 2; ++a) {
                const long in = static_cast<long>(x[2 + a]);
                const long out = (in + static_cast<long>(s[a]) - 1) / static_cast<long>(s[a]);
                const long span = static_cast<long>(window_span(k[a], d[a]));
                const long total = std::max(0L, (out - 1) * static_cast<long>(s[a]) + span - in);
                const long small = total / 2;
                p[a] = pad == "SAME_UPPER" ? small : total - small;
                p[a + 2] = total - p[a];
            }
        } else if (pad == "NOTSET") {
            if (auto v = ints_attr("pads")) {
                if (v->size() != 4) invalid(fmt::format("pads has {} values; expected 4", v->size()));
                for (int i = 0; i < 4; ++i) {
                    if ((*v)[i] < 0) invalid(fmt::format("pads ({}); expected values >= 0", fmt::join(*v, ", ")));
                    if ((*v)[i] > kMaxPad) {
                        unsupported(fmt::format("pads ({}); expected pads from 0 to {}", fmt::join(*v, ", "), kMaxPad));
                    }
                    p[i] = (*v)[i];
                }
            }
        }
        return p;
    }

    Size2 pair_attr(const std::string& key, Size2 fallback, long least = 1) {
        auto v = ints_attr(key);
        if (!v) return fallback;
        if (v->size() != 2 || (*v)[0] < least || (*v)[1] < least) {
            invalid(fmt::format("{} ({}); expected two values >= {}", key, fmt::join(*v, ", "), least));
        }
        return {static_cast<std::size_t>((*v)[0]), static_cast<std::size_t>((*v)[1])};
    }

    void require_rank4(const Tensor& x) {
        if (x.rank() != 4) {
            unsupported(fmt::format("input X {}; expected sequences (N, C, L) or images (N, C, H, W)", format_shape(x.shape())));
        }
    }

    // A window op (Conv, ConvTranspose, MaxPool, AveragePool) over sequences (N, C, L), run as the
    // same op over images of one row (N, C, 1, L), as PyTorch's Conv1d and its pools export: each
    // spatial attribute gains a leading extent (a window one row high, stride and dilation 1, no
    // pads above or below), X and W gain a row axis, and the output loses it again. `op` is the
    // 2-D op, which sees the lifted node in place of this one.
    template <class Op>
    void in_one_row(Op op) {
        const OpNode& n = *n_;
        OpNode lifted = n;
        for (auto& [key, a] : lifted.attributes) {
            const bool spatial = key == "kernel_shape" || key == "strides" || key == "dilations" || key == "output_padding";
            if (spatial) {
                if (a.ints.size() != 1) {
                    invalid(fmt::format("{} ({}); expected one value for sequences (N, C, L)", key, fmt::join(a.ints, ", ")));
                }
                a.ints.insert(a.ints.begin(), key == "output_padding" ? 0 : 1);
            } else if (key == "pads") {
                if (a.ints.size() != 2) {
                    invalid(fmt::format("pads ({}); expected two values (begin, end) for sequences (N, C, L)",
                                        fmt::join(a.ints, ", ")));
                }
                a.ints = {0, a.ints[0], 0, a.ints[1]};
            } else if (key == "output_shape") {
                // (L) or (N, C, L), as ConvTranspose may give it.
                if (a.ints.size() != 1 && a.ints.size() != 3) {
                    invalid(fmt::format("output_shape ({}); expected (L) or (N, C, L) for sequences (N, C, L)",
                                        fmt::join(a.ints, ", ")));
                }
                a.ints.insert(a.ints.end() - 1, 1);
            }
        }
        // A name for a lifted value that no value of the run has (a file may use any text).
        const auto temporary = [&](const std::string& name) {
            std::string t = "one row/" + name;
            while (values_.contains(t)) t += "'";
            return t;
        };
        std::vector<std::string> made;
        const auto add_row = [&](std::size_t k, const char* what) {
            const Tensor t = in(k);
            if (t.rank() != 3) {
                invalid(fmt::format("{} {} for X {}; expected 3 axes, as X's", what, format_shape(t.shape()),
                                    format_shape(in(0).shape())));
            }
            lifted.inputs[k] = temporary(n.inputs[k]);
            values_[lifted.inputs[k]] =
                Value{reshape_to(t, {t.shape()[0], t.shape()[1], 1, t.shape()[2]}), {}, value(n.inputs[k]).computed};
            made.push_back(lifted.inputs[k]);
        };
        struct Restore {
            Runner& r;
            const OpNode& n;
            std::vector<std::string>& made;
            ~Restore() {
                r.n_ = &n;
                for (const auto& name : made) r.values_.erase(name);
            }
        } restore{*this, n, made};
        add_row(0, "X");
        if (n.op != "MaxPool" && n.op != "AveragePool" && has_input(1)) add_row(1, "W");
        if (!n.outputs.empty() && !n.outputs[0].empty()) {
            lifted.outputs[0] = temporary(n.outputs[0]);
            made.push_back(lifted.outputs[0]);
        }
        n_ = &lifted;
        // What the 2-D op finds wrong names the lifted shapes: say why they have a row axis.
        const auto as_read = [](const char* what) { return fmt::format("{} (sequences (N, C, L) run as images of one row "
                                                                       "(N, C, 1, L))", what); };
        try {
            op();
        } catch (const OnnxUnsupportedError& e) {
            throw OnnxUnsupportedError(as_read(e.what()));
        } catch (const ShapeError& e) {
            throw ShapeError(as_read(e.what()));
        } catch (const ValueError& e) {
            throw ValueError(as_read(e.what()));
        }
        n_ = &n;
        if (lifted.outputs.empty() || lifted.outputs[0].empty()) return;
        const Tensor y = tensor_value(lifted.outputs[0]);
        set(0, reshape_to(y, {y.shape()[0], y.shape()[1], y.shape()[3]}));
    }

    void conv() {
        if (in(0).rank() == 3) return in_one_row([this] { conv(); });
        Tensor x = in(0), w = in(1);
        require_rank4(x);
        const std::size_t c = x.shape()[1];
        const long group = int_attr("group", 1);
        if (group < 1) invalid(fmt::format("group {}; expected >= 1", group));
        // Zero channels are no groups of channels: a group count then bounds nothing.
        if (c % static_cast<std::size_t>(group) != 0 || (group > 1 && c == 0)) {
            invalid(fmt::format("group {} for X {}; expected a divisor of its {} channels", group, format_shape(x.shape()), c));
        }
        const std::size_t groups = static_cast<std::size_t>(group);
        // A group per input channel is a depthwise convolution, M = C_out / C filters each.
        const bool depthwise = groups != 1 && groups == c;
        if (w.rank() != 4 || w.shape()[1] != c / groups || w.shape()[0] % groups != 0) {
            invalid(fmt::format("W {} for X {} and group {}; expected (C_out, {}, KH, KW) with C_out a multiple of {}",
                                format_shape(w.shape()), format_shape(x.shape()), group, c / groups, group));
        }
        const std::size_t filters = w.shape()[0];
        if (has_input(2) && in(2).shape() != Shape{filters}) {
            invalid(fmt::format("B {}; expected ({},), one bias per output channel of W {}", format_shape(in(2).shape()),
                                filters, format_shape(w.shape())));
        }
        const Size2 k{w.shape()[2], w.shape()[3]};
        require_kernel_shape(k, w);
        const Size2 s = pair_attr("strides", {1, 1});
        const Size2 d = dilations();
        const auto p = window_pads(x.shape(), k, s, d);
        // The padded image and at most one output per position of it, for each filter.
        const double positions = static_cast<double>(x.shape()[2] + static_cast<std::size_t>(p[0] + p[2])) *
                                 static_cast<double>(x.shape()[3] + static_cast<std::size_t>(p[1] + p[3]));
        afford(static_cast<double>(x.shape()[0]) * positions * static_cast<double>(c + filters), "its output");
        Tensor y = channels_last(x);
        // Zero padding is what a convolution's padding means, so explicit pads are a pad op.
        if (p[0] || p[2]) y = pad(y, 1, static_cast<std::size_t>(p[0]), static_cast<std::size_t>(p[2]));
        if (p[1] || p[3]) y = pad(y, 2, static_cast<std::size_t>(p[1]), static_cast<std::size_t>(p[3]));
        if (depthwise) {
            // (C * M, 1, KH, KW) -> (C, M, KH, KW) -> (KH, KW, C, M)
            const long m = static_cast<long>(filters / c), kh = static_cast<long>(k[0]), kw = static_cast<long>(k[1]);
            const Tensor kernel = transpose(reshape(w, {static_cast<long>(c), m, kh, kw}), {2, 3, 0, 1});
            y = has_input(2) ? depthwise_conv2d_with_bias(y, kernel, in(2), s, Padding::valid, d)
                             : depthwise_conv2d(y, kernel, s, Padding::valid, d);
        } else {
            // (C_out, C_in / group, KH, KW) -> (KH, KW, C_in / group, C_out)
            const Tensor kernel = transpose(w, {2, 3, 1, 0});
            // Groups of channels convolved apart (ResNeXt's, ShuffleNet's), each with its share of
            // the filters: conv2d has no groups of its own, so each group is a convolution of the
            // slices it reads, and the outputs are joined in order.
            const std::size_t per_group = c / groups, filters_per_group = filters / groups;
            std::vector<Tensor> outputs;
            for (std::size_t i = 0; i < groups; ++i) {
                const auto part = [&](const Tensor& t, long axis, std::size_t size) {
                    return groups == 1 ? t : slice(t, axis, i * size, (i + 1) * size);
                };
                const Tensor xi = part(y, 3, per_group), ki = part(kernel, 3, filters_per_group);
                outputs.push_back(has_input(2)
                                      ? conv2d_with_bias(xi, ki, part(in(2), 0, filters_per_group), s, Padding::valid, d)
                                      : conv2d(xi, ki, s, Padding::valid, d));
            }
            y = groups == 1 ? outputs.front() : concat(outputs, 3);
        }
        set(0, channels_first(y));
    }

    // The adjoint of a convolution: each input pixel spread over a KH x KW window of the output
    // (its taps `dilations` apart, spanning (K - 1) D + 1), windows `strides` apart; then `pads`
    // crop the result's borders and `output_padding` extends its end,
    // output = S (in - 1) + output_padding + (K - 1) D + 1 - pad_begin - pad_end.
    void conv_transpose() {
        if (in(0).rank() == 3) return in_one_row([this] { conv_transpose(); });
        const Tensor x = in(0), w = in(1);
        require_rank4(x);
        only_one_output();
        if (int_attr("group", 1) != 1) unsupported(fmt::format("group {}; expected 1", int_attr("group", 1)));
        const Size2 d = dilations();
        const std::size_t c = x.shape()[1];
        if (w.rank() != 4 || w.shape()[0] != c) {
            invalid(fmt::format("W {} for X {}; expected ({}, C_out, KH, KW)", format_shape(w.shape()),
                                format_shape(x.shape()), c));
        }
        const Size2 k{w.shape()[2], w.shape()[3]};
        // Both would make the output's extent, S (in - 1) + (K - 1) D + 1, wrap around.
        if (k[0] == 0 || k[1] == 0) {
            invalid(fmt::format("W {} has an empty window; expected KH, KW >= 1", format_shape(w.shape())));
        }
        if (x.shape()[2] == 0 || x.shape()[3] == 0) {
            invalid(fmt::format("X {} has images without pixels; expected H, W >= 1", format_shape(x.shape())));
        }
        require_kernel_shape(k, w);
        const std::size_t f = w.shape()[1];
        if (has_input(2) && in(2).shape() != Shape{f}) {
            invalid(fmt::format("B {}; expected ({},), one bias per output channel of W {}", format_shape(in(2).shape()), f,
                                format_shape(w.shape())));
        }
        const Size2 s = pair_attr("strides", {1, 1});
        if (static_cast<long>(std::max(s[0], s[1])) > kMaxPad) {
            unsupported(fmt::format("strides ({}, {}); expected strides up to {}", s[0], s[1], kMaxPad));
        }
        // output_padding adds rows and columns past the last window's reach: zeros (then the bias).
        const Size2 extra = pair_attr("output_padding", {0, 0}, 0);
        std::array<std::size_t, 2> reach{}, full{};
        for (int a = 0; a < 2; ++a) {
            if (extra[a] >= std::max(s[a], d[a])) {
                invalid(fmt::format("output_padding ({}, {}); expected each below the larger of its stride ({}, {}) and "
                                    "dilation ({}, {})",
                                    extra[0], extra[1], s[0], s[1], d[0], d[1]));
            }
            reach[a] = s[a] * (x.shape()[2 + a] - 1) + window_span(k[a], d[a]);
            full[a] = reach[a] + extra[a];
        }
        // The crop: explicit pads, or what an output size asks for (ONNX's rule: with SAME_UPPER
        // the smaller half before, otherwise after).
        const std::string padding = auto_pad();
        std::optional<std::array<long, 2>> target;
        if (padding == "SAME_UPPER" || padding == "SAME_LOWER") {
            target = {static_cast<long>(x.shape()[2] * s[0]), static_cast<long>(x.shape()[3] * s[1])};
        } else if (auto shape = ints_attr("output_shape")) {
            if ((shape->size() != 2 && shape->size() != 4) ||
                (shape->size() == 4 && ((*shape)[0] != static_cast<long>(x.shape()[0]) || (*shape)[1] != static_cast<long>(f)))) {
                invalid(fmt::format("output_shape ({}); expected (H, W) or ({}, {}, H, W)", fmt::join(*shape, ", "),
                                    x.shape()[0], f));
            }
            target = {(*shape)[shape->size() - 2], (*shape)[shape->size() - 1]};
        }
        std::array<long, 4> p = target ? std::array<long, 4>{0, 0, 0, 0} : window_pads(x.shape(), k, s, d);
        for (int a = 0; target && a < 2; ++a) {
            const long total = static_cast<long>(full[a]) - (*target)[a];
            if (total < 0) {
                unsupported(fmt::format("output size {} beyond the {} the windows and output_padding give", (*target)[a],
                                        full[a]));
            }
            p[a] = padding == "SAME_UPPER" ? total / 2 : total - total / 2;
            p[a + 2] = total - p[a];
        }
        for (int a = 0; a < 2; ++a) {
            if (static_cast<long>(full[a]) <= p[a] + p[a + 2]) {
                invalid(fmt::format("pads ({}) crop the whole output of extent {}", fmt::join(p, ", "), full[a]));
            }
        }
        afford(static_cast<double>(x.shape()[0] * f) * static_cast<double>(full[0]) * static_cast<double>(full[1]),
               "an output");
        // (C_in, C_out, KH, KW) -> (KH, KW, C_out, C_in): the kernel of the convolution it is the adjoint of.
        const Tensor kernel = transpose(w, {2, 3, 1, 0});
        // Below the stride, the extra rows are the adjoint's own (an output that size has as many
        // windows); beyond it, only a dilation reaches that far, and they are padded on.
        std::array<std::size_t, 2> own{}, padded{};
        for (int a = 0; a < 2; ++a) {
            own[a] = extra[a] < s[a] ? extra[a] : 0;
            padded[a] = extra[a] - own[a];
        }
        Tensor y = conv2d_backward_input(channels_last(x), kernel,
                                         {x.shape()[0], reach[0] + own[0], reach[1] + own[1], f}, s, Padding::valid, d);
        for (int a = 0; a < 2; ++a) {
            if (padded[a]) y = pad(y, 1 + a, 0, padded[a]);
        }
        for (int a = 0; a < 2; ++a) {
            if (p[a] || p[a + 2]) y = slice(y, 1 + a, static_cast<std::size_t>(p[a]), full[a] - static_cast<std::size_t>(p[a + 2]));
        }
        if (has_input(2)) y = y + in(2);
        set(0, channels_first(y));
    }

    void pool(bool max) {
        if (in(0).rank() == 3) return in_one_row([this, max] { pool(max); });
        const Tensor x = in(0);
        require_rank4(x);
        only_one_output();
        if (int_attr("storage_order", 0) != 0) unsupported("storage_order 1; expected 0");
        const Size2 k = pair_attr("kernel_shape", {0, 0});
        if (k[0] == 0) invalid("kernel_shape is missing; expected the window's extents");
        const Size2 s = pair_attr("strides", {1, 1});
        if (static_cast<long>(std::max(s[0], s[1])) > kMaxPad) {
            unsupported(fmt::format("strides ({}, {}); expected strides up to {}", s[0], s[1], kMaxPad));
        }
        // MaxPool's taps may be `dilations` apart (AveragePool has no dilations before opset 19).
        if (!max) require_no_dilation();
        const Size2 d = max ? dilations() : Size2{1, 1};
        const bool dilated = d != Size2{1, 1};
        for (int a = 0; a < 2; ++a) {
            if (k[a] > kMaxWindowSpan || window_too_long(k[a], d[a])) {
                unsupported(fmt::format("kernel_shape ({}, {}) with dilations ({}, {}); expected windows spanning at most "
                                        "{} pixels",
                                        k[0], k[1], d[0], d[1], kMaxWindowSpan));
            }
        }
        const Size2 span{window_span(k[0], d[0]), window_span(k[1], d[1])};
        const bool ceil_mode = int_attr("ceil_mode", 0) != 0;
        // Averages over windows that reach past the input: only a maximum's are meant the same by
        // every runtime. With auto_pad, ONNX's own reference refuses ceil_mode.
        if (ceil_mode && !max) unsupported("ceil_mode 1 for AveragePool; expected 0");
        if (ceil_mode && auto_pad() != "NOTSET") {
            unsupported(fmt::format("ceil_mode 1 with auto_pad {}; expected explicit pads", auto_pad()));
        }
        const bool count_pads = !max && int_attr("count_include_pad", 0) != 0;
        const std::array<long, 4> file_pads = window_pads(x.shape(), k, s, d);
        for (int a = 0; a < 2; ++a) {
            const long in = static_cast<long>(x.shape()[2 + a]), padded = in + file_pads[a] + file_pads[a + 2];
            // As ONNX Runtime requires: so every window holds a pixel of the image.
            if (file_pads[a] >= static_cast<long>(k[a]) || file_pads[a + 2] >= static_cast<long>(k[a])) {
                invalid(fmt::format("pads ({}) for kernel_shape ({}, {}); expected each pad smaller than its window",
                                    fmt::join(file_pads, ", "), k[0], k[1]));
            }
            if (padded < static_cast<long>(span[a])) {
                invalid(fmt::format("kernel_shape ({}, {}){} larger than X {} with pads ({})", k[0], k[1],
                                    dilated ? fmt::format(" with dilations ({}, {})", d[0], d[1]) : std::string{},
                                    format_shape(x.shape()), fmt::join(file_pads, ", ")));
            }
        }
        std::array<long, 4> p = file_pads;
        for (int a = 0; a < 2; ++a) {
            const long in = static_cast<long>(x.shape()[2 + a]), padded = in + p[a] + p[a + 2];
            if (ceil_mode) {
                // ONNX's ceil mode: one more window where the last would leave rows out, unless it
                // would start in the end padding (as PyTorch, whose exports use it); it reaches
                // past the padded input, by rows that never win a maximum.
                const long stride = static_cast<long>(s[a]);
                long out = (padded - static_cast<long>(span[a]) + stride - 1) / stride + 1;
                if ((out - 1) * stride >= in + p[a]) --out;
                p[a + 2] += std::max(0L, (out - 1) * stride + static_cast<long>(span[a]) - padded);
            }
        }
        const Tensor image = channels_last(x);
        Tensor y;
        if (dilated) {
            y = dilated_max_pool(image, k, s, d, p);
        } else if (p == std::array<long, 4>{0, 0, 0, 0}) {
            y = max ? max_pool2d(image, k, s) : avg_pool2d(image, k, s);
        } else if (!count_pads && p == same_pads(x.shape(), k, s)) {
            // xgrad's `same`: (total / 2) before and the rest after, windows ignoring the padding.
            y = max ? max_pool2d(image, k, s, Padding::same) : avg_pool2d(image, k, s, Padding::same);
        } else {
            y = padded_pool(image, k, s, p, max, count_pads);
        }
        set(0, channels_first(y));
    }

    // The pads xgrad's `same` window gives x (N, C, H, W).
    static std::array<long, 4> same_pads(const Shape& x, Size2 k, Size2 s) {
        std::array<long, 4> same{};
        for (int a = 0; a < 2; ++a) {
            const AxisWindows w = axis_windows(x[2 + a], k[a], s[a], Padding::same);
            same[a] = static_cast<long>(w.pad_before);
            same[a + 2] = static_cast<long>(w.pad_total - w.pad_before);
        }
        return same;
    }

    // 1 inside an image (N, H, W, C) padded by p (top, left, bottom, right), 0 in the pads:
    // (1, PH, PW, 1), so that it broadcasts over any batch and channels.
    static Array inside_of(const Shape& image, const std::array<long, 4>& p) {
        const std::size_t h = image[1], w = image[2], top = static_cast<std::size_t>(p[0]), left = static_cast<std::size_t>(p[1]);
        Array inside = xt::zeros<float>({std::size_t{1}, h + top + static_cast<std::size_t>(p[2]),
                                         w + left + static_cast<std::size_t>(p[3]), std::size_t{1}});
        for (std::size_t i = 0; i < h; ++i) {
            for (std::size_t j = 0; j < w; ++j) inside(0, top + i, left + j, 0) = 1.0f;
        }
        return inside;
    }

    // image (N, H, W, C) padded by p (top, left, bottom, right) with -inf: a padding that never
    // wins a maximum.
    static Tensor padded_below_all(const Tensor& image, const std::array<long, 4>& p) {
        const Array floor = xt::where(inside_of(image.shape(), p) > 0.0f, 0.0f, -std::numeric_limits<float>::infinity());
        return pad(pad(image, 1, static_cast<std::size_t>(p[0]), static_cast<std::size_t>(p[2])), 2,
                   static_cast<std::size_t>(p[1]), static_cast<std::size_t>(p[3])) +
               constant(floor);
    }

    // A maximum over taps d apart (MaxPool's dilations), as ops: the image padded with -inf (it
    // never wins), then for each tap the pixel it reads in every window (the rows of a tap row
    // gathered once, then each tap's columns of them), and their elementwise maximum.
    Tensor dilated_max_pool(const Tensor& image, Size2 k, Size2 s, Size2 d, const std::array<long, 4>& p) {
        const std::size_t ph = image.shape()[1] + static_cast<std::size_t>(p[0] + p[2]);
        const std::size_t pw = image.shape()[2] + static_cast<std::size_t>(p[1] + p[3]);
        const std::size_t oh = (ph - window_span(k[0], d[0])) / s[0] + 1, ow = (pw - window_span(k[1], d[1])) / s[1] + 1;
        // The padded image, each tap row's rows and each tap's pixels; a tap is a few ops, charged
        // as at least kStepCost values however small its windows.
        const double images = static_cast<double>(std::max<std::size_t>(image.shape()[0] * image.shape()[3], 1));
        const double taps = static_cast<double>(k[0]) * static_cast<double>(k[1]);
        afford(images * static_cast<double>(ph) * static_cast<double>(pw) +
                   static_cast<double>(k[0]) * images * static_cast<double>(oh) * static_cast<double>(pw) +
                   taps * std::max(images * static_cast<double>(oh) * static_cast<double>(ow), kStepCost),
               "its taps");
        const Tensor padded = padded_below_all(image, p);
        // The positions a tap `first` pixels into each window reads: one per window, `stride` apart.
        const auto positions = [](std::size_t first, std::size_t windows, std::size_t stride) {
            std::vector<std::size_t> at(windows);
            for (std::size_t i = 0; i < windows; ++i) at[i] = first + i * stride;
            return at;
        };
        Tensor y;
        for (std::size_t ty = 0; ty < k[0]; ++ty) {
            const Tensor rows = gather(padded, positions(ty * d[0], oh, s[0]), 1);
            for (std::size_t tx = 0; tx < k[1]; ++tx) {
                const Tensor pixels = gather(rows, positions(tx * d[1], ow, s[1]), 2);
                y = y.defined() ? maximum(y, pixels) : pixels;
            }
        }
        return y;
    }

    // A pooling of image (N, H, W, C) with any pads p (top, left, bottom, right), as ops: the
    // image padded, then windows inside it. Padding is -inf for a maximum (it never wins); for a
    // mean, zeros, divided by the share of each window inside the image unless the pads count.
    Tensor padded_pool(const Tensor& image, Size2 k, Size2 s, const std::array<long, 4>& p, bool max, bool count_pads) {
        const std::size_t h = image.shape()[1], w = image.shape()[2];
        const std::size_t top = static_cast<std::size_t>(p[0]), left = static_cast<std::size_t>(p[1]);
        const std::size_t ph = h + top + static_cast<std::size_t>(p[2]), pw = w + left + static_cast<std::size_t>(p[3]);
        afford(static_cast<double>(image.shape()[0] * image.shape()[3]) * static_cast<double>(ph) * static_cast<double>(pw),
               "a padded image");
        if (max) return max_pool2d(padded_below_all(image, p), k, s);
        const Tensor padded = pad(pad(image, 1, top, static_cast<std::size_t>(p[2])), 2, left, static_cast<std::size_t>(p[3]));
        const Array inside = inside_of(image.shape(), p);
        const Tensor means = avg_pool2d(padded, k, s);
        if (count_pads) return means;
        // The mean over a window's image pixels: its mean over the whole window, over the image's
        // share of the window.
        const Array share = avg_pool2d(constant(inside), k, s).value();
        return means / constant(share);
    }

    // LSTM, GRU and RNN, unrolled into ops over the sequence as xgrad's own recurrent layers run:
    // the inputs' product for every step at once, then one product of the state per step. ONNX's
    // gate orders: i, o, f, c (LSTM) and z, r, h (GRU). A bidirectional node's second direction
    // reads W, R, B, the initial states and P at index 1 and the sequence from its end.
    void recurrent(const std::string& kind) {
        const std::size_t gates = kind == "LSTM" ? 4 : kind == "GRU" ? 3 : 1;
        if (attr("clip")) unsupported("clip; expected none");
        if (int_attr("input_forget", 0) != 0) unsupported("input_forget 1; expected 0");
        if (attr("activation_alpha") || attr("activation_beta")) {
            unsupported("activation_alpha or activation_beta; expected activations without parameters");
        }
        const long layout = int_attr("layout", 0);
        if (layout != 0 && layout != 1) invalid(fmt::format("layout {}; expected 0 or 1", layout));
        const std::string direction = text_attr("direction", "forward");
        if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
            invalid(fmt::format("direction '{}'; expected forward, reverse or bidirectional", direction));
        }
        const std::size_t directions = direction == "bidirectional" ? 2 : 1;
        // Layout 1 puts the batch first: (batch, steps, ...) and (batch, directions, ...).
        Tensor x = in(0);
        if (x.rank() != 3) {
            invalid(fmt::format("X {}; expected {}", format_shape(x.shape()),
                                layout ? "(batch_size, seq_length, input_size)" : "(seq_length, batch_size, input_size)"));
        }
        if (layout) x = transpose(x, {1, 0, 2});
        const std::size_t steps = x.shape()[0], batch = x.shape()[1], features = x.shape()[2];
        if (has_input(4)) {
            const std::vector<long> lengths = ints_in(4);
            if (lengths.size() != batch ||
                std::any_of(lengths.begin(), lengths.end(), [&](long n) { return n != static_cast<long>(steps); })) {
                unsupported(fmt::format("sequence_lens ({}); expected every one of the {} sequences at its full length {}",
                                        fmt::join(lengths, ", "), batch, steps));
            }
        }
        const Tensor w = in(1), r = in(2);
        if (r.rank() != 3) {
            invalid(fmt::format("R {}; expected ({}, {} * hidden_size, hidden_size)", format_shape(r.shape()), directions, gates));
        }
        const std::size_t hidden = r.shape()[2], width = gates * hidden;
        if (const long h = int_attr("hidden_size", static_cast<long>(hidden)); h != static_cast<long>(hidden) || hidden == 0) {
            invalid(fmt::format("R {} for hidden_size {}; expected ({}, {} * hidden_size, hidden_size)",
                                format_shape(r.shape()), h, directions, gates));
        }
        const auto require_shape = [&](const Tensor& t, const char* what, const Shape& expected) {
            if (t.shape() != expected) {
                invalid(fmt::format("{} {}; expected {} for X {}, {} direction(s) and hidden_size {}", what,
                                    format_shape(t.shape()), format_shape(expected), format_shape(in(0).shape()),
                                    directions, hidden));
            }
        };
        require_shape(w, "W", {directions, width, features});
        require_shape(r, "R", {directions, width, hidden});
        // Each step is a dozen ops whose bookkeeping outweighs a small state: charged as at least
        // kStepCost values, so that a long sequence of tiny states cannot run for minutes.
        afford(static_cast<double>(steps) * static_cast<double>(directions) *
                   std::max(static_cast<double>(batch) * static_cast<double>(width + 3 * hidden), kStepCost),
               "its steps");
        // Activations: f for the gates, g for the candidate, h for the output (LSTM), per direction.
        const std::size_t per_direction = kind == "LSTM" ? 3 : kind == "GRU" ? 2 : 1;
        std::vector<std::string> functions;
        if (const Attribute* a = attr("activations")) functions = a->strings;
        if (functions.empty()) {
            const std::vector<std::string> defaults = kind == "LSTM"  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                                      : kind == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                      : std::vector<std::string>{"Tanh"};
            for (std::size_t d = 0; d < directions; ++d) functions.insert(functions.end(), defaults.begin(), defaults.end());
        }
        if (functions.size() != per_direction * directions) {
            invalid(fmt::format("activations ({}); expected {} per direction, {} in all", fmt::join(functions, ", "),
                                per_direction, per_direction * directions));
        }
        for (const auto& f : functions) {
            if (f != "Sigmoid" && f != "Tanh" && f != "Relu") {
                unsupported(fmt::format("activation {}; expected Sigmoid, Tanh or Relu", f));
            }
        }
        const auto activate = [](const std::string& f, const Tensor& t) {
            return f == "Sigmoid" ? sigmoid(t) : f == "Tanh" ? tanh(t) : relu(t);
        };
        const bool reset_after = kind == "GRU" && int_attr("linear_before_reset", 0) != 0;
        // Direction d's part of t (directions, ...) as `shape`.
        const auto part = [&](const Tensor& t, std::size_t d, const Shape& shape) {
            return reshape_to(directions == 1 ? t : slice(t, 0, d, d + 1), shape);
        };
        const auto state_in = [&](std::size_t k, const char* what, std::size_t d) {
            if (!has_input(k)) return constant(xt::zeros<float>({batch, hidden}));
            Tensor t = in(k);
            // Named in the file's layout, then read as layout 0's (directions, batch, hidden).
            require_shape(t, what, layout ? Shape{batch, directions, hidden} : Shape{directions, batch, hidden});
            if (layout) t = transpose(t, {1, 0, 2});
            return part(t, d, {batch, hidden});
        };
        if (has_input(3)) require_shape(in(3), "B", {directions, 2 * width});
        if (kind == "LSTM" && has_input(7)) require_shape(in(7), "P", {directions, 3 * hidden});
        const bool wants_sequence = !n_->outputs[0].empty();
        std::vector<Tensor> sequences, last_states, last_cells;
        for (std::size_t d = 0; d < directions; ++d) {
            const bool backwards = direction == "reverse" || d == 1;
            const Tensor wd = transpose(part(w, d, {width, features})), rd = transpose(part(r, d, {width, hidden}));
            const Tensor biases = has_input(3) ? part(in(3), d, {2 * width}) : constant(xt::zeros<float>({2 * width}));
            const Tensor wb = slice(biases, 0, 0, width), rb = slice(biases, 0, width, 2 * width);
            // Every step's input product at once, its bias in it: (steps * batch, width).
            const Tensor projected = linear(reshape_to(x, {steps * batch, features}), wd, wb);
            const auto f = [&](std::size_t k, const Tensor& t) { return activate(functions[d * per_direction + k], t); };
            const auto gate = [&](const Tensor& t, std::size_t k) { return slice(t, 1, k * hidden, (k + 1) * hidden); };
            // Taken once for all steps: LSTM's peepholes (i, o, f); GRU's state weights and biases
            // of z and r apart from those of the candidate.
            Tensor peep_i, peep_o, peep_f, rd_zr, rb_zr, rd_h, rb_h;
            if (kind == "LSTM" && has_input(7)) {
                const Tensor p = part(in(7), d, {3 * hidden});
                peep_i = slice(p, 0, 0, hidden), peep_o = slice(p, 0, hidden, 2 * hidden);
                peep_f = slice(p, 0, 2 * hidden, 3 * hidden);
            }
            if (kind == "GRU") {
                rd_zr = slice(rd, 1, 0, 2 * hidden), rb_zr = slice(rb, 0, 0, 2 * hidden);
                rd_h = slice(rd, 1, 2 * hidden, width), rb_h = slice(rb, 0, 2 * hidden, width);
            }
            Tensor h = state_in(5, "initial_h", d), c;
            if (kind == "LSTM") c = state_in(6, "initial_c", d);
            std::vector<Tensor> outputs(steps);
            for (std::size_t i = 0; i < steps; ++i) {
                const std::size_t t = backwards ? steps - 1 - i : i;
                const Tensor xt = slice(projected, 0, t * batch, (t + 1) * batch);
                if (kind == "LSTM") {
                    const Tensor g = xt + linear(h, rd, rb);
                    Tensor in_gate = gate(g, 0), forget = gate(g, 2), out_gate = gate(g, 1);
                    if (peep_i.defined()) {
                        in_gate = in_gate + peep_i * c;
                        forget = forget + peep_f * c;
                    }
                    c = f(0, forget) * c + f(0, in_gate) * f(1, gate(g, 3));
                    if (peep_o.defined()) out_gate = out_gate + peep_o * c;
                    h = f(0, out_gate) * f(2, c);
                } else if (kind == "GRU") {
                    const Tensor zr = slice(xt, 1, 0, 2 * hidden) + linear(h, rd_zr, rb_zr);
                    const Tensor z = f(0, gate(zr, 0)), reset = f(0, gate(zr, 1));
                    const Tensor recurrent = reset_after ? reset * linear(h, rd_h, rb_h) : linear(reset * h, rd_h, rb_h);
                    const Tensor candidate = f(1, gate(xt, 2) + recurrent);
                    h = candidate + z * (h - candidate);  // (1 - z) candidate + z h
                } else {
                    h = f(0, xt + linear(h, rd, rb));
                }
                if (wants_sequence) outputs[t] = reshape_to(h, {1, 1, batch, hidden});
            }
            if (wants_sequence) {
                const Shape none{0, 1, batch, hidden};  // a sequence of no steps
                sequences.push_back(steps ? concat(outputs, 0) : constant(Array(xt::zeros<float>(none))));
            }
            last_states.push_back(reshape_to(h, {1, batch, hidden}));
            if (kind == "LSTM") last_cells.push_back(reshape_to(c, {1, batch, hidden}));
        }
        const auto joined = [&](const std::vector<Tensor>& parts, long axis) {
            return parts.size() == 1 ? parts.front() : concat(parts, axis);
        };
        // Y (steps, directions, batch, hidden), Y_h and Y_c (directions, batch, hidden); batch first in layout 1.
        if (wants_sequence) {
            const Tensor y = joined(sequences, 1);
            set(0, layout ? transpose(y, {2, 0, 1, 3}) : y);
        }
        const Tensor y_h = joined(last_states, 0);
        set(1, layout ? transpose(y_h, {1, 0, 2}) : y_h);
        if (kind == "LSTM") {
            const Tensor y_c = joined(last_cells, 0);
            set(2, layout ? transpose(y_c, {1, 0, 2}) : y_c);
        } else if (n_->outputs.size() > 2 && !n_->outputs[2].empty()) {
            invalid(fmt::format("output 2 is requested; {} has two outputs", kind));
        }
    }

    void batch_normalization() {
        only_one_output();
        if (int_attr("training_mode", 0) != 0) unsupported("training_mode 1; expected inference (0)");
        if (g_.opset < 7 && int_attr("is_test", 0) == 0) unsupported("is_test 0 (training); expected 1");
        if (g_.opset < 9 && int_attr("spatial", 1) != 1) unsupported("spatial 0; expected 1");
        const Tensor x = in(0);
        if (x.rank() < 2) invalid(fmt::format("X {}; expected (N, C, ...)", format_shape(x.shape())));
        // (C,) -> (C, 1, ..., 1), to broadcast over (N, C, D1, ...).
        Shape s(x.rank() - 1, 1);
        s[0] = x.shape()[1];
        auto per_channel = [&](std::size_t k) {
            const Tensor t = in(k);
            if (t.shape() != Shape{s[0]}) {
                invalid(fmt::format("input {} has shape {}; expected ({},) for X {}", k, format_shape(t.shape()), s[0],
                                    format_shape(x.shape())));
            }
            return reshape_to(t, s);
        };
        const float epsilon = float_attr("epsilon", 1e-5f);
        const Tensor scale = per_channel(1), bias = per_channel(2), mean = per_channel(3), var = per_channel(4);
        set(0, (x - mean) / sqrt(var + epsilon) * scale + bias);
    }

    // LayerNormalization (opset 17): over the axes from `axis` to the last, Scale and B of their
    // shape (B absent: 0); float statistics, also as the outputs Mean and InvStdDev.
    void layer_normalization() {
        if (int_attr("stash_type", 1) != 1) {
            unsupported(fmt::format("stash_type {}; expected 1 (float statistics)", int_attr("stash_type", 1)));
        }
        const Tensor x = in(0);
        if (x.rank() == 0) invalid("X is a scalar; expected at least one axis");
        const std::size_t first = axis(int_attr("axis", -1), x.rank());
        // Scale and B broadcast to the normalized axes' shape, as the spec's function does.
        const Shape normalized(x.shape().begin() + static_cast<long>(first), x.shape().end());
        auto to_normalized = [&](const Tensor& t) { return t.shape() == normalized ? t : broadcast_to(t, normalized); };
        const Tensor scale = to_normalized(in(1));
        const Tensor bias = has_input(2) ? to_normalized(in(2)) : constant(xt::zeros<float>(normalized));
        const float epsilon = float_attr("epsilon", 1e-5f);
        set(0, layer_norm(x, scale, bias, static_cast<long>(first), epsilon));
        if (n_->outputs.size() > 1) {
            const LayerNormStatistics statistics = layer_norm_statistics(x, static_cast<long>(first), epsilon);
            set(1, statistics.mean);
            set(2, statistics.inv_std);
        }
    }

    void gemm() {
        Tensor a = in(0), b = in(1);
        if (a.rank() != 2 || b.rank() != 2) {
            invalid(fmt::format("A {} and B {}; expected matrices", format_shape(a.shape()), format_shape(b.shape())));
        }
        if (int_attr("transA", 0)) a = transpose(a);
        if (int_attr("transB", 0)) b = transpose(b);
        const float alpha = float_attr("alpha", 1.0f), beta = float_attr("beta", 1.0f);
        if (has_input(2) && alpha == 1.0f && beta == 1.0f && in(2).shape() == Shape{b.shape()[1]}) {
            set(0, linear(a, b, in(2)));
            return;
        }
        Tensor y = matmul(a, b);
        if (alpha != 1.0f) y = y * alpha;
        if (has_input(2)) y = y + (beta == 1.0f ? in(2) : in(2) * beta);
        set(0, y);
    }

    void mat_mul() {
        const Tensor a = in(0), b = in(1);
        if (a.rank() >= 2 && b.rank() >= 2) {
            set(0, matmul(a, b));  // b a matrix: a's rows as one; b a stack: matrices pairwise, stacks broadcast
        } else {
            unsupported(fmt::format("A {} . B {}; expected matrices or stacks of them (a vector operand is not run)",
                                    format_shape(a.shape()), format_shape(b.shape())));
        }
    }

    // Softmax and LogSoftmax: one axis from opset 13, before it the input seen as a matrix
    // (rows: the extents before `axis`).
    void softmax_like(bool log) {
        const Tensor x = in(0);
        const long default_axis = g_.opset >= 13 ? -1 : 1;
        const std::size_t a = axis(int_attr("axis", default_axis), x.rank());
        auto f = [log](const Tensor& t, long ax) { return log ? log_softmax(t, ax) : softmax(t, ax); };
        if (g_.opset >= 13) {
            set(0, f(x, static_cast<long>(a)));
            return;
        }
        std::size_t rows = 1;
        for (std::size_t i = 0; i < a; ++i) rows *= x.shape()[i];
        const long cols = static_cast<long>(x.size() / std::max<std::size_t>(rows, 1));
        set(0, reshape_to(f(reshape(x, {static_cast<long>(rows), cols}), 1), x.shape()));
    }

    void flatten() {
        const Tensor x = in(0);
        const long r = static_cast<long>(x.rank());
        long a = int_attr("axis", 1);
        if (a < -r || a > r) invalid(fmt::format("axis {} for rank {}; expected -{} to {}", a, r, r, r));
        if (a < 0) a += r;
        std::size_t rows = 1;
        for (long i = 0; i < a; ++i) rows *= x.shape()[static_cast<std::size_t>(i)];
        set(0, reshape(x, {static_cast<long>(rows), static_cast<long>(x.size() / std::max<std::size_t>(rows, 1))}));
    }

    void reshape_node() {
        const Tensor x = in(0);
        std::vector<long> target = ints_in(1);
        const bool allow_zero = int_attr("allowzero", 0) != 0;
        for (std::size_t i = 0; i < target.size(); ++i) {
            if (target[i] == 0 && !allow_zero) {
                if (i >= x.rank()) invalid(fmt::format("shape ({}) copies axis {} of X {}", fmt::join(target, ", "), i, format_shape(x.shape())));
                target[i] = static_cast<long>(x.shape()[i]);
            }
        }
        set(0, reshape(x, target));
    }

    // The axes of a reduction (attribute, or input 1 from the opsets where it moved there);
    // empty: all of them.
    std::vector<std::size_t> reduce_axes(const Tensor& x, bool axes_as_input) {
        std::vector<long> given;
        if (axes_as_input) {
            if (has_input(1)) given = ints_in(1);
        } else if (auto a = ints_attr("axes")) {
            given = *a;
        }
        std::vector<std::size_t> axes;
        if (given.empty()) {
            if (axes_as_input && int_attr("noop_with_empty_axes", 0)) return {};
            for (std::size_t i = 0; i < x.rank(); ++i) axes.push_back(i);
        }
        for (long a : given) axes.push_back(axis(a, x.rank()));
        std::sort(axes.begin(), axes.end());
        axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
        return axes;
    }

    void reduce(const std::string& kind) {
        Tensor y = in(0);
        const bool keep = int_attr("keepdims", 1) != 0;
        const auto axes = reduce_axes(y, kind == "ReduceSum" && g_.opset >= 13);
        if (y.rank() == 0) {
            set(0, y);
            return;
        }
        // The composite reductions: a sum of something, then a function of it.
        if (kind == "ReduceSumSquare" || kind == "ReduceL2") y = y * y;
        if (kind == "ReduceL1") y = abs(y);
        if (kind == "ReduceLogSumExp") y = exp(y);
        // Highest axis first, so the lower ones keep their index when keepdims is off.
        for (auto it = axes.rbegin(); it != axes.rend(); ++it) {
            const long a = static_cast<long>(*it);
            y = kind == "ReduceMean"  ? mean(y, a, keep)
                : kind == "ReduceMax" ? max(y, a, keep)
                : kind == "ReduceMin" ? min(y, a, keep)
                                      : sum(y, a, keep);
        }
        if (kind == "ReduceL2") y = sqrt(y);
        if (kind == "ReduceLogSum" || kind == "ReduceLogSumExp") y = log(y);
        set(0, y);
    }

    bool ints_at(std::size_t k) {
        return has_input(k) && value(n_->inputs[k]).ints != nullptr && !value(n_->inputs[k]).tensor.defined();
    }

    // Shape: the input's extents as int64, from `start` to `end` (opset 15).
    void shape_node() {
        const Shape x = ints_at(0) ? value(n_->inputs[0]).ints->shape : in(0).shape();
        const long r = static_cast<long>(x.size());
        auto clamp = [r](long v) { return std::clamp(v < 0 ? v + r : v, 0L, r); };
        const long begin = clamp(int_attr("start", 0)), end = clamp(int_attr("end", r));
        Constant c{true, {}, {}, {}};
        for (long i = begin; i < end; ++i) c.ints.push_back(static_cast<long>(x[static_cast<std::size_t>(i)]));
        c.shape = {c.ints.size()};
        set_ints(0, std::move(c));
    }

    // Size: how many elements the input holds, an int64 of no axes, as Shape on a tensor or on a
    // computed shape.
    void size_node() {
        const Shape x = ints_at(0) ? value(n_->inputs[0]).ints->shape : in(0).shape();
        Constant c{true, {}, {}, {}};
        c.ints.push_back(static_cast<long>(element_count(x)));
        set_ints(0, std::move(c));
    }

    // The constant indices of a Gather or GatherElements (input 1), their bookkeeping charged to
    // the run's value limit before the op builds any of it.
    const Constant& charged_indices() {
        const Constant& indices = *value(n_->inputs[1]).ints;
        afford(kIndexCost * static_cast<double>(indices.ints.size()),
               fmt::format("the bookkeeping of {} indices", indices.ints.size()));
        return indices;
    }
    // The shape of the data a Gather or GatherElements reads (input 0, float or integer).
    Shape gathered_shape() {
        const Shape data = ints_at(0) ? value(n_->inputs[0]).ints->shape : in(0).shape();
        if (data.empty()) invalid("data is a scalar; expected at least one axis");
        return data;
    }
    // Index i along axis ax of data as a position from its start (a negative index counts from
    // the end, as ONNX's gathers allow).
    std::size_t position_along(long i, std::size_t ax, const Shape& data) const {
        const long n = static_cast<long>(data[ax]);
        if (n == 0) invalid(fmt::format("axis {} of data {} is empty; expected no indices", ax, format_shape(data)));
        if (i < -n || i >= n) {
            invalid(fmt::format("index {} for axis {} of data {}; expected -{} to {}", i, ax, format_shape(data), n,
                                n - 1));
        }
        return static_cast<std::size_t>(i < 0 ? i + n : i);
    }

    // Gather: of float data by constant int64 indices of any rank along any axis (the output's
    // axis becomes the indices' axes), or of int64 values (a shape) along their one axis.
    void gather_node() {
        if (has_input(1) && value(n_->inputs[1]).cast_to_integer) return gather_rows();
        if (!ints_at(1)) {
            unsupported("float indices, or indices computed at run time other than a Cast to an integer type; expected "
                        "constant int64 indices");
        }
        const Constant& indices = charged_indices();
        const bool ints = ints_at(0);
        const Shape data = gathered_shape();
        const std::size_t ax = axis(int_attr("axis", 0), data.size());
        std::vector<std::size_t> picked;
        for (long i : indices.ints) picked.push_back(position_along(i, ax, data));
        if (ints) {
            if (data.size() != 1) unsupported("int64 data of rank > 1; expected a 1-D shape");
            Constant c{true, {}, {}, indices.shape};
            for (std::size_t i : picked) c.ints.push_back(value(n_->inputs[0]).ints->ints[i]);
            return set_ints(0, std::move(c));
        }
        const Tensor x = in(0);
        afford(static_cast<double>(x.size()) / static_cast<double>(std::max<std::size_t>(data[ax], 1)) *
                   static_cast<double>(picked.size()),
               fmt::format("a gather of {} indices", picked.size()));
        std::vector<long> shape(data.begin(), data.begin() + static_cast<long>(ax));
        shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
        shape.insert(shape.end(), data.begin() + static_cast<long>(ax) + 1, data.end());
        const Tensor y = gather(x, picked, static_cast<long>(ax));
        set(0, indices.shape.size() == 1 ? y : reshape(y, shape));
    }

    // Trilu: the upper (j - i >= k) or lower (j - i <= k) triangle of each matrix in the last two
    // axes, zeros elsewhere; integer constants stay exact, float data is a Where by a constant mask
    // (its gradient goes to the kept elements only).
    void trilu_node() {
        const bool upper = int_attr("upper", 1) != 0;
        long k = 0;
        if (has_input(1)) {
            const std::vector<long> ks = ints_in(1);
            if (ks.size() != 1) invalid(fmt::format("k holds {} values; expected one", ks.size()));
            k = ks[0];
        }
        const bool ints = ints_at(0);
        const Shape shape = ints ? value(n_->inputs[0]).ints->shape : in(0).shape();
        if (shape.size() < 2) {
            invalid(fmt::format("input {} has {} axis; expected at least 2", format_shape(shape), shape.size()));
        }
        const std::size_t rows = shape[shape.size() - 2], cols = shape.back();
        const auto kept = [&](std::size_t i, std::size_t j) {
            const long above = static_cast<long>(j) - static_cast<long>(i);
            return upper ? above >= k : above <= k;
        };
        if (ints) {
            Constant c = *value(n_->inputs[0]).ints;
            for (std::size_t e = 0; e < c.ints.size(); ++e) {
                if (!kept(e / cols % rows, e % cols)) c.ints[e] = 0;
            }
            return set_ints(0, std::move(c));
        }
        // An empty input has no triangle, and its other axes may be long: no mask for it.
        if (in(0).size() == 0) return set(0, in(0));
        Array mask = uninitialized(Shape{rows, cols});
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) mask(i, j) = kept(i, j) ? 1.0f : 0.0f;
        }
        set(0, where(constant(std::move(mask)), in(0), zeros({})));
    }

    // GatherElements: out[..., i, ...] = data[..., indices[..., i, ...], ...] along `axis`, indices of
    // data's rank; as a gather of the flattened data at each element's flat position, so that the
    // gradient adds back onto the positions read, as often as each was read.
    void gather_elements_node() {
        if (!has_input(1)) invalid("input 1 is missing; expected 2 inputs (data, indices)");
        if (!ints_at(1)) {
            unsupported("indices that are float data or computed at run time; expected constant int64 indices");
        }
        const Constant& indices = charged_indices();
        const bool ints = ints_at(0);
        const Shape data = gathered_shape();
        if (indices.shape.size() != data.size()) {
            invalid(fmt::format("indices {} have rank {}, data {} rank {}; expected equal ranks",
                                format_shape(indices.shape), indices.shape.size(), format_shape(data), data.size()));
        }
        const std::size_t ax = axis(int_attr("axis", 0), data.size());
        for (std::size_t a = 0; a < data.size(); ++a) {
            if (a != ax && indices.shape[a] > data[a]) {
                invalid(fmt::format("indices {} for data {}: axis {} is longer than the data's; expected at most {}",
                                    format_shape(indices.shape), format_shape(data), a, data[a]));
            }
        }
        // Row-major strides of the data, and each index element's position there.
        std::vector<std::size_t> stride(data.size(), 1);
        for (std::size_t a = data.size() - 1; a-- > 0;) stride[a] = stride[a + 1] * data[a + 1];
        std::vector<std::size_t> flat(indices.ints.size());
        for (std::size_t e = 0; e < flat.size(); ++e) {
            const std::size_t along = position_along(indices.ints[e], ax, data);
            std::size_t position = 0;
            for (std::size_t a = data.size(), rest = e; a-- > 0;) {
                const std::size_t coordinate = rest % indices.shape[a];
                rest /= indices.shape[a];
                position += (a == ax ? along : coordinate) * stride[a];
            }
            flat[e] = position;
        }
        if (ints) {
            const Constant& source = *value(n_->inputs[0]).ints;
            Constant c{true, {}, {}, indices.shape, source.int32};
            for (std::size_t position : flat) c.ints.push_back(source.ints[position]);
            return set_ints(0, std::move(c));
        }
        const Tensor x = in(0);
        const Tensor picked = gather(reshape_to(x, {x.size()}), flat, 0);
        set(0, reshape_to(picked, indices.shape));
    }

    // Gather by indices computed at run time (an exported Embedding: Cast of float ids, then
    // Gather of the table's rows): xgrad's embedding lookup, which needs whole ids from 0 to
    // rows - 1 and names any other.
    void gather_rows() {
        const Tensor table = in(0);
        if (table.rank() != 2 || axis(int_attr("axis", 0), table.rank()) != 0) {
            unsupported(fmt::format("indices computed at run time into data {} along axis {}; expected rows of a "
                                    "matrix (axis 0)",
                                    format_shape(table.shape()), int_attr("axis", 0)));
        }
        const Tensor& ids = value(n_->inputs[1]).tensor;
        afford(static_cast<double>(ids.size()) * static_cast<double>(table.shape()[1]),
               fmt::format("a gather of {} rows", ids.size()));
        set(0, embedding_lookup(table, ids));
    }

    // Cast: xgrad holds every value as float, so a cast to FLOAT or DOUBLE keeps the values and a
    // cast to BOOL is x != 0. A cast to an integer type truncates a constant into int64 data
    // (refusing a value the type cannot hold); of values computed at run time, it serves as a
    // Gather's indices (gather_rows). FLOAT16 and the others would round: not run.
    void cast_node() {
        using T = onnx::TensorProto;
        const long to = int_attr("to", T::UNDEFINED);
        const std::map<long, std::pair<double, double>> integer_ranges{
            {T::INT8, {-128.0, 127.0}},      {T::UINT8, {0.0, 255.0}},
            {T::INT16, {-32768.0, 32767.0}}, {T::UINT16, {0.0, 65535.0}},
            {T::INT32, {-2147483648.0, 2147483647.0}}, {T::UINT32, {0.0, 4294967295.0}},
            // int64 data: what a long holds (UINT64 beyond it is not read).
            {T::INT64, {-9223372036854775808.0, 9223372036854774784.0}}, {T::UINT64, {0.0, 9223372036854774784.0}}};
        const auto range = integer_ranges.find(to);
        if (range == integer_ranges.end()) {
            if (to == T::FLOAT || to == T::DOUBLE) return set(0, in(0));
            if (to == T::BOOL) return set(0, not_equal(in(0), 0.0f));
            unsupported(fmt::format("a cast to {}; expected FLOAT, DOUBLE, BOOL or an integer type",
                                    data_type_name(static_cast<int>(to))));
        }
        const bool ints = ints_at(0);
        const Tensor x = ints ? Tensor{} : in(0);  // in() names a missing input
        if (!ints && value(n_->inputs[0]).computed) {
            if (!n_->outputs.empty() && !n_->outputs[0].empty()) values_[n_->outputs[0]] = Value{x, {}, true, true};
            return;
        }
        // A constant: its values truncated toward zero, each of them one the type holds.
        Constant c{true, {}, {}, ints ? value(n_->inputs[0]).ints->shape : x.shape()};
        const auto hold = [&](double v) {
            if (!(v >= range->second.first && v <= range->second.second)) {
                unsupported(fmt::format("a constant {} cast to {}, which cannot hold it; expected values from {} to {}", v,
                                        data_type_name(static_cast<int>(to)), range->second.first,
                                        range->second.second));
            }
        };
        if (ints) {
            for (long v : value(n_->inputs[0]).ints->ints) {
                hold(static_cast<double>(v));
                c.ints.push_back(v);
            }
        } else {
            for (float v : x.value()) {
                const double whole = std::trunc(static_cast<double>(v));
                hold(whole);
                c.ints.push_back(static_cast<long>(whole));
            }
        }
        set_ints(0, std::move(c));
    }

    // Integer constants among the first `count` inputs (shapes, labels, an integer Where picks
    // from) are used as the floats xgrad holds: refused unless a float holds them exactly.
    void require_exact_ints(std::size_t count) {
        for (std::size_t k = 0; k < count; ++k) {
            if (!ints_at(k)) continue;
            for (long v : value(n_->inputs[k]).ints->ints) {
                if (!exact_in_float(v)) {
                    unsupported(fmt::format("input {} holds the integer {}; expected integers a float holds exactly "
                                            "(at most 2^24 in size)",
                                            k, v));
                }
            }
        }
    }

    // Equal, Greater, Less and their -OrEqual forms: 1 and 0, a float that stands for a boolean
    // (Not, in step(), takes any nonzero as true; a Cast to FLOAT keeps it).
    void comparison_node(const std::string& op) {
        require_exact_ints(2);
        const Tensor a = in(0), b = in(1);
        if (g_.opset < 7 && a.shape() != b.shape()) {
            unsupported(fmt::format("A {} and B {} of different shapes in opset {} (broadcast attribute); expected "
                                    "opset 7 or later",
                                    format_shape(a.shape()), format_shape(b.shape()), g_.opset));
        }
        set(0, comparison_ops().at(op)(a, b));
    }

    // Where(condition, X, Y): the condition a comparison's 1 and 0, a Cast to BOOL or a bool
    // constant, all of them floats true where not 0, as xgrad's where reads them.
    void where_node() {
        for (std::size_t k = 0; k < 3; ++k) {
            if (!has_input(k)) invalid(fmt::format("input {} is missing; expected 3 inputs (condition, X, Y)", k));
        }
        if (ints_at(0) && ints_at(1) && ints_at(2)) return where_of_ints();
        require_exact_ints(3);
        set(0, where(in(0), in(1), in(2)));
    }

    // Where of integer constants (a shape picked by a constant condition): the integers
    // themselves, exact at any size. Each input is either of the result's shape or one value.
    void where_of_ints() {
        const Constant& cond = *value(n_->inputs[0]).ints;
        const Constant& x = *value(n_->inputs[1]).ints;
        const Constant& y = *value(n_->inputs[2]).ints;
        Constant c{true, {}, {}, broadcast_shapes(broadcast_shapes(cond.shape, x.shape, "Where"), y.shape, "Where"),
                   x.int32 && y.int32};
        const std::size_t n = element_count(c.shape);
        for (const Constant* v : {&cond, &x, &y}) {
            if (v->ints.size() != 1 && v->ints.size() != n) {
                unsupported(fmt::format("integer inputs {}, {} and {}; expected each of the result's shape or one value",
                                        format_shape(cond.shape), format_shape(x.shape), format_shape(y.shape)));
            }
        }
        const auto at = [](const Constant& v, std::size_t i) { return v.ints[v.ints.size() == 1 ? 0 : i]; };
        for (std::size_t i = 0; i < n; ++i) c.ints.push_back(at(cond, i) != 0 ? at(x, i) : at(y, i));
        set_ints(0, std::move(c));
    }

    // NegativeLogLikelihoodLoss, and SoftmaxCrossEntropyLoss (the same of log_softmax over the
    // classes, which is its second output): input (N, C, d1, ...), constant int64 targets
    // (N, d1, ...), an optional weight per class. Each element's loss is -input[n, target, d...]
    // times its target's weight, 0 where the target is ignore_index; reduced by "none", "sum" or
    // "mean" (the sum over the weights of the targets counted). The picked values are gathered
    // from the input, so that a model trained after import sends the gradient to them alone.
    void class_loss_node(const std::string& op) {
        Tensor x = in(0);
        if (x.rank() < 2) invalid(fmt::format("input {}; expected (N, C, d1, ...)", format_shape(x.shape())));
        if (has_input(1) && !value(n_->inputs[1]).ints) {
            unsupported("targets computed at run time or of float type; expected constant integer targets");
        }
        const std::vector<long> targets = ints_in(1);
        const Shape& shape = x.shape();
        const std::size_t classes = shape[1];
        if (classes == 0) {
            invalid(fmt::format("input {} of no classes; expected at least one along axis 1", format_shape(shape)));
        }
        if (op == "NegativeLogLikelihoodLoss") only_one_output();
        Shape target_shape{shape[0]};
        target_shape.insert(target_shape.end(), shape.begin() + 2, shape.end());
        if (value(n_->inputs[1]).ints->shape != target_shape) {
            invalid(fmt::format("targets {} for input {}; expected {}", format_shape(value(n_->inputs[1]).ints->shape),
                                format_shape(shape), format_shape(target_shape)));
        }
        const std::string reduction = text_attr("reduction", "mean");
        if (reduction != "none" && reduction != "sum" && reduction != "mean") {
            invalid(fmt::format("reduction '{}'; expected none, sum or mean", reduction));
        }
        const Attribute* ignored = attr("ignore_index");
        if (op == "SoftmaxCrossEntropyLoss") {
            x = log_softmax(x, 1);
            set(1, x);
        }
        // Element k = (n, d) of the targets reads x at (n, target, d) of the flat input. An ignored
        // one reads a zero appended to it, and weighs a zero appended to the weights: no score of
        // the input enters its loss, not even a -inf (a probability of 0) times a weight of 0.
        std::size_t inner = 1;
        for (std::size_t a = 2; a < shape.size(); ++a) inner *= shape[a];
        const std::size_t past_scores = x.size();
        std::vector<std::size_t> picked(targets.size()), classes_picked(targets.size());
        Array kept = uninitialized({targets.size()});
        for (std::size_t k = 0; k < targets.size(); ++k) {
            const long t = targets[k];
            const bool skip = ignored && t == ignored->i;
            if (!skip && (t < 0 || t >= static_cast<long>(classes))) {
                invalid(fmt::format("target {} (element {} of the targets); expected a class from 0 to {}{}", t, k,
                                    classes - 1,
                                    ignored ? fmt::format(" or the ignore_index {}", ignored->i) : std::string()));
            }
            classes_picked[k] = skip ? classes : static_cast<std::size_t>(t);
            picked[k] = skip ? past_scores : ((k / inner) * classes + classes_picked[k]) * inner + k % inner;
            kept.data()[k] = skip ? 0.0f : 1.0f;
        }
        const Tensor zero = constant(Array(xt::zeros<float>({1})));
        const Tensor scores = concat({reshape(x, {-1}), zero}, 0);
        Tensor weight = constant(std::move(kept));
        if (has_input(2)) {
            const Tensor w = in(2);
            if (w.shape() != Shape{classes}) {
                invalid(fmt::format("weight {} for {} classes; expected ({},)", format_shape(w.shape()), classes, classes));
            }
            weight = gather(concat({w, zero}, 0), classes_picked, 0);
        }
        const Tensor loss = -gather(scores, picked, 0) * weight;
        if (reduction == "none") return set(0, reshape_to(loss, target_shape));
        if (reduction == "sum") return set(0, sum(loss));
        set(0, sum(loss) / sum(weight));
    }

    // ArgMax and ArgMin: the index as a float, exact (a whole number below 2^24), so that a Cast
    // to an integer type or a Gather reads it as ONNX's int64. select_last_index picks the last of
    // tied extrema: the first of the reversed axis, counted from the end.
    void arg_extremum_node(const std::string& op) {
        Tensor x = in(0);
        if (x.rank() == 0) invalid("input of no axes; expected at least one");
        const long ax = static_cast<long>(axis(int_attr("axis", 0), x.rank()));
        const bool keep = int_attr("keepdims", 1) != 0;
        const bool last = int_attr("select_last_index", 0) != 0;
        const std::size_t extent = x.shape()[static_cast<std::size_t>(ax)];
        if (last && extent > 0) {
            std::vector<std::size_t> reversed(extent);
            for (std::size_t i = 0; i < extent; ++i) reversed[i] = extent - 1 - i;
            x = gather(x, reversed, ax);
        }
        Tensor index = op == "ArgMax" ? argmax(x, ax, keep) : argmin(x, ax, keep);
        if (last && extent > 0) index = static_cast<float>(extent - 1) - index;
        set(0, index);
    }

    // TopK: the k largest or smallest along an axis, sorted (a sorted result is also one that
    // sorted = 0 allows), and their indices as floats, exact below 2^24 as ArgMax's. K is an
    // attribute before opset 10 and a constant input from it.
    void top_k_node() {
        const Tensor x = in(0);
        if (x.rank() == 0) invalid("input of no axes; expected at least one");
        long k = 0;
        if (g_.opset < 10) {
            if (!attr("k")) invalid("attribute k is missing; expected how many elements to keep");
            k = int_attr("k", 0);
        } else {
            const std::vector<long> ks = ints_in(1);
            if (ks.size() != 1) invalid(fmt::format("K holds {} values; expected one", ks.size()));
            k = ks[0];
        }
        const std::size_t ax = axis(int_attr("axis", -1), x.rank());
        const std::size_t extent = x.shape()[ax];
        if (k < 0 || static_cast<std::size_t>(k) > extent) {
            invalid(fmt::format("K = {} for axis {} of input {}; expected 0 to {}", k, ax, format_shape(x.shape()),
                                extent));
        }
        const TopK found = top_k(x, k, static_cast<long>(ax), int_attr("largest", 1) != 0);
        set(0, found.values);
        set(1, found.indices);
    }

    // Max, Min, Mean and Sum broadcast their inputs from opset 8; before, all have one shape.
    void check_variadic_shapes() {
        if (g_.opset >= 8) return;
        const Shape first = in(0).shape();
        for (std::size_t k = 1; k < n_->inputs.size(); ++k) {
            if (in(k).shape() != first) {
                invalid(fmt::format("inputs of shapes {} and {}; expected equal shapes before opset 8 (no broadcasting)",
                                    format_shape(first), format_shape(in(k).shape())));
            }
        }
    }

    // Split along an axis into the given lengths (an input from opset 13, the `split` attribute
    // before), or into as many equal parts as the node has outputs when none are given (an empty
    // list counts as none, as ONNX Runtime reads it).
    void split_node() {
        const Tensor x = in(0);
        if (x.rank() == 0) invalid("input is a scalar; expected at least one axis");
        const std::size_t ax = axis(int_attr("axis", 0), x.rank());
        const std::size_t extent = x.shape()[ax], parts = n_->outputs.size();
        if (g_.opset >= 13 && attr("split")) invalid("a split attribute; from opset 13 the lengths are input 1");
        if (g_.opset < 13 && has_input(1)) invalid("a second input; before opset 13 the lengths are the split attribute");
        std::vector<long> lengths = g_.opset >= 13 ? (has_input(1) ? ints_in(1) : std::vector<long>{})
                                                   : ints_attr("split").value_or(std::vector<long>{});
        if (lengths.empty()) {
            if (extent % parts != 0) {
                invalid(fmt::format("cannot split axis {} (extent {}) into {} equal parts; expected split lengths or an "
                                    "extent divisible by the number of outputs",
                                    ax, extent, parts));
            }
            lengths.assign(parts, static_cast<long>(extent / parts));
        }
        if (lengths.size() != parts) {
            invalid(fmt::format("{} split lengths for {} outputs; expected one per output", lengths.size(), parts));
        }
        auto bad_lengths = [&] {
            invalid(fmt::format("split lengths {} of axis {} of extent {}; expected lengths >= 0 summing to it",
                                fmt::join(lengths, ", "), ax, extent));
        };
        std::size_t begin = 0;
        for (std::size_t k = 0; k < parts; ++k) {
            if (lengths[k] < 0 || static_cast<std::size_t>(lengths[k]) > extent - begin) bad_lengths();
            const std::size_t end = begin + static_cast<std::size_t>(lengths[k]);
            set(k, slice(x, static_cast<long>(ax), begin, end));
            begin = end;
        }
        if (begin != extent) bad_lengths();
    }

    // Slice, of a tensor or of int64 values (a shape): a slice per axis of step 1, a gather of
    // the indices it picks otherwise (a step -1 reverses). starts, ends, axes and steps are inputs
    // from opset 10, attributes (no steps) before.
    void slice_node() {
        const bool ints = ints_at(0);
        const Shape x = ints ? value(n_->inputs[0]).ints->shape : in(0).shape();
        std::vector<long> starts, ends, axes, steps;
        if (g_.opset >= 10) {
            starts = ints_in(1);
            ends = ints_in(2);
            if (has_input(3)) axes = ints_in(3);
            if (has_input(4)) steps = ints_in(4);
        } else {
            const auto given_starts = ints_attr("starts"), given_ends = ints_attr("ends");
            if (!given_starts || !given_ends) invalid("no starts or no ends attribute; expected both");
            starts = *given_starts;
            ends = *given_ends;
            axes = ints_attr("axes").value_or(std::vector<long>{});
        }
        if (axes.empty()) {
            for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<long>(i));
        }
        if (steps.empty()) steps.assign(starts.size(), 1);
        if (starts.size() != ends.size() || starts.size() != axes.size() || starts.size() != steps.size()) {
            invalid(fmt::format("{} starts, {} ends, {} axes and {} steps; expected as many of each", starts.size(),
                                ends.size(), axes.size(), steps.size()));
        }
        // Per axis the indices picked, after ONNX's rules: negative from the end, clamped to the
        // extent (to [0, extent - 1] and [-1, extent - 1] going backwards), every step-th.
        struct Picked {
            long first = 0, step = 1;
            std::size_t count = 0;
            std::size_t at(std::size_t k) const { return static_cast<std::size_t>(first + static_cast<long>(k) * step); }
        };
        std::vector<Picked> picked(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) picked[i].count = x[i];
        std::vector<bool> seen(x.size(), false);
        for (std::size_t k = 0; k < axes.size(); ++k) {
            const std::size_t a = axis(axes[k], x.size());
            if (seen[a]) invalid(fmt::format("axis {} is sliced twice; expected each axis once", a));
            seen[a] = true;
            const long extent = static_cast<long>(x[a]), step = steps[k];
            if (step == 0) invalid(fmt::format("a step of 0 for axis {}; expected a step other than 0", axes[k]));
            const auto place = [extent](long v, long low, long high) {
                return std::clamp(v < 0 ? v + extent : v, low, high);
            };
            long first = 0, count = 0;
            if (extent == 0) {
                // Nothing to pick (and no index to clamp a start to).
            } else if (step > 0) {
                first = place(starts[k], 0, extent);
                const long end = place(ends[k], 0, extent);
                if (end > first) count = (end - first - 1) / step + 1;
            } else {
                first = place(starts[k], 0, extent - 1);
                const long end = place(ends[k], -1, extent - 1);
                // -step overflows for the lowest step; any step past the extent picks one index.
                if (first > end) count = (first - end - 1) / (step < -extent ? extent + 1 : -step) + 1;
            }
            picked[a] = {first, step, static_cast<std::size_t>(count)};
        }
        const auto indices = [](const Picked& p) {
            std::vector<std::size_t> out(p.count);
            for (std::size_t k = 0; k < p.count; ++k) out[k] = p.at(k);
            return out;
        };
        if (ints) {
            if (x.size() != 1) unsupported("int64 data of rank > 1; expected a 1-D shape");
            const Constant& data = *value(n_->inputs[0]).ints;
            Constant c{true, {}, {}, {}};
            for (std::size_t k : indices(picked[0])) c.ints.push_back(data.ints[k]);
            c.shape = {c.ints.size()};
            return set_ints(0, std::move(c));
        }
        Tensor y = in(0);
        for (std::size_t a = 0; a < x.size(); ++a) {
            const Picked& p = picked[a];
            if (p.step == 1 || p.count == 0) {
                const std::size_t first = p.count == 0 ? 0 : static_cast<std::size_t>(p.first);
                if (first != 0 || p.count != x[a]) y = slice(y, static_cast<long>(a), first, first + p.count);
            } else {
                y = gather(y, indices(p), static_cast<long>(a));
            }
        }
        set(0, y);
    }

    // Resize of (N, C, H, W) along H and W by scales or to sizes, each coordinate mode and
    // rounding of ONNX (opset 11 on).
    void resize_node() {
        if (g_.opset < 11) unsupported(fmt::format("Resize of opset {}; expected opset 11 or later", g_.opset));
        const Tensor x = image_batch();
        const Shape& s = x.shape();
        const std::string mode = text_attr("mode", "nearest");
        const std::string coordinates = text_attr("coordinate_transformation_mode", "half_pixel");
        const std::string rounding = text_attr("nearest_mode", "round_prefer_floor");
        std::vector<float> scales;
        if (has_input(2)) {
            const Array& given = in(2).value();
            scales.assign(given.begin(), given.end());
        }
        if (!scales.empty()) {
            if (has_input(3) && !ints_in(3).empty()) invalid("both scales and sizes are given; expected one");
            return resample(x, scaled_axes(scales, s, 0.0), mode, coordinates, rounding);
        }
        const std::vector<long> sizes = ints_in(3);
        if (sizes.size() != 4 || sizes[0] != static_cast<long>(s[0]) || sizes[1] != static_cast<long>(s[1])) {
            unsupported(fmt::format("sizes ({}) for X {}; expected (N, C, height, width)", fmt::join(sizes, ", "),
                                    format_shape(s)));
        }
        std::array<ResizeAxis, 2> axes;
        for (std::size_t i = 0; i < 2; ++i) {
            if (sizes[2 + i] < 1 || sizes[2 + i] > 100'000'000) {
                invalid(fmt::format("sizes ({}); expected extents of at least one pixel", fmt::join(sizes, ", ")));
            }
            const auto out = static_cast<std::size_t>(sizes[2 + i]);
            axes[i] = {s[2 + i], out, static_cast<double>(out), static_cast<double>(s[2 + i])};
        }
        resample(x, axes, mode, coordinates, rounding);
    }

    // Upsample (opsets 7 to 9; Resize replaces it from opset 10): enlarges by scales of at least
    // 1, from the attribute before opset 9 and the second input from it, at asymmetric
    // coordinates; nearest takes the pixel below.
    void upsample_node() {
        if (g_.opset < 7 || g_.opset > 9) {
            unsupported(fmt::format("Upsample of opset {}; expected opsets 7 to 9 (Resize replaces it from opset 10)",
                                    g_.opset));
        }
        const Tensor x = image_batch();
        std::vector<float> scales;
        if (g_.opset >= 9) {
            const Array& given = in(1).value();
            scales.assign(given.begin(), given.end());
        } else if (const Attribute* a = attr("scales")) {
            scales = a->floats;
        } else {
            invalid("no scales attribute; expected (1, 1, scale_h, scale_w)");
        }
        resample(x, scaled_axes(scales, x.shape(), 1.0), text_attr("mode", "nearest"), "asymmetric", "floor");
    }

    Tensor image_batch() {
        const Tensor x = in(0);
        if (x.rank() != 4 || x.shape()[2] == 0 || x.shape()[3] == 0) {
            unsupported(fmt::format("X {}; expected (N, C, H, W) images", format_shape(x.shape())));
        }
        return x;
    }

    // One axis of a resize: its extents and the scale its coordinates use, as a ratio: out / in
    // for sizes, the given float over 1 for scales. A resize to sizes then computes each source
    // coordinate from integers, exactly wherever it is a whole or a half pixel, where floor,
    // ceil and the roundings of ties decide.
    struct ResizeAxis {
        std::size_t in = 0, out = 0;
        double scale_num = 1, scale_den = 1;
        // The output's length in ONNX's formulas: the input's times the scale, before the floor
        // that gives the output's extent.
        double length() const { return static_cast<double>(in) * scale_num / scale_den; }
    };

    // Axes H and W resized by scales (1, 1, scale_h, scale_w), each at least `smallest`.
    std::array<ResizeAxis, 2> scaled_axes(const std::vector<float>& scales, const Shape& s, double smallest) {
        if (scales.size() != 4 || scales[0] != 1.0f || scales[1] != 1.0f) {
            unsupported(fmt::format("scales ({}); expected (1, 1, scale_h, scale_w)", fmt::join(scales, ", ")));
        }
        std::array<ResizeAxis, 2> axes;
        for (std::size_t i = 0; i < 2; ++i) {
            const double scale = scales[2 + i];
            // In float, as ONNX Runtime and PyTorch count the pixels: a scale float rounds down
            // (0.7f of 10) still makes the 7 they make, where the reference's double makes 6.
            const double extent = std::floor(static_cast<float>(s[2 + i]) * scales[2 + i]);
            if (!(scale > 0.0 && scale >= smallest) || !(extent >= 1.0) || extent > 1e8) {
                invalid(fmt::format("scale {} for an extent of {}; expected a scale {} leaving at least one pixel",
                                    scales[2 + i], s[2 + i], smallest > 0.0 ? ">= 1" : "> 0"));
            }
            axes[i] = {s[2 + i], static_cast<std::size_t>(extent), scale, 1.0};
        }
        return axes;
    }

    // Where output pixel o of axis a reads the input, by coordinate_transformation_mode, as
    // ONNX's reference computes it (dividing by the scale).
    static double source(const ResizeAxis& a, double o, const std::string& coordinates) {
        const double length = a.length(), in = static_cast<double>(a.in);
        if (coordinates == "half_pixel" || (coordinates == "pytorch_half_pixel" && length != 1.0)) {
            return (o + 0.5) * a.scale_den / a.scale_num - 0.5;
        }
        if (coordinates == "pytorch_half_pixel") return -0.5;
        if (coordinates == "align_corners") return length == 1.0 ? 0.0 : o * (in - 1.0) / (length - 1.0);
        if (coordinates == "asymmetric") return o * a.scale_den / a.scale_num;
        return (o + 0.5) * a.scale_den / a.scale_num;  // tf_half_pixel_for_nn
    }

    // x (N, C, H, W) resized along H and W: linear through transform_images, channels last, or
    // nearest as two gathers of each output pixel's source rounded as nearest_mode says; points
    // beyond the edge read the edge.
    void resample(const Tensor& x, const std::array<ResizeAxis, 2>& axes, const std::string& mode,
                  const std::string& coordinates, const std::string& nearest_mode) {
        if (mode != "linear" && mode != "nearest") unsupported(fmt::format("mode '{}'; expected linear or nearest", mode));
        static const std::set<std::string> roundings{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
        if (mode == "nearest" && !roundings.contains(nearest_mode)) {
            invalid(fmt::format("nearest_mode '{}'; expected round_prefer_floor, round_prefer_ceil, floor or ceil",
                                nearest_mode));
        }
        static const std::set<std::string> coordinate_modes{"half_pixel", "pytorch_half_pixel", "align_corners",
                                                            "asymmetric", "tf_half_pixel_for_nn"};
        if (!coordinate_modes.contains(coordinates)) {
            unsupported(fmt::format("coordinate_transformation_mode '{}'; expected half_pixel, pytorch_half_pixel, "
                                    "align_corners, asymmetric or tf_half_pixel_for_nn",
                                    coordinates));
        }
        const Shape& s = x.shape();
        const Size2 out{axes[0].out, axes[1].out};
        // In double: an empty batch may carry extents whose products wrap around.
        auto pixels = [](std::size_t a, std::size_t b) { return static_cast<double>(a) * static_cast<double>(b); };
        if (pixels(out[0], out[1]) > static_cast<double>(kMaxResizeGrowth) * pixels(s[2], s[3])) {
            unsupported(fmt::format("an output of {} x {} pixels from {} x {}; expected at most {} times as many pixels",
                                    out[0], out[1], s[2], s[3], kMaxResizeGrowth));
        }
        const double images = pixels(s[0], s[1]);
        // Nearest gathers the axis that leaves fewer pixels first; its intermediate is counted
        // too, and so are its index tables (all there is to make for an empty batch).
        const bool rows_first = pixels(out[0], s[3]) <= pixels(s[2], out[1]);
        const bool nearest = mode == "nearest";
        const double between = nearest ? (rows_first ? pixels(out[0], s[3]) : pixels(s[2], out[1])) : 0;
        const double tables = nearest ? static_cast<double>(out[0] + out[1]) : 0;
        afford(images * (pixels(out[0], out[1]) + between) + tables,
               fmt::format("an output of {} x {} pixels", out[0], out[1]));
        if (images == 0) {
            // No image: the output's shape is all there is to make.
            return set(0, reshape(x, {static_cast<long>(s[0]), static_cast<long>(s[1]), static_cast<long>(out[0]),
                                      static_cast<long>(out[1])}));
        }
        if (nearest) {
            auto sources = [&](const ResizeAxis& a) {
                std::vector<std::size_t> from(a.out);
                const auto last = static_cast<double>(a.in - 1);
                for (std::size_t o = 0; o < a.out; ++o) {
                    const double p = source(a, static_cast<double>(o), coordinates);
                    const double pixel = nearest_mode == "floor"               ? std::floor(p)
                                         : nearest_mode == "ceil"              ? std::ceil(p)
                                         : nearest_mode == "round_prefer_ceil" ? std::floor(p + 0.5)
                                                                               : std::ceil(p - 0.5);
                    from[o] = static_cast<std::size_t>(std::clamp(pixel, 0.0, last));
                }
                return from;
            };
            const Tensor y = rows_first ? gather(gather(x, sources(axes[0]), 2), sources(axes[1]), 3)
                                        : gather(gather(x, sources(axes[1]), 3), sources(axes[0]), 2);
            return set(0, y);
        }
        // Linear at half-pixel coordinates, the scale from the input's extent to the output's, is
        // tf.image.resize's: resize_images, which exports back to this Resize.
        bool plain_resize = true;
        Array transform = xt::zeros<float>({1, 8});
        for (std::size_t i = 0; i < 2; ++i) {
            const ResizeAxis& a = axes[i];
            const double length = a.length(), wanted = static_cast<double>(a.out);
            const bool half_pixel = coordinates == "half_pixel" || (coordinates == "pytorch_half_pixel" && length != 1.0);
            plain_resize = plain_resize && half_pixel && std::abs(length - wanted) <= 1e-6 * wanted;
            // x_in = slope x_out + offset; the transform's row is [a0, a1, a2, b0, b1, b2, ...] for (x, y).
            const double offset = source(a, 0.0, coordinates);
            const double slope = source(a, 1.0, coordinates) - offset;
            transform(0, i == 0 ? 4 : 0) = static_cast<float>(slope);
            transform(0, i == 0 ? 5 : 2) = static_cast<float>(offset);
        }
        const Tensor channels_last_images = channels_last(x);
        if (plain_resize) {
            return set(0, channels_first(resize_images(channels_last_images, out, Interpolation::bilinear)));
        }
        const ImageSampling sampling{.interpolation = Interpolation::bilinear, .fill_mode = FillMode::nearest};
        set(0, channels_first(transform_images(channels_last_images, transform, sampling, out)));
    }

    // Squeeze and Unsqueeze change only the shape: of a tensor, or of int64 values (a shape).
    void squeeze_like(bool squeeze) {
        const bool ints = ints_at(0);
        const Shape x = ints ? value(n_->inputs[0]).ints->shape : in(0).shape();
        std::vector<long> given;
        if (g_.opset >= 13) {
            if (has_input(1)) given = ints_in(1);
        } else if (auto a = ints_attr("axes")) {
            given = *a;
        }
        Shape out;
        if (squeeze) {
            std::set<std::size_t> drop;
            for (long a : given) drop.insert(axis(a, x.size()));
            for (std::size_t i = 0; i < x.size(); ++i) {
                const bool dropped = given.empty() ? x[i] == 1 : drop.contains(i);
                if (dropped && x[i] != 1) invalid(fmt::format("axis {} of X {} is not 1", i, format_shape(x)));
                if (!dropped) out.push_back(x[i]);
            }
        } else {
            const std::size_t rank = x.size() + given.size();
            std::set<std::size_t> add;
            for (long a : given) add.insert(axis(a, rank));
            if (add.size() != given.size()) invalid(fmt::format("axes ({}) repeat; expected distinct axes", fmt::join(given, ", ")));
            std::size_t next = 0;
            for (std::size_t i = 0; i < rank; ++i) out.push_back(add.contains(i) ? 1 : x[next++]);
        }
        if (ints) {
            Constant c = *value(n_->inputs[0]).ints;
            c.shape = out;
            return set_ints(0, std::move(c));
        }
        set(0, reshape_to(in(0), out));
    }

    void constant_node() {
        if (const Attribute* a = attr("value"); a && a->t) {
            if (a->t->is_int) {
                set_ints(0, a->t);
            } else {
                set(0, constant(a->t->floats));
            }
        } else if (const Attribute* f = attr("value_float")) {
            set(0, constant(scalar_array(f->f)));
        } else if (const Attribute* fs = attr("value_floats")) {
            Array v = uninitialized(Shape{fs->floats.size()});
            std::copy(fs->floats.begin(), fs->floats.end(), v.begin());
            set(0, constant(std::move(v)));
        } else if (const Attribute* i = attr("value_int")) {
            set_ints(0, Constant{true, {}, {i->i}, {}});
        } else if (const Attribute* is = attr("value_ints")) {
            set_ints(0, Constant{true, {}, is->ints, {is->ints.size()}});
        } else {
            unsupported("a value other than a tensor, float(s) or int(s); expected one of those");
        }
    }

    // ConstantOfShape: a constant int64 shape filled with `value`'s one element (float 0 by
    // default), as PyTorch makes a recurrent layer's zero initial state for a batch of any size.
    void constant_of_shape() {
        const std::vector<long> dims = ints_in(0);
        Shape shape;
        double count = 1;
        for (long d : dims) {
            if (d < 0) invalid(fmt::format("shape ({}); expected extents >= 0", fmt::join(dims, ", ")));
            shape.push_back(static_cast<std::size_t>(d));
            count *= static_cast<double>(d);
        }
        const Attribute* a = attr("value");
        if (a && !a->t) invalid("value is not a tensor; expected a tensor of one element");
        const bool ints = a && a->t && a->t->is_int;
        if (a && a->t && (ints ? a->t->ints.size() : a->t->floats.size()) != 1) {
            invalid(fmt::format("value {}; expected one element", format_shape(a->t->shape)));
        }
        afford(count, "its output");
        const std::size_t n = static_cast<std::size_t>(count);
        if (ints) return set_ints(0, Constant{true, {}, std::vector<long>(n, a->t->ints[0]), shape});
        const float fill = a && a->t ? a->t->floats.data()[0] : 0.0f;
        Array values = uninitialized(shape);
        values.fill(fill);
        set(0, constant(std::move(values)));
    }

    // Add, Sub or Mul of two integer constants: the arithmetic of a shape computed at run time
    // (a rank less an axis, a product of extents), exact, where floats would round past 2^24. One
    // side of one value broadcasts against the other; overflow is refused.
    void int_arithmetic(const std::string& op) {
        const Constant& a = *value(n_->inputs[0]).ints;
        const Constant& b = *value(n_->inputs[1]).ints;
        if (a.ints.size() != 1 && b.ints.size() != 1 && a.shape != b.shape) {
            unsupported(fmt::format("integer operands {} and {}; expected one shape, or one value on a side",
                                    format_shape(a.shape), format_shape(b.shape)));
        }
        Constant c{true, {}, {}, broadcast_shapes(a.shape, b.shape, op.c_str()), a.int32 && b.int32};
        // With one value on a side, the result has as many as the other side (none when it is empty).
        const std::size_t n = element_count(c.shape);
        for (std::size_t i = 0; i < n; ++i) {
            const long x = a.ints[a.ints.size() == 1 ? 0 : i], y = b.ints[b.ints.size() == 1 ? 0 : i];
            long z = 0;
            const bool overflow = op == "Add"   ? __builtin_add_overflow(x, y, &z)
                                  : op == "Sub" ? __builtin_sub_overflow(x, y, &z)
                                                : __builtin_mul_overflow(x, y, &z);
            check_int_range(overflow, z, c.int32, fmt::format("{} {} {}", x, op, y));
            c.ints.push_back(z);
        }
        set_ints(0, std::move(c));
    }

    // Refuses an integer result outside its type (`overflow`: outside int64 already).
    void check_int_range(bool overflow, long z, bool int32, const std::string& what) const {
        if (overflow || (int32 && (z < std::numeric_limits<std::int32_t>::min() ||
                                   z > std::numeric_limits<std::int32_t>::max()))) {
            invalid(fmt::format("{} overflows {}", what, int32 ? "int32" : "int64"));
        }
    }

    // B of a binary op. Before opset 7, B broadcast only when asked (broadcast=1), aligned at
    // `axis` of A rather than at the end.
    Tensor second_operand() {
        const Tensor b = in(1);
        if (g_.opset >= 7 || !attr("axis")) return b;
        const Tensor a = in(0);
        const std::size_t at = axis(int_attr("axis", 0), a.rank());
        Shape s = b.shape();
        while (at + s.size() < a.rank()) s.push_back(1);
        return reshape_to(b, s);
    }

    void pad_node() {
        Tensor y = in(0);
        const std::string mode = text_attr("mode", "constant");
        if (mode != "constant") unsupported(fmt::format("mode '{}'; expected 'constant'", mode));
        const float fill = g_.opset >= 11 ? scalar_in(2, 0.0f) : float_attr("value", 0.0f);
        if (fill != 0.0f) unsupported(fmt::format("constant_value {}; expected 0", fill));
        const std::vector<long> amounts = g_.opset >= 11 ? ints_in(1) : ints_attr("pads").value_or(std::vector<long>{});
        const std::size_t rank = y.rank();
        if (amounts.size() != 2 * rank) invalid(fmt::format("{} pads for rank {}; expected {}", amounts.size(), rank, 2 * rank));
        double padded = 1.0;
        for (std::size_t a = 0; a < rank; ++a) {
            const long before = amounts[a], after = amounts[a + rank];
            if (before < 0 || after < 0 || before > kMaxPad || after > kMaxPad) {
                unsupported(fmt::format("pads ({}); expected pads from 0 to {}", fmt::join(amounts, ", "), kMaxPad));
            }
            padded *= static_cast<double>(y.shape()[a] + static_cast<std::size_t>(before + after));
        }
        afford(padded, "an output");
        for (std::size_t a = 0; a < rank; ++a) {
            const long before = amounts[a], after = amounts[a + rank];
            if (before || after) y = pad(y, static_cast<long>(a), static_cast<std::size_t>(before), static_cast<std::size_t>(after));
        }
        set(0, y);
    }

    void step(const OpNode& n) {
        const std::string& op = n.op;
        if (const auto f = unary_functions().find(op); f != unary_functions().end()) return set(0, f->second(in(0)));
        if (op == "Neg" && ints_at(0)) {
            // A computed shape's negated axis count (ONNX's LayerNormalization for a negative axis).
            Constant c = *value(n_->inputs[0]).ints;
            for (long& v : c.ints) {
                long z = 0;
                check_int_range(__builtin_sub_overflow(0L, v, &z), z, c.int32, fmt::format("Neg {}", v));
                v = z;
            }
            return set_ints(0, std::move(c));
        }
        if (op == "Neg") return set(0, -in(0));
        if (op == "Reciprocal") return set(0, 1.0f / in(0));
        if (op == "Identity") return set(0, in(0));
        if (op == "LeakyRelu") return set(0, leaky_relu(in(0), float_attr("alpha", 0.01f)));
        if (op == "Elu") return set(0, elu(in(0), float_attr("alpha", 1.0f)));
        if (op == "ThresholdedRelu") {
            const float alpha = float_attr("alpha", 1.0f);
            if (!std::isfinite(alpha)) invalid(fmt::format("alpha {}; expected a finite number", alpha));
            return set(0, thresholded_relu(in(0), alpha));
        }
        if (op == "Celu") {
            // ONNX's formula, max(0, x) + min(0, alpha (e^(x / alpha) - 1)): exactly x for x > 0,
            // for an alpha of either sign.
            const float alpha = float_attr("alpha", 1.0f);
            if (!(alpha != 0.0f && std::isfinite(alpha))) invalid(fmt::format("alpha {}; expected a finite alpha other than 0", alpha));
            const Tensor x = in(0);
            return set(0, relu(x) - relu(-alpha * (exp(x / alpha) - 1.0f)));
        }
        if (op == "Selu") {
            // ONNX's defaults are xgrad's selu; other constants are scale * elu(x, alpha).
            const float alpha = float_attr("alpha", 1.67326319217681884765625f);
            const float gamma = float_attr("gamma", 1.05070102214813232421875f);
            if (alpha == 1.67326319217681884765625f && gamma == 1.05070102214813232421875f) return set(0, selu(in(0)));
            return set(0, gamma * elu(in(0), alpha));
        }
        if (op == "PRelu") {
            const Tensor x = in(0);
            Tensor slope = in(1);
            // Before opset 7, a slope of (C,) meant one per channel (axis 1).
            if (g_.opset < 7 && slope.rank() == 1 && x.rank() > 2 && slope.shape()[0] == x.shape()[1]) {
                Shape s(x.rank() - 1, 1);
                s[0] = slope.shape()[0];
                slope = reshape_to(slope, s);
            }
            // relu(x) and -relu(-x) are x's positive and negative parts.
            return set(0, relu(x) - slope * relu(-x));
        }
        if (op == "Softsign") {
            const Tensor x = in(0);
            return set(0, x / (abs(x) + 1.0f));
        }
        if (op == "HardSigmoid") return set(0, hard_sigmoid(in(0), float_attr("alpha", 0.2f), float_attr("beta", 0.5f)));
        if (op == "HardSwish") return set(0, hard_swish(in(0)));
        if (op == "Mean") {
            check_variadic_shapes();
            Tensor y = in(0);
            for (std::size_t k = 1; k < n.inputs.size(); ++k) y = y + in(k);
            return set(0, y / static_cast<float>(n.inputs.size()));
        }
        if (op == "Max" || op == "Min") {
            // Pairwise from the first input: at a tie of three or more, the gradient (of a
            // model trained after import) is not split evenly.
            check_variadic_shapes();
            Tensor y = in(0);
            for (std::size_t k = 1; k < n.inputs.size(); ++k) y = op == "Max" ? maximum(y, in(k)) : minimum(y, in(k));
            return set(0, y);
        }
        if ((op == "Add" || op == "Sub" || op == "Mul") && ints_at(0) && ints_at(1)) return int_arithmetic(op);
        if (op == "Add") return set(0, in(0) + second_operand());
        if (op == "Sub") return set(0, in(0) - second_operand());
        if (op == "Mul") return set(0, in(0) * second_operand());
        if (op == "Div") return set(0, in(0) / second_operand());
        if (op == "Sum") {
            check_variadic_shapes();
            Tensor y = in(0);
            for (std::size_t k = 1; k < n.inputs.size(); ++k) y = y + in(k);
            return set(0, y);
        }
        if (op == "Pow") {
            // One constant exponent that does not add axes is xgrad's pow(x, p) (what xgrad exports);
            // any other, a weight or an input included (they get a gradient), a tensor of exponents
            // broadcast against x.
            const Tensor x = in(0), exponent = second_operand();
            const Value& e = value(n_->inputs[1]);
            const bool constant = e.ints || (e.tensor.defined() && e.tensor.role() == Role::constant);
            if (constant && exponent.size() == 1 && exponent.rank() <= x.rank()) {
                return set(0, pow(x, exponent.value().data()[0]));
            }
            return set(0, pow(x, exponent));
        }
        if (op == "Clip") {
            const float inf = std::numeric_limits<float>::infinity();
            const float lo = g_.opset >= 11 ? scalar_in(1, -inf) : float_attr("min", -inf);
            const float hi = g_.opset >= 11 ? scalar_in(2, inf) : float_attr("max", inf);
            return set(0, clip(in(0), lo, hi));
        }
        if (op == "Dropout") {
            only_one_output();
            if (g_.opset >= 12 && has_input(2) && scalar_in(2, 0.0f) != 0.0f) unsupported("training_mode true; expected inference");
            return set(0, in(0));
        }
        if (op == "Softmax" || op == "LogSoftmax") return softmax_like(op == "LogSoftmax");
        if (op == "Gemm") return gemm();
        if (op == "MatMul") return mat_mul();
        if (op == "Conv") return conv();
        if (op == "ConvTranspose") return conv_transpose();
        if (op == "MaxPool" || op == "AveragePool") return pool(op == "MaxPool");
        if (op == "BatchNormalization") return batch_normalization();
        if (op == "LSTM" || op == "GRU" || op == "RNN") return recurrent(op);
        if (op == "LayerNormalization") return layer_normalization();
        if (op == "Flatten") return flatten();
        if (op == "Reshape") return reshape_node();
        if (op == "Transpose") {
            const Tensor x = in(0);
            std::vector<std::size_t> perm;
            if (auto p = ints_attr("perm")) {
                for (long v : *p) perm.push_back(axis(v, x.rank()));
            } else {
                for (std::size_t i = x.rank(); i-- > 0;) perm.push_back(i);
            }
            return set(0, transpose(x, perm));
        }
        if (op.starts_with("Reduce")) return reduce(op);
        if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
            Tensor y = in(0);
            if (y.rank() < 3) invalid(fmt::format("X {}; expected (N, C, D1, ...)", format_shape(y.shape())));
            for (long a = static_cast<long>(y.rank()) - 1; a >= 2; --a) {
                y = op == "GlobalMaxPool" ? max(y, a, true) : mean(y, a, true);
            }
            return set(0, y);
        }
        if (op == "Squeeze" || op == "Unsqueeze") return squeeze_like(op == "Squeeze");
        if (op == "Shape") return shape_node();
        if (op == "Size") return size_node();
        if (op == "Slice") return slice_node();
        if (op == "Split") return split_node();
        if (op == "Resize") return resize_node();
        if (op == "Upsample") return upsample_node();
        if (op == "Gather") return gather_node();
        if (op == "Cast") return cast_node();
        if (comparison_ops().contains(op)) return comparison_node(op);
        if (op == "Where") return where_node();
        if (op == "ArgMax" || op == "ArgMin") return arg_extremum_node(op);
        if (op == "TopK") return top_k_node();
        if (op == "NegativeLogLikelihoodLoss" || op == "SoftmaxCrossEntropyLoss") return class_loss_node(op);
        if (op == "Not") return set(0, 1.0f - not_equal(in(0), 0.0f));
        if (op == "And" || op == "Or" || op == "Xor") {
            // On truths as xgrad holds them (1 and 0; any value but 0 counts as true, as a cast to bool).
            const Tensor a = not_equal(in(0), 0.0f);
            const Tensor b = not_equal(in(1), 0.0f);
            return set(0, op == "And" ? a * b : not_equal(op == "Or" ? a + b : a - b, 0.0f));
        }
        if (op == "Trilu") return trilu_node();
        if (op == "GatherElements") return gather_elements_node();
        if (op == "Concat" && !n.inputs.empty() && ints_at(0)) {
            Constant c{true, {}, {}, {}};
            for (std::size_t k = 0; k < n.inputs.size(); ++k) {
                if (!ints_at(k) || value(n.inputs[k]).ints->shape.size() != 1) {
                    unsupported("int64 and float inputs mixed, or int64 inputs not 1-D; expected 1-D shapes");
                }
                const auto& more = value(n.inputs[k]).ints->ints;
                c.ints.insert(c.ints.end(), more.begin(), more.end());
            }
            c.shape = {c.ints.size()};
            return set_ints(0, std::move(c));
        }
        if (op == "Concat") {
            std::vector<Tensor> xs;
            for (std::size_t k = 0; k < n.inputs.size(); ++k) xs.push_back(in(k));
            if (xs.empty()) invalid("no inputs; expected at least one");
            return set(0, concat(xs, static_cast<long>(axis(int_attr("axis", 0), xs[0].rank()))));
        }
        if (op == "Constant") return constant_node();
        if (op == "ConstantOfShape") return constant_of_shape();
        if (op == "Pad") return pad_node();
        unsupported(fmt::format("op {}; expected a supported op", op));
    }

    const Graph& g_;
    std::unordered_map<std::string, Value> values_;
    const OpNode* n_ = nullptr;
    std::size_t limit_ = 0, spent_ = 0;
};

onnx::ModelProto parse_bytes(std::string_view bytes, const std::string& context) {
    onnx::ModelProto m;
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw IoError(fmt::format("import_onnx: {}: not an ONNX model ({} bytes that do not parse as a ModelProto); "
                                  "expected a file written by an ONNX exporter",
                                  context, bytes.size()));
    }
    return m;
}

std::string read_file(const std::string& path, const char* function) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw IoError(fmt::format("{}: {}: cannot open the file; expected a readable file", function, path));
    std::ostringstream s;
    s << f.rdbuf();
    if (f.bad()) throw IoError(fmt::format("{}: {}: read error; expected a readable file", function, path));
    return s.str();
}

}  // namespace

OnnxModel::OnnxModel(std::shared_ptr<const Graph> graph, std::string name)
    : Module("OnnxModel", std::move(name)), graph_(std::move(graph)) {
    for (const auto& [name, c] : graph_->initializers) {
        if (c->is_int) {
            // Made once here rather than by each run that reads them as floats (4 bytes a value more
            // for the model's life, on top of the 8 of each decoded integer): made lazily, they would
            // make run() change the model, which two threads may share for inference.
            initializers_.push_back(floats_of(*c));
            continue;
        }
        Tensor t(c->floats);
        initializers_.push_back(graph_->statistics.contains(name) ? register_buffer(name, t) : register_parameter(name, t));
    }
}

OnnxModel::~OnnxModel() = default;

const std::vector<std::string>& OnnxModel::input_names() const { return graph_->inputs; }
const std::vector<std::string>& OnnxModel::output_names() const { return graph_->outputs; }

std::vector<std::string> OnnxModel::op_types() const {
    std::vector<std::string> ops;
    for (const auto& n : graph_->nodes) ops.push_back(n.op);
    return ops;
}

std::vector<Tensor> OnnxModel::run(const std::vector<Tensor>& inputs) {
    if (inputs.size() != graph_->inputs.size()) {
        throw ValueError(fmt::format("OnnxModel::run: {} inputs; expected {} ({})", inputs.size(), graph_->inputs.size(),
                                     fmt::join(graph_->inputs, ", ")));
    }
    std::unordered_map<std::string, Value> values;
    for (std::size_t i = 0; i < graph_->initializers.size(); ++i) {
        const auto& [name, c] = graph_->initializers[i];
        values[name] = c->is_int ? Value{.ints = c, .ints_as_floats = initializers_[i]}
                                 : Value{.tensor = initializers_[i]};
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw StateError(fmt::format("OnnxModel::run: input '{}' is an empty handle; expected a tensor",
                                         graph_->inputs[i]));
        }
        values[graph_->inputs[i]] = Value{inputs[i], {}, true};
    }
    Runner runner(*graph_, std::move(values), value_limit_);
    for (const auto& n : graph_->nodes) runner.run(n);
    std::vector<Tensor> out;
    for (const auto& name : graph_->outputs) out.push_back(runner.output(name));
    return out;
}

Tensor OnnxModel::forward(const Tensor& x) {
    if (graph_->inputs.size() != 1 || graph_->outputs.size() != 1) {
        throw ValueError(fmt::format("OnnxModel::forward: the model has {} inputs and {} outputs; expected one of each "
                                     "(use run)",
                                     graph_->inputs.size(), graph_->outputs.size()));
    }
    return run({x})[0];
}

std::shared_ptr<OnnxModel> import_onnx_bytes(std::string_view bytes, const std::string& context) {
    const onnx::ModelProto m = parse_bytes(bytes, context);
    return std::make_shared<OnnxModel>(parse(m, context), "onnx_model");
}

std::shared_ptr<OnnxModel> import_onnx(const std::string& path) {
    return import_onnx_bytes(read_file(path, "import_onnx"), path);
}

Array read_onnx_tensor(const std::string& path) {
    const std::string bytes = read_file(path, "read_onnx_tensor");
    onnx::TensorProto t;
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        !t.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        throw IoError(fmt::format("read_onnx_tensor: {}: not a serialized ONNX tensor; expected a TensorProto", path));
    }
    using T = onnx::TensorProto;
    if (t.data_type() != T::FLOAT && t.data_type() != T::INT64 && t.data_type() != T::INT32 && t.data_type() != T::BOOL) {
        throw OnnxUnsupportedError(fmt::format("read_onnx_tensor: {}: data type {}; expected FLOAT, INT64, INT32 or BOOL",
                                               path, data_type_name(t.data_type())));
    }
    Constant c = decode(t, path, "the tensor");
    if (!c.is_int) return c.floats;
    // Indices and truths (ArgMax's, a comparison's) as the floats xgrad computes them: each exact.
    Array a = uninitialized(c.shape);
    for (std::size_t i = 0; i < c.ints.size(); ++i) {
        if (!exact_in_float(c.ints[i])) {
            throw OnnxUnsupportedError(fmt::format("read_onnx_tensor: {}: value {} of data type {}; expected integers "
                                                   "a float holds exactly (at most 2^24 in size)",
                                                   path, c.ints[i], data_type_name(t.data_type())));
        }
        a.data()[i] = static_cast<float>(c.ints[i]);
    }
    return a;
}

}  // namespace xg
