// `avf export`: a checkpoint's weights as plain HDF5 (one dataset per parameter or buffer, named by
// its dotted module path; the training configuration as attributes) for h5py, PyTorch and others.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "core/base/command_line.h"
#include "core/base/exit_codes.h"
#include "core/base/log.h"
#include "core/base/subcommand.h"
#include "core/base/version.h"
#include "core/models/weights_hdf5.h"
#include "core/training/trained_model.h"

namespace po = boost::program_options;

namespace avf {

int cmd_export(const std::vector<std::string>& args) {
  CommandSpec spec{"export", "Write a checkpoint's weights to HDF5, one dataset per parameter and buffer.",
                   "avf export CHECKPOINT --output weights.h5"};
  std::string checkpoint, output;
  spec.options.add_options()("checkpoint", po::value(&checkpoint)->required(), "checkpoint directory")(
      "output", po::value(&output)->required(), "HDF5 file to write");
  spec.positional.add("checkpoint", 1);
  if (!parse_args(spec, args)) return exit_code::ok;
  const auto trained = load_trained_model(checkpoint, torch::kCPU);
  const auto& m = trained.config;
  const nlohmann::json attrs{{"stage", m.train.stage},
                             {"fusion", m.model.fusion},
                             {"targets", fmt::format("{}", fmt::join(m.data.targets, ","))},
                             {"config", config_to_ini(m)},
                             {"checkpoint", checkpoint},
                             {"avf_version", version()},
                             {"avf_commit", git_commit()}};
  export_state_to_hdf5(trained.model->module(), output, attrs);
  log::info("exported {} to {}", checkpoint, output);
  return exit_code::ok;
}

}  // namespace avf
