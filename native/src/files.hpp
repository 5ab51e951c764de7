// Readers for snarkjs's binary files: the Groth16 proving key (`.zkey`) and the witness (`.wtns`). Both are
// "binfiles": a 4-byte magic, a u32 version, a u32 section count, then sections of (u32 type, u64 size, data).
// Every length, count and offset is checked against the bytes there are before anything is read, every field
// element against its modulus and every point against its curve, so a truncated, corrupted or foreign file is a
// typed error (FileError with a code and the reason), never a read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "curve.hpp"

namespace zkai {

/** A refused file: `code` is one of the ZKEY_* / WITNESS_* codes below, the message says what was expected. */
struct FileError : std::runtime_error {
  std::string code;
  FileError(std::string error_code, const std::string& message)
      : std::runtime_error(message), code(std::move(error_code)) {}
};

/** One A or B entry of the QAP: matrix (0 = A, 1 = B), constraint row, signal, coefficient (stored as c R^2). */
struct Coefficient {
  std::uint32_t matrix;
  std::uint32_t constraint;
  std::uint32_t signal;
  Fr value;  // the raw stored limbs: Montgomery product with a standard witness value gives c w in Montgomery form
};

/** What a Groth16 proof needs from a zkey, kept in memory (a worker loads it once and proves many times). */
struct ProvingKey {
  std::uint32_t variables = 0;  // witness length, the constant 1 included
  std::uint32_t public_count = 0;
  std::uint32_t domain_size = 0;
  unsigned power = 0;  // log2(domain_size)
  G1Affine alpha1, beta1, delta1;
  G2Affine beta2, delta2;
  std::vector<Coefficient> coefficients;
  std::vector<G1Affine> a, b1, c, h;  // c starts at the first private signal
  std::vector<G2Affine> b2;
};

/** Parses a whole zkey file's bytes. */
ProvingKey read_zkey(const std::uint8_t* bytes, std::size_t length);

/**
 * Parses the zkey file at `path`, read through a 1 MiB window: only the parsed key is in memory, never the file's
 * bytes whole. ZKEY_UNREADABLE when it cannot be opened or is not a regular file. `window`: bytes read at a time
 * (the tests make it small so that many reads straddle two windows).
 */
ProvingKey read_zkey_file(const std::string& path, std::size_t window = std::size_t{1} << 20);

/** Parses a `.wtns` file's bytes into standard scalars (four limbs each). */
std::vector<u64> read_wtns(const std::uint8_t* bytes, std::size_t length);

/** Checks raw witness values (32 bytes each, little-endian, standard form) and returns them as limbs. */
std::vector<u64> witness_from_values(const std::uint8_t* bytes, std::size_t length);

}  // namespace zkai
