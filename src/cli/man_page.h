// Manual pages in roff (man(7) macros), one per command of the tree: backchannel(1) for the
// program, backchannel-relay-token-create(1) for `relay token create`. Generated at build time
// by the hidden `backchannel docs man DIR` from the App itself, so a page never lags the
// options it describes.
#pragma once

#include <string>
#include <vector>

#include "cli/doc_model.h"

namespace bc::cli {

struct ManPage {
  std::string name;  // "backchannel-relay-run"; the file is name + ".1"
  std::string text;
};

std::vector<ManPage> man_pages(const DocCommand& root, const std::string& version);

// Text made safe for a roff line: backslashes escaped, a leading '.' or '\'' defused.
std::string roff_escape(const std::string& text);

}  // namespace bc::cli
