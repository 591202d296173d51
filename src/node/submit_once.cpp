#include "node/submit_once.h"

#include "link/submit.h"
#include "store/messages.h"

namespace bc::node {

Queued submit_once(store::Store& store, SqliteLinkStore& link_store, std::int64_t contact_id,
                   std::string_view token, wire::Precedence precedence, const link::Content& content,
                   util::WallTime now) {
  Queued out;
  link_store.transaction([&] {
    if (!token.empty()) {
      if (auto known = store::submission_seq(store, contact_id, token)) {
        out = {*known, 0, true};
        return;
      }
    }
    auto row = link::submit(link_store, precedence, content, now);
    if (!token.empty()) store::record_submission(store, contact_id, token, row.seq);
    out = {row.seq, row.body_size, false};
  });
  return out;
}

}  // namespace bc::node
