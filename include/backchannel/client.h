// backchannel's application interface for C++ programs (docs/api.md, api version 1): a
// connection to a node's control socket that submits messages (many in flight), reads
// deliveries from a consumer's cursor, acknowledges them and reads events. Standalone: this
// header needs only the standard library; link the `backchannel_client` library.
//
//   backchannel::Client bc = backchannel::Client::connect("/var/lib/backchannel/control.sock");
//   auto queued = bc.submit({.contact = "moscow", .text = "Hold the line.", .precedence = "flash"});
//   for (;;) {
//     auto batch = bc.deliveries({.consumer = "archiver", .wait_ms = 20000});
//     for (const auto& m : batch.messages) { keep(m); bc.ack("archiver", m.id); }
//   }
//
// Not thread-safe: one thread per Client (open one per thread; a node serves 8 at once).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace backchannel {

inline constexpr int kApiVersion = 1;

// A refusal from the node, or a connection failure ("not_running", "closed", "io").
class ClientError : public std::runtime_error {
 public:
  ClientError(std::string code, const std::string& message)
      : std::runtime_error(code + ": " + message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct Submission {
  std::string contact;
  std::optional<std::string> text;  // exactly one of text and file
  std::optional<std::string> file;  // an absolute path the node reads
  std::string precedence = "routine";
  std::string token;  // optional: makes a retry idempotent
  // Under cover traffic: send at once, outside the slots, accepting that an observer of the
  // wire sees it (docs/api.md "submit"). The node logs it. No effect with cover off.
  bool surge = false;
};

struct Submitted {
  std::uint64_t seq = 0;
  bool duplicate = false;  // the token was seen before: nothing new was queued
};

struct DeliveriesRequest {
  std::string consumer;               // resume after its acked cursor, or
  std::optional<std::int64_t> after;  // after this id
  int max = 100;
  int wait_ms = 0;
};

struct Message {
  std::int64_t id = 0;
  std::string from;
  std::uint64_t seq = 0;
  std::string precedence;
  std::int64_t sent_at_ms = 0, delivered_at_ms = 0;
  std::string kind;       // "text" or "file"
  std::string text;       // text
  std::string file_name;  // file
  std::uint64_t size = 0;
  std::string data_base64;  // file bytes up to 1 MiB; empty for a larger file
};

struct Deliveries {
  std::int64_t cursor = 0;
  std::vector<Message> messages;
};

class Client {
 public:
  // Connects and says hello; throws ClientError ("not_running" when no node answers).
  static Client connect(const std::string& socket_path, int timeout_ms = 40'000);
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  const std::string& node_name() const;

  // Queues one message; returns once it is durable.
  Submitted submit(const Submission& submission);
  // Queues many, up to window in flight; the answers in order (a refusal throws, after which
  // the connection is not usable).
  std::vector<Submitted> submit_many(const std::vector<Submission>& submissions, std::size_t window = 128);

  Deliveries deliveries(const DeliveriesRequest& request);
  void ack(const std::string& consumer, std::int64_t id);

  // Any request as a JSON line; the answer's JSON line (refusals not thrown). For the requests
  // this class has no method for (events, status).
  std::string call_raw(const std::string& json_line);

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace backchannel
