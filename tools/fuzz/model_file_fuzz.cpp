// libFuzzer target: load_model on an arbitrary file. The bytes are written to a file in a
// private folder (on /dev/shm when there is one) and loaded as a saved model: the manifest,
// the architecture JSON, the layer registry's settings and the weights all come from the
// file. Anything but success or an IoError is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/io/model_file.hpp"
#include "scratch_folder.hpp"

namespace {

struct Target {
    fuzz::ScratchFolder folder;
    std::string path = folder.path() + "/model.npz";
};

Target& target() {
    static Target t;
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Target& t = target();
    fuzz::write_file(t.path, data, size);
    try {
        xg::load_model(t.path);
    } catch (const xg::IoError&) {
    }
    return 0;
}
