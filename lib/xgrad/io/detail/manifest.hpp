#pragma once
// The weights manifest as nlohmann::json, for the library's own files (checkpoints, model files)
// that build and read metadata as JSON. The public calls (io/weights.hpp) take and give JSON as
// text, so that a program using xgrad needs no JSON library; this header is not in xgrad.hpp.
// Defined in io/weights.cpp.
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "xgrad/io/weights.hpp"

namespace xg::detail {

/// save_weights with `metadata` as a JSON value: an object, or null for none.
void save_weights_json(const NamedTensors& tensors, const std::string& path, const nlohmann::json& metadata);
/// read_manifest as a JSON value.
nlohmann::json read_manifest_json(const std::string& path);

}  // namespace xg::detail
