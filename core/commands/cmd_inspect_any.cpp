// `avf inspect PATH`: checkpoints are described by the checkpoint coordinator, datasets and shards
// by the preprocessing module; this picks by what PATH is.
#include "core/base/subcommand.h"
#include "core/training/checkpoint_store.h"

namespace avf {

int cmd_inspect_any(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (!a.empty() && a[0] != '-' && is_checkpoint(a)) return inspect_checkpoint(a);
  return cmd_inspect(args);
}

}  // namespace avf
