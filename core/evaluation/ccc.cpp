#include "core/evaluation/ccc.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace avf {

void CccStats::add(const double* x, const double* y, size_t n) {
  // Two passes over the block give its own centred moments exactly; merge() then folds them in.
  CccStats block;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(y[i])) continue;
    block.n_ += 1;
    block.mean_x_ += x[i];
    block.mean_y_ += y[i];
  }
  if (block.n_ == 0) return;
  block.mean_x_ /= block.n_;
  block.mean_y_ /= block.n_;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(y[i])) continue;
    double dx = x[i] - block.mean_x_, dy = y[i] - block.mean_y_;
    block.m2x_ += dx * dx;
    block.m2y_ += dy * dy;
    block.cxy_ += dx * dy;
  }
  merge(block);
}

void CccStats::add(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("CccStats::add: series of different lengths");
  add(x.data(), y.data(), x.size());
}

void CccStats::merge(const CccStats& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  double n = n_ + o.n_;
  double dx = o.mean_x_ - mean_x_, dy = o.mean_y_ - mean_y_;
  double w = n_ * o.n_ / n;
  m2x_ += o.m2x_ + dx * dx * w;
  m2y_ += o.m2y_ + dy * dy * w;
  cxy_ += o.cxy_ + dx * dy * w;
  mean_x_ += dx * o.n_ / n;
  mean_y_ += dy * o.n_ / n;
  n_ = n;
}

CccStats::Sums CccStats::sums(double sx, double sy) const {
  double ax = mean_x_ - sx, ay = mean_y_ - sy;
  return {n_, n_ * ax, n_ * ay, m2x_ + n_ * ax * ax, m2y_ + n_ * ay * ay, cxy_ + n_ * ax * ay};
}

CccStats CccStats::from_sums(const Sums& s, double sx, double sy) {
  CccStats r;
  r.n_ = s[0];
  if (r.n_ == 0) return r;
  double ax = s[1] / r.n_, ay = s[2] / r.n_;
  r.mean_x_ = sx + ax;
  r.mean_y_ = sy + ay;
  r.m2x_ = s[3] - r.n_ * ax * ax;
  r.m2y_ = s[4] - r.n_ * ay * ay;
  r.cxy_ = s[5] - r.n_ * ax * ay;
  return r;
}

double CccStats::ccc() const {
  double d = mean_x_ - mean_y_;
  // Multiplied through by n: 2·cxy / (m2x + m2y + n·d²) avoids three divisions and equals eq. 7.
  double den = m2x_ + m2y_ + n_ * d * d;
  if (n_ == 0 || den == 0) return std::numeric_limits<double>::quiet_NaN();
  return 2 * cxy_ / den;
}

double ccc(const std::vector<double>& x, const std::vector<double>& y) {
  CccStats s;
  s.add(x, y);
  return s.ccc();
}

}  // namespace avf
