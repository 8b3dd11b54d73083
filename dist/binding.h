// hwloc: binds each local rank to its own share of the node's cores (those nearest its GPU when it
// has one) so ranks do not fight over cores, and reports how many threads the rank should use.
#pragma once
#include <string>

namespace avf::dist {

struct Binding {
  int cores = 0;            // cores this rank may use (all of the node's when not bound)
  std::string description;  // "rank 0 bound to cores 0-3 (4 cores)"
};

// mode: "core" binds, "none" only reports. gpu >= 0 prefers the cores near that CUDA device.
Binding bind_local_rank(int local_rank, int local_size, const std::string& mode, int gpu = -1);

}  // namespace avf::dist
