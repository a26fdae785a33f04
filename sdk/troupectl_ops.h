// troupectl's operator commands (README "Operations"): actors, inspect and
// top. Each prints to stdout and returns the call's status (troupectl turns
// it into its exit code).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sdk/client.h"

namespace troupe {

struct ActorsCommand {
  std::string node;        // "" = the node connected to
  std::string kind;        // "" = every kind
  uint32_t page_size = 0;  // 0 = the node's default (1,000)
  std::string page_token;
  bool all = false;  // every page, then a summary line
};

// One page (or, with `all`, every page) as a table: ID KIND DEPTH HANDLED
// AGE. Without `all`, a last line gives the next page's --page_token.
absl::Status RunActors(Client& client, const ActorsCommand& command);

// One actor's state, one field per line.
absl::Status RunInspect(Client& client, const std::string& ref);

// The live view: redraws every `interval` until q or Ctrl-C (ncurses).
// FAILED_PRECONDITION when stdout is not a terminal.
absl::Status RunTop(Client& client, absl::Duration interval);

}  // namespace troupe
