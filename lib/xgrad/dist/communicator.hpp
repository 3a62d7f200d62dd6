#pragma once
// Communicator: the processes of an MPI job (MPI_COMM_WORLD) as xg::Collectives, for
// DataParallel and for programs that need to agree on something. Without MPI (not built,
// or not started by a launcher) it is a world of one process whose calls do nothing.
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "xgrad/dist/environment.hpp"
#include "xgrad/train/data_parallel.hpp"

namespace xg::dist {

/// Every process of the job. Every call but rank(), size() and is_root() is collective: all
/// processes make it, in the same order, with the same lengths. Errors of the transport end the whole
/// job (MPI's default handler), so a process that dies never leaves the others waiting.
class Communicator final : public Collectives {
public:
    /// The world of the running MPI job, or of this process alone when MPI is not running.
    Communicator();

    std::size_t rank() const override { return rank_; }
    std::size_t size() const override { return size_; }
    /// Whether this is process 0, the one that prints and writes files.
    bool is_root() const { return rank_ == 0; }

    void broadcast(std::span<float> values) override;
    void broadcast(std::span<double> values) override;
    void broadcast(std::span<std::size_t> values) override;
    void sum(std::span<float> values) override;
    void sum(std::span<double> values) override;
    /// The largest `value` over all processes.
    double max(double value);
    /// Waits until every process has called it.
    void barrier();
    /// Processes of the job on this machine (they share its cores).
    std::size_t local_size();

    /// Throws CollectiveError on every process when `failed` is true on any of them, naming
    /// the lowest such rank and its `message`; returns on all of them otherwise.
    void check_all(bool failed, const std::string& message);

private:
    std::size_t rank_ = 0, size_ = 1;
};

/// Runs `step` on every process; when it throws a std::exception on any of them, throws
/// CollectiveError on all of them (see Communicator::check_all), so that process 0 can say
/// which process failed and why and every process can exit normally. Returns step()'s value.
template <class Step>
auto together(Communicator& world, Step&& step) -> decltype(step()) {
    using Result = decltype(step());
    std::string error;
    bool failed = false;
    if constexpr (std::is_void_v<Result>) {
        try {
            step();
        } catch (const std::exception& e) {
            failed = true;
            error = e.what();
        }
        world.check_all(failed, error);
    } else {
        std::optional<Result> result;
        try {
            result.emplace(step());
        } catch (const std::exception& e) {
            failed = true;
            error = e.what();
        }
        world.check_all(failed, error);
        return std::move(*result);
    }
}

/// The world as a DataParallel (Model::set_data_parallel, hand-written loops).
std::shared_ptr<DataParallel> data_parallel();

}  // namespace xg::dist
