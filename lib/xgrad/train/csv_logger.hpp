#pragma once
// CsvLogger: one CSV row per epoch with every log, as keras.callbacks.CSVLogger. The whole file
// is rewritten atomically after each epoch, so a kill leaves the previous epoch's file whole,
// and a resumed run (append) continues it, dropping the rows of epochs it trains again.
#include <string>
#include <vector>

#include "xgrad/train/callback.hpp"

namespace xg {

struct CsvLoggerOptions {
    char separator = ',';
    /// Continue an existing file (a resumed run) instead of starting a new one.
    bool append = false;
};

/// Writes "epoch,<log keys in sorted order>" and one row per epoch (epochs from 0, as Keras).
class CsvLogger : public Callback {
public:
    explicit CsvLogger(std::string path, CsvLoggerOptions options = {});
    /// Reads the file to continue (when appending) and checks that it can be written; throws IoError.
    void on_train_begin(Model& model) override;
    /// On the run's first epoch, drops the rows of this epoch and later ones (left by a killed run).
    void on_epoch_begin(Model& model, std::size_t epoch) override;
    /// Adds the epoch's row and rewrites the file; throws ValueError when the keys differ from the file's columns.
    void on_epoch_end(Model& model, std::size_t epoch, const Logs& logs) override;
    /// The header's columns ("epoch" first); empty until the first row.
    const std::vector<std::string>& columns() const { return columns_; }
    const std::string& path() const { return path_; }

private:
    void write() const;

    std::string path_;
    CsvLoggerOptions options_;
    std::vector<std::string> columns_;
    std::vector<std::size_t> row_epochs_;
    std::vector<std::string> rows_;  // lines without their newline
    bool first_epoch_ = true;
};

}  // namespace xg
