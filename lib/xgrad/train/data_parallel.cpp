#include "xgrad/train/data_parallel.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xg {

DataParallel::DataParallel(std::shared_ptr<Collectives> group) : group_(std::move(group)) {
    if (!group_) throw ValueError("DataParallel: group is null; expected the collectives of a process group");
}

std::span<const std::size_t> DataParallel::shard(std::span<const std::size_t> rows) const {
    // The first n mod p processes take one sample more, so process 0 is never idle.
    const std::size_t n = rows.size(), p = world_size(), r = rank();
    const std::size_t base = n / p, extra = n % p;
    return rows.subspan(r * base + std::min(r, extra), base + (r < extra ? 1 : 0));
}

void DataParallel::broadcast_parameters(const std::vector<Tensor>& parameters) {
    if (world_size() == 1) return;
    // Sizes first, on every process: another architecture must fail here with a message, not
    // in the middle of a broadcast of the wrong length.
    std::vector<std::size_t> sizes;
    for (const Tensor& p : parameters) sizes.push_back(p.size());
    check_same("broadcast_parameters: parameter sizes", sizes);
    for (Tensor p : parameters) {  // a handle: the value is updated in place
        Array& value = p.mutable_value();
        group_->broadcast(std::span(value.data(), value.size()));
    }
}

void DataParallel::broadcast_optimizer(Optimizer& optimizer) {
    if (world_size() == 1) return;
    const auto state = optimizer.state();
    std::vector<std::size_t> sizes;
    for (const auto& [name, array] : state) sizes.push_back(array->size());
    check_same("broadcast_optimizer: optimizer state sizes", sizes);
    std::vector<double> scalars = {static_cast<double>(optimizer.iterations()), optimizer.learning_rate()};
    group_->broadcast(std::span(scalars));
    optimizer.set_iterations(static_cast<std::size_t>(scalars[0]));
    optimizer.set_learning_rate(static_cast<float>(scalars[1]));
    for (const auto& [name, array] : state) group_->broadcast(std::span(array->data(), array->size()));
}

void DataParallel::broadcast_order(std::vector<std::size_t>& order) {
    if (world_size() == 1) return;
    check_same("broadcast_order: samples", {order.size()});
    group_->broadcast(std::span(order));
}

std::size_t DataParallel::average_gradients(const std::vector<Tensor>& parameters, std::size_t local_count) {
    if (world_size() == 1) {
        if (local_count == 0) throw ValueError("average_gradients: no samples; expected at least one");
        return local_count;
    }
    // Layout: every parameter's grad * local_count, then one has-gradient flag per parameter,
    // then local_count. One sum gives the weighted gradient sums, how many processes had each
    // gradient, and the global count; sample counts stay exact in float below 2^24.
    std::size_t total = 0;
    for (const Tensor& p : parameters) total += p.size();
    buffer_.resize(total + parameters.size() + 1);
    float* values = buffer_.data();
    float* flags = values + total;
    const float weight = static_cast<float>(local_count);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const Tensor& p = parameters[i];
        flags[i] = local_count > 0 && p.has_grad() ? 1.0f : 0.0f;
        if (flags[i] > 0.0f) {
            const Array& grad = p.grad();
            if (grad.shape() != p.shape()) {
                throw ShapeError(fmt::format("average_gradients: gradient of '{}' has shape {}; expected the parameter's {}",
                                             p.name(), format_shape(grad.shape()), format_shape(p.shape())));
            }
            std::transform(grad.begin(), grad.end(), values, [weight](float g) { return g * weight; });
        } else {
            std::fill_n(values, p.size(), 0.0f);
        }
        values += p.size();
    }
    buffer_.back() = weight;
    group_->sum(std::span(buffer_));

    const float global = buffer_.back();
    if (global < 0.5f) throw ValueError("average_gradients: no samples on any process; expected at least one");
    values = buffer_.data();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        Tensor p = parameters[i];  // a handle to the parameter itself
        if (flags[i] > 0.0f) {
            if (!p.has_grad() || p.grad().shape() != p.shape()) p.set_grad(uninitialized(p.shape()));
            std::transform(values, values + p.size(), p.mutable_grad().data(), [global](float g) { return g / global; });
        }
        values += p.size();
    }
    return static_cast<std::size_t>(std::lround(global));
}

void DataParallel::average_buffers(const std::vector<Tensor>& buffers, std::size_t local_count) {
    if (world_size() == 1 || buffers.empty()) return;
    std::size_t total = 0;
    for (const Tensor& b : buffers) total += b.size();
    // Layout: every buffer * local_count, then local_count; a process with no samples this step
    // (a last batch smaller than the group) kept its old statistics and weighs nothing.
    buffer_.resize(total + 1);
    float* values = buffer_.data();
    const float weight = static_cast<float>(local_count);
    for (const Tensor& b : buffers) {
        const Array& v = b.value();
        std::transform(v.begin(), v.end(), values, [weight](float x) { return x * weight; });
        values += b.size();
    }
    buffer_.back() = weight;
    group_->sum(std::span(buffer_));
    const float global = buffer_.back();
    if (global < 0.5f) return;
    values = buffer_.data();
    for (Tensor b : buffers) {  // a handle: the value is updated in place
        Array& v = b.mutable_value();
        std::transform(values, values + v.size(), v.begin(), [global](float x) { return x / global; });
        values += v.size();
    }
}

Logs DataParallel::average_logs(const Logs& logs, std::size_t local_count) {
    if (world_size() == 1) return logs;
    std::vector<double> sums;
    for (auto& [key, value] : logs) sums.push_back(value * static_cast<double>(local_count));
    sums.push_back(static_cast<double>(local_count));
    group_->sum(std::span(sums));
    Logs averaged = logs;
    if (sums.back() > 0.0) {
        for (std::size_t i = 0; i < averaged.size(); ++i) averaged[i].second = sums[i] / sums.back();
    }
    return averaged;
}

bool DataParallel::any(bool flag) {
    if (world_size() == 1) return flag;
    std::vector<double> count = {flag ? 1.0 : 0.0};
    group_->sum(std::span(count));
    return count[0] > 0.0;
}

void DataParallel::check_same(const std::string& what, const std::vector<std::size_t>& values) {
    if (world_size() == 1) return;
    // Process 0's length first, so that lists of other lengths are reported, not broadcast
    // with mismatched lengths.
    std::vector<std::size_t> length = {values.size()};
    group_->broadcast(std::span(length));
    std::vector<std::size_t> root = values;
    root.resize(length[0]);
    group_->broadcast(std::span(root));
    const bool differs = root != values;
    if (!any(differs)) return;
    if (differs) {
        throw ValueError(fmt::format("{}: [{}] on process {}, [{}] on process 0; expected the same on every process",
                                     what, fmt::join(values, ", "), rank(), fmt::join(root, ", ")));
    }
    throw ValueError(fmt::format("{}: differ between processes (process 0: [{}]); expected the same on every process",
                                 what, fmt::join(root, ", ")));
}

}  // namespace xg
