// Groth16 `zkey new`: the proving key of a circuit (its r1cs) from a phase-1 powers of tau (a prepared ptau), before any
// phase-2 contribution. The file written is byte for byte the one snarkjs's `zkey new` writes (sections in the same
// order, the same circuit hash), so snarkjs's `zkey contribute`, `zkey verify` and `zkey export verificationkey`
// take it as their own; test/native-setup.test.ts compares the two on real circuits.
//
// Every point of the key is a linear combination of ptau points with the r1cs coefficients (snarkjs: one scalar
// multiplication per term, in WebAssembly). Here each output point is one Straus sum over its terms: width-5 signed
// digits (wNAF) of each coefficient, or of its negation when that is shorter, a table of odd multiples per term made
// affine with one inversion per point, the doublings shared by all of the point's terms.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "files.hpp"

namespace zkai {

/** Random access to a (possibly huge) ptau file: only the ranges the circuit needs are read. */
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::uint64_t size() const = 0;
  /** Reads exactly `length` bytes at `offset` (the caller checked the range) or throws FileError. */
  virtual void read(std::uint64_t offset, std::size_t length, std::uint8_t* out) const = 0;
};

/** Bytes already in memory (the fuzz tests). */
class MemorySource : public ByteSource {
 public:
  MemorySource(const std::uint8_t* bytes, std::size_t length) : bytes_(bytes), length_(length) {}
  std::uint64_t size() const override { return length_; }
  void read(std::uint64_t offset, std::size_t length, std::uint8_t* out) const override;

 private:
  const std::uint8_t* bytes_;
  std::size_t length_;
};

/** A file read with pread; the constructor throws FileError (PTAU_UNREADABLE) when it cannot be opened. */
class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, std::size_t length, std::uint8_t* out) const override;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string path_;
};

/** The bytes of a regular file (a FIFO or a device is refused, never waited on); FileError `code` otherwise. */
std::vector<std::uint8_t> read_regular_file(const std::string& path, const char* code);

/** Where the zkey's bytes go, in order. */
using ByteSink = std::function<void(const std::uint8_t*, std::size_t)>;

/**
 * Writes the zkey of the r1cs `r1cs` (the whole file's bytes) and the ptau `ptau` to `sink` and returns snarkjs's
 * circuit hash (BLAKE2b-512, 64 bytes). Throws FileError: R1CS_INVALID, R1CS_WRONG_CURVE, PTAU_INVALID,
 * PTAU_WRONG_CURVE, PTAU_NOT_PREPARED, PTAU_TOO_SMALL, or SETUP_UNSUPPORTED.
 *
 * For a domain of 2^15 or more and a ptau of exactly that power, snarkjs's circuit hash includes one "point" made
 * from the 64 bytes after the ptau's tau section (another section's header and points) by WebAssembly arithmetic on
 * values that are not field elements: no other program should imitate that. `past_end_hash` is then those 64 hashed
 * bytes as snarkjs computes them (src/setup/zkey-new.ts runs snarkjs's own code for them); without it that shape is
 * SETUP_UNSUPPORTED.
 */
std::vector<std::uint8_t> new_zkey(const std::uint8_t* r1cs, std::size_t r1cs_length, const ByteSource& ptau,
                                   const ByteSink& sink, unsigned threads, const std::uint8_t* past_end_hash = nullptr);

/**
 * Every G1 point of `points` (`count` of them in snarkjs's file layout: x then y, 32 bytes each, little-endian
 * Montgomery form; (0, 0) is infinity) times the scalar `k` (four limbs, standard form, below r), written to `out` in
 * the same layout: what snarkjs's `batchApplyKey` does to a zkey's L and H sections in a phase-2 contribution. On
 * `threads` threads. Throws FileError (ZKEY_INVALID) for a coordinate not below q or a point not on G1.
 */
void scale_g1_points(const std::uint8_t* points, std::size_t count, const u64 k[4], std::uint8_t* out, unsigned threads);

}  // namespace zkai
