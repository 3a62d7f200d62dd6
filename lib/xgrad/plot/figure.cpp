#include "xgrad/plot/figure.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <fmt/format.h>
#include <plplot/plplot.h>
#include <plplot/plstream.h>

#include "xgrad/core/error.hpp"
#include "xgrad/io/atomic_file.hpp"

namespace xg {
namespace {

namespace fs = std::filesystem;

// PLplot's streams, its current-stream pointer and its error handlers are process-wide.
std::mutex& plplot_mutex() {
    static std::mutex mutex;
    return mutex;
}

// The call being drawn, for the messages of PLplot's errors (guarded by plplot_mutex).
std::string current_call;

// PLplot calls exit() after its exit handler returns; throwing is the only way to keep the
// process alive. Its C frames are unwound like any other (Debian builds them with unwind tables).
int throw_on_plexit(const char* message) {
    throw IoError(fmt::format("{}: PLplot failed ({}); expected a figure it can draw", current_call, message));
}

void throw_on_plabort(const char* message) {
    throw IoError(fmt::format("{}: PLplot refused a call ({}); expected valid drawing arguments", current_call, message));
}

std::string lower_extension(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

const char* driver_of(FigureFormat format) {
    switch (format) {
        case FigureFormat::svg: return "svgcairo";
        case FigureFormat::png: return "pngcairo";
        case FigureFormat::pdf: return "pdfcairo";
    }
    return "";
}

bool driver_available(const std::string& name) {
    std::vector<const char*> menu(128), devices(128);
    const char** menu_ptr = menu.data();
    const char** devices_ptr = devices.data();
    int count = static_cast<int>(devices.size());
    plgDevs(&menu_ptr, &devices_ptr, &count);
    for (int i = 0; i < count; ++i) {
        if (devices_ptr[i] && name == devices_ptr[i]) return true;
    }
    return false;
}

}  // namespace

FigureFormat figure_format(const std::string& path, const char* call) {
    const std::string ext = lower_extension(path);
    if (ext == ".svg") return FigureFormat::svg;
    if (ext == ".png") return FigureFormat::png;
    if (ext == ".pdf") return FigureFormat::pdf;
    throw ValueError(fmt::format("{}: unknown figure format '{}' ({}); expected a path ending in .svg, .png or .pdf", call,
                                 ext.empty() ? "no extension" : ext, path));
}

void check_figure_path(const std::string& path, const char* call) {
    if (path.empty()) throw ValueError(fmt::format("{}: figure path is empty; expected a file path", call));
    figure_format(path, call);
    const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
    std::error_code error;
    if (!fs::is_directory(parent, error)) {
        throw IoError(fmt::format("{}: folder '{}' does not exist ({}); expected an existing folder", call, parent.string(), path));
    }
    if (::access(parent.c_str(), W_OK) != 0) {
        throw IoError(fmt::format("{}: folder '{}' is not writable ({}); expected a folder files can be created in", call,
                                  parent.string(), path));
    }
    if (fs::is_directory(path, error)) {
        throw IoError(fmt::format("{}: '{}' is a folder; expected a file path", call, path));
    }
}

Figure::Figure(std::string path, int width, int height, const char* call)
    : lock_(plplot_mutex()), path_(std::move(path)), call_(call), height_(height) {
    check_figure_path(path_, call);
    if (width < 16 || height < 16 || width > 20000 || height > 20000) {
        throw ValueError(fmt::format("{}: figure size {} x {}; expected 16 to 20000 pixels each way", call, width, height));
    }
    const FigureFormat format = figure_format(path_, call);
    const char* driver = driver_of(format);
    if (!driver_available(driver)) {
        throw IoError(fmt::format("{}: PLplot has no '{}' driver; expected it installed (Debian package plplot-driver-cairo)",
                                  call, driver));
    }
    // PLplot asks on stdin for another name when it cannot open its file: it gets a fresh one.
    std::string pattern = (fs::temp_directory_path() / "xgrad-figure-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw IoError(fmt::format("{}: cannot create a temporary folder ({}); expected a writable temporary folder", call, pattern));
    }
    temp_dir_ = pattern;
    temp_path_ = (fs::path(temp_dir_) / ("figure" + lower_extension(path_))).string();

    current_call = call_;
    plsexit(throw_on_plexit);
    plsabort(throw_on_plabort);
    try {
        stream_ = std::make_unique<plstream>();
        plstream& pls = *stream_;
        pls.sdev(driver);
        pls.sfnam(temp_path_.c_str());
        pls.spage(0, 0, width, height, 0, 0);
        pls.scol0(figure_color::background, 255, 255, 255);
        pls.scol0(figure_color::text, 0, 0, 0);
        pls.scol0(figure_color::training, 31, 119, 180);
        pls.scol0(figure_color::validation, 255, 127, 14);
        pls.scol0(figure_color::error, 214, 39, 40);
        pls.scol0(figure_color::grid, 200, 200, 200);
        pls.init();
        pls.col0(figure_color::text);
    } catch (...) {
        stream_.reset();
        fs::remove_all(temp_dir_);
        throw;
    }
}

Figure::~Figure() {
    stream_.reset();
    if (!temp_dir_.empty()) {
        std::error_code ignored;
        fs::remove_all(temp_dir_, ignored);
    }
}

void Figure::set_text_height(double points) {
    // The page's extent in PLplot's millimetres gives their size in points.
    PLFLT x_min = 0, x_max = 0, y_min = 0, y_max = 0;
    stream_->gspa(x_min, x_max, y_min, y_max);
    stream_->schr(points * (y_max - y_min) / height_, 1.0);
}

void Figure::save() {
    if (!stream_) throw StateError(fmt::format("{}: figure already saved; expected one save per figure", call_));
    // Ending the stream flushes the page into the temporary file.
    stream_.reset();
    std::ifstream in(temp_path_, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) throw IoError(fmt::format("{}: cannot read the rendered figure back ({})", call_, temp_path_));
    if (bytes.empty()) throw IoError(fmt::format("{}: PLplot wrote an empty figure ({}); expected a page", call_, path_));
    AtomicFile file(path_, fmt::format("{}: {}", call_, path_));
    file.write(bytes);
    file.commit();
}

}  // namespace xg
