// The application interface on the control socket (docs/api.md, version kApiVersion): submit
// with a durable answer and an idempotency token, deliveries from a cursor with consumer acks,
// events. Long polls wait in api_waiters and are answered at the end of a loop round, when
// there is something to give or their time is up.
#include <fstream>

#include "link/content.h"
#include "node/node_impl.h"
#include "node/submit_once.h"
#include "store/messages.h"
#include "util/base64.h"

namespace bc::node {
namespace {

constexpr std::size_t kEventsKept = 10'000;
// Files larger than this are announced in deliveries without their bytes (`inbox --save`).
constexpr std::size_t kMaxInlineFile = 1024 * 1024;

nlohmann::json api_error(const std::string& code, const std::string& message) {
  return {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

std::string consumer_key(const std::string& consumer) { return "consumer." + consumer; }

util::Result<util::Bytes> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return util::make_error(util::Errc::not_found, "cannot read file '" + path + "'");
  const auto size = static_cast<std::uint64_t>(in.tellg());
  if (size > link::kMaxContentBytes) {
    return util::make_error(util::Errc::limit, "file '" + path + "' is larger than a message holds (64 MiB)");
  }
  in.seekg(0);
  util::Bytes data(size);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
  if (!in) return util::make_error(util::Errc::io, "cannot read file '" + path + "'");
  return data;
}

}  // namespace

void Node::Impl::record_event(nlohmann::json event) {
  event["id"] = next_event_id++;
  event["at_ms"] = to_ms(clock.now());
  events_log.push_back(std::move(event));
  api_news = true;
  while (events_log.size() > kEventsKept) events_log.pop_front();
}

// The message a submit request queues, read and checked before any transaction.
util::Result<std::pair<Peer*, link::Content>> Node::Impl::prepare_submit(const ControlRequest& request) {
  Peer* peer = nullptr;
  for (auto& [id, p] : peers) {
    if (p->contact.alias == request.contact) peer = p.get();
  }
  if (peer == nullptr) return util::make_error(util::Errc::not_found, "no contact named '" + request.contact + "'");
  link::Content content;
  if (request.text) {
    content.bytes.assign(request.text->begin(), request.text->end());
  } else {
    auto data = read_whole_file(*request.file);
    if (!data.ok()) return data.error();
    content.kind = link::ContentKind::file;
    content.file_name = std::filesystem::path(*request.file).filename().string();
    if (auto ok = link::check_file_name(content.file_name); !ok.ok()) {
      return util::make_error(util::Errc::invalid_argument, ok.error().message);
    }
    content.bytes = std::move(*data);
  }
  return std::make_pair(peer, std::move(content));
}

void Node::Impl::handle_submits(const std::vector<ControlInput*>& requests) {
  struct Job {
    ControlInput* input;
    Peer* peer = nullptr;
    link::Content content;
    wire::Precedence precedence = wire::Precedence::routine;
    nlohmann::json answer;
  };
  std::vector<Job> jobs;
  const std::int64_t taken_us = trace ? util::Trace::now_us() : 0;
  for (ControlInput* in : requests) {
    Job job{in, nullptr, {}, wire::Precedence::routine, {}};
    auto precedence = wire::parse_precedence(in->request.precedence);
    auto prepared = prepare_submit(in->request);
    if (!precedence.ok()) {
      job.answer = api_error("bad_input", precedence.error().message);
    } else if (!prepared.ok()) {
      const auto code = prepared.error().code;
      job.answer = api_error(code == util::Errc::limit       ? "limit"
                             : code == util::Errc::not_found ? "not_found"
                                                             : "bad_input",
                             prepared.error().message);
    } else {
      job.precedence = *precedence;
      job.peer = prepared->first;
      job.content = std::move(prepared->second);
    }
    jobs.push_back(std::move(job));
  }
  // Group commit: every submission of this round in one durable transaction.
  std::set<Peer*> touched;
  try {
    (void)store->transaction([&]() -> util::Result<void> {
      for (Job& job : jobs) {
        if (job.peer == nullptr) continue;
        const ControlRequest& r = job.input->request;
        auto queued = submit_once(*store, *job.peer->link_store, job.peer->contact.id, r.token, job.precedence,
                                  job.content, clock.now());
        if (!queued.duplicate) touched.insert(job.peer);
        const std::uint64_t seq = queued.seq;
        const bool duplicate = queued.duplicate;
        job.answer = {{"ok", true}, {"contact", job.peer->contact.alias}, {"seq", seq}, {"duplicate", duplicate}};
        if (!r.token.empty()) job.answer["token"] = r.token;
      }
      return {};
    });
  } catch (const std::exception& e) {
    touched.clear();
    for (Job& job : jobs) {
      if (job.peer != nullptr) job.answer = api_error("failure", std::string("not queued: ") + e.what());
    }
  }
  if (trace) {
    // "taken": when the loop took the group; "durable": its transaction committed.
    for (const Job& job : jobs) {
      if (!job.answer.value("ok", false)) continue;
      const std::string key = "link=" + job.peer->contact.alias + " seq=" + std::to_string(job.answer["seq"].get<link::Seq>());
      trace->record_at(taken_us, "taken", key);
      trace->record("durable", key);
    }
  }
  // Answered as soon as durable; the links read their new rows after (a batch of their own).
  for (Job& job : jobs) job.input->reply->set_value(job.answer.dump());
  for (Peer* peer : touched) {
    if (peer->link) peer->link->outbox_changed(clock.now());
  }
  // After the links read their new rows: a surge names a seq the engine knows.
  for (Job& job : jobs) {
    if (job.peer != nullptr && job.peer->link && job.input->request.surge && job.answer.value("ok", false)) {
      surge(*job.peer, job.answer["seq"].get<link::Seq>());
    }
  }
}

// Deliveries after the request's cursor; nullopt when there are none yet (a long poll waits).
std::optional<nlohmann::json> Node::Impl::api_deliveries(const ControlRequest& request) {
  std::int64_t after = request.after.value_or(0);
  if (!request.after) {
    if (auto stored = store::get_setting(*store, consumer_key(request.consumer))) after = std::stoll(*stored);
  }
  auto rows = store::inbox_after(*store, after, /*with_body=*/true, request.max);
  if (rows.empty()) return std::nullopt;
  std::map<std::int64_t, std::string> names;
  for (const auto& [id, p] : peers) names[id] = p->contact.alias;
  auto messages = nlohmann::json::array();
  for (const auto& row : rows) {
    auto precedence = wire::precedence_from_code(static_cast<std::uint8_t>(row.precedence));
    nlohmann::json m = {{"id", row.id},
                        {"from", names.count(row.contact_id) ? names[row.contact_id] : std::string("?")},
                        {"seq", row.seq},
                        {"precedence", precedence ? std::string(wire::precedence_name(*precedence)) : "?"},
                        {"sent_at_ms", row.sent_at_ms},
                        {"delivered_at_ms", row.delivered_at_ms}};
    auto content = link::decode_content(row.body);
    if (!content.ok()) {
      m["kind"] = "unreadable";
    } else if (content->kind == link::ContentKind::text) {
      m["kind"] = "text";
      m["text"] = std::string(content->bytes.begin(), content->bytes.end());
    } else {
      m["kind"] = "file";
      m["file_name"] = content->file_name;
      m["size"] = content->bytes.size();
      if (content->bytes.size() <= kMaxInlineFile) m["data_b64"] = util::base64_encode(content->bytes);
    }
    if (trace) trace->record("answered", "link=" + m["from"].get<std::string>() + " seq=" + std::to_string(row.seq));
    messages.push_back(std::move(m));
  }
  return nlohmann::json{{"ok", true}, {"cursor", rows.back().id}, {"messages", messages}};
}

std::optional<nlohmann::json> Node::Impl::api_events(const ControlRequest& request) {
  const std::int64_t after = request.after.value_or(0);
  auto out = nlohmann::json::array();
  for (const auto& e : events_log) {
    if (e["id"].get<std::int64_t>() <= after) continue;
    out.push_back(e);
    if (out.size() == request.max) break;
  }
  if (out.empty()) return std::nullopt;
  return nlohmann::json{{"ok", true}, {"cursor", out.back()["id"]}, {"events", out}};
}

std::optional<std::string> Node::Impl::handle_api(const ControlRequest& request,
                                                  const std::shared_ptr<std::promise<std::string>>& reply) {
  switch (request.op) {
    case ControlOp::hello:
      if (request.api != kApiVersion) {
        return api_error("unsupported_version", "this node speaks api " + std::to_string(kApiVersion)).dump();
      }
      return nlohmann::json{{"ok", true}, {"api", kApiVersion}, {"name", identity.name},
                            {"max_request_bytes", kMaxRequestBytes}}
          .dump();
    case ControlOp::ack: {
      auto stored = store::get_setting(*store, consumer_key(request.consumer));
      const std::int64_t cursor = std::max<std::int64_t>(request.id, stored ? std::stoll(*stored) : 0);
      store::set_setting(*store, consumer_key(request.consumer), std::to_string(cursor));
      return nlohmann::json{{"ok", true}, {"consumer", request.consumer}, {"cursor", cursor}}.dump();
    }
    case ControlOp::deliveries:
    case ControlOp::events: {
      auto answer = request.op == ControlOp::deliveries ? api_deliveries(request) : api_events(request);
      if (answer) return answer->dump();
      if (request.wait.count() == 0) {
        return nlohmann::json{{"ok", true}, {"cursor", request.after.value_or(0)},
                              {request.op == ControlOp::deliveries ? "messages" : "events", nlohmann::json::array()}}
            .dump();
      }
      api_waiters.push_back({request, reply, clock.monotonic() + request.wait});
      return std::nullopt;
    }
    default:  // submit is taken by the loop as a group (handle_submits)
      return api_error("internal", "not an api op here").dump();
  }
}

void Node::Impl::serve_api_waiters(bool stopping) {
  const auto now = clock.monotonic();
  // Deliveries are recorded as events too: with none since the last look, no waiter has news,
  // and the store is not asked again (this runs every loop round).
  const bool news = api_news;
  api_news = false;
  for (auto it = api_waiters.begin(); it != api_waiters.end();) {
    const ControlRequest& r = it->request;
    if (!news && now < it->deadline && !stopping) {
      ++it;
      continue;
    }
    auto answer = news ? (r.op == ControlOp::deliveries ? api_deliveries(r) : api_events(r)) : std::nullopt;
    if (!answer && now < it->deadline && !stopping) {
      ++it;
      continue;
    }
    if (!answer) {
      answer = nlohmann::json{{"ok", true}, {"cursor", r.after.value_or(0)},
                              {r.op == ControlOp::deliveries ? "messages" : "events", nlohmann::json::array()}};
      if (r.op == ControlOp::deliveries && !r.after) {
        auto stored = store::get_setting(*store, consumer_key(r.consumer));
        (*answer)["cursor"] = stored ? std::stoll(*stored) : 0;
      }
    }
    it->reply->set_value(answer->dump());
    it = api_waiters.erase(it);
  }
}

}  // namespace bc::node
