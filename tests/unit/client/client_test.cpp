// The C++ client of the application interface (include/backchannel/client.h) against a real
// node: a Node in this process on a temporary home with one contact, on its real control socket.
#include "backchannel/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "node/node.h"
#include "node/sqlite_link_store.h"
#include "store/contacts.h"
#include "support/temp_dir.h"

namespace bc {
namespace {

class ClientAgainstANode : public ::testing::Test {
 protected:
  void SetUp() override {
    node::Home home(dir_.path() / "wash");
    auto identity = session::Identity::generate("washington").value();
    ASSERT_TRUE(home.create_identity(identity).ok());
    {
      auto store = home.open_store(identity).value();
      store::Contact c;
      c.alias = "moscow";
      c.party_name = "moscow";
      c.identity_key = crypto::SigningKey::generate().public_key();
      c.added_at = 1;
      contact_id_ = store::Contacts(*store).add(c).value();
    }
    socket_ = home.control_socket_path().string();
    store_path_ = home.store_path();
    node::NodeOptions options;
    options.listen = "127.0.0.1:0";
    auto created = node::Node::create(home, home.load_identity().value(), node::Config{}, options);
    ASSERT_TRUE(created.ok()) << created.error().message;
    node_ = std::move(*created);
    thread_ = std::thread([this] { node_->run(stop_); });
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t queued() {
    auto store = store::Store::open(store_path_).value();
    return node::SqliteLinkStore(*store, contact_id_).undelivered_outgoing().size();
  }

  test::TempDir dir_;
  std::int64_t contact_id_ = 0;
  std::string socket_;
  std::filesystem::path store_path_;
  std::unique_ptr<node::Node> node_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(ClientAgainstANode, SubmitsAreDurableIdempotentAndPipelined) {
  auto bc = backchannel::Client::connect(socket_);
  EXPECT_EQ(bc.node_name(), "washington");
  backchannel::Submission one;
  one.contact = "moscow";
  one.text = "Hold the line.";
  one.precedence = "flash";
  one.token = "m-1";
  auto first = bc.submit(one);
  EXPECT_EQ(first.seq, 1u);
  EXPECT_FALSE(first.duplicate);
  EXPECT_EQ(queued(), 1u);  // durable when answered: another connection to the file sees it
  auto again = bc.submit(one);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.seq, 1u);
  std::vector<backchannel::Submission> many(50);
  for (std::size_t i = 0; i < many.size(); ++i) {
    many[i].contact = "moscow";
    many[i].text = "m" + std::to_string(i);
  }
  auto answers = bc.submit_many(many, 16);
  ASSERT_EQ(answers.size(), 50u);
  for (std::size_t i = 0; i < answers.size(); ++i) EXPECT_EQ(answers[i].seq, i + 2);
  EXPECT_EQ(queued(), 51u);
  // A surge is a field of the submission: accepted and queued like any (cover is off here).
  backchannel::Submission surge;
  surge.contact = "moscow";
  surge.text = "now";
  surge.surge = true;
  EXPECT_EQ(bc.submit(surge).seq, 52u);
  EXPECT_EQ(queued(), 52u);
}

TEST_F(ClientAgainstANode, RefusalsCarryTheirCodeAndChangeNothing) {
  auto bc = backchannel::Client::connect(socket_);
  backchannel::Submission s;
  s.contact = "nobody";
  s.text = "x";
  try {
    bc.submit(s);
    FAIL() << "a submission to an unknown contact was accepted";
  } catch (const backchannel::ClientError& e) {
    EXPECT_EQ(e.code(), "not_found");
  }
  s.contact = "moscow";
  s.precedence = "urgent";
  try {
    bc.submit(s);
    FAIL() << "an unknown precedence was accepted";
  } catch (const backchannel::ClientError& e) {
    EXPECT_EQ(e.code(), "bad_input");
  }
  EXPECT_EQ(queued(), 0u);
  // Nothing delivered yet: a long poll comes back empty at its time, where the consumer stands.
  auto d = bc.deliveries({.consumer = "archiver", .after = std::nullopt, .max = 10, .wait_ms = 200});
  EXPECT_TRUE(d.messages.empty());
  EXPECT_EQ(d.cursor, 0);
  bc.ack("archiver", 0);
  EXPECT_NE(bc.call_raw(R"({"op":"events","after":0})").find("\"ok\":true"), std::string::npos);
}

TEST(Client, NoNodeIsNotRunning) {
  test::TempDir dir;
  try {
    (void)backchannel::Client::connect((dir.path() / "control.sock").string());
    FAIL() << "connected to nothing";
  } catch (const backchannel::ClientError& e) {
    EXPECT_EQ(e.code(), "not_running");
  }
}

}  // namespace
}  // namespace bc
