#include "xgrad/io/onnx_export.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xstrided_view.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/detail/node.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/image_transform.hpp"
#include "xgrad/core/window.hpp"
#include "xgrad/io/atomic_file.hpp"
#include "xgrad/nn/batch_normalization.hpp"
#include "xgrad/nn/detail/builtin_activation.hpp"
#include "xgrad/nn/gru.hpp"
#include "xgrad/nn/lstm.hpp"
#include "xgrad/nn/simple_rnn.hpp"

namespace xg {
namespace {

// Export walks the engine's records and nodes, as the graph export does.
using detail::Node;
using Perm = std::vector<long>;
const Perm to_channels_first{0, 3, 1, 2};
const Perm to_channels_last{0, 2, 3, 1};

class Writer {
public:
    // `extents_dynamic`: the graph must take other extents than the input's (dynamic axes).
    Writer(Module& model, const Tensor& input, const Tensor& output, bool extents_dynamic)
        : model_(model), extents_dynamic_(extents_dynamic), output_(output.node()) {
        graph_ = model_proto_.mutable_graph();
        names_.emplace(input.node(), "input");
        used_.insert("input");
        index_modules(model, model.name());
    }

    void write_records(const std::vector<std::size_t>& chosen) {
        const Tape& tape = Tape::current();
        std::vector<const Record*> records;
        for (std::size_t i : chosen) records.push_back(&tape[i]);
        for (std::size_t k = 0; k < records.size(); ++k) {
            for (std::size_t i = 0; i < records[k]->inputs.size(); ++i) last_use_[records[k]->inputs[i]] = k;
        }
        for (std::size_t k = 0; k < records.size();) {
            // The records of one call of a recurrent layer: one ONNX node, when they are what the
            // layer's forward records; else they are written op by op, as any others.
            const std::string_view scope = records[k]->scope;
            std::size_t end = k + 1;
            while (end < records.size() && records[end]->scope == scope) ++end;
            if (auto it = recurrents_.find(std::string(scope)); it != recurrents_.end() &&
                                                                write_recurrent(*it->second, records, k, end)) {
                k = end;
                continue;
            }
            for (; k < end; ++k) write(*records[k]);
        }
    }

    onnx::ModelProto finish(const Tensor& input, const Tensor& output) {
        std::string out = name_of(output.node());
        if (out != "output") node("Identity", {out}, "output");
        prune();
        add_value_info(graph_->add_input(), "input", input.shape());
        add_value_info(graph_->add_output(), "output", output.shape());
        model_proto_.set_ir_version(8);
        model_proto_.set_producer_name("xgrad");
        model_proto_.set_producer_version("0.1.0");
        auto* opset = model_proto_.add_opset_import();
        opset->set_domain("");
        opset->set_version(kOnnxOpset);
        graph_->set_name(model_.name());
        return std::move(model_proto_);
    }

private:
    // Scope path -> BatchNormalization layer (its record does not carry the moving statistics),
    // and -> recurrent layer that has an ONNX node of its own.
    void index_modules(const Module& m, const std::string& path) {
        if (auto* bn = dynamic_cast<const BatchNormalization*>(&m)) batch_norms_.emplace(path, bn);
        if (auto* r = dynamic_cast<const Recurrent*>(&m); r && onnx_recurrent_op(*r)) recurrents_.emplace(path, r);
        for (const auto& child : m.children()) index_modules(*child, path + "/" + child->name());
    }

    std::string fresh(const std::string& base) {
        std::string name = base;
        for (int k = 1; used_.contains(name); ++k) name = fmt::format("{}_{}", base, k);
        used_.insert(name);
        return name;
    }

    // A graph value for `node`: its name, adding a leaf on first use (weights as initializers,
    // constants as Constant nodes).
    std::string name_of(const Node* node) {
        if (auto it = names_.find(node); it != names_.end()) return it->second;
        if (node->role == Role::result && node->recorded()) {
            throw StateError("export_onnx: a recorded value was used before the op that made it; expected records "
                             "in execution order");
        }
        std::string base = node->name().empty() ? (node->role == Role::parameter ? "parameter" : "constant")
                                                : node->name();
        const std::string name = fresh(base);
        if (is_computation_constant(node)) {
            add_constant(name, node->value(), node->shape());
        } else {
            add_initializer(name, node->value(), node->shape());
        }
        names_.emplace(node, name);
        return name;
    }

    // An unnamed leaf that is not a parameter (a constant, or a Tensor made inside forward) is
    // part of the computation, not of the model's state: named parameters and buffers are.
    static bool is_computation_constant(const Node* leaf) {
        return leaf->role != Role::parameter && leaf->name().empty();
    }

    // A constant of the computation (the 0.5 of x * 0.5f, an exponent), not a weight: a Constant
    // node, which import_onnx reads back as a constant where it makes every initializer a parameter.
    void add_constant(const std::string& name, const Array& value, const Shape& shape) {
        onnx::NodeProto* n = node("Constant", {}, name);
        auto* a = n->add_attribute();
        a->set_name("value");
        a->set_type(onnx::AttributeProto::TENSOR);
        fill_tensor(a->mutable_t(), value, shape);
    }

    void add_initializer(const std::string& name, const Array& value, const Shape& shape) {
        onnx::TensorProto* t = graph_->add_initializer();
        t->set_name(name);
        fill_tensor(t, value, shape);
    }

    static void fill_tensor(onnx::TensorProto* t, const Array& value, const Shape& shape) {
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (auto d : shape) t->add_dims(static_cast<std::int64_t>(d));
        t->set_raw_data(std::string(reinterpret_cast<const char*>(value.data()), value.size() * sizeof(float)));
    }

    std::string int64_initializer(const std::string& base, const std::vector<long>& values) {
        const std::string name = fresh(base);
        onnx::TensorProto* t = graph_->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(static_cast<std::int64_t>(values.size()));
        for (long v : values) t->add_int64_data(v);
        return name;
    }

    onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
        onnx::NodeProto* n = graph_->add_node();
        n->set_op_type(op);
        n->set_name(fresh(scope_.empty() ? op : scope_ + "/" + op));
        for (const auto& in : inputs) n->add_input(in);
        n->add_output(output);
        return n;
    }

    static void set_ints(onnx::NodeProto* n, const char* key, const std::vector<long>& values) {
        auto* a = n->add_attribute();
        a->set_name(key);
        a->set_type(onnx::AttributeProto::INTS);
        for (long v : values) a->add_ints(v);
    }
    static void set_int(onnx::NodeProto* n, const char* key, long value) {
        auto* a = n->add_attribute();
        a->set_name(key);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(value);
    }
    static void set_string(onnx::NodeProto* n, const char* key, std::string_view value) {
        auto* a = n->add_attribute();
        a->set_name(key);
        a->set_type(onnx::AttributeProto::STRING);
        a->set_s(std::string(value));
    }
    static void set_strings(onnx::NodeProto* n, const char* key, const std::vector<std::string>& values) {
        auto* a = n->add_attribute();
        a->set_name(key);
        a->set_type(onnx::AttributeProto::STRINGS);
        for (const auto& v : values) a->add_strings(v);
    }
    static void set_float(onnx::NodeProto* n, const char* key, float value) {
        auto* a = n->add_attribute();
        a->set_name(key);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(value);
    }

    // Transposes `value` by `perm`, or reuses the value a Transpose by the inverse was made from
    // (back to back conv/pool layers then share one channels-first value).
    std::string transposed(const std::string& value, const Perm& perm) {
        if (auto it = transposes_.find(value); it != transposes_.end()) {
            const auto& [source, first] = it->second;
            bool inverse = first.size() == perm.size();
            for (std::size_t i = 0; inverse && i < perm.size(); ++i) inverse = first[perm[i]] == static_cast<long>(i);
            if (inverse) return source;
        }
        auto [made, first_time] = transposes_made_.try_emplace({value, perm});
        if (!first_time) return made->second;  // the value is read in this order twice (a Bidirectional's layers)
        made->second = fresh(value + "_t");
        set_ints(node("Transpose", {value}, made->second), "perm", perm);
        transposes_.emplace(made->second, std::pair{value, perm});
        return made->second;
    }

    // The kernel (KH, KW, C_in, C_out) as ONNX's (C_out, C_in, KH, KW), or a depthwise kernel
    // (KH, KW, C, M) as the (C*M, 1, KH, KW) of a Conv with group = C: a leaf is stored that way.
    std::string conv_kernel(const Node* kernel, bool depthwise) {
        const Shape& s = kernel->shape();
        const Perm perm = depthwise ? Perm{2, 3, 0, 1} : Perm{3, 2, 0, 1};
        // (C, M, KH, KW) holds the values of (C*M, 1, KH, KW) in the same order.
        const Shape onnx_shape = depthwise ? Shape{s[2] * s[3], 1, s[0], s[1]} : Shape{s[3], s[2], s[0], s[1]};
        if (kernel->role == Role::result) {
            const std::string t = transposed(name_of(kernel), perm);
            if (!depthwise) return t;
            const std::string out = fresh(t + "_grouped");
            node("Reshape", {t, int64_initializer(out + "/shape", std::vector<long>(onnx_shape.begin(), onnx_shape.end()))},
                 out);
            return out;
        }
        auto& stored = depthwise ? depthwise_kernels_ : kernels_;
        if (auto it = stored.find(kernel); it != stored.end()) return it->second;
        Array k = xt::transpose(kernel->value(), perm);
        // A kernel also used as it is elsewhere gets a second, untransposed copy from name_of.
        const std::string name = fresh(kernel->name().empty() ? "kernel" : kernel->name());
        if (is_computation_constant(kernel)) {
            add_constant(name, k, onnx_shape);
        } else {
            add_initializer(name, k, onnx_shape);
        }
        stored.emplace(kernel, name);
        return name;
    }

    // The ONNX node a recurrent layer is written as: LSTM, GRU or RNN for xgrad's own layers (a
    // subclass may step otherwise) whose functions are xgrad's relu, sigmoid or tanh (ONNX's
    // Relu, Sigmoid and Tanh, which import_onnx reads back), nullptr for the others.
    static const char* onnx_recurrent_op(const Recurrent& layer) {
        if (!detail::is_builtin_activation(layer.activation_fn(), layer.settings().activation)) return nullptr;
        const std::type_info& type = typeid(layer);
        if (type == typeid(SimpleRNN)) return "RNN";
        if (!detail::is_builtin_activation(layer.recurrent_activation_fn(), layer.recurrent_activation())) return nullptr;
        if (type == typeid(LSTM)) return "LSTM";
        if (type == typeid(GRU)) return "GRU";
        return nullptr;
    }

    static std::string onnx_activation(const std::string& name) {
        if (name == "tanh") return "Tanh";
        return name == "sigmoid" ? "Sigmoid" : "Relu";
    }

    // The layer's input when records [begin, end) are one call of `layer` as its forward records
    // it (one input, the kernel read once, the step values used only inside); nullptr when not:
    // a layer called twice in a row, a value of a step used outside the layer.
    const Node* one_call_input(const Recurrent& layer, const std::vector<const Record*>& records, std::size_t begin,
                               std::size_t end) const {
        std::unordered_set<const Node*> made, weights{layer.kernel().node(), layer.recurrent_kernel().node()};
        if (layer.bias().defined()) weights.insert(layer.bias().node());
        for (const Node* w : weights) {
            if (w->role != Role::parameter) return nullptr;
        }
        for (std::size_t k = begin; k < end; ++k) made.insert(records[k]->output.get());
        const Node* x = nullptr;
        std::size_t kernel_reads = 0;  // one product of the whole sequence per call
        for (std::size_t k = begin; k < end; ++k) {
            for (std::size_t i = 0; i < records[k]->inputs.size(); ++i) {
                const Node* in = records[k]->inputs[i];
                if (in == layer.kernel().node()) ++kernel_reads;
                if (made.contains(in) || weights.contains(in)) continue;
                if (x != nullptr && x != in) return nullptr;
                x = in;
            }
        }
        if (kernel_reads != 1) return nullptr;  // the layer called on its own output, in one run
        const Node* y = records[end - 1]->output.get();
        for (const Node* n : made) {
            auto use = last_use_.find(n);
            if (n != y && (n == output_ || (use != last_use_.end() && use->second >= end))) return nullptr;
        }
        if (x == nullptr || x->shape().size() != 3 || x->shape()[2] != layer.input_dim()) return nullptr;
        const std::size_t batch = x->shape()[0], steps = x->shape()[1], units = layer.units();
        const bool sequences = layer.settings().return_sequences;
        return y->shape() == (sequences ? Shape{batch, steps, units} : Shape{batch, units}) ? x : nullptr;
    }

    // The initializers W, R and B of ONNX's `op` holding `layer`'s weights, written at the first
    // call; a layer called again reuses them, so that the copies stay one weight.
    const std::vector<std::string>& recurrent_weights(const Recurrent& layer, const std::string& op,
                                                      const std::string& base) {
        if (auto it = recurrent_weights_.find(&layer); it != recurrent_weights_.end()) return it->second;
        // Gate blocks in ONNX's order: LSTM i, o, f, c from Keras's i, f, c, o; GRU z, r, h as Keras's.
        const std::vector<std::size_t> order = op == "LSTM" ? std::vector<std::size_t>{0, 3, 1, 2}
                                               : op == "GRU" ? std::vector<std::size_t>{0, 1, 2}
                                                             : std::vector<std::size_t>{0};
        const std::size_t gates = order.size(), units = layer.units(), rows = gates * units;
        // ONNX's (1, gates * units, columns) from xgrad's (columns, gates * units) kernel.
        const auto stacked = [&](const Array& kernel, std::size_t columns) {
            Array w = uninitialized({1, rows, columns});
            for (std::size_t g = 0; g < gates; ++g) {
                for (std::size_t j = 0; j < units; ++j) {
                    for (std::size_t c = 0; c < columns; ++c) {
                        w.data()[(g * units + j) * columns + c] = kernel.data()[c * rows + order[g] * units + j];
                    }
                }
            }
            return w;
        };
        // Named as the layer's weights are: "lstm_1/W" beside "lstm_1/kernel".
        std::string path = layer.kernel().node()->name();
        path = path.ends_with("/kernel") ? path.substr(0, path.size() - 7) : base;
        std::vector<std::string> names;
        const auto weight = [&](const char* what, const Array& value) {
            names.push_back(fresh(path + "/" + what));
            add_initializer(names.back(), value, Shape(value.shape().begin(), value.shape().end()));
        };
        weight("W", stacked(layer.kernel().value(), layer.input_dim()));
        weight("R", stacked(layer.recurrent_kernel().value(), units));
        if (layer.bias().defined()) {
            // ONNX's B is the input's bias then the state's: GRU's two rows; the others' bias and zeros.
            const Array& bias = layer.bias().value();
            Array b = xt::zeros<float>({std::size_t{1}, 2 * rows});
            for (std::size_t half = 0; half < (op == "GRU" ? 2 : 1); ++half) {
                for (std::size_t g = 0; g < gates; ++g) {
                    for (std::size_t j = 0; j < units; ++j) {
                        b.data()[half * rows + g * units + j] = bias.data()[half * rows + order[g] * units + j];
                    }
                }
            }
            weight("B", b);
        }
        return recurrent_weights_.emplace(&layer, std::move(names)).first->second;
    }

    // Writes records [begin, end) as one LSTM, GRU or RNN node when they are one call of `layer`;
    // false, nothing written, when they are not.
    bool write_recurrent(const Recurrent& layer, const std::vector<const Record*>& records, std::size_t begin,
                         std::size_t end) {
        const Node* x = one_call_input(layer, records, begin, end);
        if (x == nullptr) return false;
        const RecurrentSettings& settings = layer.settings();
        scope_ = std::string(records[begin]->scope);
        const std::string op = onnx_recurrent_op(layer);
        const std::string base = fresh(scope_ + "/" + op);
        std::vector<std::string> inputs{transposed(name_of(x), {1, 0, 2})};  // ONNX's (steps, N, features)
        const std::vector<std::string>& weights = recurrent_weights(layer, op, base);
        inputs.insert(inputs.end(), weights.begin(), weights.end());
        const std::string sequence = fresh(base + "_Y"), last = fresh(base + "_Y_h");
        onnx::NodeProto* n = node(op, inputs, settings.return_sequences ? sequence : "");
        if (!settings.return_sequences) n->add_output(last);
        set_int(n, "hidden_size", static_cast<long>(layer.units()));
        set_string(n, "direction", settings.go_backwards ? "reverse" : "forward");
        std::vector<std::string> activations;
        if (op != "RNN") activations.push_back(onnx_activation(layer.recurrent_activation()));
        activations.push_back(onnx_activation(settings.activation));
        if (op == "LSTM") activations.push_back(activations.back());
        set_strings(n, "activations", activations);
        // Keras's GRU applies the reset gate after the state's product (reset_after).
        if (op == "GRU") set_int(n, "linear_before_reset", 1);

        std::string out = fresh(base + "_out");
        if (!settings.return_sequences) {
            unit_axis_node("Squeeze", last, 0, base, out);  // (1, N, units)
        } else {
            // Y is (steps, 1, N, units) in the sequence's order; going backwards, xgrad's outputs
            // are in the order the steps ran.
            const std::string squeezed = fresh(base + "_steps_first");
            unit_axis_node("Squeeze", sequence, 1, base, squeezed);
            out = transposed(squeezed, {1, 0, 2});
            if (settings.go_backwards) out = reversed(out, 1, base);
        }
        names_[records[end - 1]->output.get()] = out;
        return true;
    }

    // An Unsqueeze or a Squeeze of one unit axis: its axes are an input (opset 13 on).
    void unit_axis_node(const char* op, const std::string& value, long axis, const std::string& base,
                        const std::string& out) {
        node(op, {value, int64_initializer(base + "/axes", {axis})}, out);
    }

    // `value` reversed along `axis`: a Slice of step -1, which takes any extent; or the value a
    // reversal along the same axis was made from (a Bidirectional puts its backward layer's
    // reversed outputs back in order).
    std::string reversed(const std::string& value, long axis, const std::string& base) {
        if (auto it = reversals_.find(value); it != reversals_.end() && it->second.second == axis) {
            return it->second.first;
        }
        const std::string out = fresh(base + "_reversed");
        node("Slice", {value, int64_initializer(base + "/starts", {-1}),
                       int64_initializer(base + "/ends", {std::numeric_limits<std::int64_t>::min()}),
                       int64_initializer(base + "/axes", {axis}), int64_initializer(base + "/steps", {-1})},
             out);
        reversals_.emplace(out, std::pair{value, axis});
        return out;
    }

    // The axis after the batch's at which `to` is `from` with one extent of 1 inserted, or -1. Not
    // the batch's own: the graph's batch is any (the example's batch of 1 may have moved into
    // another extent, batch * steps).
    static long unit_axis_inserted(const Shape& from, const Shape& to) {
        if (to.size() != from.size() + 1) return -1;
        const auto inserted_at = [&](std::size_t a) {
            const auto at = static_cast<long>(a);
            return to[a] == 1 && std::equal(from.begin(), from.begin() + at, to.begin()) &&
                   std::equal(from.begin() + at, from.end(), to.begin() + at + 1);
        };
        for (std::size_t a = 1; a < to.size(); ++a) {
            if (inserted_at(a)) return static_cast<long>(a);
        }
        return -1;
    }

    // ONNX pads (top, left, bottom, right) for xgrad's window geometry.
    static std::vector<long> pads(const Window2d& g) {
        const long bottom = std::max(0L, static_cast<long>((g.oh - 1) * g.sh + g.span_h()) - static_cast<long>(g.h) -
                                             static_cast<long>(g.pad_top));
        const long right = std::max(0L, static_cast<long>((g.ow - 1) * g.sw + g.span_w()) - static_cast<long>(g.w) -
                                            static_cast<long>(g.pad_left));
        return {static_cast<long>(g.pad_top), static_cast<long>(g.pad_left), bottom, right};
    }

    // The elementwise ops that are one ONNX node of the same input.
    static const std::unordered_map<std::string, std::string>& one_node_elementwise() {
        static const std::unordered_map<std::string, std::string> ops{
            {"neg", "Neg"},   {"exp", "Exp"},   {"log", "Log"},   {"sqrt", "Sqrt"},         {"abs", "Abs"},
            {"relu", "Relu"}, {"tanh", "Tanh"}, {"sigmoid", "Sigmoid"}, {"erf", "Erf"}, {"softplus", "Softplus"},
            {"sin", "Sin"},   {"cos", "Cos"},   {"tan", "Tan"},   {"asin", "Asin"},         {"acos", "Acos"},
            {"atan", "Atan"}, {"sinh", "Sinh"}, {"cosh", "Cosh"}, {"asinh", "Asinh"},       {"acosh", "Acosh"},
            {"atanh", "Atanh"}, {"floor", "Floor"}, {"ceil", "Ceil"}, {"round", "Round"}, {"sign", "Sign"}};
        return ops;
    }

    // The ops of one input that act on each element alone, and so commute with a Transpose.
    static bool is_elementwise(const std::string& op) {
        static const std::unordered_set<std::string> several_nodes{
            "square", "pow",  "clip", "elu",  "selu", "swish", "gelu", "gelu_tanh", "mish", "leaky_relu",
            "thresholded_relu", "relu6", "hard_sigmoid", "hard_swish"};
        return one_node_elementwise().contains(op) || several_nodes.contains(op);
    }

    std::string scalar_constant(const std::string& base, const char* what, float value) {
        const std::string name = fresh(base + "/" + what);
        add_constant(name, scalar_array(value), {});
        return name;
    }

    // Writes elementwise op `op` of x as ONNX node(s) ending in y. Opset 13 has no Swish, Gelu,
    // Mish or HardSwish: those are made of the nodes their formulas name.
    void write_elementwise(const std::string& op, const OpAttributes& attrs, const std::string& x,
                           const std::string& y, const std::string& base) {
        auto part = [&](const char* what) { return fresh(base + "/" + what); };
        if (auto it = one_node_elementwise().find(op); it != one_node_elementwise().end()) {
            node(it->second, {x}, y);
        } else if (op == "square") {
            node("Mul", {x, x}, y);
        } else if (op == "pow") {
            node("Pow", {x, scalar_constant(base, "exponent", attrs.number("p"))}, y);
        } else if (op == "clip" || op == "relu6") {
            const bool relu6 = op == "relu6";
            node("Clip", {x, scalar_constant(base, "min", relu6 ? 0.0f : attrs.number("min")),
                          scalar_constant(base, "max", relu6 ? 6.0f : attrs.number("max"))},
                 y);
        } else if (op == "elu" || op == "leaky_relu") {
            set_float(node(op == "elu" ? "Elu" : "LeakyRelu", {x}, y), "alpha", attrs.number("alpha"));
        } else if (op == "thresholded_relu") {
            set_float(node("ThresholdedRelu", {x}, y), "alpha", attrs.number("theta"));
        } else if (op == "selu") {
            // ONNX's defaults are the same constants, rounded to float as xgrad's are.
            node("Selu", {x}, y);
        } else if (op == "hard_sigmoid") {
            onnx::NodeProto* n = node("HardSigmoid", {x}, y);
            set_float(n, "alpha", attrs.number("alpha"));
            set_float(n, "beta", attrs.number("beta"));
        } else if (op == "swish") {
            const std::string s = part("sigmoid");
            node("Sigmoid", {x}, s);
            node("Mul", {x, s}, y);
        } else if (op == "mish") {
            const std::string sp = part("softplus"), t = part("tanh");
            node("Softplus", {x}, sp);
            node("Tanh", {sp}, t);
            node("Mul", {x, t}, y);
        } else if (op == "hard_swish") {
            const std::string h = part("hard_sigmoid");
            onnx::NodeProto* n = node("HardSigmoid", {x}, h);
            set_float(n, "alpha", 1.0f / 6.0f);
            set_float(n, "beta", 0.5f);
            node("Mul", {x, h}, y);
        } else if (op == "gelu") {
            // 0.5 x (1 + erf(x / sqrt 2))
            const std::string z = part("scaled"), e = part("erf"), p = part("plus_one"), h = part("half");
            node("Mul", {x, scalar_constant(base, "inv_sqrt2", 0.70710678118654752f)}, z);
            node("Erf", {z}, e);
            node("Add", {e, scalar_constant(base, "one", 1.0f)}, p);
            node("Mul", {x, scalar_constant(base, "half_factor", 0.5f)}, h);
            node("Mul", {h, p}, y);
        } else if (op == "gelu_tanh") {  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            const std::string x2 = part("x2"), x3 = part("x3"), kx3 = part("kx3"), inner = part("inner"),
                              u = part("u"), t = part("tanh"), p = part("plus_one"), h = part("half");
            node("Mul", {x, x}, x2);
            node("Mul", {x2, x}, x3);
            node("Mul", {x3, scalar_constant(base, "k", 0.044715f)}, kx3);
            node("Add", {x, kx3}, inner);
            node("Mul", {inner, scalar_constant(base, "sqrt_2_over_pi", 0.7978845608028654f)}, u);
            node("Tanh", {u}, t);
            node("Add", {t, scalar_constant(base, "one", 1.0f)}, p);
            node("Mul", {x, scalar_constant(base, "half_factor", 0.5f)}, h);
            node("Mul", {h, p}, y);
        } else {
            throw StateError(fmt::format("export_onnx: elementwise op '{}' has no ONNX form written", op));
        }
    }

    void write(const Record& r) {
        scope_ = std::string(r.scope);
        const std::string op(r.op);
        const OpAttributes& attrs = r.attributes();
        std::vector<std::string> in;
        const bool depthwise = op == "depthwise_conv2d" || op == "depthwise_conv2d_with_bias";
        // conv2d_backward_input(dy, kernel) is a transposed convolution: ONNX's ConvTranspose.
        const bool transposed_op = op == "conv2d_backward_input";
        const bool kernel_op = depthwise || transposed_op || op == "conv2d" || op == "conv2d_with_bias";
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            in.push_back(kernel_op && k == 1 ? conv_kernel(r.inputs[k], depthwise) : name_of(r.inputs[k]));
        }
        const std::string base = fresh(scope_.empty() ? op : scope_ + "/" + op);
        std::string out = base;
        const Shape& x_shape = r.inputs[0]->shape();
        const Shape& y_shape = r.output->shape();
        auto axis_attr = [&](onnx::NodeProto* n) {
            if (attrs.has("axis")) set_ints(n, "axes", {attrs.integer("axis")});
            set_int(n, "keepdims", attrs.flag("keepdims") ? 1 : 0);
        };
        static const std::unordered_map<std::string, std::string> same_name{
            {"add", "Add"}, {"sub", "Sub"}, {"mul", "Mul"}, {"div", "Div"}, {"matmul", "MatMul"}, {"linear", "Gemm"},
            {"maximum", "Max"}, {"minimum", "Min"}, {"power", "Pow"}};
        static const std::unordered_map<std::string, std::string> comparisons{
            {"equal", "Equal"}, {"greater", "Greater"}, {"greater_equal", "GreaterOrEqual"}, {"less", "Less"},
            {"less_equal", "LessOrEqual"}};
        if (is_elementwise(op)) {
            if (auto t = transposes_.find(in[0]); t != transposes_.end()) {
                // An elementwise op commutes with a Transpose: applied before it, a conv's activation
                // stays channels-first, between the Conv and the next pooling.
                const auto [source, perm] = t->second;
                const std::string y = fresh(base + "_t");
                write_elementwise(op, attrs, source, y, base);
                out = transposed(y, perm);
            } else {
                write_elementwise(op, attrs, in[0], out, base);
            }
        } else if (auto it = same_name.find(op); it != same_name.end()) {
            node(it->second, in, out);
        } else if (op == "softmax" || op == "log_softmax") {
            set_int(node(op == "softmax" ? "Softmax" : "LogSoftmax", in, out), "axis",
                    attrs.integer("axis"));
        } else if (op == "transpose") {
            const Perm& perm = attrs.integers("perm");
            set_ints(node("Transpose", in, out), "perm", perm);
            transposes_.emplace(out, std::pair{in[0], perm});
        } else if (op == "reshape") {
            if (const long axis = unit_axis_inserted(x_shape, y_shape); axis >= 0) {
                // A unit axis in or out (a sequence as an image of one row): right for any batch
                // and any extent, where a Reshape would hold them.
                unit_axis_node("Unsqueeze", in[0], axis, base, out);
            } else if (const long removed = unit_axis_inserted(y_shape, x_shape); removed >= 0) {
                unit_axis_node("Squeeze", in[0], removed, base, out);
            } else if (y_shape.size() == 2 && !x_shape.empty() && y_shape[0] == x_shape[0]) {
                set_int(node("Flatten", in, out), "axis", 1);
            } else {
                std::vector<long> target(y_shape.begin(), y_shape.end());
                // The batch axis stays dynamic: 0 copies the input's extent. The extent the op
                // inferred is inferred again (-1): where the batch moved into another extent
                // (batch * steps), or pixels that the graph takes at any size.
                // With the batch kept, an inferred extent is written only when the graph must take
                // other extents (0 and -1 together), as an empty batch leaves nothing to infer from.
                const bool batch_kept = !target.empty() && !x_shape.empty() && y_shape[0] == x_shape[0];
                if (batch_kept) target[0] = 0;
                if (attrs.has("inferred_axis")) {
                    const auto inferred = static_cast<std::size_t>(attrs.integer("inferred_axis"));
                    if (!batch_kept || (extents_dynamic_ && inferred != 0)) target.at(inferred) = -1;
                }
                node("Reshape", {in[0], int64_initializer(base + "/shape", target)}, out);
            }
        } else if (op == "pad") {
            const auto axis = static_cast<std::size_t>(attrs.integer("axis"));
            std::vector<long> amounts(2 * x_shape.size(), 0);
            amounts.at(axis) = attrs.integer("before");
            amounts.at(x_shape.size() + axis) = attrs.integer("after");
            node("Pad", {in[0], int64_initializer(base + "/pads", amounts)}, out);
        } else if (op == "slice") {
            const long axis = attrs.integer("axis");
            node("Slice", {in[0], int64_initializer(base + "/starts", {attrs.integer("begin")}),
                           int64_initializer(base + "/ends", {attrs.integer("end")}),
                           int64_initializer(base + "/axes", {axis})},
                 out);
        } else if (op == "concat") {
            set_int(node("Concat", in, out), "axis", attrs.integer("axis"));
        } else if (op == "gather") {
            long axis = attrs.integer("axis");
            if (axis < 0) axis += static_cast<long>(x_shape.size());
            const std::vector<long>& indices = attrs.integers("indices");
            const auto extent = static_cast<long>(x_shape.at(static_cast<std::size_t>(axis)));
            bool reversal = static_cast<long>(indices.size()) == extent;
            for (std::size_t i = 0; reversal && i < indices.size(); ++i) {
                reversal = indices[i] == extent - 1 - static_cast<long>(i);
            }
            if (reversal) {
                out = reversed(in[0], axis, base);
            } else {
                set_int(node("Gather", {in[0], int64_initializer(base + "/indices", indices)}, out), "axis", axis);
            }
        } else if (op == "not_equal") {
            // Equal's result is a bool tensor: negated, then 1.0 and 0.0 as xgrad's masks hold them.
            const std::string equal = fresh(base + "_equal"), differs = fresh(base + "_not");
            node("Equal", {in[0], scalar_constant(base, "value", attrs.number("value"))}, equal);
            node("Not", {equal}, differs);
            set_int(node("Cast", {differs}, out), "to", onnx::TensorProto::FLOAT);
        } else if (comparisons.contains(op)) {
            // ONNX's comparisons give bool tensors: cast to 1.0 and 0.0, as xgrad holds them.
            const std::string truth = fresh(base + "_bool");
            node(comparisons.at(op), in, truth);
            set_int(node("Cast", {truth}, out), "to", onnx::TensorProto::FLOAT);
        } else if (op == "where") {
            // ONNX's Where takes a bool condition; xgrad's is a float, true where not 0, as a Cast to
            // BOOL reads it (NaN included).
            const std::string truth = fresh(base + "_bool");
            set_int(node("Cast", {in[0]}, truth), "to", onnx::TensorProto::BOOL);
            node("Where", {truth, in[1], in[2]}, out);
        } else if (op == "argmax" || op == "argmin") {
            // ONNX's index is int64: cast to float, as xgrad's. Ties go to the first extremum in both
            // (select_last_index 0); which index a line holding a NaN gives is the runtime's choice.
            const std::string index = fresh(base + "_index");
            onnx::NodeProto* n = node(op == "argmax" ? "ArgMax" : "ArgMin", in, index);
            set_int(n, "axis", attrs.integer("axis"));
            set_int(n, "keepdims", attrs.flag("keepdims") ? 1 : 0);
            set_int(node("Cast", {index}, out), "to", onnx::TensorProto::FLOAT);
        } else if (op == "top_k" || op == "top_k_indices") {
            // ONNX's TopK gives the values and the indices; xgrad records each as an op of x, and
            // each is written as its own TopK (sorted, ties to the lower index in both; where a line
            // holding a NaN puts it is the runtime's choice). The index is int64: cast to float, as
            // xgrad's.
            const std::string k = int64_initializer(base + "/k", {attrs.integer("k")});
            const bool values = op == "top_k";
            const std::string index = fresh(base + "_index");
            onnx::NodeProto* n = node("TopK", {in[0], k}, values ? out : fresh(base + "_values"));
            n->add_output(index);
            set_int(n, "axis", attrs.integer("axis"));
            set_int(n, "largest", attrs.flag("largest") ? 1 : 0);
            set_int(n, "sorted", 1);
            if (!values) set_int(node("Cast", {index}, out), "to", onnx::TensorProto::FLOAT);
        } else if (op == "embedding_lookup") {
            // The ids are float data, as every input; Gather takes them as integers.
            const std::string ids = fresh(base + "/ids");
            set_int(node("Cast", {in[1]}, ids), "to", onnx::TensorProto::INT64);
            set_int(node("Gather", {in[0], ids}, out), "axis", 0);
        } else if (op == "resize_images") {
            // Bilinear (nearest resizing is two gathers): Resize, channels first, to (N, C) of the
            // value itself and the size recorded, so that the batch stays dynamic. Its half-pixel
            // coordinates are tf.image.resize's.
            const auto& size = attrs.integers("size");
            const std::string x = transposed(in[0], to_channels_first);
            const std::string shape = fresh(base + "/shape"), batch_channels = fresh(base + "/batch_channels");
            node("Shape", {x}, shape);
            node("Slice", {shape, int64_initializer(base + "/starts", {0}), int64_initializer(base + "/ends", {2})},
                 batch_channels);
            const std::string sizes = fresh(base + "/sizes");
            set_int(node("Concat", {batch_channels, int64_initializer(base + "/size", size)}, sizes), "axis", 0);
            const std::string y = fresh(base + "_nchw");
            onnx::NodeProto* n = node("Resize", {x, "", "", sizes}, y);
            if (parse_interpolation(attrs.word("interpolation"), "export_onnx") != Interpolation::bilinear) {
                throw ValueError(fmt::format("export_onnx: resize_images in '{}' is recorded with interpolation '{}'; "
                                             "expected bilinear (nearest resizing records gathers)",
                                             scope_, attrs.word("interpolation")));
            }
            set_string(n, "mode", "linear");
            set_string(n, "coordinate_transformation_mode", "half_pixel");
            out = transposed(y, to_channels_last);
        } else if (op == "sum") {
            std::vector<std::string> args{in[0]};
            if (attrs.has("axis")) args.push_back(int64_initializer(base + "/axes", {attrs.integer("axis")}));
            set_int(node("ReduceSum", args, out), "keepdims", attrs.flag("keepdims") ? 1 : 0);
        } else if (op == "mean" || op == "max" || op == "min") {
            axis_attr(node(op == "mean" ? "ReduceMean" : op == "max" ? "ReduceMax" : "ReduceMin", in, out));
        } else if (kernel_op || op == "max_pool2d" || op == "avg_pool2d") {
            const auto& strides = attrs.integers("strides");
            const Padding padding = parse_padding(attrs.word("padding"), "export_onnx");
            Size2 window;
            if (kernel_op) {
                const Shape& k = r.inputs[1]->shape();
                window = {k[0], k[1]};
            } else {
                const auto& pool = attrs.integers("pool_size");
                window = {static_cast<std::size_t>(pool.at(0)), static_cast<std::size_t>(pool.at(1))};
            }
            const Size2 s{static_cast<std::size_t>(strides.at(0)), static_cast<std::size_t>(strides.at(1))};
            Size2 d{1, 1};
            if (attrs.has("dilation")) {
                const auto& dilation = attrs.integers("dilation");
                d = {static_cast<std::size_t>(dilation.at(0)), static_cast<std::size_t>(dilation.at(1))};
            }
            // A transposed convolution's window is that of the convolution from its output to its input.
            const Window2d g =
                window_geometry(transposed_op ? y_shape : x_shape, window, s, padding, "export_onnx", "window", d);
            std::vector<std::string> args = in;
            args[0] = transposed(in[0], to_channels_first);
            const std::string y = fresh(base + "_nchw");
            const char* onnx_op = transposed_op ? "ConvTranspose" : kernel_op ? "Conv" : op == "max_pool2d" ? "MaxPool" : "AveragePool";
            onnx::NodeProto* n = node(onnx_op, args, y);
            set_ints(n, "kernel_shape", {static_cast<long>(window[0]), static_cast<long>(window[1])});
            set_ints(n, "strides", {static_cast<long>(s[0]), static_cast<long>(s[1])});
            if (d != Size2{1, 1}) set_ints(n, "dilations", {static_cast<long>(d[0]), static_cast<long>(d[1])});
            const std::vector<long> p = pads(g);
            // Keras's same is ONNX's SAME_UPPER (the extra row at the bottom). Explicit pads hold
            // for every extent at stride 1; with a stride they depend on the extent, and a graph
            // that must take others leaves them to the runtime, which does not run SAME_UPPER with
            // dilations.
            if (padding == Padding::same && extents_dynamic_ && !transposed_op && s != Size2{1, 1}) {
                if (d != Size2{1, 1}) {
                    throw ValueError(fmt::format(
                        "export_onnx: {} in '{}' has same padding with strides ({}, {}) and dilations ({}, {}), "
                        "whose pads depend on the extent; expected no dynamic axes for it (ONNX Runtime does not "
                        "run SAME_UPPER with dilations), or strides or dilations of 1",
                        op, scope_.empty() ? "top level" : scope_, s[0], s[1], d[0], d[1]));
                }
                set_string(n, "auto_pad", "SAME_UPPER");
            } else {
                set_ints(n, "pads", p);
            }
            if (depthwise) set_int(n, "group", static_cast<long>(x_shape[3]));
            if (transposed_op) {
                // Rows and columns of the output no window reaches (a window smaller than its stride).
                const long extra_rows = static_cast<long>(g.h) - static_cast<long>((g.oh - 1) * g.sh + g.span_h()) + p[0] + p[2];
                const long extra_cols = static_cast<long>(g.w) - static_cast<long>((g.ow - 1) * g.sw + g.span_w()) + p[1] + p[3];
                if (extra_rows != 0 || extra_cols != 0) set_ints(n, "output_padding", {extra_rows, extra_cols});
            }
            out = transposed(y, to_channels_last);
        } else if (op == "batch_norm") {
            if (attrs.word("mode") != "inference") {
                throw StateError(fmt::format("export_onnx: batch_norm in '{}' ran in training mode; expected the "
                                             "inference-mode pass export_onnx traces",
                                             scope_));
            }
            auto it = batch_norms_.find(scope_);
            if (it == batch_norms_.end()) {
                throw ValueError(fmt::format("export_onnx: batch_norm in '{}' is not the op of a BatchNormalization "
                                             "layer of the model; expected one, whose moving statistics it uses",
                                             scope_.empty() ? "(top level)" : scope_));
            }
            const BatchNormalization& bn = *it->second;
            std::vector<std::string> args{in[0], in[1], in[2], name_of(bn.moving_mean().node()),
                                          name_of(bn.moving_variance().node())};
            const std::size_t rank = x_shape.size();
            if (rank != 2 && rank != 4) {
                throw ValueError(fmt::format("export_onnx: batch_norm in '{}' normalizes x {}; expected (N, C) or "
                                             "(N, H, W, C), the inputs ONNX's BatchNormalization has a form for",
                                             scope_, format_shape(x_shape)));
            }
            const std::string y = rank == 4 ? fresh(base + "_nchw") : out;
            if (rank == 4) args[0] = transposed(in[0], to_channels_first);
            set_float(node("BatchNormalization", args, y), "epsilon", attrs.number("epsilon"));
            if (rank == 4) out = transposed(y, to_channels_last);
        } else {
            throw ValueError(fmt::format(
                "export_onnx: op '{}' (in '{}') has no ONNX form; expected ops among add, sub, mul, div, neg, maximum, "
                "minimum, exp, log, sqrt, abs, square, pow, clip, erf, sin, cos, relu, sigmoid, tanh, elu, selu, softplus, swish, "
                "gelu, gelu_tanh, mish, leaky_relu, thresholded_relu, relu6, hard_sigmoid, hard_swish, softmax, log_softmax, "
                "matmul, linear, transpose, reshape, pad, slice, gather, embedding_lookup, not_equal, equal, greater, "
                "greater_equal, less, less_equal, where, argmax, argmin, top_k, top_k_indices, power, sum, mean, max, min, conv2d, conv2d_with_bias, "
                "conv2d_backward_input, depthwise_conv2d, depthwise_conv2d_with_bias, max_pool2d, avg_pool2d, "
                "batch_norm, resize_images",
                op, scope_.empty() ? "top level" : scope_));
        }
        names_[r.output.get()] = out;
    }

    // Drops nodes and initializers nothing reaches the output through (a Transpose whose
    // value was only turned back).
    void prune() {
        std::unordered_set<std::string> needed{"output"};
        std::vector<bool> keep(static_cast<std::size_t>(graph_->node_size()), false);
        for (int i = graph_->node_size(); i-- > 0;) {
            const auto& n = graph_->node(i);
            // An LSTM's first output may be unnamed (only its last state is used).
            if (std::none_of(n.output().begin(), n.output().end(), [&](const auto& o) { return needed.contains(o); })) {
                continue;
            }
            keep[static_cast<std::size_t>(i)] = true;
            for (const auto& in : n.input()) needed.insert(in);
        }
        google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
        for (int i = 0; i < graph_->node_size(); ++i) {
            if (keep[static_cast<std::size_t>(i)]) *nodes.Add() = graph_->node(i);
        }
        graph_->mutable_node()->Swap(&nodes);
        google::protobuf::RepeatedPtrField<onnx::TensorProto> inits;
        for (const auto& t : graph_->initializer()) {
            if (needed.contains(t.name())) *inits.Add() = t;
        }
        graph_->mutable_initializer()->Swap(&inits);
    }

    static void add_value_info(onnx::ValueInfoProto* v, const std::string& name, const Shape& shape) {
        v->set_name(name);
        auto* type = v->mutable_type()->mutable_tensor_type();
        type->set_elem_type(onnx::TensorProto::FLOAT);
        auto* dims = type->mutable_shape();
        for (std::size_t i = 0; i < shape.size(); ++i) {
            if (i == 0) {
                dims->add_dim()->set_dim_param("batch");
            } else {
                dims->add_dim()->set_dim_value(static_cast<std::int64_t>(shape[i]));
            }
        }
    }

    Module& model_;
    bool extents_dynamic_;
    onnx::ModelProto model_proto_;
    onnx::GraphProto* graph_;
    std::unordered_map<const Node*, std::string> names_;
    std::unordered_map<const Node*, std::string> kernels_;            // leaves stored as ONNX kernels
    std::unordered_map<const Node*, std::string> depthwise_kernels_;  // and as grouped ONNX kernels
    std::unordered_set<std::string> used_;
    std::unordered_map<std::string, std::pair<std::string, Perm>> transposes_;  // Transpose output -> its input, perm
    std::map<std::pair<std::string, Perm>, std::string> transposes_made_;        // and back
    std::unordered_map<std::string, const BatchNormalization*> batch_norms_;
    std::unordered_map<std::string, const Recurrent*> recurrents_;
    std::unordered_map<const Recurrent*, std::vector<std::string>> recurrent_weights_;  // W, R and B
    std::unordered_map<std::string, std::pair<std::string, long>> reversals_;  // Slice output -> its input, axis
    const Node* output_;
    std::unordered_map<const Node*, std::size_t> last_use_;  // the last record (of those chosen) reading a value
    std::string scope_;
};

}  // namespace

namespace {

// The model's inference pass on `example_input`, traced and written as ONNX; with
// `extents_dynamic`, written to take other extents than the example's.
onnx::ModelProto traced(Module& model, const Array& example_input, bool extents_dynamic) {
    Tape& tape = Tape::current();
    // The trace's records are dropped afterwards, thrown or not, when the tape held nothing else.
    struct TapeGuard {
        Tape& tape;
        bool was_empty;
        ~TapeGuard() {
            if (was_empty) tape.clear();
        }
    } tape_guard{tape, tape.size() == 0};
    ModeGuard inference(model, false);
    // The input requires a gradient so that every op on the way to the output is recorded, the
    // ones before the first parameter too.
    GradModeGuard recording(true);
    Tensor x(example_input, true);
    x.set_name("input");
    const Tensor y = model(x);
    Writer writer(model, x, y, extents_dynamic);
    if (y.node()->role == Role::result && y.node()->recorded() && tape.holds(*y.node())) {
        std::unordered_set<const Node*> needed{y.node()};
        std::vector<std::size_t> chosen;
        for (std::size_t i = y.node()->record + 1; i-- > 0;) {
            const Record& r = tape[i];
            if (!needed.contains(r.output.get())) continue;
            chosen.push_back(i);
            for (std::size_t k = 0; k < r.inputs.size(); ++k) needed.insert(r.inputs[k]);
        }
        std::reverse(chosen.begin(), chosen.end());
        writer.write_records(chosen);
    } else if (y.node() != x.node()) {
        throw ValueError(fmt::format("export_onnx: the output of {} '{}' {} was not recorded from the input; "
                                     "expected a forward pass made of xgrad ops",
                                     model.kind(), model.name(), format_shape(y.shape())));
    }
    return writer.finish(x, y);
}

// `example` `more` longer along `axis`, its last slice repeated (a valid word id, a valid pixel).
Array extended(const Array& example, std::size_t axis, std::size_t more) {
    xt::xstrided_slice_vector last(example.dimension(), xt::all());
    const std::size_t extent = example.shape()[axis];
    last[axis] = xt::range(extent - 1, extent);
    Array out = example;
    for (std::size_t k = 0; k < more; ++k) {
        const Array tail = xt::strided_view(example, last);
        out = xt::concatenate(xt::xtuple(out, tail), axis);
    }
    return out;
}

// The first node or initializer of `a` that `b` does not have as it is, named; empty when the
// two graphs are the same.
std::string first_difference(const onnx::GraphProto& a, const onnx::GraphProto& b) {
    for (int i = 0; i < std::max(a.node_size(), b.node_size()); ++i) {
        const onnx::NodeProto& n = i < a.node_size() ? a.node(i) : b.node(i);
        if (i >= a.node_size() || i >= b.node_size() || n.SerializeAsString() != b.node(i).SerializeAsString()) {
            return fmt::format("node '{}' ({})", n.name(), n.op_type());
        }
    }
    for (int i = 0; i < std::max(a.initializer_size(), b.initializer_size()); ++i) {
        const onnx::TensorProto& t = i < a.initializer_size() ? a.initializer(i) : b.initializer(i);
        if (i >= a.initializer_size() || i >= b.initializer_size() ||
            t.SerializeAsString() != b.initializer(i).SerializeAsString()) {
            return fmt::format("initializer '{}'", t.name());
        }
    }
    return {};
}

// How many longer inputs make_dynamic traces along each axis. An attribute that depends on the
// extent only through a division by k (a crop's centre, by 2) is the same for up to k
// consecutive extents; the strides' pads, which depend on the extent modulo the stride, are
// left to the runtime (SAME_UPPER) when extents are dynamic.
constexpr std::size_t kLongerTraces = 2;

// Declares `axes` of the graph's input dynamic ("axis_1") after checking that the graphs written
// for inputs longer along each are the same as `proto`'s; the output's extents are left for
// ONNX's shape inference to find: a number where it proves one, else a name.
void make_dynamic(Module& model, const Array& example, const std::vector<std::size_t>& axes, onnx::ModelProto& proto) {
    const std::size_t rank = example.dimension();
    const std::string input_shape = format_shape(Shape(example.shape().begin(), example.shape().end()));
    std::vector<bool> seen(rank, false);
    auto* in = proto.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    for (std::size_t axis : axes) {
        if (axis >= rank) {
            throw ValueError(fmt::format("export_onnx: dynamic axis {} of an example_input {}; expected an axis "
                                         "below {}",
                                         axis, input_shape, rank));
        }
        if (axis == 0 || seen[axis]) continue;  // the batch axis is dynamic always
        seen[axis] = true;
        if (example.shape()[axis] == 0) {
            throw ValueError(fmt::format("export_onnx: dynamic axis {} of an example_input {} is empty; expected an "
                                         "example with at least one element along it",
                                         axis, input_shape));
        }
        for (std::size_t more = 1; more <= kLongerTraces; ++more) {
            const Array longer = extended(example, axis, more);
            const std::string longer_shape = format_shape(Shape(longer.shape().begin(), longer.shape().end()));
            onnx::ModelProto other;
            try {
                other = traced(model, longer, true);
            } catch (const std::bad_alloc&) {
                throw;
            } catch (const std::exception& e) {
                throw ValueError(fmt::format("export_onnx: axis {} of the input cannot be dynamic: {} '{}' takes {} "
                                             "but not {} ({})",
                                             axis, model.kind(), model.name(), input_shape, longer_shape, e.what()));
            }
            if (const std::string d = first_difference(proto.graph(), other.graph()); !d.empty()) {
                // An extent of 1 makes a reshape of it look like a unit axis added or dropped.
                const char* hint = example.shape()[axis] == 1 ? "; an example of at least 2 along the axis" : "";
                throw ValueError(fmt::format(
                    "export_onnx: axis {} of the input cannot be dynamic: the graph of {} '{}' for {} differs from "
                    "its graph for {} at {}; expected a graph that does not depend on the extent (a recurrent layer "
                    "with no ONNX node of its form, or called with a mask, is unrolled over the steps; an op may hold "
                    "the extent){}",
                    axis, model.kind(), model.name(), input_shape, longer_shape, d, hint));
            }
        }
        in->mutable_dim(static_cast<int>(axis))->set_dim_param(fmt::format("axis_{}", axis));
    }
    // The output's extents are left to shape inference: what the example gave may hold only for
    // the example's extents (a pooling's output may be as long for two extents).
    auto* out = proto.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int k = 1; k < out->dim_size(); ++k) out->mutable_dim(k)->Clear();
}

// Names the output's extents that shape inference did not find to be a number or one of the
// input's ("output_axis_2" where it left none, or one of its own making).
void name_unknown_output_extents(onnx::ModelProto& proto) {
    std::unordered_set<std::string> input_names;
    for (const auto& d : proto.graph().input(0).type().tensor_type().shape().dim()) {
        if (d.has_dim_param()) input_names.insert(d.dim_param());
    }
    auto* out = proto.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int k = 1; k < out->dim_size(); ++k) {
        auto* dim = out->mutable_dim(k);
        if (dim->has_dim_value() || (dim->has_dim_param() && input_names.contains(dim->dim_param()))) continue;
        dim->set_dim_param(fmt::format("output_axis_{}", k));
    }
}

}  // namespace

void export_onnx(Module& model, const Array& example_input, const std::string& path,
                 const OnnxExportOptions& options) {
    if (example_input.dimension() < 1 || example_input.shape()[0] == 0) {
        throw ShapeError(fmt::format("export_onnx: example_input has shape {}; expected a batch of at least one sample",
                                     format_shape(Shape(example_input.shape().begin(), example_input.shape().end()))));
    }
    const bool dynamic = std::ranges::any_of(options.dynamic_axes, [](std::size_t axis) { return axis != 0; });
    onnx::ModelProto proto = traced(model, example_input, dynamic);
    if (dynamic) make_dynamic(model, example_input, options.dynamic_axes, proto);
    try {
        onnx::checker::check_model(proto);
        onnx::ShapeInferenceOptions options(true, 1, false);
        onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), options);
        if (dynamic) name_unknown_output_extents(proto);
    } catch (const std::exception& e) {
        throw StateError(fmt::format("export_onnx: the ONNX checker rejects the model written for {} '{}' ({}); "
                                     "expected a valid model: this is a bug in export_onnx",
                                     model.kind(), model.name(), e.what()));
    }
    std::string bytes;
    if (!proto.SerializeToString(&bytes)) {
        throw IoError(fmt::format("export_onnx: {}: cannot serialize the model (protobuf refuses it, {} bytes at "
                                  "most); expected a model under 2 GB",
                                  path, proto.ByteSizeLong()));
    }
    AtomicFile file(path, "export_onnx: " + path);
    file.write(bytes);
    file.commit();
}

}  // namespace xg
