// The commands that need OpenCV and FFmpeg, in a build without them (AVF_WITH_MEDIA=OFF, or AUTO on a
// machine without the development packages, typically a GPU node that only trains).
#include <string>
#include <vector>

#include "core/base/config.h"
#include "core/base/subcommand.h"

namespace avf {
namespace {
[[noreturn]] void unavailable(const std::string& command) {
  throw ConfigError("'avf " + command +
                    "' needs OpenCV and FFmpeg, and this avf was built without them (AVF_WITH_MEDIA; see "
                    "`avf --version`): run it where avf was built with them and copy the shards here");
}
}  // namespace

int cmd_preprocess(const std::vector<std::string>&) { unavailable("preprocess"); }
int cmd_predict(const std::vector<std::string>&) { unavailable("predict"); }

}  // namespace avf
