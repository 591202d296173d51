// The courier channel's two operations on one Link (docs/architecture.md "The courier"):
// writing a sealed bundle of what the contact is owed, and taking one in. Both run where the
// Link is driven, so one writer drives it: the CLI runs them with the node stopped (holding
// the node's lock, cli/cmd_courier.cpp), a running node in its loop (control ops
// courier_export / courier_import).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "channel/courier_bundle.h"
#include "link/link.h"
#include "session/identity.h"
#include "session/session_limits.h"
#include "store/contacts.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"

namespace bc::node {

inline constexpr std::chrono::seconds kDefaultBundleLifetime{14 * 24 * 3600};

// Told how far a long courier step has come: stage ("sealing", "encrypting", "writing",
// "reading", "opening", "applying"), and done of total units in it (envelopes, or 0/1 then 1/1
// for a step done in one go). Called on the thread doing the work; it must not throw.
using CourierProgress = std::function<void(std::string_view stage, std::size_t done, std::size_t total)>;

// A split export (--out a folder, or a name with this in it, replaced by the part's number)
// carries at most this many envelopes over all its parts. The parts may be imported in any
// order only while the receiver keeps the message keys of the envelopes it has not seen yet:
// session::kMaxSkipPerChain (1000) per chain, kMaxSkippedTotal over all; this leaves a margin
// for keys skipped on other channels. What does not fit waits for the next export.
inline constexpr std::size_t kMaxSplitEnvelopes = 900;
static_assert(kMaxSplitEnvelopes < session::kMaxSkipPerChain);
inline constexpr std::string_view kPartPlaceholder = "{n}";

struct CourierExportOptions {
  // A new file; or a folder or a name with kPartPlaceholder: the export is split into as many
  // bundles as it takes, each at most max_size (see split()).
  std::filesystem::path out;
  std::size_t max_size = channel::courier::kMaxBundleSize;
  std::optional<std::size_t> pad_to;  // exactly this size (else the smallest power-of-two bucket)
  std::chrono::seconds lifetime = kDefaultBundleLifetime;
  CourierProgress progress;  // optional
  // For paper (courier export --qr): one bundle in a paper bucket (4 to 16 KiB; max_size and
  // pad_to do not apply), carrying what fits of the load by precedence.
  bool paper = false;
  bool split() const;
};

struct CourierPart {
  std::string bundle_id;  // hex
  std::filesystem::path file;
  std::size_t size = 0;
  std::size_t items = 0;  // envelopes and the HELLO
};

struct CourierExported {
  std::vector<CourierPart> bundles;  // one, or the parts of a split export
  std::string bundle_id;             // hex, of the first
  std::size_t size = 0;              // of the first
  std::size_t envelopes = 0;  // besides the HELLO, in all
  bool hello = false;
  std::size_t messages = 0;     // outgoing messages with a chunk in it
  std::size_t receipts = 0;     // signed receipts in it
  std::size_t chunks_left = 0;  // for a next bundle
  std::int64_t expires_at_ms = 0;
};

// What the control op and the CLI report of an export (docs/api.md courier_export).
nlohmann::json exported_json(const CourierExported& done);

// Takes the contact's courier load from link, seals it and writes it to opt.out (a new file,
// mode 0600, fsynced, linked into place), then records the bundle as written out. Call between
// the Link's inputs.
util::Result<CourierExported> courier_export(store::Store& store, const session::Identity& self,
                                             const store::Contact& contact, link::Link& link,
                                             const CourierExportOptions& opt, util::WallTime now);

// With no node running: the invitee's side of a link that has not started yet (a contact added
// from an invitation, no node run since) starts here, as the node would start it when it loads
// the contact: the session from the invitation and the HELLO queued, in one transaction. The
// HELLO tells the inviter no address (a link begun by hand); the nodes announce theirs once they
// run. Nothing happens when the session exists already.
util::Result<void> courier_start_session(store::Store& store, const session::Identity& self,
                                         const store::Contact& contact);

// Reads a bundle file (at most kMaxBundleSize, refused unread above) and opens it for this home.
struct CourierFile {
  channel::courier::Opened opened;
  std::size_t size = 0;
};
util::Result<CourierFile> courier_read(const std::filesystem::path& path, const session::Identity& self,
                                       const CourierProgress& progress = {});
// The same for a bundle's bytes already in memory (a paper bundle put back together).
util::Result<CourierFile> courier_open(util::ByteView bytes, const session::Identity& self);

struct CourierImported {
  std::string bundle_id;
  std::size_t envelopes = 0;
  std::size_t applied = 0;   // opened and applied by the Link
  std::size_t refused = 0;   // opened, but refused
  std::size_t not_ours = 0;  // did not open (already opened before: a duplicate)
  bool hello = false;
};

// Takes an opened bundle from contact in, all or nothing: refused (nothing changes) when it has
// expired or was imported before; otherwise its envelopes go to link.receive_many on
// link::kCourierChannel as one batch whose transaction also records the bundle id (the
// seen-set). The HELLO it may carry is not fed here (a session exists already). The caller takes
// the Link's events afterwards.
util::Result<CourierImported> courier_import(store::Store& store, const store::Contact& contact, link::Link& link,
                                             const CourierFile& bundle, util::WallTime now,
                                             const CourierProgress& progress = {});

// With no node running (the caller holds the node's lock): the whole import as one store
// transaction: the HELLO the bundle may carry for one of our open invitations (pinning the
// invitee as a new contact, like the node's HELLO acceptor), then courier_import on a Link opened
// for it. Refused, changing nothing, when the sender is no contact and brings no HELLO we accept.
struct CourierImportedAlone {
  CourierImported imported;
  std::string contact;
  bool new_contact = false;    // pinned from the bundle's HELLO
  std::size_t delivered = 0;   // incoming messages delivered
  std::size_t confirmed = 0;   // outgoing messages confirmed by receipts in it
};
util::Result<CourierImportedAlone> courier_import_alone(store::Store& store, const session::Identity& self,
                                                        const CourierFile& bundle, util::WallTime now,
                                                        const CourierProgress& progress = {});

}  // namespace bc::node
