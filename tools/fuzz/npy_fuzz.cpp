// libFuzzer target: xg::decode_npy on arbitrary bytes (one .npy member as an .npz holds it).
// Anything but a decoded array or an IoError is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xgrad/core/error.hpp"
#include "xgrad/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const xg::Array a = xg::decode_npy(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz input");
        // What was decoded must encode again, to an array of the same shape.
        const xg::Array again = xg::decode_npy(xg::encode_npy(a), "re-encoded fuzz input");
        if (again.shape() != a.shape()) __builtin_trap();
    } catch (const xg::IoError&) {
    }
    return 0;
}
