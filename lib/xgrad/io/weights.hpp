#pragma once
// Model weights as an .npz numpy can open: one "<parameter path>.npy" member per parameter
// ("dense_1/kernel.npy") plus "__manifest__.json" recording the format version, each parameter's
// name, shape, dtype and CRC32, and free-form metadata from the caller.
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/nn/module.hpp"

namespace xg {

/// Tensors by path, as Module::named_parameters() returns them ("dense_1/kernel", tensor).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// Manifest format version that save_weights writes and the newest load_weights reads.
inline constexpr int weights_format_version = 1;
/// Name of the manifest member in a weights archive (not ending in .npy, so no array).
inline constexpr const char* weights_manifest_name = "__manifest__.json";

/// Writes every parameter and buffer of `model` (Module::named_state) to `path` atomically; a
/// failure leaves any previous file intact.
void save_weights(const Module& model, const std::string& path);
/// The same, recording `metadata`, the text of a JSON object (R"({"epoch": 3})"), in the manifest;
/// throws ValueError for text that is not one.
void save_weights(const Module& model, const std::string& path, const std::string& metadata);
/// Writes named tensors (model parameters, optimizer slots, ...) atomically.
void save_weights(const NamedTensors& tensors, const std::string& path);
/// The same, recording `metadata` (the text of a JSON object) in the manifest.
void save_weights(const NamedTensors& tensors, const std::string& path, const std::string& metadata);

/// Copies the file's arrays into the model's parameters and buffers. Every name and shape must match exactly,
/// and nothing is modified unless all do; throws IoError naming the file and what differs.
void load_weights(Module& model, const std::string& path);
/// The same for named tensors: their values are overwritten in place.
void load_weights(const NamedTensors& tensors, const std::string& path);

/// The checked manifest of a weights file as JSON text: {"format", "version", "parameters": [{"name",
/// "shape", "dtype", "crc32"}], "metadata"}; the arrays themselves are not read.
std::string read_manifest(const std::string& path);

}  // namespace xg
