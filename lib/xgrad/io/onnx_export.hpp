#pragma once
// ONNX export: one inference-mode forward pass traced on the tape and written as an ONNX model
// (opset 13) that ONNX Runtime, Netron and the other ONNX tools read. Tensors keep xgrad's
// channels-last layout: the model's input is (batch, H, W, C) as in xgrad, and each
// convolution, pooling and 4-D batch normalization is wrapped in Transpose nodes to and from
// ONNX's channels-first order, its kernel stored as ONNX's (C_out, C_in, KH, KW). See docs/onnx.md.
#include <string>

#include "xgrad/core/array.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// The opset exported models declare.
inline constexpr int kOnnxOpset = 13;

/// Writes `model` as an ONNX file at `path`: its forward pass on `example_input` (batch first) in
/// inference mode, the parameters and buffers as named initializers, the batch axis dynamic.
/// Throws ValueError naming an op with no ONNX form, IoError when the file cannot be written.
void export_onnx(Module& model, const Array& example_input, const std::string& path);

}  // namespace xg
