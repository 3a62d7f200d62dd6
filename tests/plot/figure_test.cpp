#include "xgrad/plot/figure.hpp"

#include <sys/stat.h>

#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <plplot/plstream.h>

#include "../io/scratch_dir.hpp"
#include "figure_file.hpp"
#include "xgrad/core/error.hpp"

using namespace xg;
using xg::test::ScratchDir;

namespace {

void draw_box(const std::string& path, int width, int height) {
    Figure figure(path, width, height, "test");
    figure.pls().adv(0);
    figure.pls().vsta();
    figure.pls().wind(0, 1, 0, 1);
    figure.pls().box("bcnst", 0, 0, "bcnstv", 0, 0);
    figure.save();
}

}  // namespace

TEST_CASE("figure_format follows the extension, in any case") {
    CHECK(figure_format("a/b.svg", "test") == FigureFormat::svg);
    CHECK(figure_format("b.PNG", "test") == FigureFormat::png);
    CHECK(figure_format("b.Pdf", "test") == FigureFormat::pdf);
    CHECK_THROWS_WITH_AS(figure_format("b.gif", "call"),
                         "call: unknown figure format '.gif' (b.gif); expected a path ending in .svg, .png or .pdf", ValueError);
    CHECK_THROWS_WITH_AS(figure_format("figure", "call"), doctest::Contains("'no extension'"), ValueError);
}

TEST_CASE("check_figure_path names a missing or unwritable folder") {
    ScratchDir dir;
    CHECK_NOTHROW(check_figure_path(dir / "a.png", "test"));
    CHECK_THROWS_WITH_AS(check_figure_path(dir / "no/a.png", "test"), doctest::Contains("does not exist"), IoError);
    CHECK_THROWS_WITH_AS(check_figure_path(dir / "a.txt", "test"), doctest::Contains("unknown figure format"), ValueError);
    std::filesystem::create_directory(dir / "sub.png");
    CHECK_THROWS_WITH_AS(check_figure_path(dir / "sub.png", "test"), doctest::Contains("is a folder"), IoError);
    if (::geteuid() != 0) {  // root writes anywhere
        std::filesystem::create_directory(dir / "locked");
        ::chmod((dir / "locked").c_str(), 0500);
        CHECK_THROWS_WITH_AS(check_figure_path(dir / "locked/a.png", "test"), doctest::Contains("not writable"), IoError);
        ::chmod((dir / "locked").c_str(), 0700);
    }
}

TEST_CASE("a Figure writes one page per format, of the asked size, and nothing until save") {
    ScratchDir dir;
    {
        Figure unsaved(dir / "never.png", 200, 100, "test");
        unsaved.pls().adv(0);
    }
    CHECK(dir.entries().empty());
    draw_box(dir / "box.png", 321, 123);
    draw_box(dir / "box.pdf", 321, 123);
    draw_box(dir / "box.svg", 321, 123);
    const auto png = test::png_size(test::read_bytes(dir / "box.png"));
    CHECK((png.width == 321 && png.height == 123));
    const auto pdf = test::pdf_page_size(test::read_bytes(dir / "box.pdf"));
    CHECK((pdf.width == 321 && pdf.height == 123));
    const auto svg = test::svg_size(test::read_bytes(dir / "box.svg"));
    CHECK((svg.width == 321 && svg.height == 123));
    CHECK_THROWS_AS(Figure(dir / "x.png", 8, 100, "test"), ValueError);
}

TEST_CASE("PLplot's own errors become exceptions, and the next figure still works") {
    ScratchDir dir;
    {
        Figure figure(dir / "bad.png", 200, 100, "test");
        figure.pls().adv(0);
        // A viewport outside the page is refused by PLplot (plabort), which would only print.
        CHECK_THROWS_WITH_AS(figure.pls().vpor(0.5, 0.2, 0.1, 0.9), doctest::Contains("test: PLplot refused a call"), IoError);
    }
    draw_box(dir / "good.png", 200, 100);
    CHECK(test::png_size(test::read_bytes(dir / "good.png")).width == 200);
}

TEST_CASE("figures drawn from several threads at once are all whole") {
    ScratchDir dir;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] { draw_box(dir / ("t" + std::to_string(t) + ".png"), 100 + t, 80); });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) CHECK(test::png_size(test::read_bytes(dir / ("t" + std::to_string(t) + ".png"))).width == 100 + t);
}
