#include "xgrad/data/image_file.hpp"

#include <png.h>
#include <pgm.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

// A bound well above any digit image keeps a hostile header from asking for gigabytes.
constexpr unsigned max_side = 1 << 14;

void check_sides(const std::string& path, unsigned long width, unsigned long height) {
    if (width == 0 || height == 0 || width > max_side || height > max_side) {
        throw IoError(fmt::format("read_gray_image: {}: image is {}x{}; expected sides from 1 to {}", path, width, height,
                                  max_side));
    }
}

ByteArray read_png(const std::string& path) {
    // libpng's simplified API: it validates the file and converts any PNG to 8-bit gray.
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_file(&image, path.c_str()) == 0) {
        const std::string why = image.message;
        png_image_free(&image);
        throw IoError(fmt::format("read_gray_image: {}: cannot read it as a PNG image ({}); expected a PNG or PGM file",
                                  path, why));
    }
    image.format = PNG_FORMAT_GRAY;
    try {
        check_sides(path, image.width, image.height);
    } catch (...) {
        png_image_free(&image);
        throw;
    }
    ByteArray out = ByteArray::from_shape({image.height, image.width});
    // Transparent pixels are composited on black, MNIST's background.
    png_color background{0, 0, 0};
    if (png_image_finish_read(&image, &background, out.data(), 0, nullptr) == 0) {
        const std::string why = image.message;
        png_image_free(&image);
        throw IoError(fmt::format("read_gray_image: {}: the PNG data is damaged ({}); expected a complete PNG file", path, why));
    }
    return out;
}

// How a netpbm read ended. libnetpbm reports errors through pm_error, which calls the message
// function set below and then long-jumps to the buffer set with pm_setjmpbuf (or exits the process
// when there is none): the reading is done in a function holding only C objects, since a jump
// over a C++ destructor is undefined.
enum class PgmRead { ok, error, too_large };

// pm_error's message for the read in progress; set and read under pgm_mutex.
char pgm_message[512];
std::mutex pgm_mutex;

void keep_pgm_message(const char* message) { std::snprintf(pgm_message, sizeof pgm_message, "%s", message); }

PgmRead read_pgm_rows(std::FILE* file, int* cols, int* rows, gray* maxval, gray*** out) {
    jmp_buf on_error;
    jmp_buf* previous = nullptr;
    gray** volatile pixels = nullptr;
    pm_setjmpbufsave(&on_error, &previous);
    if (setjmp(on_error) != 0) {
        pm_setjmpbuf(previous);
        if (pixels) pgm_freearray(pixels, *rows);
        return PgmRead::error;
    }
    int format = 0;
    pgm_readpgminit(file, cols, rows, maxval, &format);
    if (*cols <= 0 || *rows <= 0 || *cols > static_cast<int>(max_side) || *rows > static_cast<int>(max_side)) {
        pm_setjmpbuf(previous);
        return PgmRead::too_large;
    }
    pixels = pgm_allocarray(*cols, *rows);
    for (int r = 0; r < *rows; ++r) pgm_readpgmrow(file, pixels[r], *cols, *maxval, format);
    pm_setjmpbuf(previous);
    *out = pixels;
    return PgmRead::ok;
}

// A PGM file (plain P2 or raw P5, any maxval up to 65535; PBM too) through libnetpbm, which checks
// the header and every row as netpbm's own tools do.
ByteArray read_pgm(std::FILE* file, const std::string& path) {
    std::lock_guard lock(pgm_mutex);  // libnetpbm's error handler and jump buffer are process-wide
    pm_setusererrormsgfn(keep_pgm_message);
    int cols = 0, rows = 0;
    gray maxval = 0;
    gray** pixels = nullptr;
    const PgmRead result = read_pgm_rows(file, &cols, &rows, &maxval, &pixels);
    pm_setusererrormsgfn(nullptr);
    if (result == PgmRead::error) {
        throw IoError(fmt::format("read_gray_image: {}: cannot read it as a PGM image ({}); expected a complete PGM file",
                                  path, pgm_message));
    }
    if (result == PgmRead::too_large) {
        check_sides(path, static_cast<unsigned long>(std::max(cols, 0)), static_cast<unsigned long>(std::max(rows, 0)));
    }
    if (maxval == 0) {  // libnetpbm refuses it too; the scaling below divides by it
        pgm_freearray(pixels, rows);
        throw IoError(fmt::format("read_gray_image: {}: PGM maxval is 0; expected 1 to 65535", path));
    }
    ByteArray out = ByteArray::from_shape({static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
    // Samples scaled from 0..maxval to 0..255, rounded.
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            out(r, c) = static_cast<std::uint8_t>((pixels[r][c] * 255u + maxval / 2) / maxval);
        }
    }
    pgm_freearray(pixels, rows);
    return out;
}

}  // namespace

ByteArray read_gray_image(const std::string& path) {
    // The format by its first bytes: netpbm's magic numbers ("P5"), or anything else, which libpng
    // then accepts only when it is a PNG.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!file) {
        throw IoError(fmt::format("read_gray_image: {}: cannot open it ({}); expected a readable PNG or PGM file", path,
                                  std::strerror(errno)));
    }
    unsigned char magic[2] = {};
    if (std::fread(magic, 1, 2, file.get()) == 2 && magic[0] == 'P' && magic[1] >= '1' && magic[1] <= '6') {
        std::rewind(file.get());
        return read_pgm(file.get(), path);
    }
    file.reset();
    return read_png(path);
}

}  // namespace xg
