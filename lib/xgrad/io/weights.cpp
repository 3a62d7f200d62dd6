#include "xgrad/io/weights.hpp"

#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/io/detail/manifest.hpp"
#include "xgrad/io/npy.hpp"
#include "xgrad/io/npz.hpp"

namespace xg {
namespace {

using nlohmann::json;

constexpr const char* weights_format = "xgrad.weights";
constexpr int max_manifest_depth = 64;

// "'a', 'b', 'c'", shortened after a few names so a message stays one readable line.
std::string quoted_names(const std::vector<std::string>& names) {
    constexpr std::size_t shown = 5;
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += fmt::format("{}'{}'", i ? ", " : "", names[i]);
    if (names.size() > shown) out += fmt::format(" and {} more", names.size() - shown);
    return out;
}

// Names must be unique and tensors defined before anything is written or overwritten.
void check_tensors(const NamedTensors& tensors, const char* function) {
    std::set<std::string> seen;
    for (const auto& [name, t] : tensors) {
        if (name.empty()) throw ValueError(fmt::format("{}: a tensor has an empty name; expected a path such as 'dense_1/kernel'", function));
        if (!seen.insert(name).second) {
            throw ValueError(fmt::format("{}: tensor name '{}' appears twice; expected unique names", function, name));
        }
        if (!t.defined()) throw ValueError(fmt::format("{}: tensor '{}' is an empty handle; expected a tensor", function, name));
    }
}

json shape_json(const Shape& shape) {
    json out = json::array();
    for (auto extent : shape) out.push_back(extent);
    return out;
}

struct ManifestEntry {
    Shape shape;
    std::uint32_t crc;
};

// Checks the manifest's structure; returns its parameters by name.
std::map<std::string, ManifestEntry> check_manifest(const json& m, const std::string& where) {
    auto fail = [&](const std::string& what) -> void {
        throw IoError(fmt::format("{}: manifest {}; expected the manifest save_weights writes", where, what));
    };
    if (!m.is_object()) fail(fmt::format("is a JSON {}, not an object", m.type_name()));
    if (!m.contains("format") || m["format"] != weights_format) fail(fmt::format("has no \"format\": \"{}\"", weights_format));
    if (!m.contains("version") || !m["version"].is_number_unsigned()) fail("has no integer \"version\"");
    const auto version = m["version"].get<std::uint64_t>();
    if (version < 1 || version > static_cast<std::uint64_t>(weights_format_version)) {
        throw IoError(fmt::format("{}: manifest has format version {}; expected 1 to {} (a newer xgrad wrote it?)",
                                  where, version, weights_format_version));
    }
    if (m.contains("metadata") && !m["metadata"].is_object()) fail("\"metadata\" is not an object");
    if (!m.contains("parameters") || !m["parameters"].is_array()) fail("has no \"parameters\" list");
    std::map<std::string, ManifestEntry> out;
    for (const auto& p : m["parameters"]) {
        if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) fail("lists a parameter without a name");
        const auto name = p["name"].get<std::string>();
        if (!p.contains("dtype") || p["dtype"] != "<f4") fail(fmt::format("gives parameter '{}' no dtype \"<f4\"", name));
        if (!p.contains("crc32") || !p["crc32"].is_number_unsigned() || p["crc32"].get<std::uint64_t>() > 0xffffffffu) {
            fail(fmt::format("gives parameter '{}' no 32-bit \"crc32\"", name));
        }
        if (!p.contains("shape") || !p["shape"].is_array()) fail(fmt::format("gives parameter '{}' no shape", name));
        ManifestEntry e{{}, static_cast<std::uint32_t>(p["crc32"].get<std::uint64_t>())};
        for (const auto& extent : p["shape"]) {
            if (!extent.is_number_unsigned()) fail(fmt::format("gives parameter '{}' a shape that is not a list of sizes", name));
            e.shape.push_back(extent.get<std::size_t>());
        }
        if (!out.emplace(name, std::move(e)).second) fail(fmt::format("lists parameter '{}' twice", name));
    }
    return out;
}

json parse_manifest(const std::string& text, const std::string& where) {
    // A bounded depth keeps hostile nesting from exhausting the stack in later recursive uses.
    auto limit_depth = [&](int depth, json::parse_event_t, json&) {
        if (depth > max_manifest_depth) {
            throw IoError(fmt::format("{}: manifest nests deeper than {} levels; expected a shallow JSON object", where,
                                      max_manifest_depth));
        }
        return true;
    };
    try {
        return json::parse(text, limit_depth);
    } catch (const json::exception& e) {
        throw IoError(fmt::format("{}: manifest is not valid JSON ({})", where, e.what()));
    }
}

// Checks that the arrays are exactly those the manifest lists, with its shapes and checksums.
void check_arrays_against_manifest(const std::map<std::string, Array>& arrays,
                                   const std::map<std::string, ManifestEntry>& manifest, const std::string& where) {
    for (const auto& [name, entry] : manifest) {
        auto it = arrays.find(name);
        if (it == arrays.end()) {
            throw IoError(fmt::format("{}: manifest lists parameter '{}' but the archive has no '{}.npy'", where, name, name));
        }
        if (it->second.shape() != entry.shape) {
            throw IoError(fmt::format("{}: parameter '{}' has shape {} in its array but {} in the manifest", where, name,
                                      format_shape(it->second.shape()), format_shape(entry.shape)));
        }
        const std::uint32_t crc = npy_data_crc32(it->second);
        if (crc != entry.crc) {
            throw IoError(fmt::format("{}: parameter '{}' does not match its checksum (CRC32 {:08x}); expected {:08x} "
                                      "as the manifest records",
                                      where, name, crc, entry.crc));
        }
    }
    for (const auto& [name, array] : arrays) {
        if (!manifest.count(name)) {
            throw IoError(fmt::format("{}: array '{}' is not in the manifest; expected the manifest to list every array",
                                      where, name));
        }
    }
}

}  // namespace

void save_weights(const Module& model, const std::string& path) { detail::save_weights_json(model.named_state(), path, json()); }

void save_weights(const Module& model, const std::string& path, const std::string& metadata) {
    save_weights(model.named_state(), path, metadata);
}

void save_weights(const NamedTensors& tensors, const std::string& path) { detail::save_weights_json(tensors, path, json()); }

void save_weights(const NamedTensors& tensors, const std::string& path, const std::string& metadata) {
    json parsed;
    try {
        parsed = json::parse(metadata);
    } catch (const json::exception& e) {
        throw ValueError(fmt::format("save_weights: metadata is not JSON ({}); expected the text of a JSON object", e.what()));
    }
    if (!parsed.is_object()) {
        throw ValueError(fmt::format("save_weights: metadata is a JSON {}; expected an object", parsed.type_name()));
    }
    detail::save_weights_json(tensors, path, parsed);
}

void detail::save_weights_json(const NamedTensors& tensors, const std::string& path, const json& metadata) {
    check_tensors(tensors, "save_weights");
    if (!metadata.is_null() && !metadata.is_object()) {
        throw ValueError(fmt::format("save_weights: metadata is a JSON {}; expected an object (or nothing)",
                                     metadata.type_name()));
    }
    json manifest = {
        {"format", weights_format},
        {"version", weights_format_version},
        {"parameters", json::array()},
        {"metadata", metadata.is_null() ? json::object() : metadata},
    };
    std::vector<NpzArray> arrays;
    for (const auto& [name, t] : tensors) {
        arrays.emplace_back(name, &t.value());
        manifest["parameters"].push_back({
            {"name", name},
            {"shape", shape_json(t.shape())},
            {"dtype", "<f4"},
            {"crc32", npy_data_crc32(t.value())},
        });
    }
    std::string text;
    try {
        text = manifest.dump(2) + "\n";
    } catch (const json::exception& e) {
        throw ValueError(fmt::format("save_weights: a name or the metadata cannot be written as JSON ({})", e.what()));
    }
    write_npz(path, arrays, {{weights_manifest_name, std::move(text)}}, "save_weights");
}

void load_weights(Module& model, const std::string& path) { load_weights(model.named_state(), path); }

void load_weights(const NamedTensors& tensors, const std::string& path) {
    check_tensors(tensors, "load_weights");
    detail::copy_weights(tensors, detail::read_weights_file(path, "load_weights"), fmt::format("load_weights: {}", path));
}

std::map<std::string, Array> detail::read_weights_file(const std::string& path, const char* function) {
    const std::string where = fmt::format("{}: {}", function, path);
    NpzContents file = read_npz_contents(path, NpzMembers::all, function);
    // Files without a manifest (written by np.savez) load too; a manifest, when present, must agree.
    if (auto it = file.files.find(weights_manifest_name); it != file.files.end()) {
        check_arrays_against_manifest(file.arrays, check_manifest(parse_manifest(it->second, where), where), where);
    }
    return std::move(file.arrays);
}

void detail::copy_weights(const NamedTensors& tensors, const std::map<std::string, Array>& arrays,
                          const std::string& where) {
    // Validate everything, then copy: a mismatch leaves every tensor as it was.
    std::vector<std::string> missing, extra;
    std::set<std::string> wanted;
    for (const auto& [name, t] : tensors) {
        // Names a model built from a file gives its tensors can meet ("d/x" beside "d" holding "x").
        if (!wanted.insert(name).second) {
            throw IoError(fmt::format("{}: the model has two tensors named '{}'; expected unique names", where, name));
        }
        if (!arrays.count(name)) missing.push_back(name);
    }
    for (const auto& [name, array] : arrays) {
        if (!wanted.count(name)) extra.push_back(name);
    }
    if (!missing.empty()) {
        throw IoError(fmt::format("{}: {} {} {} missing from the file; expected a value for every parameter of the model",
                                  where, missing.size() == 1 ? "parameter" : "parameters", quoted_names(missing),
                                  missing.size() == 1 ? "is" : "are"));
    }
    if (!extra.empty()) {
        throw IoError(fmt::format("{}: the file has {} {} that the model does not; expected exactly the model's "
                                  "parameters",
                                  where, extra.size() == 1 ? "parameter" : "parameters", quoted_names(extra)));
    }
    for (const auto& [name, t] : tensors) {
        const Shape& in_file = arrays.at(name).shape();
        if (in_file != t.shape()) {
            throw IoError(fmt::format("{}: parameter '{}' has shape {} in the file; expected {}", where, name,
                                      format_shape(in_file), format_shape(t.shape())));
        }
    }
    for (const auto& [name, t] : tensors) {
        const Array& src = arrays.at(name);
        // Copy into the existing buffer: every holder of the tensor keeps seeing the same storage.
        Tensor handle = t;
        if (src.size() > 0) std::memcpy(handle.mutable_value().data(), src.data(), src.size() * sizeof(float));
    }
}

std::string read_manifest(const std::string& path) { return detail::read_manifest_json(path).dump(2); }

json detail::read_manifest_json(const std::string& path, const char* function, Manifest manifest_is) {
    const std::string where = fmt::format("{}: {}", function, path);
    NpzContents file = read_npz_contents(path, NpzMembers::files_only, function);
    auto it = file.files.find(weights_manifest_name);
    if (it == file.files.end()) {
        if (manifest_is == Manifest::optional) return nullptr;
        throw IoError(fmt::format("{}: no {} member; expected a file written by save_weights", where, weights_manifest_name));
    }
    json manifest = parse_manifest(it->second, where);
    check_manifest(manifest, where);
    if (!manifest.contains("metadata")) manifest["metadata"] = json::object();
    return manifest;
}

}  // namespace xg
