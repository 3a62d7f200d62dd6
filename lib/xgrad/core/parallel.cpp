#include "xgrad/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include <pthread.h>

#include "xgrad/core/threads.hpp"

namespace xg {
namespace {

constexpr std::size_t kRangesPerThread = 4;
// How long the caller waits awake for the workers' last ranges, and an idle worker for the
// next loop, before blocking. Both are short next to a step of training and long next to the
// gaps between its loops and products.
constexpr std::chrono::microseconds kCallerSpin{100};
constexpr std::chrono::microseconds kWorkerSpin{200};

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Set while a thread runs a range of a loop: a loop started from there runs serially, so a
// nested call never waits for workers that are busy with the loop around it.
thread_local bool t_inside_loop = false;

// One loop in flight: ranges (chunks) are claimed one at a time, by the caller and the workers
// alike, so a worker that wakes late finds nothing left and the caller never waits for it to
// start. The caller claims from the front and the workers from the back: with two threads on
// time, each takes one contiguous part, the same part at every loop of the same size (with
// more, the caller's part is still one and the same; the workers share the back). A step's
// loops then keep their data where the last one left it: the caller updates the rows of a
// weight whose gradient it computed (a product splits its output the same way), and each
// optimizer slot stays in one core's cache. Claimed in an interleaved order, every loop moved
// half of its data from one core's cache to the other's, which cost more than the second core gave.
struct Job {
    const void* context;
    detail::RangeFn fn;
    std::size_t begin, size, chunks;
    // The unclaimed chunks [front, back), packed as front << 32 | back so that one compare and
    // swap claims from either end (run_parallel keeps chunks below 2^32).
    std::atomic<std::uint64_t> unclaimed;
    std::atomic<std::size_t> done{0};
    std::atomic<int> active{0};  // workers that have seen the job and not yet left it (changed under the mutex)
    // Under Pool::mutex_:
    std::exception_ptr error;
    std::size_t error_chunk = 0;
    std::size_t seats = 0;  // workers that may still join: the thread count, less the caller

    Job(const void* context_, detail::RangeFn fn_, std::size_t begin_, std::size_t size_, std::size_t chunks_)
        : context(context_), fn(fn_), begin(begin_), size(size_), chunks(chunks_), unclaimed(chunks_) {}

    bool finished() const {
        return done.load(std::memory_order_acquire) == chunks && active.load(std::memory_order_acquire) == 0;
    }

    // The next chunk from the front (the caller) or the back (the workers); chunks when none is left.
    std::size_t claim(bool from_back) {
        std::uint64_t range = unclaimed.load(std::memory_order_relaxed);
        for (;;) {
            const std::uint64_t front = range >> 32, back = range & 0xffffffffu;
            if (front >= back) return chunks;
            const std::uint64_t next = from_back ? (front << 32 | (back - 1)) : ((front + 1) << 32 | back);
            if (unclaimed.compare_exchange_weak(range, next, std::memory_order_relaxed)) {
                return static_cast<std::size_t>(from_back ? back - 1 : front);
            }
        }
    }
};

class Pool {
public:
    static Pool& instance() {
        static Pool pool;
        return pool;
    }

    Pool() {
        live_.store(this, std::memory_order_release);
        // Registered once: the pool is created once per process, and a forked child inherits it.
        pthread_atfork(&before_fork, &after_fork_in_parent, &after_fork_in_child);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    ~Pool() {
        live_.store(nullptr, std::memory_order_release);
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            posted_.store(~std::uint64_t{0}, std::memory_order_release);
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
    }

    // Runs job on this thread and `helpers` workers; false (nothing run) when another thread's
    // loop holds the pool.
    bool run(Job& job, std::size_t helpers) {
        std::unique_lock owner(owner_, std::try_to_lock);
        if (!owner.owns_lock()) return false;
        {
            std::lock_guard lock(mutex_);
            try {
                while (workers_.size() < helpers) workers_.emplace_back([this] { work(); });
            } catch (const std::system_error&) {
                // No more threads to be had: the loop runs on those there are (the caller at least).
            }
            job.seats = helpers;
            job_ = &job;
            ++generation_;
            posted_.store(generation_, std::memory_order_release);
        }
        for (std::size_t i = 0; i < helpers; ++i) wake_.notify_one();
        t_inside_loop = true;
        run_chunks(job, false);
        t_inside_loop = false;
        // The workers' last ranges are short: wait for them awake for a while. A caller that
        // sleeps must then wait for the scheduler to run it again, which on a busy machine costs
        // more than the loop. (Idle workers likewise poll for the next loop a while before they block, see work().)
        const auto until = std::chrono::steady_clock::now() + kCallerSpin;
        while (!job.finished() && std::chrono::steady_clock::now() < until) {
            for (int i = 0; i < 32; ++i) relax();
        }
        // Checked again under the mutex: a worker that picked the job up late holds it until it
        // has left, and the job lives on this stack.
        std::unique_lock lock(mutex_);
        finished_.wait(lock, [&] { return job.finished(); });
        job_ = nullptr;
        return true;
    }

private:
    // fork() copies only the thread that calls it. The state it copies is made consistent by
    // holding the mutex across the fork; in the child the workers are gone, so their handles are
    // set aside unjoined (joining would wait forever, and destroying a joinable std::thread ends
    // the program), and the locks and condition variables they may have held or waited on start
    // anew. The child's next loop starts workers of its own.
    static void before_fork() {
        if (Pool* pool = live_.load(std::memory_order_acquire)) pool->mutex_.lock();
    }
    static void after_fork_in_parent() {
        if (Pool* pool = live_.load(std::memory_order_acquire)) pool->mutex_.unlock();
    }
    static void after_fork_in_child() {
        Pool* pool = live_.load(std::memory_order_acquire);
        if (!pool) return;
        static auto* forked_away = new std::vector<std::thread>;  // kept, never joined nor destroyed
        for (std::thread& t : pool->workers_) forked_away->push_back(std::move(t));
        pool->workers_.clear();
        new (&pool->owner_) std::mutex;
        new (&pool->mutex_) std::mutex;
        new (&pool->wake_) std::condition_variable;
        new (&pool->finished_) std::condition_variable;
        pool->job_ = nullptr;
    }

    void run_chunks(Job& job, bool from_back) {
        for (std::size_t c; (c = job.claim(from_back)) < job.chunks;) {
            const std::size_t lo = job.begin + job.size * c / job.chunks;
            const std::size_t hi = job.begin + job.size * (c + 1) / job.chunks;
            std::exception_ptr error;
            try {
                job.fn(job.context, lo, hi);
            } catch (...) {
                error = std::current_exception();
            }
            if (error) {
                std::lock_guard lock(mutex_);
                if (!job.error || c < job.error_chunk) {
                    job.error = std::move(error);
                    job.error_chunk = c;
                }
            }
            if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 == job.chunks) {
                // Under the mutex, so that a caller between its check and its wait still hears it.
                std::lock_guard lock(mutex_);
                finished_.notify_all();
            }
        }
    }

    void work() {
        std::uint64_t seen = 0;
        for (;;) {
            // Poll first: the next loop usually starts within microseconds, and a thread that
            // blocked must wait for the scheduler to run it again.
            const auto until = std::chrono::steady_clock::now() + kWorkerSpin;
            while (posted_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
                for (int i = 0; i < 32; ++i) relax();
            }
            std::unique_lock lock(mutex_);
            if (!stop_ && job_ == nullptr && generation_ != seen) {
                seen = generation_;  // a loop the others finished without this worker: poll for the next
                continue;
            }
            wake_.wait(lock, [&] { return stop_ || (job_ != nullptr && generation_ != seen); });
            if (stop_) return;
            seen = generation_;
            Job& job = *job_;
            // Polling workers all see a new loop; only as many as the thread count allows join
            // it (after set_num_threads lowered the count, the pool has more workers than that).
            if (job.seats == 0) continue;
            --job.seats;
            job.active.fetch_add(1, std::memory_order_relaxed);
            lock.unlock();
            t_inside_loop = true;
            run_chunks(job, true);
            t_inside_loop = false;
            lock.lock();
            if (job.active.fetch_sub(1, std::memory_order_acq_rel) == 1) finished_.notify_all();
        }
    }

    std::mutex owner_;  // held by the thread whose loop the workers serve
    std::mutex mutex_;
    std::condition_variable wake_, finished_;
    std::vector<std::thread> workers_;
    Job* job_ = nullptr;
    std::uint64_t generation_ = 0;
    std::atomic<std::uint64_t> posted_{0};  // generation_, for the polling workers to read without the mutex
    bool stop_ = false;
    static inline std::atomic<Pool*> live_{nullptr};  // for the fork handlers, which outlive the pool
};

}  // namespace

namespace detail {

void run_parallel(std::size_t begin, std::size_t end, std::size_t grain, const void* context, RangeFn fn) {
    if (end <= begin) return;
    const std::size_t size = end - begin;
    const std::size_t pieces = size / std::max<std::size_t>(grain, 1);
    const std::size_t threads = static_cast<std::size_t>(num_threads());
    // A few ranges per thread: a worker that wakes late (its core busy with another program,
    // or blocked after a pause) still finds some left instead of leaving the caller
    // with half of the loop after its own half.
    const std::size_t chunks =
        threads < 2 ? 1 : std::min({pieces, kRangesPerThread * threads, std::size_t{0xffffffffu}});
    if (chunks < 2 || t_inside_loop) {
        fn(context, begin, end);
        return;
    }
    Job job{context, fn, begin, size, chunks};
    if (!Pool::instance().run(job, std::min(chunks, threads) - 1)) {
        fn(context, begin, end);
        return;
    }
    if (job.error) std::rethrow_exception(job.error);
}

}  // namespace detail
}  // namespace xg
