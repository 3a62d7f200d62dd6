#include "xgrad/io/atomic_file.hpp"

#include <filesystem>

#include <doctest/doctest.h>

#include "scratch_dir.hpp"
#include "xgrad/core/error.hpp"

using namespace xg;
using xg::test::ScratchDir;

TEST_CASE("AtomicFile writes beside the target and replaces it only on commit") {
    ScratchDir dir;
    const std::string path = dir / "out.bin";
    test::write_bytes(path, "old");
    {
        AtomicFile file(path, "test");
        const std::string temp = file.temp_path();
        CHECK(std::filesystem::path(temp).parent_path() == std::filesystem::path(path).parent_path());
        CHECK(std::filesystem::path(temp).filename().string().rfind(".out.bin.", 0) == 0);
        file.write("new ");
        file.write("content");
        CHECK(file.size() == 11);
        CHECK(test::read_bytes(path) == "old");
        CHECK(std::filesystem::exists(temp));
        file.commit();
        CHECK(!std::filesystem::exists(temp));
        CHECK_THROWS_AS(file.write("more"), StateError);
        CHECK_THROWS_AS(file.commit(), StateError);
    }
    CHECK(test::read_bytes(path) == "new content");
    CHECK(dir.entries() == std::vector<std::string>{"out.bin"});
}

TEST_CASE("AtomicFile creates a file that did not exist") {
    ScratchDir dir;
    {
        AtomicFile file(dir / "fresh", "test");
        file.write("x");
        file.commit();
    }
    CHECK(test::read_bytes(dir / "fresh") == "x");
    CHECK(dir.entries() == std::vector<std::string>{"fresh"});
}

TEST_CASE("AtomicFile without commit leaves the previous file and no temporary file") {
    ScratchDir dir;
    const std::string path = dir / "out.bin";
    test::write_bytes(path, "old");
    {
        AtomicFile file(path, "test");
        file.write("half a fil");
    }
    CHECK(test::read_bytes(path) == "old");
    CHECK(dir.entries() == std::vector<std::string>{"out.bin"});
}

TEST_CASE("AtomicFile into a missing folder throws IoError naming the folder") {
    ScratchDir dir;
    const std::string path = dir / "no-such-folder/out.bin";
    CHECK_THROWS_WITH_AS(AtomicFile(path, "save: out.bin"),
                         doctest::Contains("save: out.bin: cannot create a file in folder"), IoError);
    CHECK_THROWS_WITH_AS(AtomicFile(path, "save"), doctest::Contains("no-such-folder"), IoError);
    CHECK(dir.entries().empty());
    CHECK_THROWS_AS(AtomicFile("", "save"), IoError);
    CHECK_THROWS_AS(AtomicFile(dir / "folder/", "save"), IoError);
}

TEST_CASE("AtomicFile whose target is a folder fails on commit and removes its temporary file") {
    ScratchDir dir;
    std::filesystem::create_directory(dir / "taken");
    test::write_bytes(dir / "taken/inside", "keep");
    {
        AtomicFile file(dir / "taken", "test");
        file.write("data");
        CHECK_THROWS_WITH_AS(file.commit(), doctest::Contains("replacing the file failed"), IoError);
    }
    CHECK(dir.entries() == std::vector<std::string>{"taken"});
    CHECK(test::read_bytes(dir / "taken/inside") == "keep");
}

TEST_CASE("AtomicFile reports a write that fails part way and keeps the previous file") {
    ScratchDir dir;
    const std::string path = dir / "out.bin";
    test::write_bytes(path, "old");
    {
        AtomicFile file(path, "test");
        test::FileSizeLimit limit(1000);
        file.write(std::string(600, 'a'));
        CHECK_THROWS_WITH_AS(file.write(std::string(600, 'b')), doctest::Contains("writing failed"), IoError);
    }
    CHECK(test::read_bytes(path) == "old");
    CHECK(dir.entries() == std::vector<std::string>{"out.bin"});
}
