#include "backchannel/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace backchannel {

struct Client::Impl {
  int fd = -1;
  int timeout_ms = 0;
  std::string buffer;
  std::string name;

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  void send_line(const std::string& line) {
    std::string data = line + "\n";
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw ClientError("io", std::string("writing to the node: ") + std::strerror(errno));
      off += static_cast<std::size_t>(n);
    }
  }

  std::string read_line() {
    for (;;) {
      if (auto nl = buffer.find('\n'); nl != std::string::npos) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) throw ClientError("io", "the node did not answer within " + std::to_string(timeout_ms) + " ms");
      if (r < 0) throw ClientError("io", std::string("poll: ") + std::strerror(errno));
      char buf[64 * 1024];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) throw ClientError("closed", "the node closed the connection");
      if (n < 0) throw ClientError("io", std::string("reading from the node: ") + std::strerror(errno));
      buffer.append(buf, static_cast<std::size_t>(n));
    }
  }

  static nlohmann::json checked(const std::string& line) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) throw ClientError("io", "the node answered something not JSON");
    if (!doc.value("ok", false)) {
      const auto& e = doc.contains("error") ? doc["error"] : nlohmann::json::object();
      throw ClientError(e.value("code", "unknown"), e.value("message", ""));
    }
    return doc;
  }

  nlohmann::json call(const nlohmann::json& request) {
    send_line(request.dump());
    return checked(read_line());
  }
};

namespace {

nlohmann::json submission_json(const Submission& s) {
  nlohmann::json r = {{"op", "submit"}, {"contact", s.contact}, {"precedence", s.precedence}};
  if (s.text) r["text"] = *s.text;
  if (s.file) r["file"] = *s.file;
  if (!s.token.empty()) r["token"] = s.token;
  if (s.surge) r["surge"] = true;
  return r;
}

Submitted submitted_of(const nlohmann::json& doc) {
  return {doc.value("seq", std::uint64_t{0}), doc.value("duplicate", false)};
}

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Client Client::connect(const std::string& socket_path, int timeout_ms) {
  auto impl = std::make_unique<Impl>();
  impl->timeout_ms = timeout_ms;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) throw ClientError("io", "socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  impl->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl->fd < 0) throw ClientError("io", std::string("socket: ") + std::strerror(errno));
  if (::connect(impl->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw ClientError("not_running", "no node answers on " + socket_path + ": " + std::strerror(errno));
  }
  auto hello = impl->call({{"op", "hello"}, {"api", kApiVersion}});
  impl->name = hello.value("name", "");
  return Client(std::move(impl));
}

const std::string& Client::node_name() const { return impl_->name; }

Submitted Client::submit(const Submission& submission) {
  return submitted_of(impl_->call(submission_json(submission)));
}

std::vector<Submitted> Client::submit_many(const std::vector<Submission>& submissions, std::size_t window) {
  std::vector<Submitted> out;
  out.reserve(submissions.size());
  std::size_t sent = 0;
  while (out.size() < submissions.size()) {
    while (sent < submissions.size() && sent - out.size() < std::max<std::size_t>(window, 1)) {
      impl_->send_line(submission_json(submissions[sent++]).dump());
    }
    out.push_back(submitted_of(Impl::checked(impl_->read_line())));
  }
  return out;
}

Deliveries Client::deliveries(const DeliveriesRequest& request) {
  nlohmann::json r = {{"op", "deliveries"}, {"max", request.max}, {"wait_ms", request.wait_ms}};
  if (!request.consumer.empty()) r["consumer"] = request.consumer;
  if (request.after) r["after"] = *request.after;
  auto doc = impl_->call(r);
  Deliveries out;
  out.cursor = doc.value("cursor", std::int64_t{0});
  for (const auto& m : doc.value("messages", nlohmann::json::array())) {
    Message msg;
    msg.id = m.value("id", std::int64_t{0});
    msg.from = m.value("from", "");
    msg.seq = m.value("seq", std::uint64_t{0});
    msg.precedence = m.value("precedence", "");
    msg.sent_at_ms = m.value("sent_at_ms", std::int64_t{0});
    msg.delivered_at_ms = m.value("delivered_at_ms", std::int64_t{0});
    msg.kind = m.value("kind", "");
    msg.text = m.value("text", "");
    msg.file_name = m.value("file_name", "");
    msg.size = m.value("size", std::uint64_t{0});
    msg.data_base64 = m.value("data_b64", "");
    out.messages.push_back(std::move(msg));
  }
  return out;
}

void Client::ack(const std::string& consumer, std::int64_t id) {
  impl_->call({{"op", "ack"}, {"consumer", consumer}, {"id", id}});
}

std::string Client::call_raw(const std::string& json_line) {
  impl_->send_line(json_line);
  return impl_->read_line();
}

}  // namespace backchannel
