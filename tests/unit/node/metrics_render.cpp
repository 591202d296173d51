// Reads a status reply (JSON) on stdin and prints render_prometheus() of it, so that
// metrics_text_check.py can hand the text to a third-party parser.
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "node/metrics_text.h"

int main() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto doc = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    std::cerr << "metrics_render: stdin is not JSON\n";
    return 2;
  }
  std::cout << bc::node::render_prometheus(doc);
  return 0;
}
