// The relay daemon's server: a net::Service listener (TLS 1.3 + WebSocket, any client key may
// connect; admission is by token at CREATE) in front of a MailboxService.
//
// Threads: the net I/O thread only queues what arrives; one store thread decodes, answers,
// commits and delivers, so that an fsync never stalls the network and the store has one user.
// Group commit: a PUT or an ACK waits up to commit_window (or until commit_max_batch writes
// are queued) for others to share its transaction; then all their OKs go out. Those that arrive
// while a transaction commits (the store thread is in its fsync) share the next one.
// Subscriptions: stored items first, then live ones, tracked by a cursor per (connection,
// mailbox); a full send queue pauses a subscription until the next pump (every 100 ms).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "crypto/sign.h"
#include "net/options.h"
#include "relay/config.h"
#include "util/clock.h"
#include "util/result.h"

namespace bc::relay {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  net::Options net;
};

struct ServerStats {
  std::uint64_t commits = 0;        // group-commit transactions
  std::uint64_t puts_committed = 0;
  std::uint64_t acks_committed = 0;
  std::uint64_t max_batch = 0;      // most PUTs and ACKs in one transaction
  std::chrono::microseconds commit_time{0};  // summed over commits
  std::uint64_t delivered = 0;      // DELIVER messages queued to subscribers
  std::uint64_t connections = 0;    // open now
  // What the store holds, read by the store thread about once a second.
  std::int64_t mailboxes = 0;
  std::int64_t items = 0;
  std::int64_t bytes = 0;
  // ERROR replies sent, by code name (wire::relay::error_code_name), since start.
  std::map<std::string, std::uint64_t> refusals;
};

class Server {
 public:
  // Opens (creating) the database at db_path and listens. The clock is the wall time of
  // stored_at and expiry; it must outlive the server.
  static util::Result<std::unique_ptr<Server>> start(const crypto::SigningKey& key,
                                                     const std::filesystem::path& db_path, Config config,
                                                     ServerOptions options, const util::Clock& clock);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  ServerStats stats() const;
  // Closes every connection, drops PUTs and ACKs not yet committed (never answered, so their
  // senders send them again), closes the database. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bc::relay
