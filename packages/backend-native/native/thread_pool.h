// A tiny fork-join pool: parallelFor(n, fn) runs fn(0..n-1) on the calling thread plus (threads − 1) workers.
// Workers spin briefly after a job (kernels come in bursts of hundreds per training step), then sleep on a
// condition variable so an idle process costs no CPU.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace unlearn_native {

class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }
  ~ThreadPool() { stop(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    stop();
    quit_ = false;
    for (int i = 1; i < (threads < 1 ? 1 : threads); i++) workers_.emplace_back([this] { workerLoop(); });
  }

  void parallelFor(int64_t n, const std::function<void(int64_t)>& fn) {
    if (n <= 0) return;
    if (workers_.empty() || n == 1) {
      for (int64_t i = 0; i < n; i++) fn(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      count_ = n;
      next_.store(0, std::memory_order_relaxed);
      done_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    runTasks(fn, n);
    while (done_.load(std::memory_order_acquire) < n) std::this_thread::yield();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = nullptr;  // no worker can pick this job up any more ...
    }
    // ... and every worker that did has left runTasks (so none touches next_ once the next job resets it)
    while (active_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  }

 private:
  void runTasks(const std::function<void(int64_t)>& fn, int64_t n) {
    for (;;) {
      const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      fn(i);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void workerLoop() {
    uint64_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      // spin ~50 µs for the next job before sleeping
      const auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
      while (generation_.load(std::memory_order_acquire) == seen && !quit_.load(std::memory_order_relaxed) &&
             std::chrono::steady_clock::now() < spinUntil) {
        std::this_thread::yield();
      }
      const std::function<void(int64_t)>* job;
      int64_t n;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return quit_.load() || generation_.load() != seen; });
        if (quit_.load()) return;
        seen = generation_.load();
        job = job_;
        n = count_;
        if (job) active_.fetch_add(1, std::memory_order_acq_rel);
      }
      if (job) {
        runTasks(*job, n);
        active_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> active_{0};
  std::atomic<bool> quit_{false};
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t count_ = 0;
};

}  // namespace unlearn_native
