// submit_once: the token that makes a retried submission (the API's, or `send` committing itself
// after the node went away) queue its message exactly once, over the real SQLite store.
#include <gtest/gtest.h>

#include "node/submit_once.h"
#include "store/contacts.h"
#include "support/temp_dir.h"

namespace bc::node {
namespace {

struct SubmitOnce : ::testing::Test {
  void SetUp() override {
    store = store::Store::open(dir.path() / "store.db").value();
    store::Contact c;
    c.alias = "peer";
    c.party_name = "peer";
    contact_id = store::Contacts(*store).add(c).value();
    links = std::make_unique<SqliteLinkStore>(*store, contact_id);
  }
  Queued queue(const std::string& token, const std::string& text) {
    link::Content content{link::ContentKind::text, {}, util::Bytes(text.begin(), text.end())};
    return submit_once(*store, *links, contact_id, token, wire::Precedence::priority, content, util::WallTime{});
  }
  std::size_t outbox_size() { return links->undelivered_outgoing().size(); }

  test::TempDir dir;
  std::unique_ptr<store::Store> store;
  std::int64_t contact_id = 0;
  std::unique_ptr<SqliteLinkStore> links;
};

TEST_F(SubmitOnce, ARetryWithTheSameTokenQueuesNothingAndAnswersTheFirstSeq) {
  auto first = queue("t-1", "hold the line");
  EXPECT_FALSE(first.duplicate);
  auto again = queue("t-1", "hold the line");
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.seq, first.seq);
  EXPECT_EQ(outbox_size(), 1u);
}

TEST_F(SubmitOnce, DifferentTokensAndNoTokenEachQueue) {
  auto a = queue("t-1", "a");
  auto b = queue("t-2", "b");
  auto c = queue("", "c");
  auto d = queue("", "c");
  EXPECT_EQ(b.seq, a.seq + 1);
  EXPECT_EQ(c.seq, b.seq + 1);
  EXPECT_EQ(d.seq, c.seq + 1);
  EXPECT_FALSE(d.duplicate);
  EXPECT_EQ(outbox_size(), 4u);
}

TEST_F(SubmitOnce, InsideTheCallersTransactionARollbackForgetsTheToken) {
  EXPECT_THROW(links->transaction([&] {
    queue("t-1", "a");
    throw std::runtime_error("crash before commit");
  }),
               std::runtime_error);
  EXPECT_EQ(outbox_size(), 0u);
  auto after = queue("t-1", "a");
  EXPECT_FALSE(after.duplicate);
  EXPECT_EQ(outbox_size(), 1u);
}

}  // namespace
}  // namespace bc::node
