// The control socket server: requests on separate connections are served side by side, and
// stop() does not wait for an answer that will not come.
#include "node/control_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "node/control_client.h"
#include "support/temp_dir.h"

namespace bc::node {
namespace {

using Clock = std::chrono::steady_clock;

// Answers status at once and keeps every line check waiting (as a node does until the replies
// come back).
struct SlowLinecheckNode {
  std::mutex mu;
  std::vector<std::shared_ptr<std::promise<std::string>>> pending;

  std::future<std::string> handle(const ControlRequest& request) {
    auto p = std::make_shared<std::promise<std::string>>();
    auto f = p->get_future();
    if (request.op == ControlOp::linecheck) {
      std::lock_guard lock(mu);
      pending.push_back(p);
    } else {
      p->set_value(R"({"ok":true,"links":[]})");
    }
    return f;
  }

  // Until a line check reached the handler (at most 2 s).
  void wait_for_linecheck() {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu);
        if (!pending.empty()) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }
};

TEST(ControlServer, StatusIsAnsweredWhileALineCheckWaits) {
  test::TempDir dir;
  auto path = dir.path() / "control.sock";
  SlowLinecheckNode node;
  auto server = ControlServer::start(path, [&node](const ControlRequest& r) { return node.handle(r); });
  ASSERT_TRUE(server.ok()) << server.error().message;

  std::thread linecheck([&] {
    (void)control_call(path, make_request(ControlOp::linecheck, "moscow"),
                       std::chrono::seconds{3});
  });
  node.wait_for_linecheck();
  auto start = Clock::now();
  auto status = control_call(path, make_request(ControlOp::status), std::chrono::seconds{2});
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*status, R"({"ok":true,"links":[]})");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds{1});
  {
    std::lock_guard lock(node.mu);
    for (auto& p : node.pending) p->set_value(R"({"ok":true,"channels":[]})");
  }
  linecheck.join();
}

TEST(ControlServer, StopDoesNotWaitForAnAnswerThatWillNotCome) {
  test::TempDir dir;
  auto path = dir.path() / "control.sock";
  SlowLinecheckNode node;
  auto server = ControlServer::start(path, [&node](const ControlRequest& r) { return node.handle(r); });
  ASSERT_TRUE(server.ok()) << server.error().message;
  std::thread linecheck([&] {
    auto r = control_call(path, make_request(ControlOp::linecheck, "moscow"),
                          std::chrono::seconds{5});
    EXPECT_FALSE(r.ok());  // the connection closes without an answer
  });
  node.wait_for_linecheck();
  auto start = Clock::now();
  (*server)->stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds{2});
  linecheck.join();
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace bc::node
