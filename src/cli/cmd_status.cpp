// backchannel status [--watch [--interval DURATION]] [--json]: the running node's links, each
// with its state and its channels' (round trip, loss, last heard, traffic) and its queue.
//
// The exit code is the worst link state, so that monitoring can run the command as it is:
// 0 every link ok (or no link at all), 1 some link degraded, 2 some link in blackout, and also 2
// when no status can be had (no node running, or it did not answer): then nothing is known to
// be up. With --watch the last status's code is returned on Ctrl-C; between redraws the command
// waits on the node's event stream (docs/api.md "events"), so a change shows at once.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <thread>

#include "backchannel/client.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/health_view.h"
#include "util/duration.h"

namespace bc::cli {
namespace {

constexpr int kHealthOk = 0;
constexpr int kHealthDegraded = 1;
constexpr int kHealthBlackout = 2;  // also: no status at all
constexpr auto kStatusTimeout = std::chrono::seconds{5};
constexpr auto kMinInterval = std::chrono::milliseconds{100};
constexpr std::string_view kPrecedences[] = {"flash", "immediate", "priority", "routine"};

using nlohmann::json;

struct StatusOptions {
  bool watch = false;
  std::string interval = "1s";
};

std::atomic<bool> g_interrupted{false};  // set from the signal handler; atomic<bool> is lock-free
void on_interrupt(int) { g_interrupted = true; }

// The link's state as the node reports it. The node and this command are one binary, so the
// field is always there; anything else reads as the worst, so monitoring is never told "ok" by
// a reply it does not understand.
std::string link_state(const json& link) {
  std::string s = string_or(link, "state", "");
  if (s == "ok" || s == "degraded" || s == "blackout") return s;
  return "blackout";
}

int code_for(std::string_view state) {
  if (state == "ok") return kHealthOk;
  if (state == "degraded") return kHealthDegraded;
  return kHealthBlackout;
}

const json& array_member(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  auto it = obj.find(key);
  return it != obj.end() && it->is_array() ? *it : kEmpty;
}

std::string count(const json& obj, const char* key) {
  double v = number_or(obj, key, -1);
  return v < 0 ? "?" : std::to_string(static_cast<std::uint64_t>(v));
}

std::string traffic(const json& ch, const char* dir) {
  std::string env = std::string("envelopes_") + dir;
  std::string bytes = std::string("bytes_") + dir;
  double b = number_or(ch, bytes, -1);
  return std::string(dir) + " " + count(ch, env.c_str()) + " env" +
         (b < 0 ? "" : " (" + format_size(static_cast<std::uint64_t>(b)) + ")");
}

void print_channel(std::ostream& out, const json& ch, std::size_t name_width, std::int64_t now_ms, bool cover) {
  std::string state = string_or(ch, "state", "?");
  double rtt = number_or(ch, "rtt_ms", -1);
  double loss = number_or(ch, "loss", -1);
  double heard = number_or(ch, "last_heard_ms", -1);
  char loss_text[32] = "-";
  if (loss >= 0) std::snprintf(loss_text, sizeof loss_text, "%.1f%%", loss * 100);
  out << "  " << pad(string_or(ch, "channel", "?"), name_width) << "  " << pad(state == "up" ? "up" : upper(state), 4)
      << "  rtt " << pad(rtt >= 0 ? format_rtt(rtt) : "-", 8) << "  loss " << pad(loss_text, 6) << "  heard "
      << pad(heard >= 0 ? format_ago(now_ms - static_cast<std::int64_t>(heard)) : "never", 12) << "  "
      << pad(traffic(ch, "in"), 24) << "  " << traffic(ch, "out");
  double in_flight = number_or(ch, "in_flight", 0);
  if (in_flight > 0) out << "  " << static_cast<std::uint64_t>(in_flight) << " in flight";
  if (cover) {
    out << "  slots: " << count(ch, "slots_real_last_minute") << " real in the last minute, " << count(ch, "slots_real")
        << " real + " << count(ch, "slots_padding") << " padding";
    if (number_or(ch, "slots_missed", 0) > 0) out << ", " << count(ch, "slots_missed") << " missed";
  }
  out << "\n";
}

// Which address the direct channel uses, and where it failed (issue 10).
void print_direct(std::ostream& out, const json& direct, std::int64_t now_ms) {
  const std::string via = string_or(direct, "address", "");
  if (!via.empty()) out << "  direct via " << via << " (" << string_or(direct, "direction", "?") << ")\n";
  const json& addresses = array_member(direct, "addresses");
  if (addresses.empty() && via.empty()) {
    out << "  direct: no address known for the contact; it must dial us (or: backchannel contact address add)\n";
  }
  for (const auto& a : addresses) {
    const std::string error = string_or(a, "error", "");
    double failed = number_or(a, "last_failed_ms", -1);
    if (error.empty() || failed < 0 || string_or(a, "address", "") == via) continue;
    out << "  direct " << string_or(a, "address", "?") << " (" << string_or(a, "source", "?") << ") failed "
        << format_ago(now_ms - static_cast<std::int64_t>(failed)) << ": " << error << "\n";
  }
}

void print_link(std::ostream& out, const json& link, std::int64_t now_ms) {
  const std::string state = link_state(link);
  out << string_or(link, "contact", "?") << "  " << upper(state);
  double since = number_or(link, "state_since_ms", -1);
  if (since >= 0) {
    out << " since " << util::format_utc(static_cast<std::int64_t>(since) / 1000) << " ("
        << format_ago(now_ms - static_cast<std::int64_t>(since)) << ")";
  }
  if (number_or(link, "transitions", -1) >= 0) out << ", " << count(link, "transitions") << " transitions";
  if (auto v = link.find("verified"); v != link.end() && v->is_boolean()) {
    out << (v->get<bool>() ? ", verified" : ", UNVERIFIED");
  }
  if (auto pq = link.find("post_quantum"); pq != link.end() && pq->is_boolean()) {
    out << (pq->get<bool>() ? ", post-quantum start" : ", classical start");
  }
  if (link.value("pq_ratchet", false)) out << ", " << count(link, "pq_ratchet_steps") << " PQ ratchet steps";
  const bool pending = link.value("hello_pending", false);
  if (pending) out << ", session not yet answered";
  out << "\n";
  if (auto r = link.find("refused_our_key_at_ms"); r != link.end() && r->is_number()) {
    const std::string name = link.value("contact", std::string("the contact"));
    out << "  REFUSED: " << name << "'s node refuses our key (last "
        << format_ago(now_ms - r->get<std::int64_t>()) << "); "
        << (pending ? "the invitation was revoked, used or expired there: ask " + name +
                          " for a new one, then: backchannel contact remove " + name +
                          " && backchannel contact add NEW-INVITATION"
                    : name + " may have removed this contact: ask its operator")
        << "\n";
  }
  if (auto r = link.find("hello_refused"); r != link.end() && r->is_object()) {
    const std::string name = link.value("contact", std::string("the contact"));
    out << "  REFUSED: " << name << " refused our HELLO: the invitation was " << string_or(*r, "reason", "?")
        << " there (" << util::format_utc(static_cast<std::int64_t>(number_or(*r, "refused_at", 0))) << "); ask " << name
        << " for a new one, then: backchannel contact remove " << name
        << " && backchannel contact add NEW-INVITATION\n";
    const double next = number_or(*r, "next_hello_ms", -1);
    if (next >= 0) {
      const auto in_s = std::max<std::int64_t>(0, (static_cast<std::int64_t>(next) - now_ms + 999) / 1000);
      out << "  next HELLO in " << in_s << " s; the wait doubles after each, up to " << count(*r, "max_retry_interval_s")
          << " s\n";
    }
  }
  // The inviter's relay refuses our HELLO's PUT (node/hello_puts.cpp); never beside the
  // inviter's own refusal above, which the node shows instead.
  if (auto r = link.find("hello_refused_by_relay"); r != link.end() && r->is_object()) {
    const std::string name = link.value("contact", std::string("the contact"));
    for (const auto& by : array_member(*r, "relays")) {
      const double last = number_or(by, "last_at_ms", -1);
      out << "  REFUSED: " << name << "'s relay " << string_or(by, "relay", "?")
          << " refuses this invitation: it was used, revoked or has expired (the relay's word, last "
          << (last >= 0 ? format_ago(now_ms - static_cast<std::int64_t>(last)) : std::string("?")) << ", "
          << count(by, "refusals") << " time(s)); ask " << name << " for a new one, then: backchannel contact remove "
          << name << " && backchannel contact add NEW-INVITATION\n";
    }
    const double next = number_or(*r, "next_hello_ms", -1);
    if (next >= 0) {
      const auto in_s = std::max<std::int64_t>(0, (static_cast<std::int64_t>(next) - now_ms + 999) / 1000);
      out << "  next HELLO in " << in_s << " s; the wait doubles after each, up to " << count(*r, "max_retry_interval_s")
          << " s\n";
    }
  }
  std::string queue;
  if (auto q = link.find("queue"); q != link.end() && q->is_object()) {
    for (auto p : kPrecedences) {
      queue += (queue.empty() ? "" : ", ") + std::string(p) + " " + count(*q, std::string(p).c_str());
    }
  }
  if (!queue.empty() || number_or(link, "messages_in", -1) >= 0) {
    out << "  queue: " << (queue.empty() ? "?" : queue) << "; messages " << count(link, "messages_in") << " in, "
        << count(link, "messages_out") << " out\n";
  }
  bool cover = false;
  if (auto c = link.find("cover"); c != link.end() && c->is_object() && string_or(*c, "mode", "off") != "off") {
    cover = true;
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", number_or(*c, "rate", 0));
    double drain = number_or(*c, "drain_estimate_s", 0);
    out << "  cover: " << string_or(*c, "mode", "?") << ", " << rate << " slots/s per channel; backlog "
        << count(*c, "backlog_chunks") << " chunks";
    if (drain > 0) out << ", drains in about " << static_cast<std::uint64_t>(drain + 0.999) << " s";
    out << "\n";
  }
  const json& channels = array_member(link, "channels");
  if (channels.empty()) out << "  (no channel)\n";
  std::size_t width = 0;
  for (const auto& ch : channels) width = std::max(width, string_or(ch, "channel", "?").size());
  for (const auto& ch : channels) print_channel(out, ch, width, now_ms, cover);
  if (auto d = link.find("direct"); d != link.end() && d->is_object()) print_direct(out, *d, now_ms);
}

// One line per relay of ours: whether our mailbox there is subscribed, and the rate limit the
// relay told, under which the node paces its PUTs (issue 18).
void print_relay(std::ostream& out, const json& relay) {
  if (!relay.is_object()) return;
  out << "relay " << string_or(relay, "name", "?") << ": "
      << (relay.value("subscribed", false) ? "subscribed" : "NOT SUBSCRIBED (connecting)") << "; ";
  const auto limit = relay.find("rate_limit");
  if (limit != relay.end() && limit->is_object()) {
    out << "limit " << count(*limit, "requests_per_second") << " requests/s (burst " << count(*limit, "burst")
        << "), PUTs paced under it";
  } else {
    out << "no rate limit told";
  }
  out << "; " << count(relay, "puts_accepted") << " PUTs accepted, " << count(relay, "rate_limited")
      << " refused as rate_limited\n";
}

// Asks once and prints (human, or JSON: pretty, or one line each when watching). Returns the
// exit code of what it saw.
int show_status(const Context& ctx, bool one_line) {
  util::Error error{util::Errc::internal, {}};
  auto reply = ask_node(ctx, node::make_request(node::ControlOp::status), kStatusTimeout);
  bool failed = !reply.ok();
  if (failed) {
    error = reply.error();
  } else if (auto e = reply_error(*reply)) {
    failed = true;
    error = util::make_error(e->code, "the node refused the status request: " + e->message);
  }
  if (failed) {
    if (ctx.json) {
      ctx.out << json{{"error", {{"code", util::errc_name(error.code)}, {"message", error.message}}}}.dump(one_line ? -1 : 2)
              << "\n";
    } else {
      ctx.err << "backchannel: " << error.message << "\n";
    }
    return kHealthBlackout;
  }
  const std::int64_t now_ms = static_cast<std::int64_t>(
      number_or(*reply, "now_ms", static_cast<double>(util::to_unix_ms(ctx.clock.now()))));
  json links = array_member(*reply, "links");
  int code = kHealthOk;
  std::size_t by_state[3] = {0, 0, 0};
  for (auto& link : links) {
    if (!link.is_object()) continue;
    link["state"] = link_state(link);
    int c = code_for(link["state"].get<std::string>());
    ++by_state[c];
    code = std::max(code, c);
  }
  const std::string overall = code == kHealthOk ? "ok" : code == kHealthDegraded ? "degraded" : "blackout";
  if (ctx.json) {
    json doc = {{"name", string_or(*reply, "name", "")}, {"now_ms", now_ms}, {"state", overall}, {"links", links}};
    if (auto r = reply->find("relays"); r != reply->end() && r->is_array()) doc["relays"] = *r;
    if (reply->contains("prekey")) doc["prekey"] = (*reply)["prekey"];
    if (auto a = reply->find("alarms"); a != reply->end() && a->is_object()) doc["alarms"] = *a;
    ctx.out << doc.dump(one_line ? -1 : 2, ' ', false, json::error_handler_t::replace) << "\n";
    return code;
  }
  std::ostream& out = ctx.out;
  out << string_or(*reply, "name", "this node") << ": ";
  if (links.empty()) {
    out << "no links yet (a link appears once a contact is added)\n";
  } else {
    out << links.size() << (links.size() == 1 ? " link" : " links") << ", " << by_state[kHealthOk] << " ok, "
        << by_state[kHealthDegraded] << " degraded, " << by_state[kHealthBlackout] << " in blackout\n";
  }
  if (auto a = reply->find("alarms"); a != reply->end() && a->is_object()) {
    out << "alarms: " << count(*a, "runs") << " run, " << count(*a, "failures") << " failed\n";
  }
  for (const auto& relay : array_member(*reply, "relays")) print_relay(out, relay);
  for (const auto& link : links) {
    out << "\n";
    print_link(out, link, now_ms);
  }
  return code;
}

// Waits for the node's next event (docs/api.md "events": a link or channel changing state, an
// alarm, a receipt) up to until, through its application interface, so that --watch redraws as
// soon as something changes rather than at the next interval. cursor is the last event seen
// (nullopt: not known yet, then taken without waiting). Without a node answering, it sleeps.
class EventWait {
 public:
  explicit EventWait(std::string socket) : socket_(std::move(socket)) {}

  // True when an event came before until.
  bool until(std::chrono::steady_clock::time_point until) {
    while (!g_interrupted) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) return false;
      // At most a second a call, so that Ctrl-C ends the command promptly.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
      const auto wait = std::min<std::chrono::milliseconds>(left, std::chrono::seconds{1});
      try {
        if (!api_) api_.emplace(backchannel::Client::connect(socket_, 2'000));
        if (!cursor_) cursor_ = latest();
        auto answer = nlohmann::json::parse(
            api_->call_raw(json{{"op", "events"}, {"after", *cursor_}, {"max", 1000}, {"wait_ms", wait.count()}}.dump()),
            nullptr, /*allow_exceptions=*/false);
        const auto events = answer.is_object() ? answer.value("events", json::array()) : json::array();
        if (!events.empty()) {
          cursor_ = answer.value("cursor", *cursor_);
          return true;
        }
      } catch (const backchannel::ClientError&) {
        api_.reset();  // no node (or it restarted: its events start again from 1)
        cursor_.reset();
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, std::chrono::milliseconds{50}));
      }
    }
    return false;
  }

 private:
  // The id of the node's latest event (0 when none): what was before the watch is not news.
  std::int64_t latest() {
    std::int64_t cursor = 0;
    for (;;) {
      auto answer = nlohmann::json::parse(
          api_->call_raw(json{{"op", "events"}, {"after", cursor}, {"max", 1000}, {"wait_ms", 0}}.dump()), nullptr,
          /*allow_exceptions=*/false);
      if (!answer.is_object() || answer.value("events", json::array()).empty()) return cursor;
      cursor = answer.value("cursor", cursor);
    }
  }

  std::string socket_;
  std::optional<backchannel::Client> api_;
  std::optional<std::int64_t> cursor_;
};

int run_status(const Context& ctx, const StatusOptions& opt) {
  if (!opt.watch) return show_status(ctx, false);
  auto interval = parse_duration_flag(opt.interval);
  if (!interval.ok() || *interval < kMinInterval) {
    ctx.err << "backchannel: --interval: "
            << (interval.ok() ? "at least 100ms" : interval.error().message) << "\n";
    return kExitUsage;
  }
  g_interrupted = false;
  auto old_int = std::signal(SIGINT, on_interrupt);
  auto old_term = std::signal(SIGTERM, on_interrupt);
  // Redrawn in place only on a terminal; into a file or pipe each status follows the last.
  const bool redraw = !ctx.json && ::isatty(STDOUT_FILENO) != 0;
  int code = kHealthBlackout;
  auto home = ctx.home();
  EventWait events(home.ok() ? home->control_socket_path().string() : std::string{});
  while (!g_interrupted) {
    if (redraw) ctx.out << "\x1b[H\x1b[2J";
    code = show_status(ctx, true);
    if (redraw) {
      ctx.out << "\nevery " << format_timeout(*interval) << "; Ctrl-C stops\n";
    } else if (!ctx.json) {
      ctx.out << "\n";
    }
    ctx.out.flush();
    (void)events.until(std::chrono::steady_clock::now() + *interval);
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  return code;
}

}  // namespace

void add_status(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "the running node's links and channels, and their health");
  auto* watch = cmd->add_flag("--watch,-w", opt->watch,
                              "redraw every second (--interval), and at once when the node reports an event, until Ctrl-C");
  cmd->add_option("--interval", opt->interval, "time between redraws with --watch, e.g. 500ms, 5s (default 1s)")
      ->needs(watch);
  cmd->footer(
      "Exit codes, for monitoring: 0 every link ok (or no link), 1 some link degraded, 2 some link "
      "in blackout or no node running (or answering). With --watch, the last status's code on Ctrl-C. "
      "--json prints {name, now_ms, state, alarms, links} (one object per line with --watch).");
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_status(ctx, *opt); });
}

}  // namespace bc::cli
