#pragma once
// Training checkpoints: everything needed to continue a run exactly where it stopped (weights,
// optimizer slots, step count and learning rate, epochs done, this thread's random state and the
// History so far) in one .npz written atomically, so a kill at any moment leaves the previous
// checkpoint whole. Arrays are "model/<parameter path>.npy" and "optimizer/<slot>/<parameter>.npy";
// the rest is the "metadata" object of the weights manifest (see xgrad/io/weights.hpp).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "xgrad/train/callback.hpp"
#include "xgrad/train/history.hpp"

namespace xg {

class Model;

/// Name of the checkpoint file inside a checkpoint folder.
inline constexpr const char* checkpoint_file_name = "checkpoint.npz";
/// Checkpoint format version that save_checkpoint writes and the newest load_checkpoint reads.
inline constexpr int checkpoint_format_version = 1;

/// What a checkpoint restores besides the arrays.
struct CheckpointInfo {
    /// Epochs completed when it was written: the FitOptions::initial_epoch to resume with.
    std::size_t epochs_done = 0;
    /// Per-epoch values of those epochs.
    History history;
};

/// The checkpoint file of folder `dir`: "<dir>/checkpoint.npz".
std::string checkpoint_path(const std::string& dir);

/// Creates folder `dir` if missing and checks that files can be created in it; throws IoError starting with `call`.
void prepare_checkpoint_dir(const std::string& dir, const char* call = "prepare_checkpoint_dir");

/// Writes the checkpoint of a compiled `model` into `dir` (created if missing), replacing the previous one
/// atomically; throws IoError if it cannot, leaving the previous checkpoint intact.
void save_checkpoint(const std::string& dir, Model& model, std::size_t epochs_done, const History& history);

/// Restores the model's weights, its optimizer's slots, step count and learning rate, and this thread's random
/// state from the checkpoint in `dir`; nothing when there is none. Throws IoError (naming the file and what
/// differs, e.g. a parameter's two shapes) and modifies nothing if the checkpoint does not fit the model or is
/// damaged, or if `dir` is not a folder.
std::optional<CheckpointInfo> load_checkpoint(const std::string& dir, Model& model);

/// Saves a checkpoint into a folder after every epoch. The History it writes starts from `history_so_far`
/// (what load_checkpoint returned when resuming); its epoch seconds include validation. In data-parallel
/// training only process 0 writes.
class CheckpointCallback : public Callback {
public:
    explicit CheckpointCallback(std::string dir, History history_so_far = {});
    /// Prepares the folder (prepare_checkpoint_dir), so that a bad one fails before the first epoch.
    void on_train_begin(Model& model) override;
    void on_epoch_begin(Model& model, std::size_t epoch) override;
    void on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) override;
    /// Every epoch recorded so far, the resumed ones first.
    const History& history() const { return history_; }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    History history_;
    std::chrono::steady_clock::time_point epoch_start_;
};

}  // namespace xg
