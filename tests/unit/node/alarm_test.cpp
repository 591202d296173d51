// The alarm command runner: environment passed, failures counted, never blocking.
#include "node/alarm.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace bc::node {
namespace {

// Alarm commands are real processes: they run on real time.
const util::SystemClock kClock;


std::filesystem::path temp_file(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("bc_alarm_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p;
}

// Reaps until nothing runs or 10 s pass.
void reap_all(AlarmRunner& runner, std::uint64_t expect_done_runs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < deadline) {
    runner.reap();
    if (runner.running() == 0 && runner.runs() >= expect_done_runs) return;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

TEST(AlarmRunner, PassesTheEventInTheEnvironment) {
  auto out = temp_file("env.txt");
  AlarmRunner runner("echo \"$BC_LINK $BC_CHANNEL $BC_STATE\" >> '" + out.string() + "'", kClock);
  runner.fire({{"BC_LINK", "moscow"}, {"BC_CHANNEL", "relay:ny"}, {"BC_STATE", "blackout"}});
  reap_all(runner, 1);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "moscow relay:ny blackout\n");
  EXPECT_EQ(runner.runs(), 1u);
  EXPECT_EQ(runner.failures(), 0u);
}

TEST(AlarmRunner, AFailingCommandIsCountedNotFatal) {
  AlarmRunner runner("exit 3", kClock);
  runner.fire({{"BC_LINK", "moscow"}});
  runner.fire({{"BC_LINK", "moscow"}});
  reap_all(runner, 2);
  EXPECT_EQ(runner.runs(), 2u);
  EXPECT_EQ(runner.failures(), 2u);
}

TEST(AlarmRunner, FireDoesNotWaitForTheCommand) {
  AlarmRunner runner("sleep 5", kClock);
  auto start = std::chrono::steady_clock::now();
  runner.fire({});
  runner.reap();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{2});
  EXPECT_EQ(runner.running(), 1u);
  // The destructor kills and reaps it.
}

TEST(AlarmRunner, NoCommandRunsNothing) {
  AlarmRunner runner(std::nullopt, kClock);
  runner.fire({{"BC_LINK", "moscow"}});
  EXPECT_EQ(runner.runs(), 0u);
  EXPECT_EQ(runner.failures(), 0u);
}

}  // namespace
}  // namespace bc::node
