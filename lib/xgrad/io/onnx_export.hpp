#pragma once
// ONNX export: one inference-mode forward pass traced on the tape and written as an ONNX model
// (opset 13) that ONNX Runtime, Netron and the other ONNX tools read. Tensors keep xgrad's
// channels-last layout: the model's input is (batch, H, W, C) as in xgrad, and each
// convolution, pooling and 4-D batch normalization is wrapped in Transpose nodes to and from
// ONNX's channels-first order, its kernel stored as ONNX's (C_out, C_in, KH, KW). See docs/onnx.md.
#include <string>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// The opset exported models declare.
inline constexpr int kOnnxOpset = 13;

/// How export_onnx writes a model.
struct OnnxExportOptions {
    /// Axes of the input besides the batch (which is always dynamic) that the graph takes at any
    /// extent: a sequence's steps, 1. The graph's input declares them by name ("axis_1"); the
    /// output's extents are what ONNX's shape inference finds. Export checks each axis by writing
    /// the graph again for inputs one and two longer along it, and refuses an axis the graph
    /// depends on: a recurrent layer unrolled over the steps, a Dense after a Flatten of them.
    /// `same` padding is then written as SAME_UPPER, which the runtime works out per extent.
    std::vector<std::size_t> dynamic_axes;
};

/// Writes `model` as an ONNX file at `path`: its forward pass on `example_input` (batch first) in
/// inference mode, the parameters and buffers as named initializers, the batch axis dynamic and
/// the other axes of the example's extents unless `options` names them dynamic.
/// Throws ValueError naming an op with no ONNX form or an axis that cannot be dynamic, IoError
/// when the file cannot be written.
void export_onnx(Module& model, const Array& example_input, const std::string& path,
                 const OnnxExportOptions& options = {});

}  // namespace xg
