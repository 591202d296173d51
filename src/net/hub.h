// Internal to net/: what connections, listeners and dialers need from the Service that owns
// them. Every member is called on the I/O thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "net/options.h"
#include "net/types.h"
#include "util/bytes.h"

namespace bc::net::detail {

class Connection;

class Hub {
 public:
  virtual ~Hub() = default;

  virtual const Options& options() const = 0;
  virtual const PeerKey& self_key() const = 0;

  virtual ConnectionId next_id() = 0;
  // Pre-authentication slots of inbound connections, by remote IP address: reserved at the
  // TCP accept (false: over a cap, refuse at once), released once authenticated or finished.
  virtual bool reserve_pre_auth(const std::string& source) = 0;
  virtual void release_pre_auth(const std::string& source) = 0;
  virtual bool is_trusted(const PeerKey& key) const = 0;
  // A new connection, before its handshakes, so that stop() can abort it.
  virtual std::shared_ptr<Connection> track(std::shared_ptr<Connection> connection) = 0;
  // Both handshakes are done: keep the connection, or refuse it (stopping, duplicate).
  virtual bool admit(const std::shared_ptr<Connection>& connection) = 0;
  // The connection was kept: tell the application. False if its handler threw.
  virtual bool announce(const Connection& connection) = 0;
  virtual void deliver(ConnectionId id, util::Bytes message) = 0;
  // The last word of every tracked connection, admitted or not.
  virtual void finished(const Connection& connection, const CloseReason& reason) = 0;

  // With collapse_duplicates: a dial to this peer should wait, because a connection that the
  // tie-break keeps over ours already exists.
  virtual bool should_defer_dial(const PeerKey& peer) const = 0;
  virtual void dial_failed(DialId id, const std::string& error,
                           std::chrono::milliseconds retry_in) = 0;
};

}  // namespace bc::net::detail
