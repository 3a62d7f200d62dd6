// libFuzzer target: load_model on an arbitrary file. The bytes are written to a file in a
// private folder (on /dev/shm when there is one) and loaded as a saved model: the manifest,
// the architecture JSON, the layer registry's settings and the weights all come from the
// file. Anything but success or an IoError is a finding.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/io/model_file.hpp"

namespace {

struct Target {
    std::string dir, path;
    Target() {
        const std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
        std::string pattern = (base / "xgrad-fuzz-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) std::abort();
        dir = pattern;
        path = dir + "/model.npz";
    }
    ~Target() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
};

Target& target() {
    static Target t;
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Target& t = target();
    std::FILE* f = std::fopen(t.path.c_str(), "wb");
    if (!f) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    if (std::fclose(f) != 0) std::abort();
    try {
        xg::load_model(t.path);
    } catch (const xg::IoError&) {
    }
    return 0;
}
