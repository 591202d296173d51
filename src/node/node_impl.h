// Internals of the node daemon (node.h), shared by its implementation files:
// node.cpp (creation, the loop), node_peers.cpp (contacts, sessions, reachability),
// node_receive.cpp (batches, envelopes, HELLO), node_transmit.cpp (sealing, sending, events),
// node_relays.cpp (relay channels), node_control.cpp (the control socket).
#pragma once

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "channel/relay_client.h"
#include "crypto/hash.h"
#include "link/content.h"
#include "link/link.h"
#include "net/service.h"
#include "node/advertise.h"
#include "node/alarm.h"
#include "node/config.h"
#include "node/control_protocol.h"
#include "node/control_server.h"
#include "node/hello_info.h"
#include "node/hello_refusals.h"
#include "node/inputs.h"
#include "node/linecheck.h"
#include "node/relay_set.h"
#include "node/home.h"
#include "node/metrics_server.h"
#include "node/metrics_text.h"
#include "node/node.h"
#include "node/prekey_ring.h"
#include "node/peer.h"
#include "session/session_start.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "store/relay_capabilities.h"
#include "store/relays.h"
#include "util/fingerprint.h"
#include "util/hex.h"
#include "util/log_throttle.h"
#include "wire/envelope.h"

namespace bc::node::detail {

constexpr auto kOutboxPollInterval = std::chrono::seconds{1};
// The longest the loop sleeps for a channel paced by a relay's limit (Channel::send_wait()).
constexpr auto kPacedWakeCap = std::chrono::milliseconds{50};
// How often the store's WAL is checkpointed and truncated (Store::checkpoint_truncate), so old
// page images, earlier session states among them, do not stay in store.db-wal for long.
constexpr auto kWalCheckpointInterval = std::chrono::minutes{5};
// CONTROL frames are not retransmitted: our reachability is repeated this often on a link with a
// connected channel, so a lost one (or one a restarted peer missed) is repaired.
constexpr auto kReannounceInterval = std::chrono::seconds{30};
// How often the loop looks whether our prekey is due for rotation or an old one for wiping.
constexpr auto kPrekeyCheckInterval = std::chrono::minutes{1};
// The longest wait between two attempts of a direct dial (net's backoff doubles up to it).
constexpr std::chrono::milliseconds kDirectRedialMax{2'000};

using util::to_unix_ms;
inline std::int64_t to_ms(util::WallTime t) { return to_unix_ms(t); }

inline std::string short_key(const crypto::SignPublicKey& k) { return util::short_fingerprint(k); }


}  // namespace bc::node::detail

namespace bc::node {

using namespace detail;  // NOLINT: the implementation files share these names

struct Node::Impl {
  Impl(Home h, session::Identity id, Config c, const util::Clock& clk)
      : home(std::move(h)), identity(std::move(id)), config(std::move(c)), clock(clk) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Home home;
  session::Identity identity;
  Config config;
  std::unique_ptr<store::Store> store;
  const util::Clock& clock;  // NodeOptions::clock, or the system's
  std::optional<std::string> listen_address;
  // What we tell contacts about reaching us directly (node/advertise.h); the flags are kept to
  // choose again when `invite --address` keeps new addresses while we run.
  std::vector<std::string> advertise_flags;
  Advertised advertised;
  int lock_fd = -1;
  // Stage stamps for the latency budget (util/trace.h): null unless BC_TRACE_FILE is set.
  // Declared before net, whose I/O thread records into it: destroyed after net stopped.
  std::unique_ptr<util::Trace> trace;

  std::unique_ptr<net::Service> net;
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<AlarmRunner> alarms;
  std::unique_ptr<MetricsServer> metrics;
  std::vector<PendingLinecheck> linechecks;
  struct ApiWaiter {
    ControlRequest request;
    std::shared_ptr<std::promise<std::string>> reply;
    std::chrono::nanoseconds deadline{0};  // clock.monotonic()
  };
  std::vector<ApiWaiter> api_waiters;
  std::deque<nlohmann::json> events_log;
  std::int64_t next_event_id = 1;
  bool api_news = false;  // an event (a delivery among them) was recorded since waiters last looked

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Input> inputs;
  // Read by net's I/O thread in is_known(): contacts' keys and whether a HELLO may come.
  std::mutex known_mu;
  std::set<crypto::SignPublicKey> known_keys;
  bool accepting_hellos = false;

  std::map<std::int64_t, std::unique_ptr<Peer>> peers;  // by contact id
  std::map<net::ConnectionId, net::ConnectionInfo> connections;
  util::WallTime last_outbox_poll{};
  util::WallTime last_wal_checkpoint{};
  util::WallTime last_prekey_check{};
  std::map<std::int64_t, OwnRelay> relays;  // by store id
  std::vector<store::RelayCapabilityRow> capability_rows;  // not revoked yet; refresh_writers()
  // Relay channel ids are handed out from 1 and never reused while the node runs, so a removed
  // relay's channel cannot be confused with a new one's in an engine.
  int next_relay_channel = 1;

  ~Impl() {
    metrics.reset();
    control.reset();
    relays.clear();  // joins the relay clients' threads before the queue goes
    if (net) net->stop();
    if (lock_fd >= 0) ::close(lock_fd);
  }

  void post(Input input);

  // node_create.cpp: the steps of Node::create, in order.
  util::Result<void> lock_home();
  util::Result<void> open_store_and_alarms();
  util::Result<void> open_trace();
  util::Result<void> start_net();
  util::Result<void> listen_direct(const std::optional<std::string>& flag);
  util::Result<void> choose_addresses(const std::vector<std::string>& flags);
  util::Result<void> load_links();
  util::Result<void> start_control();
  util::Result<void> start_metrics(const std::optional<std::string>& address);

  session::LocalKeys local_keys() const {
    return {identity.signing, identity.prekey, identity.prekey_sig, identity.kem ? &*identity.kem : nullptr};
  }

  link::EngineConfig engine_config(const std::string& contact) const;

  void refresh_known();

  // Loads (or reloads after a failed batch) a contact's session and engine from the store. An
  // invitee contact that has no session yet gets one here, with its HELLO, in one transaction.
  util::Result<void> load_peer(const store::Contact& contact);

  // node_direct.cpp: the direct channel's addresses (node/address_book.h).
  // Dials every address of the contact's book not dialled yet (dials reconnect by themselves)
  // and cancels the dials of addresses it no longer has. Call after every change of the book.
  void sync_dials(Peer& peer);
  // Whether the contact is on this machine (address_book.h, rule A4).
  bool counterpart_local(const Peer& peer) const;
  // The direct addresses of a HELLO or CONTROL reachability frame: applied to the book, saved,
  // dialled.
  void apply_announced(Peer& peer, const std::vector<std::string>& direct);
  // A connection with the contact was admitted: it carries the direct channel now (the dialled
  // address is recorded as working, rule A3/A6), and the Link hears of it.
  void attach_direct(Peer& peer, const net::ConnectionInfo& info);
  void handle_dial_failed(const NetDialFailed& in);
  // `contact address add|remove` changed a contact's book in the store.
  void reload_addresses(Peer& peer);
  // Chooses what we advertise again (at start, and when `invite --address` kept new addresses);
  // true when it changed.
  bool choose_advertised_now();
  nlohmann::json direct_status_json(const Peer& peer) const;

  // What we tell a contact about reaching us: the advertised addresses and our relay mailboxes,
  // each with the contact's own write capability there (made when it has none).
  session::Reachability own_reachability(std::int64_t contact_id);

  // Starts a client for every relay added to the store since, stops those removed; when the set
  // changed, tells every contact (CONTROL reachability) and reconnects channels.
  void load_relays();

  // "direct", "relay:<name>", or the number of a relay channel removed since.
  std::string channel_name(link::ChannelId channel);

  OwnRelay* relay_by_channel(link::ChannelId channel);

  // The contact's mailbox at our relay, if it told us one.
  const session::RelayMailbox* peer_mailbox(const Peer& peer, const OwnRelay& relay) const;

  // A relay channel is connected while our relay is subscribed and the contact has a mailbox at
  // the same relay. Tells the engine of every change; announce: tell the contact our
  // reachability when a channel came up (it may not know this mailbox yet).
  void sync_relay_channels(Peer& peer, bool announce);

  void handle_relay_state(const RelayStateChanged& in);

  // An envelope from our mailbox at a relay: queued in the relay's intake (relay_intake.h) for
  // open_relay_envelopes(), or dropped (and acknowledged) when too many wait there.
  void handle_relay_envelope(RelayDelivered& in);
  // Trial-opens what each relay's budget allows now, once per loop round after the inputs.
  void open_relay_envelopes();
  // One envelope from our mailbox at a relay. It names no contact: the session that opens it
  // tells whose it is (contacts sharing this relay first). Whatever happens, the item is
  // acknowledged after this round: an envelope no session opens now never will (a replay, a
  // forgery, or an envelope of a removed contact), and one that opened was consumed by a batch
  // that committed (or rolled back, when the sender's engine retransmits its frames anyway).
  void open_relay_envelope(OwnRelay& relay, const RelayIntake::Item& item);
  // How long until a relay's waiting envelope may be opened; nullopt when none waits.
  std::optional<std::chrono::nanoseconds> next_relay_opening();
  void log_relay_intake(OwnRelay& relay);

  void flush_relay_acks();

  // node_writers.cpp: the write capabilities of our mailboxes (node/relay_writers.h).
  // Recomputes which are live from the store (contacts, open invitations, capability rows).
  void refresh_writers();
  // The contact's current full capability at the relay, made (and stored, to be added) when it
  // has none.
  wire::relay::Capability contact_capability(std::int64_t contact_id, OwnRelay& relay);
  // Tells subscribed relays to add the live capabilities they lack and revoke the dead ones;
  // replaces contacts' capabilities due for rotation.
  void reconcile_capabilities();
  void handle_capability_answer(const RelayCapabilityAnswer& in);
  // The check before any public-key work: false when the envelope came through a capability of
  // no live contact or invitation (it is counted, logged at most once per interval, dropped).
  bool writer_admitted(OwnRelay& relay, const RelayDelivered& in, Writer& writer);
  nlohmann::json relays_status_json() const;

  void announce_reachability(Peer& peer);

  // A contact's CONTROL frame told us how to reach it now.
  void handle_reachability(Peer& peer, const util::Bytes& body);

  // node_prekeys.cpp: signed-prekey rotation (node/prekey_ring.h).
  PrekeyPolicy prekey_policy() const { return {config.prekey_rotation, config.prekey_grace}; }
  // On a schedule in the loop: wipes prekeys past their grace, rotates when due.
  void check_prekeys();
  // Rotates now and tells every contact (control op rotate_prekey): the reply's JSON.
  std::string rotate_prekey_now();
  // CONTROL key_update with our current prekey, sent with every reachability announcement.
  void announce_prekey(Peer& peer);
  void handle_prekey_announcement(Peer& peer, const util::Bytes& body);

  Peer* peer_by_key(const crypto::SignPublicKey& key);

  Peer* peer_by_connection(net::ConnectionId id);

  // An envelope for the peer's Link from a channel; false when it does not open under its session
  // (or the channel is dropped for this link: node/open_budget.h).
  bool deliver_to_link(Peer& peer, link::ChannelId channel, util::ByteView envelope);
  // After every receive of a Link: counts a forged or bridged envelope against the channel's
  // budget, logs it, and when the budget is spent drops the channel (conn: the direct
  // connection it came on, closed) and raises the alarm. True when the envelope was one of
  // those (it is not a HELLO: no further trial).
  bool note_costly(Peer& peer, link::ChannelId channel, const link::Link::Received& received,
                   std::optional<net::ConnectionId> conn);
  // Whether the channel is dropped for this link now (its envelopes are discarded unopened).
  bool channel_quarantined(Peer& peer, link::ChannelId channel);

  // A direct envelope no Link takes (receive_envelopes): a HELLO, or the connection is closed.
  void handle_envelope(net::ConnectionId conn, util::Bytes bytes);
  // Direct envelopes that arrived together: one batch (one transaction) per link.
  void receive_envelopes(const std::vector<NetMessage*>& messages);

  // Tries bytes as a HELLO for one of our open invitations. On success pins the invitee as a
  // contact (or, for a contact that invited us too, replaces our pending session when its key
  // wins the tie-break), consumes the invitation and stores the session, in one transaction.
  // conn: the direct connection it came on, whose key must be the invitee's; nullopt for a HELLO
  // from our relay mailbox (the invitation secret and the invitee's keys in the session start
  // are what admit it in both cases).
  bool try_hello(std::optional<net::ConnectionId> conn, const util::Bytes& bytes, Peer* existing);
  // Tries bytes as a HELLO for one of our invitations revoked or expired lately
  // (store::Invitations::refusable_secrets_at); when it is one, answers it with a signed refusal
  // into the invitee's mailbox at a relay we use, within the limits of HelloRefusals. True when
  // it opened as such a HELLO (answered or not).
  bool try_refuse_hello(const util::Bytes& bytes);
  // Tries bytes (from our relay mailbox) as the inviter's refusal of peer's pending HELLO; on
  // success shows it in status, logs it once and backs the HELLO's resends off. True when it was.
  bool try_hello_refusal(Peer& peer, util::ByteView bytes);
  HelloRefusals hello_refusals;
  // Sends peer's HELLO (given out by its Link at sent_at) on ch; on a relay channel asks for the
  // relay's answer, which comes back as a RelayHelloAnswer (node/hello_puts.cpp).
  void send_hello(Peer& peer, channel::Channel& ch, const util::Bytes& hello, util::WallTime sent_at);
  // Peer::parting_hello, when its time has come: see hello_acceptor.cpp.
  void send_parting_hello(Peer& peer, util::WallTime now);
  // A relay's answer to that PUT: a bad_capability refusal is shown in status, logged once per
  // HELLO send and backs the HELLO's resends off (Link::hello_refused); an OK erases it.
  void handle_hello_answer(const RelayHelloAnswer& in);
  // The relays' other refusals of HELLO PUTs (over quota: the invitation's 3 are stored and wait
  // for the inviter), which the relay client leaves to us: a line per minute at most.
  util::LogThrottle hello_put_refusal_log{std::chrono::seconds(60)};

  void handle_connected(const net::ConnectionInfo& info);

  void handle_closed(net::ConnectionId id, const std::string& reason);

  void transmit(Peer& peer);

  // Hands the Link's envelopes for channel to send until it has none, send refuses one, or the
  // channel must wait for room under its rate (ready() false: Channel::send_wait()).
  template <class Send, class Ready>
  void transmit_on(Peer& peer, link::ChannelId channel, util::WallTime now, Send&& send, Ready&& ready) {
    while (ready()) {
      auto envelope = peer.link->take_envelope(channel, now);
      if (!envelope) return;
      // The budget's "on the wire" stamp: the hand-off to the channel (net's I/O thread may
      // have written it before send() returns), kept once the channel took it.
      const std::int64_t handed_us = trace ? util::Trace::now_us() : 0;
      if (!send(*envelope)) {
        // Not connected or queue full: nothing it carried is lost (Link::mark_failed).
        peer.link->mark_failed(channel);
        return;
      }
      peer.link->mark_sent(channel);
      if (trace) {
        trace->record_at(handed_us, "wire", "link=" + peer.contact.alias + " " + util::Trace::envelope_key(*envelope));
      }
    }
  }

  void handle_events(Peer& peer);
  // send --surge / submit "surge": seq leaves outside the cover slots; logged. False when the
  // link has cover off (nothing to do).
  bool surge(Peer& peer, link::Seq seq);

  nlohmann::json status_json();

  // The answer to a control request, or nullopt when it comes later through reply (linecheck).
  std::optional<std::string> handle_control(const ControlRequest& request,
                                            const std::shared_ptr<std::promise<std::string>>& reply);

  // Starts a line check on every channel of the contact's link.
  std::optional<std::string> start_linecheck(const ControlRequest& request,
                                             const std::shared_ptr<std::promise<std::string>>& reply);
  void on_linecheck_reply(Peer& peer, const link::LinecheckReply& r);
  void on_linecheck_refused(Peer& peer, const link::LinecheckRefused& r);
  void log_linecheck_refusal(Peer& peer, link::ChannelId channel, const std::string& what);
  // Line check refusals (wire/linecheck.h) logged at most once per interval.
  util::LogThrottle linecheck_refusal_log{std::chrono::seconds(10)};
  // Answers line checks whose probes all came back or whose time is up.
  void finish_linechecks();

  // Logs, counts and (when the engine says so) alarms a channel or link state change.
  void on_channel_state(Peer& peer, const link::ChannelState& e);
  void on_link_state(Peer& peer, const link::LinkStateChanged& e);

  void reload_outboxes();

  // node_api.cpp: the application interface (docs/api.md).
  // courier_export / courier_import (node_courier.cpp): the bundle written or read by the loop,
  // which drives the Link (node/courier.h).
  std::string handle_courier(const ControlRequest& request);
  // Bundles written and imported for the contact (status).
  nlohmann::json courier_status_json(const Peer& peer);
  std::optional<std::string> handle_api(const ControlRequest& request,
                                        const std::shared_ptr<std::promise<std::string>>& reply);
  util::Result<std::pair<Peer*, link::Content>> prepare_submit(const ControlRequest& request);
  // Every submit of one loop round, in one store transaction (group commit), each answered.
  void handle_submits(const std::vector<ControlInput*>& requests);
  std::optional<nlohmann::json> api_deliveries(const ControlRequest& request);
  std::optional<nlohmann::json> api_events(const ControlRequest& request);
  // Answers the long polls that have something now or whose time is up (all when stopping).
  void serve_api_waiters(bool stopping);
  // Keeps an event for `events` (ids ascending from 1 since the node started).
  void record_event(nlohmann::json event);
  // `contact remove` beside the running node: the removed contacts' links stop (dials
  // cancelled, connection closed, line checks answered) before anything writes for them.
  void forget_removed_contacts(const std::vector<store::Contact>& contacts);

  int run(const std::atomic<bool>& stop);
};

}  // namespace bc::node
