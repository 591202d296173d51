// Progress of long work on stderr (never stdout, which --json keeps for the document). A
// terminal gets one line redrawn at most ten times a second; anything else (--progress into a
// log) gets a line per stage at its start, at every quarter and at its end, the same on every run.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace bc::cli {

class Progress {
 public:
  // what: the work ("courier import"); terminal: redraw one line (else one line per step).
  Progress(std::ostream& err, std::string what, bool terminal) : err_(err), what_(std::move(what)), terminal_(terminal) {}
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // done of total units of stage (total 1: a step done in one go, 0 then 1).
  void update(std::string_view stage, std::size_t done, std::size_t total);
  // Ends a redrawn line; called by the destructor too.
  void finish();

 private:
  std::ostream& err_;
  std::string what_;
  bool terminal_;
  std::string stage_;
  int quarter_ = -1;
  bool drawn_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_draw_;
};

// Whether progress is shown: asked for (--progress), or stderr is a terminal.
bool progress_wanted(bool flag);
bool stderr_is_terminal();

}  // namespace bc::cli
