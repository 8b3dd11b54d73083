// `avf`: one executable, git-style subcommands. Errors become exit codes with one clear line on
// stderr; nothing escapes as an uncaught exception.
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "core/base/config.h"
#include "core/base/exit_codes.h"
#include "core/base/malloc_reuse.h"
#include "core/base/subcommand.h"
#include "core/base/version.h"
#include "dist/preemption.h"
#include "dist/process_group.h"

namespace {

const avf::Subcommand kCommands[] = {
    {"preprocess", "videos, audio and labels -> sharded HDF5 of face crops, spectrograms and labels",
     avf::cmd_preprocess},
    {"inspect", "summarise or --verify a preprocessed dataset, a shard or a checkpoint", avf::cmd_inspect_any},
    {"train", "train the visual, audio or fusion network (data-parallel over MPI ranks)", avf::cmd_train},
    {"extract", "write per-sub-sequence audio and visual features for the fusion stage", avf::cmd_extract},
    {"evaluate", "CCC table (audio | visual | fusion, raw and post-processed), predictions and plots",
     avf::cmd_evaluate},
    {"predict", "per-frame predictions and a plot for a new video from trained checkpoints", avf::cmd_predict},
    {"export", "a checkpoint's weights to HDF5 (one dataset per parameter/buffer)", avf::cmd_export},
    {"bench", "benchmarks with nccl-tests columns (allreduce)", avf::cmd_bench},
    {"sweep", "hyperparameter sweeps: plan, run (local or SLURM job array), status, resume, report", avf::cmd_sweep},
    {"repro", "run one config with N seeds: mean ± std of each CCC and a bit-identical check", avf::cmd_repro},
};

void print_help() {
  std::string text =
      "usage: avf <command> [options]\n"
      "       avf <command> --help     options of one command\n"
      "       avf --version            version, commit and library versions\n\n"
      "Audio-visual emotion recognition with cross-attentional fusion, at cluster scale.\n\ncommands:\n";
  for (const auto& c : kCommands) text += fmt::format("  {:<11} {}\n", c.name, c.summary);
  text += fmt::format("  {:<11} {}\n", "help", "this text");
  std::fputs(text.c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  avf::reuse_freed_memory();  // before any batch buffer exists (core/base/malloc_reuse.h)
  const std::vector<std::string> args(argv + 1, argv + argc);
  // Signals held by the launcher while this program loaded (core/commands/launcher.cpp): the trainer takes
  // them over once its preemption handler is in place; every other command gets them now.
  if (args.empty() || args[0] != "train") avf::dist::release_early_signals();
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    print_help();
    return args.empty() ? avf::exit_code::usage : avf::exit_code::ok;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::fputs(avf::build_info().c_str(), stdout);
    return avf::exit_code::ok;
  }
  for (const auto& c : kCommands) {
    if (args[0] != c.name) continue;
    try {
      return c.run({args.begin() + 1, args.end()});
    } catch (const avf::ConfigError& e) {
      std::fprintf(stderr, "avf %s: error: %s\n", c.name, e.what());
      return avf::exit_code::usage;
    } catch (const std::exception& e) {
      // In a multi-rank job the other ranks may be waiting in a collective: end them too.
      avf::dist::fail_fast_if_distributed(avf::exit_code::failure, fmt::format("avf {}: {}", c.name, e.what()));
      std::fprintf(stderr, "avf %s: error: %s\n", c.name, e.what());
      return avf::exit_code::failure;
    }
  }
  std::string suggestion;
  size_t best = 3;
  for (const auto& c : kCommands)
    if (size_t d = avf::edit_distance(args[0], c.name); d < best) best = d, suggestion = c.name;
  std::fprintf(stderr, "avf: error: unknown command '%s'%s; see 'avf help'\n", args[0].c_str(),
               suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", suggestion).c_str());
  return avf::exit_code::usage;
}
