// The paper's post-processing chain (Section IV-B): (i) median filter, (ii) centring, (iii) scaling by
// the ratio of standard deviations, (iv) time shift compensating the annotation delay. Its parameters
// are fitted on one partition and applied to another, so no score is fitted on the data it reports.
// Torch-free: it works on per-frame series of one target.
#pragma once
#include <vector>

namespace avf {

// One video's predictions and labels for one target on the frame grid. NaN labels are unannotated
// frames: they take no part in fitting or scoring.
struct Series {
  std::vector<double> prediction, label;
};

// Search grid of the fit; the defaults are the paper's ranges at 25 fps. Besides the grid, the fit
// always considers "off" (window 1, shift 0), so the chain never lowers the CCC it was fitted on.
struct PostprocessSearch {
  double fps = 25;
  double min_window_s = 0.4, max_window_s = 20, window_step_s = 0.4;
  double min_shift_s = 0.04, max_shift_s = 10, shift_step_s = 0.04;
};

// A fitted chain for one target: y' = delay(center + scale·(median(x) + bias − center), shift).
struct PostprocessParams {
  int window = 1;      // median filter length in frames (odd; 1 = off)
  double bias = 0;     // label mean − filtered-prediction mean on the fit partition
  double scale = 1;    // label std / filtered-prediction std on the fit partition
  double center = 0;   // label mean on the fit partition: the point scaling keeps fixed
  int shift = 0;       // frames the predictions are delayed by
  double fit_ccc = 0;  // CCC on the fit partition after the chain
};

// Centred running median of odd length `window`; near the ends the window is truncated to the
// samples that exist (an even count takes the mean of the two middle values).
std::vector<double> median_filter(const std::vector<double>& x, int window);
// x delayed by `frames` (y[t] = x[t − frames]); the first value fills the start.
std::vector<double> delay(const std::vector<double>& x, int frames);

// Per target: the window and shift maximising the CCC pooled over all `videos`, with the bias and
// scale that centre and scale the filtered predictions onto the labels.
PostprocessParams fit_postprocess(const std::vector<Series>& videos, const PostprocessSearch& search = {});
// The fitted chain applied to one video's predictions.
std::vector<double> apply_postprocess(const std::vector<double>& prediction, const PostprocessParams& params);

}  // namespace avf
