#pragma once
// ONNX import: an ONNX file's graph run with xgrad ops, its float initializers as trainable
// parameters (BatchNormalization's running statistics as buffers), so that an imported model
// predicts, trains with fit, draws its graph and exports again. Tensors keep the layout the file
// declares: a model from PyTorch takes (N, C, H, W) images; one exported by xgrad takes
// (N, H, W, C). See docs/onnx.md for the ops and attributes it runs.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// A well-formed ONNX file that uses an op, attribute, opset or data type xgrad does not run.
class OnnxUnsupportedError : public IoError {
public:
    using IoError::IoError;
};

/// A model read from an ONNX file: its nodes, in the file's order, run as xgrad ops.
class OnnxModel : public Module {
public:
    struct Graph;
    /// Wraps a parsed graph; use import_onnx.
    OnnxModel(std::shared_ptr<const Graph> graph, std::string name);
    ~OnnxModel() override;
    /// The single-input, single-output form; throws ValueError for other models (use run).
    Tensor forward(const Tensor& x) override;
    /// The outputs for one tensor per graph input, in input_names() order.
    std::vector<Tensor> run(const std::vector<Tensor>& inputs);
    /// The graph's inputs that are fed by the caller (initializers left out).
    const std::vector<std::string>& input_names() const;
    /// The graph's outputs.
    const std::vector<std::string>& output_names() const;
    /// The op types of the graph's nodes, in order.
    std::vector<std::string> op_types() const;
    /// How much one run may compute, in values over all its nodes: a node that would go past it
    /// throws OnnxUnsupportedError before it allocates, since a few bytes of a file can chain
    /// Resize, Pad or broadcasting nodes into gigabytes. 0, the default, means 65536 times what
    /// the model holds and is fed (at least 4096 values), far more than networks compute; set a
    /// lower limit for models from untrusted sources, a higher one for one that needs it.
    void limit_values(std::size_t values) { value_limit_ = values; }
    std::size_t value_limit() const { return value_limit_; }

private:
    std::shared_ptr<const Graph> graph_;
    // The initializers in the graph's order: float ones as registered, integer ones as floats.
    std::vector<Tensor> initializers_;
    std::size_t value_limit_ = 0;
};

/// The model in the ONNX file at `path`; throws IoError naming the file and what is wrong (unreadable,
/// not an ONNX model, a node with missing inputs), OnnxUnsupportedError naming the node and what
/// xgrad lacks.
std::shared_ptr<OnnxModel> import_onnx(const std::string& path);
/// The same for a serialized model in memory; `context` names it in errors.
std::shared_ptr<OnnxModel> import_onnx_bytes(std::string_view bytes, const std::string& context);
/// The tensor serialized (as an ONNX TensorProto) in the file at `path`, as ONNX's test data
/// stores inputs and outputs, as floats: FLOAT as it is; INT64, INT32 and BOOL (ArgMax's indices,
/// a comparison's truths) as the whole numbers they hold, each of which must be exact as a float
/// (at most 2^24 in size). Throws IoError, OnnxUnsupportedError for other data types.
Array read_onnx_tensor(const std::string& path);

}  // namespace xg
