#include "files.hpp"

#include <cstring>
#include <map>

namespace zkai {
namespace {

/** A bounds-checked little-endian reader over one byte range; `code` names the file in its errors. */
class Reader {
 public:
  Reader(const std::uint8_t* bytes, std::size_t length, const char* code, const char* what)
      : bytes_(bytes), length_(length), code_(code), what_(what) {}

  std::size_t position() const { return position_; }
  std::size_t remaining() const { return length_ - position_; }
  void seek(std::size_t position) {
    if (position > length_) fail("a section lies past the end of the file");
    position_ = position;
  }
  const std::uint8_t* take(std::size_t count, const char* purpose) {
    if (count > remaining())
      fail(std::string("the file ends inside ") + purpose + " (" + std::to_string(count) + " bytes needed at offset " +
           std::to_string(position_) + ", " + std::to_string(remaining()) + " left)");
    const std::uint8_t* at = bytes_ + position_;
    position_ += count;
    return at;
  }
  std::uint32_t u32(const char* purpose) {
    std::uint32_t value;
    std::memcpy(&value, take(4, purpose), 4);
    return value;
  }
  std::uint64_t u64v(const char* purpose) {
    std::uint64_t value;
    std::memcpy(&value, take(8, purpose), 8);
    return value;
  }
  [[noreturn]] void fail(const std::string& reason) const {
    throw FileError(code_, std::string("invalid ") + what_ + ": " + reason);
  }

 private:
  const std::uint8_t* bytes_;
  std::size_t length_;
  std::size_t position_ = 0;
  const char* code_;
  const char* what_;
};

/** The sections of a binfile: type -> (offset, size). A type that appears twice is refused. */
std::map<std::uint32_t, std::pair<std::size_t, std::size_t>> read_sections(Reader& reader, const char magic[4],
                                                                            std::uint32_t max_version) {
  const std::uint8_t* found = reader.take(4, "the magic number");
  if (std::memcmp(found, magic, 4) != 0)
    reader.fail(std::string("it does not start with \"") + std::string(magic, 4) + "\"");
  const std::uint32_t version = reader.u32("the version");
  if (version == 0 || version > max_version) reader.fail("version " + std::to_string(version) + " is not supported");
  const std::uint32_t count = reader.u32("the section count");
  // snarkjs writes 10 sections in a zkey and 2 in a wtns: a table of thousands is not one of its files.
  if (count > 64) reader.fail(std::to_string(count) + " sections (at most 64 expected)");
  std::map<std::uint32_t, std::pair<std::size_t, std::size_t>> sections;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t type = reader.u32("a section header");
    const std::uint64_t size = reader.u64v("a section header");
    if (size > reader.remaining())
      reader.fail("section " + std::to_string(type) + " claims " + std::to_string(size) + " bytes, only " +
                  std::to_string(reader.remaining()) + " remain");
    if (sections.count(type) != 0) reader.fail("section " + std::to_string(type) + " appears twice");
    sections[type] = {reader.position(), static_cast<std::size_t>(size)};
    reader.seek(reader.position() + static_cast<std::size_t>(size));
  }
  return sections;
}

/** Moves the reader to section `type`, checking that it exists (and its exact size when `expected` is not 0). */
std::size_t enter(Reader& reader, const std::map<std::uint32_t, std::pair<std::size_t, std::size_t>>& sections,
                  std::uint32_t type, const char* name, std::size_t expected) {
  const auto it = sections.find(type);
  if (it == sections.end()) reader.fail(std::string("the ") + name + " section (" + std::to_string(type) + ") is missing");
  if (expected != 0 && it->second.second != expected)
    reader.fail(std::string("the ") + name + " section has " + std::to_string(it->second.second) + " bytes, " +
                std::to_string(expected) + " expected");
  reader.seek(it->second.first);
  return it->second.second;
}

/** Four limbs from 32 little-endian bytes. */
void limbs_of(const std::uint8_t* bytes, u64 out[4]) { std::memcpy(out, bytes, 32); }

Fq read_fq(Reader& reader, const char* purpose) {
  Fq value;
  limbs_of(reader.take(32, purpose), value.limbs);
  if (geq4(value.limbs, Fq::k().modulus)) reader.fail(std::string(purpose) + " holds a coordinate not below the base field modulus");
  return value;
}

G1Affine read_g1(Reader& reader, const char* purpose) {
  G1Affine point{read_fq(reader, purpose), read_fq(reader, purpose)};
  if (!point.is_infinity() && !on_curve(point, g1_b())) reader.fail(std::string(purpose) + " holds a point that is not on G1");
  return point;
}

G2Affine read_g2(Reader& reader, const char* purpose) {
  Fq2 x{read_fq(reader, purpose), read_fq(reader, purpose)};
  Fq2 y{read_fq(reader, purpose), read_fq(reader, purpose)};
  G2Affine point{x, y};
  if (!point.is_infinity() && !on_curve(point, g2_b())) reader.fail(std::string(purpose) + " holds a point that is not on G2");
  return point;
}

/** Checks that 32 bytes hold the modulus `expected`. */
bool equals_modulus(const std::uint8_t* bytes, const u64 expected[4]) {
  u64 value[4];
  limbs_of(bytes, value);
  return std::memcmp(value, expected, 32) == 0;
}

}  // namespace

ProvingKey read_zkey(const std::uint8_t* bytes, std::size_t length) {
  Reader reader(bytes, length, "ZKEY_INVALID", "proving key (zkey)");
  const auto sections = read_sections(reader, "zkey", 1);

  enter(reader, sections, 1, "header", 4);
  const std::uint32_t protocol = reader.u32("the protocol");
  if (protocol != 1)
    throw FileError("ZKEY_NOT_GROTH16", "the proving key is not a Groth16 key (protocol " + std::to_string(protocol) +
                                            "; PLONK is 2, FFLONK 10): zkai's native prover proves Groth16");

  const std::size_t header_size = enter(reader, sections, 2, "Groth16 header", 0);
  const std::uint32_t n8q = reader.u32("the base field size");
  if (n8q != 32) throw FileError("ZKEY_WRONG_CURVE", "the proving key is not for BN254 (base field of " + std::to_string(n8q) + " bytes)");
  if (!equals_modulus(reader.take(32, "the base field modulus"), Fq::k().modulus))
    throw FileError("ZKEY_WRONG_CURVE", "the proving key is not for BN254 (another base field modulus)");
  const std::uint32_t n8r = reader.u32("the scalar field size");
  if (n8r != 32) throw FileError("ZKEY_WRONG_CURVE", "the proving key is not for BN254 (scalar field of " + std::to_string(n8r) + " bytes)");
  if (!equals_modulus(reader.take(32, "the scalar field modulus"), Fr::k().modulus))
    throw FileError("ZKEY_WRONG_CURVE", "the proving key is not for BN254 (another scalar field modulus)");
  const std::size_t expected_header = 4 + 32 + 4 + 32 + 4 * 3 + 64 * 3 + 128 * 3;
  if (header_size != expected_header)
    reader.fail("the Groth16 header has " + std::to_string(header_size) + " bytes, " + std::to_string(expected_header) + " expected");

  ProvingKey key;
  key.variables = reader.u32("the number of signals");
  key.public_count = reader.u32("the number of public signals");
  key.domain_size = reader.u32("the domain size");
  if (key.variables == 0 || key.public_count >= key.variables)
    reader.fail(std::to_string(key.public_count) + " public signals among " + std::to_string(key.variables) + " signals");
  if (key.domain_size < 2 || (key.domain_size & (key.domain_size - 1)) != 0)
    reader.fail("the domain size " + std::to_string(key.domain_size) + " is not a power of two");
  while ((std::uint32_t{1} << key.power) < key.domain_size) ++key.power;
  if (key.power + 1 > 28) reader.fail("the domain 2^" + std::to_string(key.power) + " is too large for BN254 (at most 2^27)");
  key.alpha1 = read_g1(reader, "alpha1");
  key.beta1 = read_g1(reader, "beta1");
  key.beta2 = read_g2(reader, "beta2");
  read_g2(reader, "gamma2");
  key.delta1 = read_g1(reader, "delta1");
  key.delta2 = read_g2(reader, "delta2");

  const std::size_t coefficients_size = enter(reader, sections, 4, "coefficients", 0);
  const std::uint32_t count = reader.u32("the coefficient count");
  if (coefficients_size != 4 + static_cast<std::size_t>(count) * 44)
    reader.fail("the coefficients section has " + std::to_string(coefficients_size) + " bytes for " + std::to_string(count) + " coefficients");
  key.coefficients.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Coefficient& entry = key.coefficients[i];
    entry.matrix = reader.u32("a coefficient");
    entry.constraint = reader.u32("a coefficient");
    entry.signal = reader.u32("a coefficient");
    limbs_of(reader.take(32, "a coefficient"), entry.value.limbs);
    if (entry.matrix > 1) reader.fail("coefficient " + std::to_string(i) + " names matrix " + std::to_string(entry.matrix) + " (0 or 1 expected)");
    if (entry.constraint >= key.domain_size) reader.fail("coefficient " + std::to_string(i) + " names a constraint past the domain");
    if (entry.signal >= key.variables) reader.fail("coefficient " + std::to_string(i) + " names a signal past the witness");
    if (geq4(entry.value.limbs, Fr::k().modulus)) reader.fail("coefficient " + std::to_string(i) + " is not below the scalar field modulus");
  }

  const std::size_t n = key.variables;
  enter(reader, sections, 5, "A points", n * 64);
  key.a.resize(n);
  for (auto& point : key.a) point = read_g1(reader, "the A points");
  enter(reader, sections, 6, "B1 points", n * 64);
  key.b1.resize(n);
  for (auto& point : key.b1) point = read_g1(reader, "the B1 points");
  enter(reader, sections, 7, "B2 points", n * 128);
  key.b2.resize(n);
  for (auto& point : key.b2) point = read_g2(reader, "the B2 points");
  const std::size_t private_count = n - key.public_count - 1;
  enter(reader, sections, 8, "C points", private_count * 64);
  key.c.resize(private_count);
  for (auto& point : key.c) point = read_g1(reader, "the C points");
  enter(reader, sections, 9, "H points", static_cast<std::size_t>(key.domain_size) * 64);
  key.h.resize(key.domain_size);
  for (auto& point : key.h) point = read_g1(reader, "the H points");
  return key;
}

std::vector<u64> witness_from_values(const std::uint8_t* bytes, std::size_t length) {
  if (length % 32 != 0) throw FileError("WITNESS_INVALID", "invalid witness: " + std::to_string(length) + " bytes is not a whole number of 32-byte values");
  std::vector<u64> values(length / 8);
  if (length != 0) std::memcpy(values.data(), bytes, length);
  for (std::size_t i = 0; i < length / 32; ++i)
    if (geq4(&values[4 * i], Fr::k().modulus))
      throw FileError("WITNESS_INVALID", "invalid witness: value " + std::to_string(i) + " is not below the scalar field modulus");
  return values;
}

std::vector<u64> read_wtns(const std::uint8_t* bytes, std::size_t length) {
  Reader reader(bytes, length, "WITNESS_INVALID", "witness (wtns)");
  const auto sections = read_sections(reader, "wtns", 2);
  enter(reader, sections, 1, "header", 40);
  const std::uint32_t n8 = reader.u32("the field size");
  if (n8 != 32 || !equals_modulus(reader.take(32, "the field modulus"), Fr::k().modulus))
    throw FileError("WITNESS_WRONG_CURVE", "the witness is not over BN254's scalar field");
  const std::uint32_t count = reader.u32("the witness length");
  const std::size_t size = enter(reader, sections, 2, "values", static_cast<std::size_t>(count) * 32);
  return witness_from_values(reader.take(size, "the values"), size);
}

}  // namespace zkai
