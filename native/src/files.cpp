#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "binfile.hpp"

namespace zkai {

namespace {

ProvingKey parse_zkey(Reader& reader) {
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

}  // namespace

ProvingKey read_zkey(const std::uint8_t* bytes, std::size_t length) {
  Reader reader(bytes, length, "ZKEY_INVALID", "proving key (zkey)");
  return parse_zkey(reader);
}

ProvingKey read_zkey_file(const std::string& path, std::size_t window) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below as not a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw FileError("ZKEY_UNREADABLE", path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw FileError("ZKEY_UNREADABLE", path + ": " + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) throw FileError("ZKEY_UNREADABLE", path + ": not a regular file");
  Reader reader(fd, static_cast<std::size_t>(info.st_size), path, "ZKEY_INVALID", "ZKEY_UNREADABLE", "proving key (zkey)",
                window);
  return parse_zkey(reader);
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
