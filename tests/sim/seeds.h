// The seed loop every simulation shares: BC_SIM_SEED=<n> replays one seed; otherwise seeds 1..N
// with N from the simulation's own count variable. A failing seed is reported with the line
// that replays it; after 5 failures the loop stops (the first ones say enough).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

namespace bc::test {

inline std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// run(seed) returns an empty string, or what went wrong (each failure is also reported with its
// replay line). Prints the seeds run and the time taken; returns how many seeds failed.
inline int run_seeds(const char* count_variable, std::uint64_t default_count,
                               const std::function<std::string(std::uint64_t)>& run) {
  std::uint64_t first = 1, count = env_number(count_variable, default_count);
  if (const char* one = std::getenv("BC_SIM_SEED"); one != nullptr && *one != '\0') {
    first = env_number("BC_SIM_SEED", 1);
    count = 1;
  }
  int failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t seed = first; seed < first + count && failures < 5; ++seed) {
    std::string error;
    try {
      error = run(seed);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << ": " << error << "\n  replay: BC_SIM_SEED=" << seed;
    }
  }
  auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::cout << count << " seeds in " << elapsed.count() << " ms";
  return failures;
}

}  // namespace bc::test
