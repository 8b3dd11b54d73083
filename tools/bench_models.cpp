// Forward+backward time of the unimodal networks on this machine (not a test: it takes seconds to
// minutes at full size). Usage:
//   bench_models i3d   [--batch 1] [--frames 16] [--size 224] [--width 1] [--threads 2] [--iters 3]
//   bench_models audio [--batch 8] [--width-div 1] [--threads 2] [--iters 3]
//   ... [--cuda 1] [--bf16 1]: on the first GPU, with the forward under bf16 autocast
// One warm-up step, then the mean of --iters timed steps (CCC loss on random labels, SGD-free:
// gradients are computed and dropped). Also prints clips (or windows) per second.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "core/models/audio_net.h"
#include "core/models/autocast.h"
#include "core/models/i3d.h"
#include "core/training/ccc_loss.h"

int main(int argc, char** argv) {
  if (argc < 2 || (std::string(argv[1]) != "i3d" && std::string(argv[1]) != "audio")) {
    std::fprintf(stderr,
                 "usage: bench_models i3d|audio [--batch N] [--frames N] [--size N] [--width X] "
                 "[--width-div N] [--threads N] [--iters N]\n");
    return 2;
  }
  std::string model = argv[1];
  std::map<std::string, double> opt{{"batch", model == "i3d" ? 1 : 8},
                                    {"frames", 16},
                                    {"size", 224},
                                    {"width", 1},
                                    {"width-div", 1},
                                    {"threads", 2},
                                    {"iters", 3},
                                    {"cuda", 0},
                                    {"bf16", 0}};
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = std::string(argv[i]).substr(2);
    if (!opt.count(key)) {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
    opt[key] = std::stod(argv[i + 1]);
  }
  torch::set_num_threads(static_cast<int>(opt["threads"]));
  torch::manual_seed(0);
  const int64_t batch = static_cast<int64_t>(opt["batch"]), targets = 2;
  std::shared_ptr<torch::nn::Module> net;
  std::function<torch::Tensor()> step;
  torch::Tensor input;
  if (model == "i3d") {
    auto i3d = avf::I3D(targets, opt["width"]);
    net = i3d.ptr();
    int64_t size = static_cast<int64_t>(opt["size"]);
    input = torch::randn({batch, 3, static_cast<int64_t>(opt["frames"]), size, size});
    step = [=]() mutable { return i3d->forward(input).prediction; };
  } else {
    auto audio = avf::AudioNet(targets, static_cast<int64_t>(opt["width-div"]));
    net = audio.ptr();
    input = torch::randn({batch, 1, 128, 129});
    step = [=]() mutable { return audio->forward(input).prediction; };
  }
  const torch::Device device = opt["cuda"] != 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const std::string amp = opt["bf16"] != 0 ? "bf16" : "off";
  net->to(device);
  input = input.to(device);
  net->train();
  auto labels = torch::randn({batch, targets}).to(device);
  // Device work is asynchronous: wait for it before reading the clock.
  const auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  double forward_s = 0, backward_s = 0;
  using clock = std::chrono::steady_clock;
  const int iters = static_cast<int>(opt["iters"]);
  for (int i = 0; i <= iters; ++i) {
    sync();
    auto t0 = clock::now();
    torch::Tensor prediction;
    {
      avf::Autocast scope(device, amp);
      prediction = step();
    }
    auto loss = avf::ccc_loss(prediction.to(torch::kFloat), labels);
    sync();
    auto t1 = clock::now();
    loss.backward();
    sync();
    auto t2 = clock::now();
    net->zero_grad();
    if (i == 0) continue;  // warm-up: allocator and oneDNN primitive caches
    forward_s += std::chrono::duration<double>(t1 - t0).count();
    backward_s += std::chrono::duration<double>(t2 - t1).count();
  }
  std::printf("%-6s %-22s %-6s %-4s %7s %8s %10s %10s %10s %10s\n", "model", "input", "device", "amp", "threads",
              "params", "forward_s", "backward_s", "step_s", "per_s");
  std::string shape;
  for (auto d : input.sizes()) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  const double step_s = (forward_s + backward_s) / iters;
  std::printf("%-6s %-22s %-6s %-4s %7d %8.2fM %10.4f %10.4f %10.4f %10.1f\n", model.c_str(), shape.c_str(),
              device.is_cuda() ? "cuda" : "cpu", amp.c_str(), torch::get_num_threads(), params / 1e6, forward_s / iters,
              backward_s / iters, step_s, double(batch) / step_s);
}
