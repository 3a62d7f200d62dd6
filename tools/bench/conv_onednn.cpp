// The three convolutions of tools/bench/conv.cpp through oneDNN instead of xgrad's im2col +
// sgemm: the alternative weighed for xgrad's conv2d (docs/performance.md). Images stay in
// xgrad's NHWC layout and kernels in (KH, KW, C_in, C_out); oneDNN picks its own kernel layout
// and the timed step includes the reorders into and out of it, as an op would have to.
// Built only where oneDNN's headers and library are found. OMP_NUM_THREADS sets its threads.
//
// Prints one line of JSON in the format of bench_conv.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "timing.hpp"

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// One layer's primitives and buffers: forward with bias, backward data (unless first), backward weights and bias.
struct Layer {
    std::string name;
    bool input_grad;
    memory src, weights_user, bias, dst, diff_dst, diff_src, diff_weights_user, diff_bias;
    memory weights_fwd, weights_bwd, diff_weights;
    dnnl::convolution_forward fwd;
    dnnl::convolution_backward_data bwd_data;
    dnnl::convolution_backward_weights bwd_weights;
    dnnl::reorder to_fwd, to_bwd, from_diff;

    Layer(const dnnl::engine& eng, std::string layer_name, memory::dim n, memory::dim c, memory::dim size, memory::dim o,
          bool grad)
        : name(std::move(layer_name)), input_grad(grad) {
        const memory::dim out = size - 2;
        const memory::desc src_md({n, c, size, size}, dt::f32, tag::nhwc);
        const memory::desc dst_md({n, o, out, out}, dt::f32, tag::nhwc);
        const memory::desc w_user_md({o, c, 3, 3}, dt::f32, tag::hwio);
        const memory::desc w_any({o, c, 3, 3}, dt::f32, tag::any);
        const memory::desc bias_md({o}, dt::f32, tag::x);
        const memory::dims strides{1, 1}, pad{0, 0};
        const dnnl::convolution_forward::primitive_desc fwd_pd(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_md,
                                            w_any, bias_md, dst_md, strides, pad, pad),
            eng);
        const dnnl::convolution_backward_data::primitive_desc data_pd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src_md, w_any, dst_md, strides, pad,
                                                  pad),
            eng, fwd_pd);
        const dnnl::convolution_backward_weights::primitive_desc weights_pd(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src_md, w_any, bias_md, dst_md,
                                                     strides, pad, pad),
            eng, fwd_pd);
        src = memory(src_md, eng);
        dst = memory(dst_md, eng);
        diff_dst = memory(dst_md, eng);
        diff_src = memory(src_md, eng);
        weights_user = memory(w_user_md, eng);
        diff_weights_user = memory(w_user_md, eng);
        bias = memory(bias_md, eng);
        diff_bias = memory(bias_md, eng);
        weights_fwd = memory(fwd_pd.weights_desc(), eng);
        weights_bwd = memory(data_pd.weights_desc(), eng);
        diff_weights = memory(weights_pd.diff_weights_desc(), eng);
        fill(src, -1.0f, 1.0f);
        fill(weights_user, -0.1f, 0.1f);
        fill(bias, 0.0f, 0.0f);
        fill(diff_dst, 1.0f, 1.0f);
        fwd = dnnl::convolution_forward(fwd_pd);
        bwd_data = dnnl::convolution_backward_data(data_pd);
        bwd_weights = dnnl::convolution_backward_weights(weights_pd);
        to_fwd = dnnl::reorder(weights_user, weights_fwd);
        to_bwd = dnnl::reorder(weights_user, weights_bwd);
        from_diff = dnnl::reorder(diff_weights, diff_weights_user);
    }

    static void fill(memory& m, float lo, float hi) {
        float* p = static_cast<float*>(m.get_data_handle());
        const std::size_t count = m.get_desc().get_size() / sizeof(float);
        for (std::size_t i = 0; i < count; ++i) p[i] = lo + (hi - lo) * static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
    }

    void step(dnnl::stream& s) {
        to_fwd.execute(s, weights_user, weights_fwd);
        fwd.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights_fwd}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
        if (input_grad) {
            to_bwd.execute(s, weights_user, weights_bwd);
            bwd_data.execute(s, {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, weights_bwd}, {DNNL_ARG_DIFF_SRC, diff_src}});
        }
        bwd_weights.execute(s, {{DNNL_ARG_SRC, src},
                                {DNNL_ARG_DIFF_DST, diff_dst},
                                {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                {DNNL_ARG_DIFF_BIAS, diff_bias}});
        from_diff.execute(s, diff_weights, diff_weights_user);
        s.wait();
    }
};

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::stoi(argv[1])) : 30;
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    std::vector<Layer> layers;
    layers.emplace_back(eng, "conv1", 64, 1, 28, 32, false);
    layers.emplace_back(eng, "conv2", 64, 32, 13, 64, true);
    layers.emplace_back(eng, "conv3", 64, 64, 5, 64, true);
    std::vector<std::vector<double>> wall(layers.size()), cpu(layers.size());
    std::vector<double> total_wall, total_cpu;
    for (int r = 0; r <= rounds; ++r) {
        double rw = 0, rc = 0;
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const auto w0 = std::chrono::steady_clock::now();
            const double c0 = bench::cpu_seconds();
            layers[i].step(s);
            const double c = (bench::cpu_seconds() - c0) * 1e3;
            const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count() * 1e3;
            if (r == 0) continue;
            wall[i].push_back(w);
            cpu[i].push_back(c);
            rw += w;
            rc += c;
        }
        if (r > 0) {
            total_wall.push_back(rw);
            total_cpu.push_back(rc);
        }
    }
    std::cout << "{\"peer\": \"onednn\", \"batch\": 64";
    for (std::size_t i = 0; i < layers.size(); ++i) {
        std::cout << ", \"" << layers[i].name << "_ms\": " << bench::median(wall[i]) << ", \"" << layers[i].name
                  << "_cpu_ms\": " << bench::median(cpu[i]);
    }
    std::cout << ", \"total_ms\": " << bench::median(total_wall) << ", \"total_cpu_ms\": " << bench::median(total_cpu) << "}\n";
    return 0;
}
