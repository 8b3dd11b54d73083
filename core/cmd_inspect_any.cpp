// `avf inspect PATH`: checkpoints are described by the checkpoint coordinator, datasets and shards
// by the preprocessing module; this picks by what PATH is.
#include "core/subcommand.h"
#include "dist/checkpoint_store.h"

namespace avf {

int cmd_inspect_any(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (!a.empty() && a[0] != '-' && dist::is_checkpoint(a)) return dist::inspect_checkpoint(a);
  return cmd_inspect(args);
}

}  // namespace avf
