// Multi-scalar multiplication sum_i k_i P_i over affine bases (G1 or G2), multithreaded.
//
// Scalars are standard integers below the group order (four limbs). Zero scalars are skipped and scalars equal to 1
// are summed directly: circom witnesses are full of both (bit decompositions). The rest go through Pippenger's
// bucket method with signed digits: each scalar is rewritten in base 2^c with digits in [-2^(c-1), 2^(c-1)], so a
// window needs 2^(c-1) buckets and a negative digit adds the negated base (affine negation is free). The buckets
// are affine, filled by batched affine additions (AffineBuckets). Windows are shared among the threads; each thread
// keeps its own buckets. A cancel flag is checked every few thousand points.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <stdexcept>
#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "curve.hpp"

namespace zkai {

/** Thrown when a job's cancel flag was raised (a timeout or an abort): the work stops at the next check. */
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("the proof was cancelled") {}
};

/**
 * A job's cancel flag: a 32-bit word that another thread (JavaScript, through a SharedArrayBuffer) sets to nonzero.
 * No word: never cancelled.
 */
struct CancelFlag {
  const std::int32_t* word = nullptr;
  bool raised() const { return word != nullptr && __atomic_load_n(word, __ATOMIC_RELAXED) != 0; }
};

inline void check_cancel(const CancelFlag& cancel) {
  if (cancel.raised()) throw Cancelled();
}

/**
 * The window width for `count` points: about log2(count) - 3. With signed digits a window has 2^(c-1) buckets whose
 * sum costs two Jacobian additions each, against one batched affine addition per point; measured on 2^13 and 2^16
 * random points, log2 - 2 and log2 - 3 were within 5% of each other and log2 - 1 or - 4 up to 30% slower.
 */
inline unsigned msm_window(std::size_t count) {
  if (count < 64) return 3;
  const unsigned bits = static_cast<unsigned>(std::log2(static_cast<double>(count)));
  return bits - 3 > 16 ? 16 : bits - 3;
}

/**
 * A signed digit: |digit| <= 2^(c-1) <= 2^15 for the windows of msm_window (c at most 16; the top window's digit, which
 * absorbs the last carry, is at most 2), so two bytes hold it: half the memory of the digit table (2.9 MB at 2^16).
 */
using Digit = std::int16_t;

/** Writes the signed base-2^c digits of `scalar` (windows of them; the top digit absorbs the last carry). */
inline void signed_digits(const u64 scalar[4], unsigned c, unsigned windows, Digit* digits) {
  const int half = 1 << (c - 1);
  const int full = 1 << c;
  int carry = 0;
  for (unsigned w = 0; w < windows; ++w) {
    const unsigned bit = w * c;
    int digit = 0;
    if (bit < 256) {
      const unsigned limb = bit / 64;
      const unsigned shift = bit % 64;
      u64 word = scalar[limb] >> shift;
      if (shift + c > 64 && limb + 1 < 4) word |= scalar[limb + 1] << (64 - shift);
      digit = static_cast<int>(word & static_cast<u64>(full - 1));
    }
    digit += carry;
    if (digit >= half && w + 1 < windows) {
      digit -= full;
      carry = 1;
    } else {
      carry = 0;
    }
    digits[w] = static_cast<Digit>(digit);
  }
}

/**
 * Buckets kept in affine coordinates, filled by batches of affine additions that share one field inversion
 * (Montgomery's trick): about 5 multiplications and a squaring per addition, where a mixed Jacobian addition takes 7
 * and 4. A point for a bucket that already waits in the current batch goes to that bucket's Jacobian overflow instead
 * (a mixed addition), so no point ever waits: the top windows, whose few digits crowd a handful of buckets, cost no
 * more than plain Jacobian buckets. The special cases are exact: an empty bucket takes the point, P + P is a doubling,
 * P + (-P) empties the bucket.
 */
template <typename F>
class AffineBuckets {
 public:
  /** `count` buckets; a batch holds at most a quarter of them (so few points meet a busy bucket). */
  explicit AffineBuckets(std::size_t count)
      : batch_size_(std::clamp<std::size_t>(count / 4, 1, 1024)),
        points_(count),
        overflow_(count, Jacobian<F>::infinity()),
        filled_(count, 0),
        busy_(count, 0) {
    batch_.reserve(batch_size_);
    denominators_.reserve(batch_size_);
    scratch_.resize(batch_size_);
  }

  std::size_t size() const { return points_.size(); }

  void clear() {
    std::fill(filled_.begin(), filled_.end(), 0);
    std::fill(busy_.begin(), busy_.end(), 0);
    std::fill(overflow_.begin(), overflow_.end(), Jacobian<F>::infinity());
    batch_.clear();
    denominators_.clear();
  }

  /** bucket[b] += p (p not infinity). */
  void add(std::size_t b, const Affine<F>& p) {
    if (busy_[b]) {
      overflow_[b] = overflow_[b].add_affine(p);
      return;
    }
    schedule(b, p);
    if (batch_.size() == batch_size_) flush();
  }

  /** Adds what is still in the batch. */
  void finish() { flush(); }

  /** running += bucket[b] (its affine part and its overflow). */
  void add_to(std::size_t b, Jacobian<F>& running) const {
    if (filled_[b]) running = running.add_affine(points_[b]);
    if (!overflow_[b].is_infinity()) running += overflow_[b];
  }

 private:
  struct Pending {
    std::size_t bucket;
    Affine<F> point;
  };

  void schedule(std::size_t b, const Affine<F>& p) {
    if (!filled_[b]) {
      points_[b] = p;
      filled_[b] = 1;
      return;
    }
    const Affine<F>& q = points_[b];
    F denominator;
    if (q.x == p.x) {
      if (q.y != p.y || q.y.is_zero()) {  // P + (-P); y = 0 does not occur on these curves
        filled_[b] = 0;
        return;
      }
      denominator = q.y.doubled();  // doubling: lambda = 3 x^2 / 2 y
    } else {
      denominator = p.x - q.x;
    }
    busy_[b] = 1;
    batch_.push_back({b, p});
    denominators_.push_back(denominator);
  }

  void flush() {
    if (batch_.empty()) return;
    batch_inverse(denominators_.data(), denominators_.size(), scratch_.data());
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      const std::size_t b = batch_[i].bucket;
      const Affine<F>& p = batch_[i].point;
      Affine<F>& q = points_[b];
      const F numerator = q.x == p.x ? q.x.square().doubled() + q.x.square() : p.y - q.y;
      const F lambda = numerator * denominators_[i];
      const F x = lambda.square() - q.x - p.x;
      q.y = lambda * (q.x - x) - q.y;
      q.x = x;
      busy_[b] = 0;
    }
    batch_.clear();
    denominators_.clear();
  }

  std::size_t batch_size_;
  std::vector<Affine<F>> points_;
  std::vector<Jacobian<F>> overflow_;
  std::vector<std::uint8_t> filled_, busy_;
  std::vector<Pending> batch_;
  std::vector<F> denominators_, scratch_;
};

/**
 * sum_i scalars[i] * bases[i] for `count` pairs. `scalars` holds four little-endian limbs per scalar (a standard
 * integer below 2^254). `threads` is at least 1.
 */
template <typename F>
Jacobian<F> msm(const Affine<F>* bases, const u64* scalars, std::size_t count, unsigned threads,
                const CancelFlag& cancel) {
  using Point = Jacobian<F>;
  if (threads == 0) threads = 1;
  // Split: zeros skipped, ones summed, the rest kept for the buckets.
  std::vector<std::size_t> rest;
  rest.reserve(count);
  Point ones = Point::infinity();
  for (std::size_t i = 0; i < count; ++i) {
    const u64* k = scalars + 4 * i;
    if (bases[i].is_infinity() || is_zero4(k)) continue;
    if (k[0] == 1 && (k[1] | k[2] | k[3]) == 0) {
      ones = ones.add_affine(bases[i]);
      if ((i & 4095) == 0) check_cancel(cancel);
    } else {
      rest.push_back(i);
    }
  }
  if (rest.empty()) return ones;

  const unsigned c = msm_window(rest.size());
  const unsigned windows = (254 + c - 1) / c + 1;
  std::vector<Digit> digits(rest.size() * windows);
  for (std::size_t j = 0; j < rest.size(); ++j) signed_digits(scalars + 4 * rest[j], c, windows, &digits[j * windows]);

  // Windows are taken in groups: one pass over the points fills the buckets of every window of a group, so a batch
  // of affine additions spans the group's buckets (larger batches, one inversion shared by more additions, fewer
  // collisions) and each base is read once per group rather than once per window. The affine points of a group's
  // buckets stay within about 256 KiB (a core's L2; each bucket's Jacobian overflow comes on top); the number of
  // groups is a multiple of the threads where there are windows enough (from c = 13 each window is a group), and the
  // windows are spread evenly over them, so the threads finish together.
  const std::size_t half = std::size_t{1} << (c - 1);
  const std::size_t group_cap = std::max<std::size_t>(1, (std::size_t{1} << 18) / sizeof(Affine<F>) / half);
  unsigned groups = static_cast<unsigned>((windows + group_cap - 1) / group_cap);
  groups = std::min(windows, (groups + threads - 1) / threads * threads);
  const auto group_start = [&](unsigned g) { return static_cast<unsigned>(std::size_t{g} * windows / groups); };
  const unsigned largest_group = (windows + groups - 1) / groups;
  std::vector<Point> window_sums(windows, Point::infinity());
  std::atomic<unsigned> next_group{0};
  if (threads > groups) threads = groups;
  std::vector<std::exception_ptr> failures(threads);
  auto worker = [&](unsigned self) {
    try {
      std::unique_ptr<AffineBuckets<F>> owned;  // made when the thread takes its first group
      for (unsigned g = next_group.fetch_add(1); g < groups; g = next_group.fetch_add(1)) {
        const unsigned first = group_start(g);
        const unsigned last = group_start(g + 1);
        if (!owned) owned = std::make_unique<AffineBuckets<F>>(largest_group * half);
        AffineBuckets<F>& buckets = *owned;
        buckets.clear();
        for (std::size_t j = 0; j < rest.size(); ++j) {
          if ((j & 4095) == 0) check_cancel(cancel);
          const Digit* point_digits = &digits[j * windows];
          const Affine<F>& base = bases[rest[j]];
          for (unsigned w = first; w < last; ++w) {
            const int digit = point_digits[w];
            if (digit == 0) continue;
            const std::size_t offset = (w - first) * half;
            if (digit > 0) buckets.add(offset + static_cast<std::size_t>(digit - 1), base);
            else buckets.add(offset + static_cast<std::size_t>(-digit - 1), Affine<F>{base.x, -base.y});
          }
        }
        buckets.finish();
        // Per window, sum_b (b + 1) * bucket[b] as a running sum from the top bucket down.
        for (unsigned w = first; w < last; ++w) {
          const std::size_t offset = (w - first) * half;
          Point running = Point::infinity();
          Point total = Point::infinity();
          for (std::size_t b = half; b-- > 0;) {
            buckets.add_to(offset + b, running);
            total += running;
          }
          window_sums[w] = total;
        }
      }
    } catch (...) {
      failures[self] = std::current_exception();
      // Let the other threads stop too: no group is left for them.
      next_group.store(groups);
    }
  };
  {
    // Joined on every way out: when starting a thread fails, the ones started are stopped (no window left for
    // them) and joined before the exception leaves, never destroyed while joinable.
    std::vector<std::thread> pool;
    struct JoinAll {
      std::vector<std::thread>& threads;
      ~JoinAll() {
        for (auto& thread : threads)
          if (thread.joinable()) thread.join();
      }
    } join_all{pool};
    try {
      for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, t);
    } catch (...) {
      next_group.store(groups);
      throw;
    }
    worker(0);
  }
  for (auto& failure : failures)
    if (failure) std::rethrow_exception(failure);

  Point result = window_sums[windows - 1];
  for (unsigned w = windows - 1; w-- > 0;) {
    for (unsigned d = 0; d < c; ++d) result = result.doubled();
    result += window_sums[w];
  }
  return result + ones;
}

}  // namespace zkai
