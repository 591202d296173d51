// Entry point of the `backchannel` binary: parses the command line and runs one subcommand.
#pragma once

namespace bc::cli {

int run(int argc, char** argv);

}  // namespace bc::cli
