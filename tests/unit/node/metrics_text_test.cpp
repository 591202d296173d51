#include "node/metrics_text.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace bc::node {
namespace {

// A status reply as control_protocol.h's "status" op gives it: one link degraded, its relay
// channel down with nothing known of its round trip.
const char* kStatus = R"({"ok":true,"name":"washington","now_ms":1764260000000,
 "alarms":{"runs":3,"failures":1},
 "links":[{"contact":"moscow","verified":true,"hello_pending":false,
   "state":"degraded","state_since_ms":1764259990000,"transitions":4,
   "heartbeat_interval_ms":1000,
   "queue":{"flash":0,"immediate":0,"priority":1,"routine":3},
   "messages_in":12,"messages_out":9,
   "cover":{"mode":"constant","rate":20,"jitter":0.5,"backlog_chunks":5,"drain_estimate_s":0.25},
   "channels":[
     {"channel":"direct","connected":true,"state":"up","rtt_ms":2.5,"loss":0.0,
      "last_heard_ms":1764259999800,"envelopes_in":100,"envelopes_out":98,"bytes_in":204800,
      "bytes_out":200704,"in_flight":0,"slots_real":40,"slots_padding":58,"slots_missed":1},
     {"channel":"relay:ny","connected":false,"state":"down","rtt_ms":null,
      "envelopes_in":7,"envelopes_out":8,"bytes_in":14336,"bytes_out":16384,"in_flight":2}]},
  {"contact":"beijing","verified":false,"state":"blackout","cover":{"mode":"off"},"channels":[]}]})";

struct Exposition {
  std::map<std::string, std::string> samples;  // series (name and labels, as printed) -> value
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
};

// Reads the text format the way a scraper does, and checks its grammar on the way: every
// sample's family was introduced by HELP and TYPE, and each family comes in one piece.
Exposition read(const std::string& text) {
  Exposition x;
  std::istringstream in(text);
  std::string line;
  std::string current;
  std::set<std::string> finished;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(x.helped.insert(name).second) << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream fields(line.substr(7));
      std::string name, type;
      fields >> name >> type;
      EXPECT_TRUE(x.helped.count(name)) << "TYPE before HELP: " << name;
      EXPECT_TRUE(type == "gauge" || type == "counter") << type;
      EXPECT_TRUE(x.types.emplace(name, type).second);
      if (!current.empty()) finished.insert(current);
      EXPECT_FALSE(finished.count(name)) << name << " comes in two pieces";
      current = name;
      continue;
    }
    auto space = line.rfind(' ');
    std::string series = line.substr(0, space);
    std::string name = series.substr(0, series.find('{'));
    EXPECT_EQ(name, current) << "sample outside its family: " << line;
    EXPECT_TRUE(x.samples.emplace(series, line.substr(space + 1)).second) << "duplicate " << series;
  }
  return x;
}

TEST(MetricsText, RendersEveryFamilyOfTheStatusReply) {
  auto x = read(render_prometheus(nlohmann::json::parse(kStatus)));
  auto& s = x.samples;
  EXPECT_EQ(s["bc_node_info{name=\"washington\"}"], "1");
  EXPECT_EQ(s["bc_alarms_total"], "3");
  EXPECT_EQ(s["bc_alarm_failures_total"], "1");
  EXPECT_EQ(x.types["bc_alarms_total"], "counter");
  EXPECT_EQ(s["bc_link_state{contact=\"moscow\",state=\"ok\"}"], "0");
  EXPECT_EQ(s["bc_link_state{contact=\"moscow\",state=\"degraded\"}"], "1");
  EXPECT_EQ(s["bc_link_state{contact=\"moscow\",state=\"blackout\"}"], "0");
  EXPECT_EQ(s["bc_link_state{contact=\"beijing\",state=\"blackout\"}"], "1");
  EXPECT_EQ(x.types["bc_link_state"], "gauge");
  EXPECT_EQ(s["bc_link_state_since_timestamp_seconds{contact=\"moscow\"}"], "1764259990");
  EXPECT_EQ(s["bc_link_transitions_total{contact=\"moscow\"}"], "4");
  EXPECT_EQ(x.types["bc_link_transitions_total"], "counter");
  EXPECT_EQ(s["bc_link_verified{contact=\"moscow\"}"], "1");
  EXPECT_EQ(s["bc_link_verified{contact=\"beijing\"}"], "0");
  EXPECT_EQ(s["bc_messages_total{contact=\"moscow\",direction=\"in\"}"], "12");
  EXPECT_EQ(s["bc_messages_total{contact=\"moscow\",direction=\"out\"}"], "9");
  EXPECT_EQ(s["bc_queue_messages{contact=\"moscow\",precedence=\"flash\"}"], "0");
  EXPECT_EQ(s["bc_queue_messages{contact=\"moscow\",precedence=\"priority\"}"], "1");
  EXPECT_EQ(s["bc_queue_messages{contact=\"moscow\",precedence=\"routine\"}"], "3");
  EXPECT_EQ(s["bc_channel_up{contact=\"moscow\",channel=\"direct\"}"], "1");
  EXPECT_EQ(s["bc_channel_up{contact=\"moscow\",channel=\"relay:ny\"}"], "0");
  EXPECT_EQ(std::stod(s["bc_channel_rtt_seconds{contact=\"moscow\",channel=\"direct\"}"]), 0.0025);
  EXPECT_EQ(s["bc_channel_loss_ratio{contact=\"moscow\",channel=\"direct\"}"], "0");
  EXPECT_EQ(std::stod(s["bc_channel_last_heard_timestamp_seconds{contact=\"moscow\",channel=\"direct\"}"]),
            1764259999.8);
  EXPECT_EQ(s["bc_channel_in_flight{contact=\"moscow\",channel=\"relay:ny\"}"], "2");
  EXPECT_EQ(s["bc_channel_envelopes_total{contact=\"moscow\",channel=\"direct\",direction=\"in\"}"], "100");
  EXPECT_EQ(s["bc_channel_envelopes_total{contact=\"moscow\",channel=\"relay:ny\",direction=\"out\"}"], "8");
  EXPECT_EQ(s["bc_channel_bytes_total{contact=\"moscow\",channel=\"direct\",direction=\"out\"}"], "200704");
  EXPECT_EQ(s["bc_channel_bytes_total{contact=\"moscow\",channel=\"relay:ny\",direction=\"in\"}"], "14336");
  EXPECT_EQ(x.types["bc_channel_bytes_total"], "counter");
  EXPECT_EQ(s["bc_link_cover_rate{contact=\"moscow\"}"], "20");
  EXPECT_EQ(s["bc_link_cover_rate{contact=\"beijing\"}"], "0");
  EXPECT_EQ(s["bc_link_cover_backlog_chunks{contact=\"moscow\"}"], "5");
  EXPECT_FALSE(s.count("bc_link_cover_backlog_chunks{contact=\"beijing\"}"));
  EXPECT_EQ(s["bc_channel_slots_total{contact=\"moscow\",channel=\"direct\",kind=\"real\"}"], "40");
  EXPECT_EQ(s["bc_channel_slots_total{contact=\"moscow\",channel=\"direct\",kind=\"padding\"}"], "58");
  EXPECT_EQ(s["bc_channel_slots_total{contact=\"moscow\",channel=\"direct\",kind=\"missed\"}"], "1");
  EXPECT_EQ(x.types["bc_channel_slots_total"], "counter");
}

TEST(MetricsText, LeavesOutWhatIsUnknown) {
  auto x = read(render_prometheus(nlohmann::json::parse(kStatus)));
  // relay:ny has a null RTT and no loss or last-heard time; beijing has no counters at all.
  EXPECT_FALSE(x.samples.count("bc_channel_rtt_seconds{contact=\"moscow\",channel=\"relay:ny\"}"));
  EXPECT_FALSE(x.samples.count("bc_channel_loss_ratio{contact=\"moscow\",channel=\"relay:ny\"}"));
  EXPECT_FALSE(x.samples.count("bc_channel_last_heard_timestamp_seconds{contact=\"moscow\",channel=\"relay:ny\"}"));
  EXPECT_FALSE(x.samples.count("bc_link_transitions_total{contact=\"beijing\"}"));
  for (const auto& [series, value] : x.samples) {
    EXPECT_EQ(value.find_first_of("nN"), std::string::npos) << series << " " << value;  // no NaN, no Inf
  }
  auto odd = nlohmann::json::parse(R"({"links":[{"contact":"moscow","state":"sideways","transitions":"4",
      "channels":[{"channel":"direct","state":"up","rtt_ms":"fast","loss":true},{"state":"up"}]},
      {"state":"ok"}, 7]})");
  odd["links"][0]["channels"][0]["last_heard_ms"] = std::numeric_limits<double>::quiet_NaN();
  auto y = read(render_prometheus(odd));
  EXPECT_EQ(y.samples.size(), 1u);
  EXPECT_EQ(y.samples["bc_channel_up{contact=\"moscow\",channel=\"direct\"}"], "1");
  EXPECT_EQ(render_prometheus(nlohmann::json::object()), "");
  EXPECT_EQ(render_prometheus(nlohmann::json::parse(R"({"ok":true,"name":"w","links":[]})")),
            "# HELP bc_node_info The node's party name; always 1.\n# TYPE bc_node_info gauge\n"
            "bc_node_info{name=\"w\"} 1\n");
}

TEST(MetricsText, EscapesLabelValues) {
  EXPECT_EQ(prometheus_label_value("relay:ny"), "\"relay:ny\"");
  EXPECT_EQ(prometheus_label_value("a\\b\"c\nd"), "\"a\\\\b\\\"c\\nd\"");
  auto doc = nlohmann::json::parse(R"({"links":[{"contact":"x\"y","channels":[{"channel":"relay:a\\b\nc","state":"down"}]}]})");
  EXPECT_EQ(render_prometheus(doc),
            "# HELP bc_channel_up 1 when the channel is up, 0 when down.\n# TYPE bc_channel_up gauge\n"
            "bc_channel_up{contact=\"x\\\"y\",channel=\"relay:a\\\\b\\nc\"} 0\n");
}

TEST(MetricsText, CountersPrintExactly) {
  auto doc = nlohmann::json::parse(
      R"({"links":[{"contact":"m","channels":[{"channel":"direct","bytes_in":18446744073709551615,"bytes_out":9007199254740993}]}]})");
  auto x = read(render_prometheus(doc));
  EXPECT_EQ(x.samples["bc_channel_bytes_total{contact=\"m\",channel=\"direct\",direction=\"in\"}"],
            "18446744073709551615");
  EXPECT_EQ(x.samples["bc_channel_bytes_total{contact=\"m\",channel=\"direct\",direction=\"out\"}"],
            "9007199254740993");
}

}  // namespace
}  // namespace bc::node
