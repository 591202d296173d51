// The relay's request handling, without sockets: decoded requests in (with the TLS key of the
// connection that sent them and the time), replies out, store writes in between. The server
// (server.h) feeds it from the network on one thread; tests feed it directly.
//
// Every refusal is an ERROR with its code and a message for the operator, and changes nothing
// in the store. The writes of the hot path go in two steps so that many share one transaction
// (group commit): submit() checks a PUT or an ACK and queues it (a SUBSCRIBE queues its touch
// of the mailbox), commit() applies everything queued in one transaction, in the order it came,
// and only then yields their answers — a PUT is acknowledged only once its envelope is durable,
// an ACK only once its items are durably gone (relay_store.h, R1-R3). A request that reads what
// a queued ACK changes commits the queue first; the answers of such a commit wait in
// take_answers() for the server to send before the request's own reply.
//
// Writers: a PUT is admitted by one of the mailbox's write capabilities (relay_store.h) and
// counted against that capability's share as well as the mailbox's quota, queued PUTs included;
// only the owner adds and revokes capabilities.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "crypto/sign.h"
#include "relay/config.h"
#include "relay/rate_limit.h"
#include "relay/relay_store.h"
#include "util/log_throttle.h"
#include "util/clock.h"
#include "wire/relay_protocol.h"

namespace bc::relay {

namespace proto = wire::relay;

// Who sent a request: the connection (for its rate limit and its replies) and its TLS key.
struct Origin {
  std::uint64_t connection = 0;
  crypto::SignPublicKey peer{};
  std::string source;  // the client's IP address: bad admission tokens are limited per source
};

// Failed admission tokens (unknown or revoked) per source address: a burst, then one per
// second on average. Past it, CREATE with a token from that address is refused as rate_limited
// before the token is looked at, on every connection from it.
inline constexpr double kTokenGuessesPerSecond = 1.0;
inline constexpr double kTokenGuessBurst = 10.0;
// Sources remembered; past this the oldest state is dropped whole (a flood from that many
// addresses gets one burst each anyway).
inline constexpr std::size_t kMaxGuessSources = 65'536;

// A queued PUT or ACK once its transaction committed (OK; a PUT's item id) or failed at
// commit (an ERROR).
struct Answer {
  std::uint64_t connection = 0;
  proto::MailboxId mailbox{};
  std::uint64_t item = 0;  // a stored PUT's; 0 otherwise
  proto::Message reply;    // OK, or ERROR
};

// Group commits since start.
struct CommitCounts {
  std::uint64_t commits = 0;  // transactions
  std::uint64_t puts = 0;     // PUTs answered by them
  std::uint64_t acks = 0;     // ACKs answered by them
  std::uint64_t max_batch = 0;  // most PUTs and ACKs in one
  std::chrono::microseconds time{0};  // summed over commits
};

// The largest request a client sends (a PUT); anything longer is refused as too_large.
inline constexpr std::size_t kMaxRequestSize = 1 + 4 + proto::kMailboxIdSize + proto::kCapabilitySize +
                                               wire::kEnvelopeSize;

class MailboxService {
 public:
  MailboxService(RelayStore& store, Config config) : store_(store), config_(std::move(config)) {}

  // Decodes and handles one message from a client. The reply is the answer to send now;
  // nullopt means a PUT or an ACK was queued and its answer comes from commit(). Answers of a
  // commit the request made first (see take_answers) go out before the reply.
  std::optional<proto::Message> submit_bytes(const Origin& origin, util::ByteView bytes, util::WallTime now);
  std::optional<proto::Message> submit(const Origin& origin, const proto::Message& request, util::WallTime now);

  // Writes waiting for commit(): PUTs, ACKs and SUBSCRIBEs' touches.
  std::size_t queued() const { return queue_.size(); }
  // Applies every queued write in one transaction; the answers of it (and of any commit a
  // request made since the last take_answers), in the order their requests came.
  std::vector<Answer> commit(util::WallTime now);
  // Answers of commits that a request made before it was handled (R2); empty most of the time.
  bool has_answers() const { return !answers_.empty(); }
  std::vector<Answer> take_answers() { return std::exchange(answers_, {}); }
  const CommitCounts& commit_counts() const { return counts_; }

  // Stored items of a mailbox after `after`, oldest first: a subscription's stored items, then
  // the ones that arrive later.
  std::vector<ItemRow> items_after(const proto::MailboxId& mailbox, std::uint64_t after, std::size_t limit) {
    return store_.items_after(mailbox, after, limit);
  }

  // Deletes items older than item_ttl and mailboxes idle for idle_ttl. Called now and then.
  // Commits the queue first (a queued SUBSCRIBE's touch keeps its mailbox); its answers wait in
  // take_answers().
  Expired expire(util::WallTime now);

  // The connection is gone: its rate limit goes, its queued PUTs stay (they still commit).
  void forget(std::uint64_t connection) { buckets_.erase(connection); }

  // Makes a new admission token: "bct_" and 32 hex digits; only its hash is stored, with the
  // operator's label (check it first with check_token_label).
  std::string create_token(util::WallTime now, std::string_view label = {});
  // A label is at most kMaxTokenLabel bytes without control characters, so `token list`
  // prints it on one line as given.
  static constexpr std::size_t kMaxTokenLabel = 200;
  static util::Result<void> check_token_label(std::string_view label);
  static crypto::Hash hash_token(std::string_view token);
  // How operators name a token (`relay token list|revoke`): the first 16 hex digits of its hash.
  static std::string token_id(const crypto::Hash& hash);
  // The token stops admitting new mailboxes; those it made already keep working (their owners
  // were admitted, and revoking must not cut a link that depends on them). not_found for an
  // unknown id; revoking twice keeps the first time.
  util::Result<TokenRow> revoke_token(std::string_view id, util::WallTime now);

  const Config& config() const { return config_; }
  // The token bucket every connection gets (config limits.rate and limits.burst), as told to a
  // client in the OK of its SUBSCRIBE (wire/relay_protocol.h Limits).
  proto::Limits advertised_limits() const;

 private:
  std::optional<proto::Message> handle(const Origin& origin, const proto::Message& message, util::WallTime now);
  proto::Message create(const Origin& origin, const proto::Create& request, util::WallTime now);
  // A failed admission token: counted, logged once per interval.
  void note_bad_token(const Origin& origin);
  std::optional<proto::Message> put(const Origin& origin, const proto::Put& request, util::WallTime now);
  // A PUT's checks; nullopt once it is queued.
  std::optional<proto::Message> check_put(const Origin& origin, const proto::Put& request);
  std::optional<proto::Message> ack(const Origin& origin, const proto::Ack& request, util::WallTime now);
  std::optional<proto::Message> subscribe(const Origin& origin, const proto::Subscribe& request, util::WallTime now);
  // Commits the queue now, its answers kept for take_answers().
  void commit_queued(util::WallTime now);
  proto::Message add_capability(const Origin& origin, const proto::AddCapability& request, util::WallTime now);
  proto::Message owned(const Origin& origin, std::uint32_t request, const proto::MailboxId& mailbox,
                       const char* what);

  struct QueuedPut {
    std::uint64_t connection;
    std::uint32_t request;
    proto::MailboxId mailbox;
    proto::CapabilityId writer;
    proto::Envelope envelope;
  };
  struct QueuedAck {
    std::uint64_t connection;
    std::uint32_t request;
    proto::MailboxId mailbox;
    std::vector<std::uint64_t> items;
  };
  // A SUBSCRIBE's last_active_at: nothing is answered on it, so it only rides along.
  struct QueuedTouch {
    proto::MailboxId mailbox;
    std::int64_t at;  // Unix ms of the SUBSCRIBE
  };
  using Queued = std::variant<QueuedPut, QueuedAck, QueuedTouch>;

  RelayStore& store_;
  Config config_;
  std::unordered_map<std::uint64_t, TokenBucket> buckets_;
  std::unordered_map<std::string, TokenBucket> guesses_;  // by source address
  util::LogThrottle guess_log_{std::chrono::seconds(10)};
  std::uint64_t guesses_since_log_ = 0;
  std::vector<Queued> queue_;
  // Queued PUTs per mailbox, counted against its quota before they commit.
  std::map<proto::MailboxId, std::int64_t> queued_per_mailbox_;
  // And per writer, against the writer's own quota.
  std::map<std::pair<proto::MailboxId, proto::CapabilityId>, std::int64_t> queued_per_writer_;
  // Mailboxes with an ACK in the queue: what reads them commits first (R2).
  std::map<proto::MailboxId, std::int64_t> queued_acks_;
  std::vector<Answer> answers_;
  CommitCounts counts_;
};

}  // namespace bc::relay
