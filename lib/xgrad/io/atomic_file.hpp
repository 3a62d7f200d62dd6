#pragma once
// AtomicFile: writes go to a temporary file beside the target, which replaces the target only
// once it is complete and on disk, so readers see the old file or the new one, never a part.
#include <cstdint>
#include <string>
#include <string_view>

namespace xg {

/// A file written under a temporary name in the target's folder and renamed over the target by commit().
class AtomicFile {
public:
    /// Creates the temporary file beside `path`; `context` ("save_weights: model.npz") starts every error.
    AtomicFile(std::string path, std::string context);
    /// Removes the temporary file unless commit() succeeded.
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends `bytes`; throws IoError (disk full, file too large, ...).
    void write(std::string_view bytes);
    /// Flushes and fsyncs the file, renames it over the target and fsyncs the folder.
    void commit();
    /// Number of bytes written so far.
    std::uint64_t size() const { return size_; }
    /// The temporary file's path (removed again unless committed).
    const std::string& temp_path() const { return temp_path_; }

private:
    [[noreturn]] void fail(const std::string& what, int error) const;

    std::string path_, context_, temp_path_;
    int fd_ = -1;
    bool committed_ = false;
    std::uint64_t size_ = 0;
};

}  // namespace xg
