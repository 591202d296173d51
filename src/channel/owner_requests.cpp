#include "channel/owner_requests.h"

#include <algorithm>
#include <utility>

namespace bc::channel {
namespace relay = wire::relay;

void OwnerRequests::add(relay::Message request, Answer done) {
  queue_.push_back(Request{std::move(request), std::move(done)});
}

util::Bytes OwnerRequests::take(std::uint32_t id) {
  Request r = std::move(queue_.front());
  queue_.pop_front();
  std::visit(
      [id](auto& m) {
        if constexpr (requires { m.request; }) m.request = id;
      },
      r.message);
  r.padded = padding_;
  util::Bytes bytes =
      r.padded ? relay::encode_padded(r.message, padded_size_) : relay::encode(r.message);
  sent_.insert_or_assign(id, std::move(r));
  return bytes;
}

std::optional<OwnerRequests::Answer> OwnerRequests::answered(std::uint32_t request) {
  auto it = sent_.find(request);
  if (it == sent_.end()) return std::nullopt;
  Answer done = std::move(it->second.done);
  sent_.erase(it);
  return done;
}

bool OwnerRequests::refused_padding(std::uint32_t request) {
  auto it = sent_.end();
  if (request == 0) {
    it = std::find_if(sent_.begin(), sent_.end(), [](const auto& s) { return s.second.padded; });
  } else if (auto found = sent_.find(request); found != sent_.end() && found->second.padded) {
    it = found;
  }
  if (it == sent_.end()) return false;
  padding_ = false;
  queue_.push_front(std::move(it->second));
  sent_.erase(it);
  return true;
}

std::vector<OwnerRequests::Answer> OwnerRequests::drop() {
  std::vector<Answer> out;
  for (auto& [id, r] : sent_) out.push_back(std::move(r.done));
  for (auto& r : queue_) out.push_back(std::move(r.done));
  sent_.clear();
  queue_.clear();
  return out;
}

}  // namespace bc::channel
