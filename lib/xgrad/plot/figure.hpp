#pragma once
// Figure: one PLplot stream drawing one page into a file (SVG, PNG or PDF by the path's
// extension). PLplot keeps its streams and error handlers in globals, so a Figure holds a
// process-wide lock for its lifetime, turns PLplot's fatal errors into exceptions instead of
// exit(), and renders into a temporary file that replaces the target only once it is whole.
// This header is for the plot functions' sources; users call plot_history and the like.
#include <memory>
#include <mutex>
#include <string>

class plstream;

namespace xg {

enum class FigureFormat { svg, png, pdf };

/// The format named by `path`'s extension (.svg, .png or .pdf, any case); throws ValueError starting with `call` otherwise.
FigureFormat figure_format(const std::string& path, const char* call);

/// Checks that a figure can be written to `path` (a known extension, an existing writable folder); throws ValueError or IoError.
void check_figure_path(const std::string& path, const char* call);

/// The colours of cmap0 that every figure sets (PLplot colour indices).
namespace figure_color {
inline constexpr int background = 0, text = 1, training = 2, validation = 3, error = 4, grid = 5;
}

class Figure {
public:
    /// Opens a stream drawing a `width` x `height` page (pixels for PNG, points for SVG and PDF) for `path`.
    Figure(std::string path, int width, int height, const char* call);
    /// Ends the stream; the target is left untouched unless save() succeeded.
    ~Figure();
    Figure(const Figure&) = delete;
    Figure& operator=(const Figure&) = delete;

    /// The PLplot stream to draw with.
    plstream& pls() { return *stream_; }
    /// Sets the character height to `points` (PLplot's own default scales with the page).
    void set_text_height(double points);
    /// Ends the page and moves the file into place atomically; throws IoError if it cannot.
    void save();

private:
    std::unique_lock<std::mutex> lock_;
    std::string path_, call_, temp_dir_, temp_path_;
    std::unique_ptr<plstream> stream_;
    int height_ = 0;
};

}  // namespace xg
