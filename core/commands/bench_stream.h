// `avf bench stream`: are `avf evaluate` and `avf extract` bound by the networks or by their own
// overheads? For the visual network, the audio network and both together (what extract runs), the
// forward-only throughput — the network alone on inputs already in memory, float on its device, at
// the same batch size and shapes, no_grad, eval mode — side by side in one run with the command's path
// end to end (the library calls the command makes: reading and assembling batches, converting, the
// forward pass, scattering, gathers, writing), and their ratio.
//
// Frames are the networks' input frames (sequences x L x S), counted the same way on both sides, so
// the ratio is the share of the command's time the networks get. Covering sequences overlap at a
// video's end, so a video of N frames sends a little more than N frames through the networks; the
// rows also give video frames/s (each frame of each video once), what a user waits for.
// Models are built from model.* with random weights: speed does not depend on the weights.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "core/base/config.h"
#include "core/commands/bench_table.h"
#include "core/training/run_context.h"

namespace avf {

struct StreamBenchOptions {
  std::string partition = "dev";  // what evaluate scores; extract streams every video
  int iters = 3;                  // timed passes of each kind, after a warm-up (medians)
  int max_videos = 0;             // > 0: only the first videos of the partition and of all (shorter runs)
};

// Adds three rows per case to `table` — forward only, the loader's work done in one thread (reading
// and assembling the pass's batches, for scale) and end to end — for visual (evaluate), audio
// (evaluate) and both (extract), and returns the ratios, end to end / forward only, of the slowest
// rank: {"visual evaluate", "audio evaluate", "extract"}.
nlohmann::json bench_stream(const Config& c, RunContext& ctx, const StreamBenchOptions& options, BenchTable& table);

}  // namespace avf
