#include "node/address_book.h"

#include <algorithm>

#include "util/host_port.h"

namespace bc::node {
namespace {

using store::AddressSource;

bool out_of_band(AddressSource s) { return s == AddressSource::invitation || s == AddressSource::manual; }

}  // namespace

std::optional<std::string> unusable_reason(const std::string& address, bool counterpart_local) {
  auto parsed = util::parse_host_port(address);
  if (!parsed.ok()) return "malformed";
  switch (util::host_scope(parsed->host)) {
    case util::HostScope::wildcard:
      return "a wildcard names no host";
    case util::HostScope::loopback:
      if (!counterpart_local) return "loopback, and the contact is not on this machine";
      return std::nullopt;
    case util::HostScope::link_local:
      if (!counterpart_local) return "link-local, and the contact is not on this machine";
      return std::nullopt;
    case util::HostScope::address:
    case util::HostScope::name:
      return std::nullopt;
  }
  return "unknown";
}

store::ContactAddress* AddressBook::find(const std::string& address) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const store::ContactAddress& e) { return e.address == address; });
  return it == entries_.end() ? nullptr : &*it;
}

AnnouncementOutcome AddressBook::apply_announcement(const std::vector<std::string>& announced,
                                                    bool counterpart_local, std::int64_t now_ms) {
  AnnouncementOutcome out;
  std::vector<std::string> usable;
  for (const auto& a : announced) {
    if (auto why = unusable_reason(a, counterpart_local)) {
      out.ignored.push_back(a + " (" + *why + ")");
    } else if (std::find(usable.begin(), usable.end(), a) == usable.end()) {
      usable.push_back(a);
    }
  }
  if (usable.empty()) return out;  // A1: nothing said, nothing forgotten

  const auto before = entries_;
  std::vector<store::ContactAddress> next;
  // Manual entries stay (A2), and keep their place.
  for (const auto& e : entries_) {
    if (e.source == AddressSource::manual) next.push_back(e);
  }
  for (const auto& a : usable) {
    if (std::any_of(next.begin(), next.end(), [&](const auto& e) { return e.address == a; })) continue;
    store::ContactAddress entry{a, AddressSource::announced, now_ms, std::nullopt};
    if (const auto* old = find(a)) {
      entry.added_at_ms = old->added_at_ms;
      entry.last_ok_ms = old->last_ok_ms;
    }
    next.push_back(std::move(entry));
  }
  // A3: what connected and is no longer said stays as a fallback.
  for (const auto& e : entries_) {
    if (e.source == AddressSource::manual || !e.last_ok_ms) continue;
    if (std::any_of(next.begin(), next.end(), [&](const auto& n) { return n.address == e.address; })) continue;
    store::ContactAddress fallback = e;
    fallback.source = AddressSource::worked;
    next.push_back(std::move(fallback));
  }
  if (next.size() > kMaxKnownAddresses) next.resize(kMaxKnownAddresses);  // A5
  entries_ = std::move(next);
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = find(it->first) == nullptr ? failures_.erase(it) : std::next(it);
  }
  out.changed = entries_ != before;
  return out;
}

util::Result<void> AddressBook::add_manual(const std::string& address, std::int64_t now_ms) {
  if (auto* e = find(address)) {
    e->source = AddressSource::manual;
    return {};
  }
  if (entries_.size() >= kMaxKnownAddresses) {
    // Make room by dropping an announced or fallback entry; out-of-band ones are the operator's.
    auto victim = std::find_if(entries_.rbegin(), entries_.rend(),
                               [](const auto& e) { return !out_of_band(e.source); });
    if (victim == entries_.rend()) {
      return util::make_error(util::Errc::invalid_argument,
                              "the contact has " + std::to_string(kMaxKnownAddresses) +
                                  " addresses given out of band already; remove one first");
    }
    entries_.erase(std::next(victim).base());
  }
  entries_.push_back({address, AddressSource::manual, now_ms, std::nullopt});
  return {};
}

bool AddressBook::remove(const std::string& address) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.address == address; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  failures_.erase(address);
  return true;
}

void AddressBook::record_connected(const std::string& address, std::int64_t now_ms) {
  auto* e = find(address);
  if (e == nullptr) return;
  e->last_ok_ms = now_ms;
  failures_.erase(address);
  std::erase_if(entries_, [&](const store::ContactAddress& x) {
    return x.source == AddressSource::worked && x.address != address;
  });
}

void AddressBook::record_failed(const std::string& address, std::string error, std::int64_t now_ms) {
  if (find(address) == nullptr) return;
  failures_[address] = AddressFailure{now_ms, std::move(error)};
}

std::vector<std::string> AddressBook::dial_list() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.address);
  return out;
}

bool AddressBook::oob_says_local() const {
  return std::any_of(entries_.begin(), entries_.end(), [](const store::ContactAddress& e) {
    if (!out_of_band(e.source)) return false;
    auto parsed = util::parse_host_port(e.address);
    return parsed.ok() && util::host_scope(parsed->host) == util::HostScope::loopback;
  });
}

const AddressFailure* AddressBook::failure(const std::string& address) const {
  auto it = failures_.find(address);
  return it == failures_.end() ? nullptr : &it->second;
}

}  // namespace bc::node
