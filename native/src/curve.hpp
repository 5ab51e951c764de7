// BN254 G1 (over Fq) and G2 (over Fq2 = Fq[u]/(u^2 + 1)), both y^2 = x^3 + b with a = 0, in Jacobian coordinates
// (x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity). The addition and doubling formulas are the standard a = 0
// ones (Explicit-Formulas Database: dbl-2009-l, madd-2007-bl, add-2007-bl), with the special cases handled: either
// point at infinity, P + P (doubled), P + (-P) (infinity).
#pragma once

#include "field.hpp"

namespace zkai {

/** An element a0 + a1 u of Fq2 (u^2 = -1). */
struct Fq2 {
  Fq c0, c1;

  static Fq2 zero() { return Fq2{Fq::zero(), Fq::zero()}; }
  static Fq2 one() { return Fq2{Fq::one(), Fq::zero()}; }
  bool is_zero() const { return c0.is_zero() && c1.is_zero(); }
  bool operator==(const Fq2& o) const { return c0 == o.c0 && c1 == o.c1; }
  bool operator!=(const Fq2& o) const { return !(*this == o); }
  friend Fq2 operator+(const Fq2& a, const Fq2& b) { return Fq2{a.c0 + b.c0, a.c1 + b.c1}; }
  friend Fq2 operator-(const Fq2& a, const Fq2& b) { return Fq2{a.c0 - b.c0, a.c1 - b.c1}; }
  Fq2 operator-() const { return Fq2{-c0, -c1}; }
  friend Fq2 operator*(const Fq2& a, const Fq2& b) {
    const Fq v0 = a.c0 * b.c0;
    const Fq v1 = a.c1 * b.c1;
    return Fq2{v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1};
  }
  Fq2& operator+=(const Fq2& b) { return *this = *this + b; }
  Fq2& operator-=(const Fq2& b) { return *this = *this - b; }
  Fq2& operator*=(const Fq2& b) { return *this = *this * b; }
  Fq2 square() const { return Fq2{(c0 + c1) * (c0 - c1), (c0 * c1).doubled()}; }
  Fq2 doubled() const { return Fq2{c0.doubled(), c1.doubled()}; }
  /** 1 / (a0 + a1 u) = (a0 - a1 u) / (a0^2 + a1^2); 0 for 0. */
  Fq2 inverse() const {
    const Fq norm = (c0.square() + c1.square()).inverse();
    return Fq2{c0 * norm, -(c1 * norm)};
  }
};

/** A point with affine coordinates; (0, 0) is the point at infinity, as in snarkjs's files (neither curve has it). */
template <typename F>
struct Affine {
  F x, y;
  bool is_infinity() const { return x.is_zero() && y.is_zero(); }
};

/** A point in Jacobian coordinates. */
template <typename F>
struct Jacobian {
  F x, y, z;

  static Jacobian infinity() { return Jacobian{F::one(), F::one(), F::zero()}; }
  static Jacobian from(const Affine<F>& p) {
    return p.is_infinity() ? infinity() : Jacobian{p.x, p.y, F::one()};
  }
  bool is_infinity() const { return z.is_zero(); }

  /** 2P (dbl-2009-l, a = 0). */
  Jacobian doubled() const {
    if (is_infinity() || y.is_zero()) return infinity();
    const F a = x.square();
    const F b = y.square();
    const F c = b.square();
    const F d = ((x + b).square() - a - c).doubled();
    const F e = a.doubled() + a;
    const F f = e.square();
    Jacobian out;
    out.x = f - d.doubled();
    const F c8 = c.doubled().doubled().doubled();
    out.y = e * (d - out.x) - c8;
    out.z = (y * z).doubled();
    return out;
  }

  /** P + Q for an affine Q (madd-2007-bl), with P + P and P + (-P) handled. */
  Jacobian add_affine(const Affine<F>& q) const {
    if (q.is_infinity()) return *this;
    if (is_infinity()) return from(q);
    const F z1z1 = z.square();
    const F u2 = q.x * z1z1;
    const F s2 = q.y * z * z1z1;
    const F h = u2 - x;
    const F r = (s2 - y).doubled();
    if (h.is_zero()) return r.is_zero() ? doubled() : infinity();
    const F hh = h.square();
    const F i = hh.doubled().doubled();
    const F j = h * i;
    const F v = x * i;
    Jacobian out;
    out.x = r.square() - j - v.doubled();
    out.y = r * (v - out.x) - (y * j).doubled();
    out.z = (z + h).square() - z1z1 - hh;
    return out;
  }

  /** P + Q (add-2007-bl), with the special cases handled. */
  Jacobian operator+(const Jacobian& q) const {
    if (q.is_infinity()) return *this;
    if (is_infinity()) return q;
    const F z1z1 = z.square();
    const F z2z2 = q.z.square();
    const F u1 = x * z2z2;
    const F u2 = q.x * z1z1;
    const F s1 = y * q.z * z2z2;
    const F s2 = q.y * z * z1z1;
    const F h = u2 - u1;
    const F r = (s2 - s1).doubled();
    if (h.is_zero()) return r.is_zero() ? doubled() : infinity();
    const F i = h.doubled().square();
    const F j = h * i;
    const F v = u1 * i;
    Jacobian out;
    out.x = r.square() - j - v.doubled();
    out.y = r * (v - out.x) - (s1 * j).doubled();
    out.z = ((z + q.z).square() - z1z1 - z2z2) * h;
    return out;
  }
  Jacobian& operator+=(const Jacobian& q) { return *this = *this + q; }

  Jacobian negated() const { return Jacobian{x, -y, z}; }

  Affine<F> to_affine() const {
    if (is_infinity()) return Affine<F>{F::zero(), F::zero()};
    const F zi = z.inverse();
    const F zi2 = zi.square();
    return Affine<F>{x * zi2, y * zi2 * zi};
  }

  /** k P for a standard scalar of four limbs (double and add; for the few fixed points of a proof). */
  Jacobian times(const u64 scalar[4]) const {
    Jacobian result = infinity();
    for (int i = 255; i >= 0; --i) {
      result = result.doubled();
      if ((scalar[i / 64] >> (i % 64)) & 1) result += *this;
    }
    return result;
  }
};

using G1Affine = Affine<Fq>;
using G2Affine = Affine<Fq2>;
using G1 = Jacobian<Fq>;
using G2 = Jacobian<Fq2>;

/** The curves' b: 3 for G1, 3 / (9 + u) for G2 (the twist), in Montgomery form. */
Fq g1_b();
Fq2 g2_b();

/** Whether an affine point (not infinity) satisfies y^2 = x^3 + b. */
template <typename F>
bool on_curve(const Affine<F>& p, const F& b) {
  return p.y.square() == p.x.square() * p.x + b;
}

}  // namespace zkai
