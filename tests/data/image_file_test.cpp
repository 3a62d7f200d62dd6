// read_gray_image: PNG and PGM files of several kinds as (height, width) gray bytes, and clear errors.
#include "xgrad/data/image_file.hpp"

#include <png.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include <doctest/doctest.h>

#include "xgrad/core/error.hpp"

namespace {

struct PngTempDir {
    std::filesystem::path path;
    PngTempDir() {
        path = std::filesystem::temp_directory_path() / ("xgrad-image-file-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
    }
    ~PngTempDir() {
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
    PngTempDir dir;
    const std::string path = (dir.path / "gray.png").string();
    write_png(path, 3, 2, PNG_FORMAT_GRAY, {0, 10, 20, 30, 40, 255});
    const xg::ByteArray a = xg::read_gray_image(path);
    REQUIRE(a.shape() == std::vector<std::size_t>{2, 3});
    CHECK(a(0, 1) == 10);
    CHECK(a(1, 0) == 30);
    CHECK(a(1, 2) == 255);
}

TEST_CASE("a color PNG reads as luminance") {
    PngTempDir dir;
    const std::string path = (dir.path / "rgb.png").string();
    // White, black: gray values at the ends whatever the luminance weights.
    write_png(path, 2, 1, PNG_FORMAT_RGB, {255, 255, 255, 0, 0, 0});
    const xg::ByteArray a = xg::read_gray_image(path);
    REQUIRE(a.shape() == std::vector<std::size_t>{1, 2});
    CHECK(a(0, 0) == 255);
    CHECK(a(0, 1) == 0);
}

TEST_CASE("files that are not PNG images are IoErrors naming the file") {
    PngTempDir dir;
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

namespace {

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

TEST_CASE("a binary PGM reads as (height, width) bytes, with comments and 16-bit samples") {
    PngTempDir dir;
    const std::string pgm = (dir.path / "digit.pgm").string();
    write_bytes(pgm, std::string("P5\n# a comment\n3 2\n255\n") + std::string("\x00\x10\x20\x30\x40\xff", 6));
    const xg::ByteArray a = xg::read_gray_image(pgm);
    REQUIRE(a.shape() == std::vector<std::size_t>{2, 3});
    CHECK(a(0, 1) == 0x10);
    CHECK(a(1, 0) == 0x30);
    CHECK(a(1, 2) == 0xff);
    // 16-bit samples, big-endian as netpbm writes them, scaled to 8 bits.
    const std::string wide = (dir.path / "wide.pgm").string();
    write_bytes(wide, std::string("P5 2 1 65535\n") + std::string("\x12\x34\xff\xff", 4));
    const xg::ByteArray b = xg::read_gray_image(wide);
    REQUIRE(b.shape() == std::vector<std::size_t>{1, 2});
    CHECK(b(0, 0) == 0x12);
    CHECK(b(0, 1) == 0xff);
}

TEST_CASE("a plain (P2) PGM reads too, its samples scaled from maxval to 255") {
    PngTempDir dir;
    const std::string plain = (dir.path / "plain.pgm").string();
    write_bytes(plain, "P2\n# plain text\n3 1\n15\n0 15 5\n");
    const xg::ByteArray a = xg::read_gray_image(plain);
    REQUIRE(a.shape() == std::vector<std::size_t>{1, 3});
    CHECK(a(0, 0) == 0);
    CHECK(a(0, 1) == 255);
    CHECK(a(0, 2) == 85);
}

TEST_CASE("damaged or unsupported PGM files are IoErrors naming the file") {
    PngTempDir dir;
    const std::string cut = (dir.path / "cut.pgm").string();
    write_bytes(cut, "P5\n28 28\n255\n" + std::string(100, '\x07'));  // 100 of 784 pixels
    CHECK_THROWS_WITH_AS(xg::read_gray_image(cut), doctest::Contains("cut.pgm: cannot read it as a PGM image"), xg::IoError);
    const std::string header = (dir.path / "header.pgm").string();
    write_bytes(header, "P5\n28");
    CHECK_THROWS_WITH_AS(xg::read_gray_image(header), doctest::Contains("header.pgm: cannot read it as a PGM image"),
                         xg::IoError);
    const std::string color = (dir.path / "color.ppm").string();
    write_bytes(color, std::string("P6 1 1 255\n") + std::string("\xff\x00\x00", 3));
    CHECK_THROWS_WITH_AS(xg::read_gray_image(color), doctest::Contains("color.ppm: cannot read it as a PGM image"),
                         xg::IoError);
    const std::string huge = (dir.path / "huge.pgm").string();
    write_bytes(huge, "P5\n100000 2\n255\n");
    CHECK_THROWS_WITH_AS(xg::read_gray_image(huge), doctest::Contains("huge.pgm: image is 100000x2"), xg::IoError);
    CHECK_THROWS_WITH_AS(xg::read_gray_image((dir.path / "missing.pgm").string()),
                         doctest::Contains("missing.pgm: cannot open it"), xg::IoError);
}
