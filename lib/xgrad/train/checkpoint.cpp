#include "xgrad/train/checkpoint.hpp"

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/io/atomic_file.hpp"
#include "xgrad/io/detail/manifest.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/train/model.hpp"

namespace xg {
namespace {

using nlohmann::json;

constexpr const char* checkpoint_format = "xgrad.checkpoint";
constexpr std::string_view model_prefix = "model/";
constexpr std::string_view optimizer_prefix = "optimizer/";

// Errors of the io layer start with its own function ("load_weights: <path>: ..."); a checkpoint
// error should start with the checkpoint call instead.
std::string retitled(const std::exception& e, std::string_view from, std::string_view to) {
    const std::string_view what = e.what();
    if (what.substr(0, from.size()) == from) return fmt::format("{}{}", to, what.substr(from.size()));
    return fmt::format("{}: {}", to, what);
}

// The model's parameters and buffers, then the optimizer's slots (copies: the optimizer keeps
// plain arrays).
NamedTensors checkpoint_tensors(Model& model) {
    NamedTensors out;
    for (auto& [name, t] : model.network().named_state()) out.emplace_back(fmt::format("{}{}", model_prefix, name), t);
    for (auto& [name, array] : model.optimizer().state()) {
        out.emplace_back(fmt::format("{}{}", optimizer_prefix, name), Tensor(*array));
    }
    return out;
}

json history_json(const History& history) {
    // Non-finite values (a validation loss of inf) become null, as JSON has no NaN or Inf.
    auto series = [](const std::vector<double>& v) {
        json out = json::array();
        for (double x : v) out.push_back(std::isfinite(x) ? json(x) : json());
        return out;
    };
    json values = json::object();
    for (const auto& [key, v] : history.values) values[key] = series(v);
    return {{"values", std::move(values)}, {"epoch_seconds", series(history.epoch_seconds)}};
}

// The checked contents of a checkpoint's metadata; nothing is applied until all of it is valid.
struct Metadata {
    std::size_t epochs_done = 0;
    std::string optimizer_kind;
    float learning_rate = 0.0f;
    std::size_t iterations = 0;
    std::string random_state;
    History history;
};

Metadata parse_metadata(const json& m, const std::string& where) {
    auto fail = [&](const std::string& what) -> void {
        throw IoError(fmt::format("{}: checkpoint metadata {}; expected what save_checkpoint writes", where, what));
    };
    if (!m.is_object() || !m.contains("format") || m["format"] != checkpoint_format) {
        throw IoError(fmt::format("{}: not a checkpoint (no \"format\": \"{}\" in the manifest's metadata); expected a "
                                  "file written by save_checkpoint",
                                  where, checkpoint_format));
    }
    if (!m.contains("version") || !m["version"].is_number_unsigned()) fail("has no integer \"version\"");
    const auto version = m["version"].get<std::uint64_t>();
    if (version < 1 || version > static_cast<std::uint64_t>(checkpoint_format_version)) {
        throw IoError(fmt::format("{}: checkpoint format version {}; expected 1 to {} (a newer xgrad wrote it?)", where,
                                  version, checkpoint_format_version));
    }
    Metadata out;
    if (!m.contains("epochs_done") || !m["epochs_done"].is_number_unsigned()) fail("has no integer \"epochs_done\"");
    out.epochs_done = m["epochs_done"].get<std::size_t>();

    if (!m.contains("optimizer") || !m["optimizer"].is_object()) fail("has no \"optimizer\" object");
    const json& o = m["optimizer"];
    if (!o.contains("kind") || !o["kind"].is_string()) fail("gives no optimizer \"kind\"");
    out.optimizer_kind = o["kind"].get<std::string>();
    if (!o.contains("learning_rate") || !o["learning_rate"].is_number()) fail("gives no optimizer \"learning_rate\"");
    const double lr = o["learning_rate"].get<double>();
    // Checked as the float the optimizer will hold (a tiny positive double rounds to 0), by
    // the optimizer's own rule, before anything is changed.
    out.learning_rate = static_cast<float>(lr);
    if (!Optimizer::accepts_learning_rate(out.learning_rate)) {
        fail(fmt::format("gives learning rate {} (not a finite float32 > 0)", lr));
    }
    if (!o.contains("iterations") || !o["iterations"].is_number_unsigned()) fail("gives no optimizer \"iterations\"");
    out.iterations = o["iterations"].get<std::size_t>();

    if (!m.contains("random_state") || !m["random_state"].is_string()) fail("has no \"random_state\" text");
    out.random_state = m["random_state"].get<std::string>();
    {
        std::istringstream in(out.random_state);
        RandomEngine probe;
        in >> probe;
        if (in.fail()) fail("has a \"random_state\" that is not a saved engine state");
    }

    if (!m.contains("history") || !m["history"].is_object()) fail("has no \"history\" object");
    const json& h = m["history"];
    auto series = [&](const json& v, const std::string& key) {
        if (!v.is_array()) fail(fmt::format("has history \"{}\" that is not a list", key));
        std::vector<double> out_values;
        for (const auto& x : v) {
            if (x.is_null()) out_values.push_back(std::numeric_limits<double>::quiet_NaN());
            else if (x.is_number()) out_values.push_back(x.get<double>());
            else fail(fmt::format("has history \"{}\" holding a {}, not a number", key, x.type_name()));
        }
        return out_values;
    };
    if (!h.contains("values") || !h["values"].is_object()) fail("has no history \"values\" object");
    for (const auto& [key, v] : h["values"].items()) out.history.values[key] = series(v, key);
    if (!h.contains("epoch_seconds")) fail("has no history \"epoch_seconds\"");
    out.history.epoch_seconds = series(h["epoch_seconds"], "epoch_seconds");
    for (const auto& [key, v] : out.history.values) {
        if (v.size() != out.history.epoch_seconds.size()) {
            fail(fmt::format("has {} history \"{}\" values for {} epochs", v.size(), key, out.history.epochs()));
        }
    }
    return out;
}

void create_folder(const std::string& dir, const char* call) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw IoError(fmt::format("{}: {}: cannot create the folder ({}); expected a folder path that can be created",
                                  call, dir, ec.message()));
    }
}

}  // namespace

std::string checkpoint_path(const std::string& dir) { return (std::filesystem::path(dir) / checkpoint_file_name).string(); }

void prepare_checkpoint_dir(const std::string& dir, const char* call) {
    create_folder(dir, call);
    // A file created and removed again: the folder takes new files (permissions, read-only mounts).
    const std::string path = checkpoint_path(dir);
    AtomicFile probe(path, fmt::format("{}: {}", call, path));
}

void save_checkpoint(const std::string& dir, Model& model, std::size_t epochs_done, const History& history) {
    create_folder(dir, "save_checkpoint");
    const std::string path = checkpoint_path(dir);
    Optimizer& optimizer = model.optimizer();
    const json metadata = {
        {"format", checkpoint_format},
        {"version", checkpoint_format_version},
        {"epochs_done", epochs_done},
        {"optimizer",
         {{"kind", optimizer.kind()},
          {"learning_rate", static_cast<double>(optimizer.learning_rate())},
          {"iterations", optimizer.iterations()}}},
        {"random_state", random_state()},
        {"history", history_json(history)},
    };
    try {
        detail::save_weights_json(checkpoint_tensors(model), path, metadata);
    } catch (const IoError& e) {
        throw IoError(retitled(e, "save_weights", "save_checkpoint"));
    } catch (const ValueError& e) {
        throw ValueError(retitled(e, "save_weights", "save_checkpoint"));
    }
    // A process killed while writing leaves its temporary file (".checkpoint.npz.<random>.tmp") behind;
    // with this one committed, any such file in the folder is such a leftover.
    const std::string temp_prefix = fmt::format(".{}.", checkpoint_file_name);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > temp_prefix.size() + 4 && name.starts_with(temp_prefix) && name.ends_with(".tmp")) {
            std::error_code ignored;
            std::filesystem::remove(entry.path(), ignored);
        }
    }
}

std::optional<CheckpointInfo> load_checkpoint(const std::string& dir, Model& model) {
    const std::string path = checkpoint_path(dir);
    const std::string where = fmt::format("load_checkpoint: {}", path);
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
        throw IoError(fmt::format("load_checkpoint: {} is not a folder; expected the folder that holds {}", dir,
                                  checkpoint_file_name));
    }
    if (!std::filesystem::exists(path, ec)) {
        // A missing folder or file means "start fresh"; a folder that cannot be searched does not.
        if (ec) throw IoError(fmt::format("{}: cannot look for the file ({}); expected a readable folder", where, ec.message()));
        return std::nullopt;
    }

    Metadata meta;
    try {
        meta = parse_metadata(detail::read_manifest_json(path)["metadata"], where);
    } catch (const IoError& e) {
        throw IoError(retitled(e, "read_manifest", "load_checkpoint"));
    }
    Optimizer& optimizer = model.optimizer();
    if (meta.optimizer_kind != optimizer.kind()) {
        throw IoError(fmt::format("{}: checkpoint holds {} optimizer state; expected the model's optimizer, {}", where,
                                  meta.optimizer_kind, optimizer.kind()));
    }

    // load_weights checks every name, shape and checksum before it overwrites anything.
    NamedTensors tensors = checkpoint_tensors(model);
    try {
        load_weights(tensors, path);
    } catch (const IoError& e) {
        throw IoError(retitled(e, "load_weights", "load_checkpoint"));
    }
    const auto slots = optimizer.state();
    const std::size_t first_slot = tensors.size() - slots.size();
    for (std::size_t i = 0; i < slots.size(); ++i) *slots[i].second = tensors[first_slot + i].second.value();
    optimizer.set_iterations(meta.iterations);
    optimizer.set_learning_rate(meta.learning_rate);
    set_random_state(meta.random_state);
    return CheckpointInfo{meta.epochs_done, std::move(meta.history)};
}

CheckpointCallback::CheckpointCallback(std::string dir, History history_so_far)
    : dir_(std::move(dir)), history_(std::move(history_so_far)), epoch_start_(std::chrono::steady_clock::now()) {
    if (dir_.empty()) throw ValueError("CheckpointCallback: folder is empty; expected a folder path");
}

void CheckpointCallback::on_train_begin(Model& model) {
    // Fails before the first epoch rather than after it.
    if (const DataParallel* parallel = model.data_parallel(); parallel && !parallel->is_root()) return;
    prepare_checkpoint_dir(dir_, "CheckpointCallback");
}

void CheckpointCallback::on_epoch_begin(Model&, std::size_t) { epoch_start_ = std::chrono::steady_clock::now(); }

void CheckpointCallback::on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) {
    history_.add(logs, std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count());
    // Data-parallel, every process holds the same state; one writer keeps the folder consistent.
    if (const DataParallel* parallel = model.data_parallel(); parallel && !parallel->is_root()) return;
    save_checkpoint(dir_, model, epoch + 1, history_);
}

}  // namespace xg
