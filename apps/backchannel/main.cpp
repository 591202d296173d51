// The one binary: node, relay and CLI are its subcommands (see src/cli/).
#include "cli/app.h"

int main(int argc, char** argv) { return bc::cli::run(argc, argv); }
