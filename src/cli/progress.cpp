#include "cli/progress.h"

#include <unistd.h>

namespace bc::cli {
namespace {

constexpr std::chrono::milliseconds kRedrawEvery{100};

std::string line(std::string_view what, std::string_view stage, std::size_t done, std::size_t total) {
  std::string out = std::string(what) + ": " + std::string(stage);
  if (total > 1) {
    out += " " + std::to_string(done) + "/" + std::to_string(total) + " (" + std::to_string(done * 100 / total) + "%)";
  } else {
    out += done >= total ? " done" : " ...";
  }
  return out;
}

}  // namespace

void Progress::update(std::string_view stage, std::size_t done, std::size_t total) {
  if (total == 0) return;
  const bool new_stage = stage != stage_;
  if (new_stage) {
    stage_ = std::string(stage);
    quarter_ = -1;
  }
  if (terminal_) {
    const auto now = std::chrono::steady_clock::now();
    if (!new_stage && done < total && last_draw_ && now - *last_draw_ < kRedrawEvery) return;
    last_draw_ = now;
    // Padding wipes the tail of a longer line drawn before.
    err_ << "\r" << line(what_, stage_, done, total) << "          " << std::flush;
    drawn_ = true;
    return;
  }
  const int quarter = static_cast<int>(done * 4 / total);
  if (quarter == quarter_) return;
  quarter_ = quarter;
  if (total == 1 && done == 0) return;  // a one-go step says only that it is done
  err_ << line(what_, stage_, done, total) << "\n" << std::flush;
}

void Progress::finish() {
  if (terminal_ && drawn_) err_ << "\n" << std::flush;
  drawn_ = false;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) != 0; }

bool progress_wanted(bool flag) { return flag || stderr_is_terminal(); }

}  // namespace bc::cli
