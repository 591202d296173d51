#include "node/courier.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crypto/random.h"
#include "node/hello_info.h"
#include "node/sqlite_link_store.h"
#include "session/session_start.h"
#include "store/courier_bundles.h"
#include "store/invitations.h"
#include "store/messages.h"
#include "util/duration.h"
#include "util/hex.h"
#include "wire/envelope.h"

namespace bc::node {
namespace courier = channel::courier;

namespace {

util::Result<void> write_all(int fd, util::ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::make_error(util::Errc::io, std::string("write: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// A new file at path with exactly data, durable before it appears under its name: written to a
// temporary name beside it, fsynced, linked into place (refused when path exists), the folder
// fsynced. A crash leaves either no bundle or the whole one (and perhaps a stray temporary).
util::Result<void> write_new_file(const std::filesystem::path& path, util::ByteView data) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::filesystem::path tmp =
      dir / ("." + path.filename().string() + ".tmp-" + util::hex_encode(crypto::random_bytes(6)));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return util::make_error(util::Errc::io, "cannot write in " + dir.string() + ": " + std::strerror(errno));
  auto written = write_all(fd, data);
  const bool synced = written.ok() && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(tmp.c_str());
    return written.ok() ? util::make_error(util::Errc::io, "cannot write " + tmp.string()) : written.error();
  }
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      return util::make_error(util::Errc::already_exists,
                              path.string() + " exists already; give --out a new file name");
    }
    return util::make_error(util::Errc::io, "cannot create " + path.string() + ": " + std::strerror(err));
  }
  ::unlink(tmp.c_str());
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

// The largest bucket (a power of two from 64 KiB) no larger than max_size.
std::size_t largest_bucket(std::size_t max_size) {
  std::size_t size = courier::kMinBundleSize;
  while (size * 2 <= max_size && size * 2 <= courier::kMaxBundleSize) size *= 2;
  return size;
}

}  // namespace

namespace {

// The files of a split export: "{n}" in the pattern replaced by the part's number, or in a
// folder, one name per part with a tag shared by the set (so sets do not collide).
std::vector<std::filesystem::path> part_names(const std::filesystem::path& out, std::size_t count) {
  std::vector<std::filesystem::path> names;
  const std::string pattern = out.string();
  const std::string tag = util::hex_encode(crypto::random_bytes(4));
  for (std::size_t i = 1; i <= count; ++i) {
    const std::string n = std::to_string(i);
    if (auto at = pattern.find(kPartPlaceholder); at != std::string::npos) {
      std::string name = pattern;
      for (; at != std::string::npos; at = name.find(kPartPlaceholder, at + n.size())) {
        name.replace(at, kPartPlaceholder.size(), n);
      }
      names.emplace_back(name);
    } else {
      names.push_back(out / ("courier-" + tag + "-" + n + "-of-" + std::to_string(count) + ".bundle"));
    }
  }
  return names;
}

}  // namespace

nlohmann::json exported_json(const CourierExported& done) {
  auto parts = nlohmann::json::array();
  for (const auto& p : done.bundles) {
    parts.push_back({{"id", p.bundle_id}, {"file", p.file.string()}, {"size", p.size}, {"items", p.items}});
  }
  return {{"id", done.bundle_id},         {"size", done.size},         {"envelopes", done.envelopes},
          {"hello", done.hello},          {"messages", done.messages}, {"receipts", done.receipts},
          {"chunks_left", done.chunks_left}, {"expires_at_ms", done.expires_at_ms}, {"bundles", parts}};
}

bool CourierExportOptions::split() const {
  return out.string().find(kPartPlaceholder) != std::string::npos || std::filesystem::is_directory(out);
}

util::Result<CourierExported> courier_export(store::Store& store, const session::Identity& self,
                                             const store::Contact& contact, link::Link& link,
                                             const CourierExportOptions& opt, util::WallTime now) {
  if (opt.paper && (opt.pad_to || opt.split())) {
    return util::make_error(util::Errc::invalid_argument, "a paper bundle is one file in a paper bucket: no --pad-to, no split");
  }
  if (opt.pad_to && (*opt.pad_to < courier::kMinBundleSize || *opt.pad_to > courier::kMaxBundleSize)) {
    return util::make_error(util::Errc::invalid_argument, "--pad-to must be 64 KiB to 256 MiB");
  }
  if (!opt.paper && opt.max_size < courier::kMinBundleSize) {
    return util::make_error(util::Errc::invalid_argument, "--max-size must be at least 64 KiB (the smallest bundle)");
  }
  if (opt.pad_to && *opt.pad_to > opt.max_size) {
    return util::make_error(util::Errc::invalid_argument, "--pad-to is larger than --max-size");
  }
  const bool split = opt.split();
  if (!split && std::filesystem::exists(opt.out)) {
    return util::make_error(util::Errc::already_exists, opt.out.string() + " exists already; give --out a new file name");
  }
  const std::size_t limit = opt.paper ? courier::kMaxPaperBundleSize : opt.pad_to ? *opt.pad_to : largest_bucket(opt.max_size);
  const bool hello = link.hello_pending();
  // Each part carries the HELLO (a part may be the first to arrive), so room for one less.
  const std::size_t per_part = courier::items_capacity(limit) - (hello ? 1 : 0);
  const std::size_t room = split ? kMaxSplitEnvelopes : per_part;
  std::function<void(std::size_t, std::size_t)> sealing;
  if (opt.progress) sealing = [&](std::size_t done, std::size_t total) { opt.progress("sealing", done, total); };
  auto load = link.take_courier(room, now, sealing);
  if (!load.ok()) return load.error();
  if (load->envelopes.empty() && !load->hello) {
    return util::make_error(util::Errc::not_found, "nothing to carry to " + contact.alias +
                                                       ": no message, ACK or receipt is owed to it");
  }
  std::vector<std::vector<courier::Item>> parts;
  for (std::size_t i = 0; i < load->envelopes.size() || parts.empty(); i += per_part) {
    std::vector<courier::Item>& items = parts.emplace_back();
    if (load->hello) items.push_back({courier::ItemKind::hello, *load->hello});
    const std::size_t end = std::min(load->envelopes.size(), i + per_part);
    for (std::size_t k = i; k < end; ++k) items.push_back({courier::ItemKind::envelope, std::move(load->envelopes[k])});
  }
  std::vector<std::filesystem::path> files = split ? part_names(opt.out, parts.size()) : std::vector{opt.out};
  for (const auto& f : files) {
    if (std::filesystem::exists(f)) {
      return util::make_error(util::Errc::already_exists, f.string() + " exists already: nothing written");
    }
  }

  const std::int64_t created_at_ms = util::to_unix_ms(now);
  const std::int64_t expires_at_ms =
      created_at_ms + std::chrono::duration_cast<std::chrono::milliseconds>(opt.lifetime).count();
  CourierExported out;
  std::vector<store::CourierBundleRow> rows;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const auto& items = parts[p];
    const std::size_t size = opt.paper    ? courier::paper_bucket_for(items.size())
                             : opt.pad_to ? *opt.pad_to
                                          : courier::bucket_for(items.size());
    courier::Header header;
    header.sender = self.signing.public_key();
    header.recipient = contact.identity_key;
    crypto::random_fill(header.id);
    header.created_at_ms = created_at_ms;
    header.expires_at_ms = expires_at_ms;
    auto sealed = courier::seal(header, items, self.signing, contact.prekey, size);
    if (!sealed.ok()) return sealed.error();
    if (opt.progress) opt.progress("encrypting", p + 1, parts.size());
    // A part already written stays: it is whole and importable on its own (its envelopes' keys
    // are spent either way; the next export carries what it held again).
    if (auto w = write_new_file(files[p], *sealed); !w.ok()) return w.error();
    if (opt.progress) opt.progress("writing", p + 1, parts.size());

    store::CourierBundleRow& row = rows.emplace_back();
    row.bundle_id.assign(header.id.begin(), header.id.end());
    row.contact_id = contact.id;
    row.created_at_ms = created_at_ms;
    row.expires_at_ms = expires_at_ms;
    row.at_ms = created_at_ms;
    row.size = static_cast<std::int64_t>(size);
    row.envelopes = static_cast<std::int64_t>(items.size());
    out.bundles.push_back({util::hex_encode(header.id), files[p], size, items.size()});
  }
  // Only `status` counts and `log`'s sent times rest on this: the files are written already.
  try {
    (void)store.transaction([&] {
      for (const auto& row : rows) store::CourierBundles(store).record(row);
      store::Messages(store, contact.id).mark_sent(load->seqs, created_at_ms);
      return util::Result<void>{};
    });
  } catch (const std::exception& e) {
    spdlog::warn("courier bundle for {} written, but not counted in the store: {}", contact.alias, e.what());
  }

  out.bundle_id = out.bundles.front().bundle_id;
  out.size = out.bundles.front().size;
  out.envelopes = load->envelopes.size();
  out.hello = load->hello.has_value();
  out.messages = load->seqs.size();
  out.receipts = load->receipts;
  out.chunks_left = load->chunks_left;
  out.expires_at_ms = expires_at_ms;
  return out;
}

util::Result<void> courier_start_session(store::Store& store, const session::Identity& self,
                                         const store::Contact& contact) {
  SqliteLinkStore link_store(store, contact.id);
  if (link_store.session_state() || !contact.has_invite_secret) return {};
  const auto invite_secret = store::Contacts(store).invite_secret(contact.id);
  if (!invite_secret) return {};
  const session::LocalKeys keys{self.signing, self.prekey, self.prekey_sig};
  session::PeerKeys inviter{contact.identity_key, contact.prekey, contact.prekey_sig};
  if (contact.inviter_kem_key_hash) inviter.kem = session::KemCommitment{*contact.inviter_kem_key_hash, contact.inviter_kem_key};
  auto start = session::start_as_invitee(keys, inviter, invite_secret->view(),
                                         encode_hello_info(HelloInfo{self.name, {}}));
  if (!start.ok()) return start.error();
  const util::Bytes hello(start->hello.begin(), start->hello.end());
  try {
    link_store.transaction([&] {
      link_store.set_session_state(start->session.serialize().view());
      link_store.set_hello(hello);
      store::Contacts(store).clear_invite_secret(contact.id);
      store::Contacts(store).set_post_quantum(contact.id, start->post_quantum);
    });
  } catch (const std::exception& e) {
    return util::make_error(util::Errc::store, std::string("saving the session: ") + e.what());
  }
  return {};
}

util::Result<CourierFile> courier_read(const std::filesystem::path& path, const session::Identity& self,
                                       const CourierProgress& progress) {
  auto step = [&](std::string_view stage, std::size_t done) {
    if (progress) progress(stage, done, 1);
  };
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return util::make_error(util::Errc::not_found, "cannot read " + path.string() + ": " + ec.message());
  if (size > courier::kMaxBundleSize || size < courier::kMinPaperBundleSize) {
    return util::make_error(util::Errc::bad_format, "not a courier bundle: " + path.string() + " is " +
                                                        std::to_string(size) + " bytes (a bundle is 4 KiB to 256 MiB)");
  }
  step("reading", 0);
  std::ifstream in(path, std::ios::binary);
  util::Bytes bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!in || in.gcount() != static_cast<std::streamsize>(size)) {
    return util::make_error(util::Errc::io, "cannot read " + path.string());
  }
  step("reading", 1);
  step("opening", 0);
  // The contact seals to the prekey it last heard of: ours now, or one still in its grace.
  std::vector<const crypto::DhKeyPair*> prekeys{&self.prekey};
  for (const auto& older : self.older_prekeys) prekeys.push_back(&older.prekey);
  auto opened = courier::open(bytes, self.signing.public_key(), prekeys);
  if (!opened.ok()) return opened.error();
  step("opening", 1);
  return CourierFile{std::move(*opened), static_cast<std::size_t>(size)};
}

util::Result<CourierFile> courier_open(util::ByteView bytes, const session::Identity& self) {
  auto opened = courier::open(bytes, self.signing.public_key(), self.prekey);
  if (!opened.ok()) return opened.error();
  return CourierFile{std::move(*opened), bytes.size()};
}

util::Result<CourierImported> courier_import(store::Store& store, const store::Contact& contact, link::Link& link,
                                             const CourierFile& bundle, util::WallTime now,
                                             const CourierProgress& progress) {
  const courier::Header& h = bundle.opened.header;
  const std::string id = util::hex_encode(h.id);
  const std::int64_t now_ms = util::to_unix_ms(now);
  if (now_ms >= h.expires_at_ms) {
    return util::make_error(util::Errc::expired, "bundle " + id + " from " + contact.alias + " expired at " +
                                                     util::format_utc(h.expires_at_ms / 1000) + ": nothing imported");
  }
  store::CourierBundles bundles(store);
  if (auto seen = bundles.find_incoming(h.id)) {
    return util::make_error(util::Errc::already_exists, "bundle " + id + " from " + contact.alias +
                                                            " was imported already, at " +
                                                            util::format_utc(seen->at_ms / 1000) + ": nothing changed");
  }
  CourierImported out;
  out.bundle_id = id;
  std::vector<std::pair<link::ChannelId, util::ByteView>> batch;
  for (const courier::Item& item : bundle.opened.items) {
    if (item.kind == courier::ItemKind::hello) {
      out.hello = true;
      continue;
    }
    batch.emplace_back(link::kCourierChannel, util::ByteView(item.envelope));
  }
  out.envelopes = batch.size();
  store::CourierBundleRow row;
  row.bundle_id.assign(h.id.begin(), h.id.end());
  row.incoming = true;
  row.contact_id = contact.id;
  row.created_at_ms = h.created_at_ms;
  row.expires_at_ms = h.expires_at_ms;
  row.at_ms = now_ms;
  row.size = static_cast<std::int64_t>(bundle.size);
  row.envelopes = static_cast<std::int64_t>(bundle.opened.items.size());
  std::function<void(std::size_t)> applying;
  if (progress) applying = [&](std::size_t done) { progress("applying", done, batch.size()); };
  auto outcomes = link.receive_many(batch, now, [&] { bundles.record(row); }, applying);
  if (!link.last_batch_committed()) {
    return util::make_error(util::Errc::store, "importing bundle " + id + " failed and was rolled back: nothing changed");
  }
  for (const auto& o : outcomes) {
    switch (o.outcome) {
      case link::Link::Outcome::applied: ++out.applied; break;
      case link::Link::Outcome::refused: ++out.refused; break;
      case link::Link::Outcome::not_ours: ++out.not_ours; break;
    }
  }
  return out;
}

namespace {

// The inviter's side of a HELLO that came in a bundle, inside the caller's transaction: the same
// steps as the node's HELLO acceptor (hello_acceptor.cpp): the invitee pinned as an unverified
// contact, the invitation consumed, the session stored.
util::Result<store::Contact> accept_bundle_hello(store::Store& store, const session::Identity& self,
                                                 util::ByteView hello, util::WallTime now) {
  const std::int64_t now_s = util::to_unix_seconds(now);
  store::Invitations invitations(store);
  auto open = invitations.open_secrets_at(now_s);
  std::vector<session::OpenInvitation> candidates;
  for (const auto& inv : open) {
    candidates.push_back({util::as_bytes(inv.id), inv.secret.view(),
                          inv.kem_key_hash ? util::ByteView(*inv.kem_key_hash) : util::ByteView{}});
  }
  auto accepted = session::accept_hello_any(session::local_keys_of(self), hello, candidates);
  if (!accepted.ok()) {
    return util::make_error(util::Errc::refused, "the bundle's HELLO is for no open invitation of ours (" +
                                                     accepted.error().message + "): nothing imported");
  }
  auto info = decode_hello_info(accepted->reachability);
  if (!info.ok()) return util::make_error(util::Errc::bad_format, "the bundle's HELLO: " + info.error().message);
  store::Contacts contacts(store);
  store::Contact c;
  c.alias = contacts.free_alias(info->name);
  c.party_name = info->name;
  c.identity_key = accepted->invitee.identity;
  c.prekey = accepted->invitee.prekey;
  c.prekey_sig = accepted->invitee.prekey_signature;
  c.reachability = session::encode_reachability(info->reachability);
  c.added_at = now_s;
  c.post_quantum = accepted->post_quantum;
  auto added = contacts.add(c);
  if (!added.ok()) return added.error();
  c.id = *added;
  if (auto consumed = invitations.consume(util::as_string(accepted->invitation_id), c.id, now_s); !consumed.ok()) {
    return consumed.error();
  }
  SqliteLinkStore messages(store, c.id);
  messages.set_session_state(accepted->session.serialize().view());
  messages.set_hello(std::nullopt);
  return c;
}

}  // namespace

util::Result<CourierImportedAlone> courier_import_alone(store::Store& store, const session::Identity& self,
                                                        const CourierFile& bundle, util::WallTime now,
                                                        const CourierProgress& progress) {
  const auto& items = bundle.opened.items;
  const bool has_hello = !items.empty() && items.front().kind == channel::courier::ItemKind::hello;
  return store.transaction([&]() -> util::Result<CourierImportedAlone> {
    CourierImportedAlone out;
    auto contact = store::Contacts(store).find_by_identity(bundle.opened.header.sender);
    if (contact && !SqliteLinkStore(store, contact->id).session_state()) contact.reset();
    if (!contact && has_hello) {
      auto pinned = accept_bundle_hello(store, self, items.front().envelope, now);
      if (!pinned.ok()) return pinned.error();
      contact = std::move(*pinned);
      out.new_contact = true;
    }
    if (!contact) {
      return util::make_error(util::Errc::refused,
                              "the bundle is from an unknown sender (not one of our contacts): nothing imported");
    }
    out.contact = contact->alias;
    SqliteLinkStore link_store(store, contact->id);
    auto opened = link::Link::open(link_store, self.signing, contact->identity_key, link::EngineConfig{}, now);
    if (!opened.ok()) return opened.error();
    link::Link& l = **opened;
    (void)l.take_events(now);  // the start-up reports of a Link opened for this import
    auto imported = courier_import(store, *contact, l, bundle, now, progress);
    if (!imported.ok()) return imported.error();
    out.imported = *imported;
    for (const auto& e : l.take_events(now)) {
      if (std::holds_alternative<link::Delivered>(e)) ++out.delivered;
      if (const auto* c = std::get_if<link::Confirmed>(&e)) out.confirmed += c->seqs.size();
    }
    return out;
  });
}

}  // namespace bc::node
