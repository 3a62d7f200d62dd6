// libFuzzer target: import_onnx on arbitrary bytes (protobuf parsing, initializers, the graph's
// wiring), then, for a model with one float input of at most 4096 elements, one inference pass on
// zeros of its declared shape (symbolic extents as 1), so that attributes and shapes read from the
// file reach the ops, under a limit of 4 million values computed (OnnxModel::limit_values). Anything but success, an IoError (OnnxUnsupportedError included) or an
// invalid_argument (ShapeError, ValueError: a model whose shapes do not fit) is a finding.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <onnx/onnx_pb.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/io/onnx_import.hpp"

namespace {

// Sets `shape` to the declared shape of the model's only fed input; false when there is no such
// small, fully declared input.
bool declared_shape(std::string_view bytes, const xg::OnnxModel& model, xg::Shape& shape) {
    if (model.input_names().size() != 1) return false;
    onnx::ModelProto m;
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
    for (const auto& v : m.graph().input()) {
        if (v.name() != model.input_names()[0] || !v.type().tensor_type().has_shape()) continue;
        std::size_t n = 1;
        for (const auto& d : v.type().tensor_type().shape().dim()) {
            const std::int64_t e = d.has_dim_value() ? d.dim_value() : 1;
            if (e < 0 || e > 4096) return false;
            shape.push_back(static_cast<std::size_t>(e));
            n *= static_cast<std::size_t>(e);
            if (n > 4096) return false;
        }
        return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        auto model = xg::import_onnx_bytes(bytes, "fuzz.onnx");
        // 16 MB in all, well within the fuzzer's limit on one allocation.
        model->limit_values(4'000'000);
        xg::Shape shape;
        if (declared_shape(bytes, *model, shape)) {
            xg::NoGradGuard no_grad;
            model->eval();
            (void)(*model)(xg::Tensor(xg::Array(xt::zeros<float>(shape))));
        }
    } catch (const xg::IoError&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
