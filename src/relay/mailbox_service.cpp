#include "relay/mailbox_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <type_traits>

#include "channel/relay_capability.h"
#include "crypto/random.h"
#include "store/store.h"
#include "util/byte_io.h"
#include "util/hex.h"

namespace bc::relay {
namespace {

using proto::ErrorCode;

constexpr std::string_view kTokenLabel = "backchannel relay admission token v1";
constexpr std::string_view kTokenPrefix = "bct_";

std::int64_t millis(util::WallTime t) { return util::to_unix_ms(t); }

proto::Message refuse(std::uint32_t request, ErrorCode code, std::string message) {
  return proto::Error{request, code, std::move(message)};
}

crypto::Hash hash_capability(const proto::Capability& capability) { return channel::relay_capability_hash(capability); }

const char* kind_name(proto::CapabilityKind kind) {
  return kind == proto::CapabilityKind::hello ? "HELLO-only" : "full";
}

// Constant time in the contents: a PUT with a guessed capability learns nothing from timing
// about how much of it was right.
bool equal_in_constant_time(util::ByteView a, util::ByteView b) {
  if (a.size() != b.size()) return false;
  volatile std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

// The request id of a message that did not decode, so that its ERROR can still name it.
std::uint32_t request_of(util::ByteView bytes) {
  if (bytes.size() < 5 || bytes[0] < 1 || bytes[0] > static_cast<std::uint8_t>(proto::Type::padded)) {
    return 0;
  }
  util::ByteReader r(bytes.subspan(1, 4));
  return r.u32();
}

}  // namespace

crypto::Hash MailboxService::hash_token(std::string_view token) {
  return crypto::blake2b({util::as_bytes(kTokenLabel), util::as_bytes(token)});
}

std::string MailboxService::token_id(const crypto::Hash& hash) { return util::hex_encode(hash).substr(0, 16); }

util::Result<TokenRow> MailboxService::revoke_token(std::string_view id, util::WallTime now) {
  std::string wanted(id);
  for (char& c : wanted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const TokenRow& t : store_.tokens()) {
    if (token_id(t.hash) != wanted) continue;
    store_.transaction([&] { store_.revoke_token(t.hash, millis(now)); });
    auto row = store_.token(t.hash);
    if (!row) break;  // gone meanwhile (another process): as unknown
    return *row;
  }
  return util::make_error(util::Errc::not_found,
                          "no admission token with id '" + std::string(id) + "' (see backchannel relay token list)");
}

std::string MailboxService::create_token(util::WallTime now, std::string_view label) {
  std::string token = std::string(kTokenPrefix) + util::hex_encode(crypto::random_bytes(16));
  store_.add_token(hash_token(token), millis(now), label);
  return token;
}

util::Result<void> MailboxService::check_token_label(std::string_view label) {
  if (label.size() > kMaxTokenLabel) {
    return util::make_error(util::Errc::limit, "the label is " + std::to_string(label.size()) +
                                                   " bytes; at most " + std::to_string(kMaxTokenLabel));
  }
  for (char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return util::make_error(util::Errc::invalid_argument,
                              "the label holds a control character (a newline, tab...); use plain text");
    }
  }
  return {};
}

void MailboxService::note_bad_token(const Origin& origin) {
  ++guesses_since_log_;
  if (guess_log_.note(std::chrono::steady_clock::now()) == 0) return;
  spdlog::warn("relay: {} CREATE(s) with an unknown or revoked admission token since the last such line "
               "(latest from {})",
               guesses_since_log_, origin.source.empty() ? "?" : origin.source);
  guesses_since_log_ = 0;
}

std::optional<proto::Message> MailboxService::submit_bytes(const Origin& origin, util::ByteView bytes,
                                                          util::WallTime now) {
  auto [it, fresh] = buckets_.try_emplace(origin.connection, config_.rate_per_second, config_.rate_burst, now);
  (void)fresh;
  const std::uint32_t request = request_of(bytes);
  if (!it->second.take(now)) {
    return refuse(request, ErrorCode::rate_limited,
                  "more than " + std::to_string(static_cast<std::int64_t>(config_.rate_per_second)) +
                      " requests per second on this connection; slow down");
  }
  if (bytes.size() > kMaxRequestSize) {
    return refuse(request, ErrorCode::too_large,
                  "message of " + std::to_string(bytes.size()) + " bytes; no request is longer than " +
                      std::to_string(kMaxRequestSize));
  }
  auto message = proto::decode(bytes);
  if (!message.ok()) return refuse(request, ErrorCode::bad_request, message.error().message);
  return handle(origin, *message, now);
}

std::optional<proto::Message> MailboxService::submit(const Origin& origin, const proto::Message& request,
                                                    util::WallTime now) {
  return submit_bytes(origin, proto::encode(request), now);
}

std::optional<proto::Message> MailboxService::handle(const Origin& origin, const proto::Message& message,
                                                    util::WallTime now) {
  try {
    return std::visit(
        [&](const auto& m) -> std::optional<proto::Message> {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, proto::Create>) {
            return create(origin, m, now);
          } else if constexpr (std::is_same_v<T, proto::Put>) {
            return put(origin, m, now);
          } else if constexpr (std::is_same_v<T, proto::Subscribe>) {
            return subscribe(origin, m, now);
          } else if constexpr (std::is_same_v<T, proto::Ack>) {
            return ack(origin, m, now);
          } else if constexpr (std::is_same_v<T, proto::AddCapability>) {
            return add_capability(origin, m, now);
          } else if constexpr (std::is_same_v<T, proto::RevokeCapability>) {
            proto::Message reply = owned(origin, m.request, m.mailbox, "revoke a write capability of");
            if (std::holds_alternative<proto::Ok>(reply)) {
              // Revoking what is not there is done already: an owner may repeat it after a lost answer.
              store_.transaction([&] { (void)store_.delete_capability(m.mailbox, m.capability); });
            }
            return reply;
          } else if constexpr (std::is_same_v<T, proto::Remove>) {
            proto::Message reply = owned(origin, m.request, m.mailbox, "delete");
            if (std::holds_alternative<proto::Ok>(reply)) {
              store_.transaction([&] { store_.delete_mailbox(m.mailbox); });
            }
            return reply;
          } else {
            return refuse(0, ErrorCode::bad_request, "a relay answers requests only; this is a reply type");
          }
        },
        message);
  } catch (const store::StoreError& e) {
    spdlog::error("relay store: {}", e.what());
    std::uint32_t request = 0;
    std::visit(
        [&request](const auto& m) {
          if constexpr (requires { m.request; }) request = m.request;
        },
        message);
    return refuse(request, ErrorCode::internal, "the relay could not reach its store; try again later");
  }
}

proto::Limits MailboxService::advertised_limits() const {
  // Rounded down: a client that paces to what it is told stays within what is enforced. The
  // configuration allows whole numbers 1..1,000,000 only, so nothing is lost in practice.
  auto told = [](double v) {
    return static_cast<std::uint32_t>(std::clamp(std::floor(v), 1.0, static_cast<double>(proto::kMaxLimit)));
  };
  return proto::Limits{told(config_.rate_per_second), told(config_.rate_burst)};
}

proto::Message MailboxService::create(const Origin& origin, const proto::Create& request, util::WallTime now) {
  std::optional<crypto::Hash> token;
  if (!request.token.empty()) {
    if (guesses_.size() >= kMaxGuessSources && !guesses_.contains(origin.source)) guesses_.clear();
    auto& guesses = guesses_.try_emplace(origin.source, kTokenGuessesPerSecond, kTokenGuessBurst, now).first->second;
    if (!guesses.has(now)) {
      note_bad_token(origin);
      return refuse(request.request, ErrorCode::rate_limited,
                    "too many unknown or revoked admission tokens from your address; wait, then use a valid one");
    }
    token = hash_token(request.token);
    auto row = store_.token(*token);
    if (!row || row->revoked_at != 0) {
      guesses.take(now);
      note_bad_token(origin);
    }
    if (!row) {
      return refuse(request.request, ErrorCode::not_admitted,
                    "unknown admission token; ask the relay's operator for one (backchannel relay token create)");
    }
    if (row->revoked_at != 0) {
      return refuse(request.request, ErrorCode::not_admitted,
                    "this admission token was revoked by the relay's operator; ask for another");
    }
    if (row->mailboxes >= config_.mailboxes_per_token) {
      return refuse(request.request, ErrorCode::not_admitted,
                    "this admission token has created its " + std::to_string(config_.mailboxes_per_token) +
                        " mailboxes already; ask the relay's operator for another");
    }
  } else if (!config_.open) {
    return refuse(request.request, ErrorCode::not_admitted,
                  "this relay creates mailboxes only with an admission token from its operator");
  }
  MailboxRow row;
  crypto::random_fill(row.id);
  proto::Capability capability{};
  crypto::random_fill(capability);
  row.owner = origin.peer;
  row.capability_hash = hash_capability(capability);
  row.created_at = millis(now);
  row.quota_bytes = config_.quota_bytes;
  row.quota_count = config_.quota_count;
  store_.transaction([&] { store_.insert_mailbox(row, token); });
  return proto::Created{request.request, row.id, capability};
}

proto::Message MailboxService::add_capability(const Origin& origin, const proto::AddCapability& request,
                                              util::WallTime now) {
  proto::Message reply = owned(origin, request.request, request.mailbox, "add a write capability to");
  if (!std::holds_alternative<proto::Ok>(reply)) return reply;
  CapabilityRow row;
  row.mailbox = request.mailbox;
  row.hash = hash_capability(request.capability);
  row.id = channel::relay_capability_id_from_hash(row.hash);
  row.kind = request.kind;
  row.created_at = millis(now);
  if (auto existing = store_.capability(row.mailbox, row.id)) {
    if (!equal_in_constant_time(existing->hash, row.hash)) {
      // Two capabilities whose hashes share their first 8 bytes: the owner draws another.
      return refuse(request.request, ErrorCode::bad_capability,
                    "another write capability of this mailbox has the same id; draw a new one");
    }
  } else {
    const auto count = static_cast<std::int64_t>(store_.capabilities(row.mailbox).size());
    if (count >= config_.writers) {
      return refuse(request.request, ErrorCode::over_quota_count,
                    "this mailbox has " + std::to_string(count) + " write capabilities, its quota is " +
                        std::to_string(config_.writers) + " (revoke one first)");
    }
  }
  store_.transaction([&] { store_.put_capability(row); });
  return reply;
}

std::optional<proto::Message> MailboxService::subscribe(const Origin& origin, const proto::Subscribe& request,
                                                       util::WallTime now) {
  proto::Message reply = owned(origin, request.request, request.mailbox, "subscribe to");
  auto* ok = std::get_if<proto::Ok>(&reply);
  if (ok == nullptr) return reply;
  // R2: the server delivers the mailbox's items after this reply; none that a queued ACK took.
  if (queued_acks_.contains(request.mailbox)) commit_queued(now);
  if (request.want_limits) ok->limits = advertised_limits();
  // Not answered on: a touch lost in a crash only makes the mailbox look idle a little longer
  // ago, against an idle_ttl of days.
  queue_.push_back(QueuedTouch{request.mailbox, millis(now)});
  return reply;
}

std::optional<proto::Message> MailboxService::ack(const Origin& origin, const proto::Ack& request, util::WallTime) {
  proto::Message reply = owned(origin, request.request, request.mailbox, "acknowledge items of");
  if (!std::holds_alternative<proto::Ok>(reply)) return reply;
  ++queued_acks_[request.mailbox];
  queue_.push_back(QueuedAck{origin.connection, request.request, request.mailbox, request.items});
  return std::nullopt;
}

std::optional<proto::Message> MailboxService::put(const Origin& origin, const proto::Put& request, util::WallTime now) {
  auto reply = check_put(origin, request);
  if (!reply) return reply;
  const auto* error = std::get_if<proto::Error>(&*reply);
  const bool over_quota = error != nullptr && (error->code == ErrorCode::over_quota_count ||
                                               error->code == ErrorCode::over_quota_bytes);
  // R2: a queued ACK of this mailbox may make the room; it is committed and the PUT checked again.
  if (over_quota && queued_acks_.contains(request.mailbox)) {
    commit_queued(now);
    reply = check_put(origin, request);
  }
  return reply;
}

std::optional<proto::Message> MailboxService::check_put(const Origin& origin, const proto::Put& request) {
  auto row = store_.mailbox(request.mailbox);
  if (!row) return refuse(request.request, ErrorCode::no_such_mailbox, "no such mailbox on this relay");
  const crypto::Hash presented = hash_capability(request.capability);
  const proto::CapabilityId id = channel::relay_capability_id_from_hash(presented);
  auto writer = store_.capability(request.mailbox, id);
  // The id only finds the row; the whole hash is what admits (an id is not secret).
  if (!writer || !equal_in_constant_time(presented, writer->hash)) {
    return refuse(request.request, ErrorCode::bad_capability,
                  "wrong or revoked write capability for this mailbox");
  }
  const std::int64_t queued = queued_per_mailbox_[request.mailbox];
  const std::int64_t queued_here = queued_per_writer_[{request.mailbox, id}];
  const auto size = static_cast<std::int64_t>(wire::kEnvelopeSize);
  if (writer->kind == proto::CapabilityKind::hello && writer->puts + queued_here + 1 > config_.hello_puts) {
    return refuse(request.request, ErrorCode::over_quota_count,
                  std::string("this write capability is ") + kind_name(writer->kind) + " and has stored its " +
                      std::to_string(config_.hello_puts) + " envelopes (an invitation's: its HELLO is there)");
  }
  if (writer->count + queued_here + 1 > config_.writer_quota_count) {
    return refuse(request.request, ErrorCode::over_quota_count,
                  "this writer's share is full: it holds " + std::to_string(writer->count + queued_here) +
                      " items of the mailbox, its quota is " + std::to_string(config_.writer_quota_count) +
                      " (the owner must fetch and acknowledge them)");
  }
  if (writer->bytes + (queued_here + 1) * size > config_.writer_quota_bytes) {
    return refuse(request.request, ErrorCode::over_quota_bytes,
                  "this writer's share is full: it holds " + std::to_string(writer->bytes + queued_here * size) +
                      " bytes of the mailbox, its quota is " + std::to_string(config_.writer_quota_bytes) +
                      " (the owner must fetch and acknowledge them)");
  }
  if (row->count + queued + 1 > row->quota_count) {
    return refuse(request.request, ErrorCode::over_quota_count,
                  "mailbox full: it holds " + std::to_string(row->count + queued) + " items, its quota is " +
                      std::to_string(row->quota_count) + " (its owner must fetch and acknowledge them)");
  }
  if (row->bytes + (queued + 1) * size > row->quota_bytes) {
    return refuse(request.request, ErrorCode::over_quota_bytes,
                  "mailbox full: it holds " + std::to_string(row->bytes + queued * size) +
                      " bytes, its quota is " + std::to_string(row->quota_bytes) +
                      " (its owner must fetch and acknowledge them)");
  }
  ++queued_per_mailbox_[request.mailbox];
  ++queued_per_writer_[{request.mailbox, id}];
  queue_.push_back(QueuedPut{origin.connection, request.request, request.mailbox, id, request.envelope});
  return std::nullopt;
}

proto::Message MailboxService::owned(const Origin& origin, std::uint32_t request, const proto::MailboxId& mailbox,
                                     const char* what) {
  auto row = store_.mailbox(mailbox);
  if (!row) return refuse(request, ErrorCode::no_such_mailbox, "no such mailbox on this relay");
  if (row->owner != origin.peer) {
    return refuse(request, ErrorCode::not_owner,
                  std::string("only the key that created this mailbox may ") + what + " it");
  }
  return proto::Ok{request};
}

std::vector<Answer> MailboxService::commit(util::WallTime now) {
  commit_queued(now);
  return take_answers();
}

void MailboxService::commit_queued(util::WallTime now) {
  if (queue_.empty()) return;
  const auto started = std::chrono::steady_clock::now();
  std::vector<Queued> batch;
  batch.swap(queue_);
  queued_per_mailbox_.clear();
  queued_per_writer_.clear();
  queued_acks_.clear();
  const std::size_t first = answers_.size();
  std::uint64_t puts = 0;
  std::uint64_t acks = 0;
  for (const Queued& queued : batch) {
    if (std::holds_alternative<QueuedPut>(queued)) ++puts;
    if (std::holds_alternative<QueuedAck>(queued)) ++acks;
  }
  const std::int64_t at = millis(now);
  try {
    std::map<proto::MailboxId, bool> exists;
    store_.transaction([&] {
      for (const Queued& queued : batch) {
        if (const auto* q = std::get_if<QueuedPut>(&queued)) {
          auto [it, fresh] = exists.try_emplace(q->mailbox, false);
          if (fresh) it->second = store_.mailbox(q->mailbox).has_value();
          if (!it->second) {
            // Deleted (by its owner or expiry) after this PUT was queued.
            answers_.push_back({q->connection, q->mailbox, 0,
                                refuse(q->request, ErrorCode::no_such_mailbox, "no such mailbox on this relay")});
            continue;
          }
          std::uint64_t item = store_.insert_item(q->mailbox, q->writer, q->envelope, at);
          answers_.push_back({q->connection, q->mailbox, item, proto::Ok{q->request}});
        } else if (const auto* a = std::get_if<QueuedAck>(&queued)) {
          // A mailbox deleted meanwhile took its items with it: acknowledged all the same.
          store_.delete_items(a->mailbox, a->items, at);
          answers_.push_back({a->connection, a->mailbox, 0, proto::Ok{a->request}});
        } else {
          const auto& touch = std::get<QueuedTouch>(queued);
          store_.touch_mailbox(touch.mailbox, touch.at);
        }
      }
    });
  } catch (const store::StoreError& e) {
    // R3: rolled back, so nothing of the batch happened; each request is answered with an ERROR.
    spdlog::error("relay store: group commit of {} PUTs and {} ACKs failed: {}", puts, acks, e.what());
    answers_.resize(first);
    for (const Queued& queued : batch) {
      if (const auto* q = std::get_if<QueuedPut>(&queued)) {
        answers_.push_back({q->connection, q->mailbox, 0,
                            refuse(q->request, ErrorCode::internal, "the relay could not store the envelope; send it again")});
      } else if (const auto* a = std::get_if<QueuedAck>(&queued)) {
        answers_.push_back({a->connection, a->mailbox, 0,
                            refuse(a->request, ErrorCode::internal,
                                   "the relay could not delete the items; acknowledge them again")});
      }
    }
  }
  ++counts_.commits;
  counts_.puts += puts;
  counts_.acks += acks;
  counts_.max_batch = std::max<std::uint64_t>(counts_.max_batch, puts + acks);
  counts_.time += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
}

Expired MailboxService::expire(util::WallTime now) {
  commit_queued(now);
  const std::int64_t t = millis(now);
  return store_.expire(t - std::chrono::duration_cast<std::chrono::milliseconds>(config_.item_ttl).count(),
                       t - std::chrono::duration_cast<std::chrono::milliseconds>(config_.idle_ttl).count());
}

}  // namespace bc::relay
