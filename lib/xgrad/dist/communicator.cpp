#include "xgrad/dist/communicator.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#ifdef XGRAD_WITH_MPI
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace xg::dist {
namespace {

enum class Reduction { sum, max, min };

#ifdef XGRAD_WITH_MPI

template <class T>
MPI_Datatype mpi_type() {
    if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, char> ||
                  std::is_same_v<T, std::uint64_t>);
    return MPI_UINT64_T;
}

MPI_Op mpi_op(Reduction op) {
    switch (op) {
        case Reduction::sum: return MPI_SUM;
        case Reduction::max: return MPI_MAX;
        case Reduction::min: return MPI_MIN;
    }
    return MPI_SUM;
}

// MPI counts are int: longer buffers go in pieces.
constexpr std::size_t max_count = std::numeric_limits<int>::max();

template <class T>
void broadcast_from(std::size_t root, T* data, std::size_t n) {
    for (std::size_t done = 0; done < n; done += max_count) {
        MPI_Bcast(data + done, static_cast<int>(std::min(max_count, n - done)), mpi_type<T>(), static_cast<int>(root),
                  MPI_COMM_WORLD);
    }
}

template <class T>
void allreduce(T* data, std::size_t n, Reduction op) {
    for (std::size_t done = 0; done < n; done += max_count) {
        MPI_Allreduce(MPI_IN_PLACE, data + done, static_cast<int>(std::min(max_count, n - done)), mpi_type<T>(),
                      mpi_op(op), MPI_COMM_WORLD);
    }
}

void world_rank_and_size(std::size_t& rank, std::size_t& size) {
    if (!mpi_running()) return;
    int r = 0, s = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    rank = static_cast<std::size_t>(r);
    size = static_cast<std::size_t>(s);
}

void barrier_all() { MPI_Barrier(MPI_COMM_WORLD); }

std::size_t processes_on_this_machine() {
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int size = 1;
    MPI_Comm_size(node, &size);
    MPI_Comm_free(&node);
    return static_cast<std::size_t>(size);
}

#else

// Built without MPI the world is this process alone, and the collectives below, only ever
// called with several processes, are never reached.
template <class T>
void broadcast_from(std::size_t, T*, std::size_t) {}
template <class T>
void allreduce(T*, std::size_t, Reduction) {}
void world_rank_and_size(std::size_t&, std::size_t&) {}
void barrier_all() {}
std::size_t processes_on_this_machine() { return 1; }

#endif

static_assert(sizeof(std::size_t) == sizeof(std::uint64_t), "sizes travel as 64-bit integers");

std::uint64_t* as_u64(std::size_t* p) { return reinterpret_cast<std::uint64_t*>(p); }

}  // namespace

Communicator::Communicator() { world_rank_and_size(rank_, size_); }

void Communicator::broadcast(std::span<float> values) {
    if (size_ > 1) broadcast_from(0, values.data(), values.size());
}

void Communicator::broadcast(std::span<double> values) {
    if (size_ > 1) broadcast_from(0, values.data(), values.size());
}

void Communicator::broadcast(std::span<std::size_t> values) {
    if (size_ > 1) broadcast_from(0, as_u64(values.data()), values.size());
}

void Communicator::sum(std::span<float> values) {
    if (size_ > 1) allreduce(values.data(), values.size(), Reduction::sum);
}

void Communicator::sum(std::span<double> values) {
    if (size_ > 1) allreduce(values.data(), values.size(), Reduction::sum);
}

double Communicator::max(double value) {
    if (size_ > 1) allreduce(&value, 1, Reduction::max);
    return value;
}

void Communicator::barrier() {
    if (size_ > 1) barrier_all();
}

std::size_t Communicator::local_size() { return size_ > 1 ? processes_on_this_machine() : 1; }

void Communicator::check_all(bool failed, const std::string& message) {
    // The lowest failing rank (size() when none failed), then that process's message.
    std::uint64_t first = failed ? rank_ : size_;
    if (size_ > 1) allreduce(&first, 1, Reduction::min);
    if (first == size_) return;
    if (size_ == 1) throw CollectiveError(0, message);
    std::string text = message;
    std::uint64_t length = text.size();
    broadcast_from(first, &length, 1);
    text.resize(length);
    broadcast_from(first, text.data(), length);
    throw CollectiveError(first, fmt::format("process {} of {}: {}", first, size_, text));
}

std::shared_ptr<DataParallel> data_parallel() {
    return std::make_shared<DataParallel>(std::make_shared<Communicator>());
}

}  // namespace xg::dist
