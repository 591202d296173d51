// The receiving side of a link: stores chunks, reassembles, delivers by the delivery rule,
// extends the incoming transcript, and says what to ACK. State lives in the store; this keeps
// only which chunks are held (no message bytes) and the delivered seqs above the prefix.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "link/ack_ranges.h"
#include "link/link_store.h"
#include "link/types.h"
#include "util/result.h"
#include "wire/frames.h"

namespace bc::link {

class Inbox {
 public:
  // Reads the receiving side from the store (fragment index, delivered counts, transcript).
  explicit Inbox(LinkStore& store);

  // Checks the DATA frames of one payload against what is held and against each other,
  // without changing anything: a seq's precedence, total, sent_at and earlier counts never
  // change, and no message claims fewer earlier messages than are already delivered.
  util::Result<void> check(const std::vector<const wire::DataFrame*>& frames) const;

  enum class Outcome { stored, duplicate, duplicate_delivered };
  // Stores the chunk (inside the batch). duplicate_delivered: the seq is already delivered.
  // channel carried it; the channel whose chunk completes a message is the one `log` names as
  // having delivered it.
  Outcome accept(const wire::DataFrame& frame, ChannelId channel);

  // Delivers every message the rule allows (store.deliver()), extends the transcript over the
  // gap-free prefix (store.set_incoming_head()); inside the batch. Returns what it delivered.
  std::vector<DeliveredInfo> deliver_ready(std::int64_t now_ms);

  // What is durably held once the batch commits: the prefix as one range, whole blocks of
  // complete or delivered seqs, single keys of chunks of partial ones.
  RangeSet held() const;

  const TranscriptHead& head() const { return head_; }
  bool is_delivered(Seq seq) const;
  // Body hash of a delivered seq above the prefix end (prompt receipts for duplicates).
  const DeliveredInfo* delivered_above_prefix(Seq seq) const;
  // Every delivered seq above the prefix end (a courier bundle receipts them all).
  const std::map<Seq, DeliveredInfo>& delivered_beyond_prefix() const { return delivered_above_; }

 private:
  struct Partial {
    MessageMeta meta;
    std::vector<bool> have;
    std::uint32_t held = 0;
    // The channel of the chunk that completed it; unknown for one completed before a restart.
    std::optional<ChannelId> completed_on;
    bool complete() const { return held == have.size(); }
  };

  static MessageMeta meta_of(const wire::DataFrame& frame);
  static bool same_meta(const MessageMeta& a, const MessageMeta& b);

  LinkStore& store_;
  std::map<Seq, Partial> partial_;
  std::map<Seq, DeliveredInfo> delivered_above_;  // delivered seqs above head_.prefix_end
  EarlierCounts delivered_{};
  TranscriptHead head_;
};

}  // namespace bc::link
