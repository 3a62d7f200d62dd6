#pragma once
// The weights manifest as nlohmann::json, for the library's own files (checkpoints, model files)
// that build and read metadata as JSON. The public calls (io/weights.hpp) take and give JSON as
// text, so that a program using xgrad needs no JSON library; this header is not in xgrad.hpp.
// Defined in io/weights.cpp.
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "xgrad/io/weights.hpp"

namespace xg::detail {

/// save_weights with `metadata` as a JSON value: an object, or null for none.
void save_weights_json(const NamedTensors& tensors, const std::string& path, const nlohmann::json& metadata);
/// Whether a file without a manifest (np.savez's) is an error for read_manifest_json.
enum class Manifest { required, optional };
/// read_manifest as a JSON value; errors name `function` and the file. Without a manifest, null
/// when it is optional.
nlohmann::json read_manifest_json(const std::string& path, const char* function = "read_manifest",
                                  Manifest manifest_is = Manifest::required);

/// The arrays of a weights file by name, checked against its manifest where it has one; errors
/// name `function` and the file.
std::map<std::string, Array> read_weights_file(const std::string& path, const char* function);
/// Copies `arrays` into `tensors` when their names and shapes match exactly, and changes nothing
/// otherwise; throws IoError starting with `where`.
void copy_weights(const NamedTensors& tensors, const std::map<std::string, Array>& arrays, const std::string& where);

}  // namespace xg::detail
