// read_gray_image: PNG files of several kinds as (height, width) gray bytes, and clear errors.
#include "xgrad/data/image_file.hpp"

#include <png.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() / ("xgrad-image-file-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

// Writes `pixels` (height x width, `format`'s channels each) with libpng's own writer.
void write_png(const std::string& path, unsigned width, unsigned height, png_uint_32 format, const std::vector<unsigned char>& pixels) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = format;
    REQUIRE(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr) != 0);
}

}  // namespace

TEST_CASE("a gray PNG reads as (height, width) bytes, row by row") {
    TempDir dir;
    const std::string path = (dir.path / "gray.png").string();
    write_png(path, 3, 2, PNG_FORMAT_GRAY, {0, 10, 20, 30, 40, 255});
    const xg::ByteArray a = xg::read_gray_image(path);
    REQUIRE(a.shape() == std::vector<std::size_t>{2, 3});
    CHECK(a(0, 1) == 10);
    CHECK(a(1, 0) == 30);
    CHECK(a(1, 2) == 255);
}

TEST_CASE("a color PNG reads as luminance") {
    TempDir dir;
    const std::string path = (dir.path / "rgb.png").string();
    // White, black: gray values at the ends whatever the luminance weights.
    write_png(path, 2, 1, PNG_FORMAT_RGB, {255, 255, 255, 0, 0, 0});
    const xg::ByteArray a = xg::read_gray_image(path);
    REQUIRE(a.shape() == std::vector<std::size_t>{1, 2});
    CHECK(a(0, 0) == 255);
    CHECK(a(0, 1) == 0);
}

TEST_CASE("files that are not PNG images are IoErrors naming the file") {
    TempDir dir;
    const std::string text = (dir.path / "digit.png").string();
    std::ofstream(text) << "not a png at all";
    CHECK_THROWS_WITH_AS(xg::read_gray_image(text), doctest::Contains("digit.png: cannot read it as a PNG image"), xg::IoError);
    CHECK_THROWS_WITH_AS(xg::read_gray_image((dir.path / "missing.png").string()), doctest::Contains("missing.png"),
                         xg::IoError);
    // A real PNG cut short.
    const std::string whole = (dir.path / "whole.png").string();
    write_png(whole, 16, 16, PNG_FORMAT_GRAY, std::vector<unsigned char>(256, 7));
    std::ifstream in(whole, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string cut = (dir.path / "cut.png").string();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_WITH_AS(xg::read_gray_image(cut), doctest::Contains("cut.png"), xg::IoError);
}
