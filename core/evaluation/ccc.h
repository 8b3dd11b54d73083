// Concordance correlation coefficient (paper, equation 7) from mergeable sufficient statistics.
// Torch-free so metrics, post-processing, reports and the distributed reduction can all use it.
#pragma once
#include <array>
#include <cstddef>
#include <vector>

namespace avf {

// Statistics of paired samples (x = prediction, y = label) from which CCC follows exactly:
// the count, the means and the centred second moments, in float64. Keeping moments about the
// running mean (Welford/Chan) instead of raw power sums means labels with a large mean do not
// cancel catastrophically.
class CccStats {
 public:
  // Adds pairs; pairs whose label is NaN are skipped (missing annotation).
  void add(const double* x, const double* y, size_t n);
  void add(const std::vector<double>& x, const std::vector<double>& y);
  void add(double x, double y) { add(&x, &y, 1); }
  // Combines the statistics of a disjoint set of pairs (Chan et al.'s pairwise update).
  void merge(const CccStats& other);

  // Power sums about a shift (n, Σ(x-sx), Σ(y-sy), Σ(x-sx)², Σ(y-sy)², Σ(x-sx)(y-sy)): these add
  // up across ranks, so MPI_SUM all-reduces them when every rank uses the same shift. Choose a
  // shift near the data's mean (e.g. 0 for labels in [-1, 1], or rank 0's means broadcast first):
  // from_sums() subtracts squares, so it loses digits in proportion to (mean - shift)² / variance.
  using Sums = std::array<double, 6>;
  Sums sums(double shift_x = 0, double shift_y = 0) const;
  static CccStats from_sums(const Sums& sums, double shift_x = 0, double shift_y = 0);

  double count() const { return n_; }
  double mean_x() const { return mean_x_; }
  double mean_y() const { return mean_y_; }
  double var_x() const { return m2x_ / n_; }  // population variances, as in equation 7
  double var_y() const { return m2y_ / n_; }
  double cov() const { return cxy_ / n_; }
  // Equation 7: 2σxy / (σx² + σy² + (μx − μy)²). NaN when there are no pairs or the denominator is
  // zero (both series constant and equal: agreement is undefined, not perfect).
  double ccc() const;

 private:
  double n_ = 0, mean_x_ = 0, mean_y_ = 0, m2x_ = 0, m2y_ = 0, cxy_ = 0;
};

// CCC of two equally long series (NaN labels skipped).
double ccc(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace avf
