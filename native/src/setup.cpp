#include "setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>
#include <type_traits>

#include "binfile.hpp"
#include "blake2b.hpp"
#include "msm.hpp"
#include "trace.hpp"

namespace zkai {

void MemorySource::read(std::uint64_t offset, std::size_t length, std::uint8_t* out) const {
  if (offset > length_ || length > length_ - offset)
    throw FileError("PTAU_INVALID", "invalid ptau: a read past the end of the file");
  if (length != 0) std::memcpy(out, bytes_ + offset, length);
}

FileSource::FileSource(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below as not a regular file.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) throw FileError("PTAU_UNREADABLE", path + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw FileError("PTAU_UNREADABLE", path + ": not a regular file");
  }
  size_ = static_cast<std::uint64_t>(info.st_size);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::read(std::uint64_t offset, std::size_t length, std::uint8_t* out) const {
  std::size_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw FileError("PTAU_UNREADABLE", path_ + ": " + std::strerror(errno));
    if (got == 0) throw FileError("PTAU_INVALID", "invalid ptau: " + path_ + " ended early (was it changed while read?)");
    done += static_cast<std::size_t>(got);
  }
}

std::vector<std::uint8_t> read_regular_file(const std::string& path, const char* code) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw FileError(code, path + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw FileError(code, path + ": not a regular file");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const std::string reason = got == 0 ? "ended early (was it changed while read?)" : std::strerror(errno);
      ::close(fd);
      throw FileError(code, path + ": " + reason);
    }
    done += static_cast<std::size_t>(got);
  }
  ::close(fd);
  return bytes;
}

static_assert(sizeof(G1Affine) == 64 && sizeof(G2Affine) == 128, "points are written as their limbs");

namespace {

// The G2 generator (x = x0 + x1 u, y = y0 + y1 u), standard form, least significant limb first.
constexpr u64 kG2GeneratorX0[4] = {0x46debd5cd992f6edULL, 0x674322d4f75edaddULL, 0x426a00665e5c4479ULL, 0x1800deef121f1e76ULL};
constexpr u64 kG2GeneratorX1[4] = {0x97e485b7aef312c2ULL, 0xf1aa493335a9e712ULL, 0x7260bfb731fb5d25ULL, 0x198e9393920d483aULL};
constexpr u64 kG2GeneratorY0[4] = {0x4ce6cc0166fa7daaULL, 0xe3d1e7690c43d37bULL, 0x4aab71808dcb408fULL, 0x12c85ea5db8c6debULL};
constexpr u64 kG2GeneratorY1[4] = {0x55acdadcd122975bULL, 0xbc4b313370b38ef3ULL, 0xec9e99ad690c3395ULL, 0x090689d0585ff075ULL};

G1Affine g1_generator() { return G1Affine{Fq::from_u64(1), Fq::from_u64(2)}; }
G2Affine g2_generator() {
  return G2Affine{Fq2{Fq::from_standard(kG2GeneratorX0), Fq::from_standard(kG2GeneratorX1)},
                  Fq2{Fq::from_standard(kG2GeneratorY0), Fq::from_standard(kG2GeneratorY1)}};
}

/** The offset of an r1cs coefficient that is the constant 1 (the public signals' extra rows): no bytes hold it. */
constexpr std::uint64_t kOne = ~std::uint64_t{0};

/** One nonzero entry of a QAP matrix, kept per signal: its row and where its coefficient is in the r1cs bytes. */
struct Entry {
  std::uint32_t constraint;
  std::uint64_t offset;
};

/** The entries of one matrix, grouped by signal (compressed rows of the transposed matrix). */
struct ByWire {
  std::vector<std::uint64_t> start;  // wires + 1
  std::vector<Entry> entries;
};

struct R1cs {
  std::uint32_t wires = 0, outputs = 0, public_inputs = 0, constraints = 0;
  std::uint32_t public_count = 0;  // outputs + public inputs
  ByWire matrix[3];                // A, B, C
  std::vector<std::uint8_t> coefficients;  // the zkey's section 4, written as the rows are read
};

/** The r1cs coefficient at `offset` (standard form, checked below r when the file was read), or 1. */
void coefficient_at(const std::uint8_t* r1cs, std::uint64_t offset, u64 out[4]) {
  if (offset == kOne) {
    out[0] = 1;
    out[1] = out[2] = out[3] = 0;
  } else {
    std::memcpy(out, r1cs + offset, 32);
  }
}

/** The zkey's form of an r1cs coefficient c: c R^2 mod r (snarkjs multiplies by R^2 in Montgomery form). */
void zkey_coefficient(const u64 c[4], std::uint8_t out[32]) {
  const Fr once = Fr::from_standard(c);
  const Fr twice = Fr::from_standard(once.limbs);
  std::memcpy(out, twice.limbs, 32);
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

/** Parses and checks the r1cs, builds the per-signal entries and the zkey's coefficient section. */
R1cs read_r1cs(const std::uint8_t* bytes, std::size_t length) {
  Reader reader(bytes, length, "R1CS_INVALID", "r1cs");
  const SectionTable sections = read_sections(reader, "r1cs", 1);
  enter(reader, sections, 1, "header", 64);  // snarkjs's reader wants exactly these 64 bytes
  const std::uint32_t n8 = reader.u32("the field size");
  if (n8 != 32 || !equals_modulus(reader.take(32, "the field modulus"), Fr::k().modulus))
    throw FileError("R1CS_WRONG_CURVE", "the r1cs is not over BN254's scalar field (the ptau's curve)");
  R1cs r;
  r.wires = reader.u32("the number of wires");
  r.outputs = reader.u32("the number of outputs");
  r.public_inputs = reader.u32("the number of public inputs");
  const std::uint32_t private_inputs = reader.u32("the number of private inputs");
  reader.u64v("the number of labels");
  r.constraints = reader.u32("the number of constraints");
  const std::uint64_t declared = std::uint64_t{1} + r.outputs + r.public_inputs + private_inputs;
  if (r.wires == 0 || declared > r.wires)
    reader.fail(std::to_string(r.wires) + " wires cannot hold the constant, " + std::to_string(r.outputs) + " outputs and " +
                std::to_string(r.public_inputs + std::uint64_t{private_inputs}) + " inputs");
  r.public_count = r.outputs + r.public_inputs;

  const std::size_t section_size = enter(reader, sections, 2, "constraints", 0);
  const std::size_t begin = reader.position();
  const std::size_t end = begin + section_size;
  // A first walk counts the entries the file really holds, so a header's wire count (nothing else backs it) cannot
  // make this allocate more than the file justifies: every wire past the inputs and outputs is in some constraint.
  std::uint64_t entries = 0;
  for (std::uint32_t c = 0; c < r.constraints; ++c)
    for (int m = 0; m < 3; ++m) {
      const std::uint32_t count = reader.u32("a constraint");
      if (std::uint64_t{count} * 36 > reader.remaining()) reader.fail("constraint " + std::to_string(c) + " runs past the end of the file");
      reader.take(std::size_t{count} * 36, "a constraint");
      entries += count;
    }
  if (r.wires > declared + entries)
    reader.fail(std::to_string(r.wires) + " wires, but the constraints name at most " + std::to_string(entries) +
                " besides the constant, the inputs and the outputs");
  reader.seek(begin);
  // First pass: check every entry and count them per matrix and signal.
  for (auto& m : r.matrix) m.start.assign(static_cast<std::size_t>(r.wires) + 1, 0);
  std::uint64_t a_and_b = 0;
  for (std::uint32_t c = 0; c < r.constraints; ++c) {
    for (int m = 0; m < 3; ++m) {
      const std::uint32_t count = reader.u32("a constraint");
      for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t wire = reader.u32("a constraint");
        u64 value[4];
        limbs_of(reader.take(32, "a coefficient"), value);
        if (wire >= r.wires)
          reader.fail("constraint " + std::to_string(c) + " names wire " + std::to_string(wire) + " of " + std::to_string(r.wires));
        if (geq4(value, Fr::k().modulus))
          reader.fail("constraint " + std::to_string(c) + " has a coefficient not below the scalar field modulus");
        ++r.matrix[m].start[wire + 1];
        if (m < 2) ++a_and_b;
      }
      if (reader.position() > end) reader.fail("the constraints run past the end of their section");
    }
  }
  if (reader.position() != end)
    reader.fail("the constraints section has " + std::to_string(end - reader.position()) + " bytes after its last constraint");
  if (a_and_b + r.public_count + 1 > 0xffffffffULL) reader.fail("too many coefficients for a zkey");
  for (auto& m : r.matrix) {
    for (std::size_t w = 0; w < r.wires; ++w) m.start[w + 1] += m.start[w];
    m.entries.resize(m.start[r.wires]);
  }
  // Second pass: place the entries, and write the zkey's coefficients (A and B rows, in file order).
  const std::uint32_t coefficient_count = static_cast<std::uint32_t>(a_and_b + r.public_count + 1);
  r.coefficients.reserve(4 + static_cast<std::size_t>(coefficient_count) * 44);
  put_u32(r.coefficients, coefficient_count);
  std::vector<std::uint64_t> next[3];
  for (int m = 0; m < 3; ++m) next[m].assign(r.matrix[m].start.begin(), r.matrix[m].start.end() - 1);
  std::uint8_t converted[32];
  auto put_coefficient = [&](std::uint32_t m, std::uint32_t c, std::uint32_t wire, std::uint64_t offset) {
    put_u32(r.coefficients, m);
    put_u32(r.coefficients, c);
    put_u32(r.coefficients, wire);
    u64 value[4];
    coefficient_at(bytes, offset, value);
    zkey_coefficient(value, converted);
    r.coefficients.insert(r.coefficients.end(), converted, converted + 32);
  };
  reader.seek(begin);
  for (std::uint32_t c = 0; c < r.constraints; ++c) {
    for (std::uint32_t m = 0; m < 3; ++m) {
      const std::uint32_t count = reader.u32("a constraint");
      for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t wire = reader.u32("a constraint");
        const std::uint64_t offset = reader.position();
        reader.take(32, "a coefficient");
        r.matrix[m].entries[next[m][wire]++] = Entry{c, offset};
        if (m < 2) put_coefficient(m, c, wire, offset);
      }
    }
  }
  for (std::uint32_t s = 0; s <= r.public_count; ++s) put_coefficient(0, r.constraints + s, s, kOne);
  return r;
}

/** The sections of a ptau file, found by reading their headers only. */
class Ptau {
 public:
  explicit Ptau(const ByteSource& source) : source_(source) {
    if (source.size() < 12) fail("the file is shorter than its header");
    std::uint8_t head[12];
    source.read(0, 12, head);
    if (std::memcmp(head, "ptau", 4) != 0) fail("it does not start with \"ptau\"");
    const std::uint32_t version = u32_at(head + 4);
    if (version != 1) fail("version " + std::to_string(version) + " is not supported");
    const std::uint32_t count = u32_at(head + 8);
    if (count > 64) fail(std::to_string(count) + " sections (at most 64 expected)");
    std::uint64_t position = 12;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (source.size() - position < 12) fail("a section header lies past the end of the file");
      std::uint8_t header[12];
      source.read(position, 12, header);
      const std::uint32_t type = u32_at(header);
      std::uint64_t size;
      std::memcpy(&size, header + 4, 8);
      position += 12;
      if (size > source.size() - position)
        fail("section " + std::to_string(type) + " claims " + std::to_string(size) + " bytes, only " +
             std::to_string(source.size() - position) + " remain");
      if (sections_.count(type) != 0) fail("section " + std::to_string(type) + " appears twice");
      sections_[type] = {position, size};
      position += size;
    }
  }

  bool has(std::uint32_t type) const { return sections_.count(type) != 0; }

  /** `length` bytes at `offset` inside section `type`, which must hold them. */
  std::vector<std::uint8_t> read(std::uint32_t type, std::uint64_t offset, std::uint64_t length, const char* name) const {
    const auto it = sections_.find(type);
    if (it == sections_.end()) fail(std::string("the ") + name + " section (" + std::to_string(type) + ") is missing");
    if (offset > it->second.second || length > it->second.second - offset)
      fail(std::string("the ") + name + " section has " + std::to_string(it->second.second) + " bytes, " +
           std::to_string(offset + length) + " needed");
    std::vector<std::uint8_t> out(static_cast<std::size_t>(length));
    source_.read(it->second.first + offset, out.size(), out.data());
    return out;
  }

  std::uint64_t section_size(std::uint32_t type) const {
    const auto it = sections_.find(type);
    return it == sections_.end() ? 0 : it->second.second;
  }

  [[noreturn]] static void fail(const std::string& reason) { throw FileError("PTAU_INVALID", "invalid ptau: " + reason); }

 private:
  static std::uint32_t u32_at(const std::uint8_t* bytes) {
    std::uint32_t value;
    std::memcpy(&value, bytes, 4);
    return value;
  }

  const ByteSource& source_;
  SectionTable sections_;
};

template <typename F>
std::vector<Affine<F>> points_from(const std::vector<std::uint8_t>& bytes, const char* purpose) {
  Reader reader(bytes.data(), bytes.size(), "PTAU_INVALID", "ptau");
  std::vector<Affine<F>> points(bytes.size() / (2 * sizeof(F)));
  for (auto& point : points) {
    if constexpr (std::is_same_v<F, Fq>) point = read_g1(reader, purpose);
    else point = read_g2(reader, purpose);
  }
  return points;
}

/** Width-5 signed digits of k (below 2^254): each digit odd in [-15, 15] or 0; returns how many. */
int wnaf5(const u64 scalar[4], std::int8_t digits[260]) {
  u64 k[5] = {scalar[0], scalar[1], scalar[2], scalar[3], 0};
  int length = 0;
  while ((k[0] | k[1] | k[2] | k[3] | k[4]) != 0) {
    int digit = 0;
    if (k[0] & 1) {
      digit = static_cast<int>(k[0] & 31);
      if (digit >= 16) digit -= 32;
      if (digit > 0) {  // k -= digit (no borrow past limb 0: k's low bits are digit's)
        k[0] -= static_cast<u64>(digit);
      } else {  // k += -digit
        u64 carry = static_cast<u64>(-digit);
        for (int i = 0; i < 5 && carry != 0; ++i) {
          k[i] += carry;
          carry = k[i] < carry ? 1 : 0;
        }
      }
    }
    digits[length++] = static_cast<std::int8_t>(digit);
    for (int i = 0; i < 4; ++i) k[i] = (k[i] >> 1) | (k[i + 1] << 63);
    k[4] >>= 1;
  }
  return length;
}

/** (r - 1) / 2: a scalar above it is shorter negated. */
const u64* half_order() {
  static const u64* half = [] {
    static u64 value[4];
    std::memcpy(value, Fr::k().modulus, 32);
    for (int i = 0; i < 4; ++i) value[i] = (value[i] >> 1) | (i < 3 ? value[i + 1] << 63 : 0);
    return value;
  }();
  return half;
}

/** A term of an output point: a ptau point times a coefficient. */
template <typename F>
struct Term {
  const Affine<F>* base;
  u64 scalar[4];
};

/** Per-thread buffers of {@link combine}, reused from one output point to the next. */
template <typename F>
struct Scratch {
  std::vector<std::int8_t> digits;
  std::vector<int> lengths;
  std::vector<std::size_t> table_start;
  std::vector<Jacobian<F>> jacobian;
  std::vector<Affine<F>> table;
  std::vector<F> inverses, scratch;
};

/** Above this many terms a point is a Pippenger sum (msm.hpp): fewer additions, and memory per term stays small. */
constexpr std::size_t kStrausLimit = 1024;

/**
 * The sum of `terms`: Straus (the doublings shared, each term's wNAF digits from a table of its odd multiples) up to
 * kStrausLimit terms, Pippenger above (wire 0, the constant, is in thousands of constraints).
 */
template <typename F>
Jacobian<F> combine(const std::vector<Term<F>>& terms, Scratch<F>& s) {
  const std::size_t n = terms.size();
  if (n > kStrausLimit) {
    std::vector<Affine<F>> bases(n);
    std::vector<u64> scalars(4 * n);
    for (std::size_t t = 0; t < n; ++t) {
      bases[t] = *terms[t].base;
      std::memcpy(&scalars[4 * t], terms[t].scalar, 32);
    }
    return msm(bases.data(), scalars.data(), n, 1, CancelFlag{});
  }
  s.digits.assign(n * 260, 0);
  s.lengths.resize(n);
  s.table_start.resize(n + 1);
  s.jacobian.clear();
  int longest = 0;
  std::size_t entries = 0;
  for (std::size_t t = 0; t < n; ++t) {
    u64 k[4];
    std::memcpy(k, terms[t].scalar, 32);
    const bool negate = !geq4(half_order(), k);  // k > (r - 1) / 2
    if (negate) sub4(k, Fr::k().modulus, terms[t].scalar);
    std::int8_t* digits = &s.digits[t * 260];
    s.lengths[t] = wnaf5(k, digits);
    longest = std::max(longest, s.lengths[t]);
    int largest = 1;
    for (int i = 0; i < s.lengths[t]; ++i) {
      if (negate) digits[i] = static_cast<std::int8_t>(-digits[i]);
      largest = std::max(largest, std::abs(static_cast<int>(digits[i])));
    }
    s.table_start[t] = entries;
    entries += static_cast<std::size_t>((largest + 1) / 2);
  }
  s.table_start[n] = entries;
  // Odd multiples P, 3P, 5P, ... of each base: 3P on are Jacobian sums, made affine together with one inversion.
  s.table.resize(entries);
  for (std::size_t t = 0; t < n; ++t) {
    const std::size_t count = s.table_start[t + 1] - s.table_start[t];
    s.table[s.table_start[t]] = *terms[t].base;
    if (count == 1) continue;
    const Jacobian<F> twice = Jacobian<F>::from(*terms[t].base).doubled();
    Jacobian<F> current = Jacobian<F>::from(*terms[t].base);
    for (std::size_t j = 1; j < count; ++j) {
      current += twice;
      s.jacobian.push_back(current);
    }
  }
  if (!s.jacobian.empty()) {
    s.inverses.resize(s.jacobian.size());
    s.scratch.resize(s.jacobian.size());
    for (std::size_t i = 0; i < s.jacobian.size(); ++i) s.inverses[i] = s.jacobian[i].z;
    batch_inverse(s.inverses.data(), s.inverses.size(), s.scratch.data());
    std::size_t next = 0;
    for (std::size_t t = 0; t < n; ++t)
      for (std::size_t j = s.table_start[t] + 1; j < s.table_start[t + 1]; ++j, ++next) {
        const Jacobian<F>& p = s.jacobian[next];
        if (p.is_infinity()) {
          s.table[j] = Affine<F>{F::zero(), F::zero()};
          continue;
        }
        const F zi = s.inverses[next];
        const F zi2 = zi.square();
        s.table[j] = Affine<F>{p.x * zi2, p.y * zi2 * zi};
      }
  }
  Jacobian<F> sum = Jacobian<F>::infinity();
  for (int i = longest - 1; i >= 0; --i) {
    sum = sum.doubled();
    for (std::size_t t = 0; t < n; ++t) {
      const int digit = s.digits[t * 260 + static_cast<std::size_t>(i)];
      if (digit > 0) {
        sum = sum.add_affine(s.table[s.table_start[t] + static_cast<std::size_t>((digit - 1) / 2)]);
      } else if (digit < 0) {
        const Affine<F>& p = s.table[s.table_start[t] + static_cast<std::size_t>((-digit - 1) / 2)];
        sum = sum.add_affine(Affine<F>{p.x, p.is_infinity() ? p.y : -p.y});
      }
    }
  }
  return sum;
}

/** Affine forms of Jacobian points with one field inversion. */
template <typename F>
std::vector<Affine<F>> to_affine(const std::vector<Jacobian<F>>& points) {
  std::vector<F> inverses(points.size()), scratch(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) inverses[i] = points[i].z;
  batch_inverse(inverses.data(), inverses.size(), scratch.data());
  std::vector<Affine<F>> out(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].is_infinity()) {
      out[i] = Affine<F>{F::zero(), F::zero()};
      continue;
    }
    const F zi2 = inverses[i].square();
    out[i] = Affine<F>{points[i].x * zi2, points[i].y * zi2 * inverses[i]};
  }
  return out;
}

/** The four kinds of output points: A, B1 and L (the C and IC points) in G1, B2 in G2. */
enum class Output { A, B1, L, B2 };

/** The ptau points the outputs are made of: Lagrange forms of tau, alpha tau and beta tau on the circuit's domain. */
struct Bases {
  std::vector<G1Affine> tau, alpha_tau, beta_tau;
  std::vector<G2Affine> tau2;
};

/** Appends wire w's terms of one matrix, each a coefficient times base[row]. */
template <typename F>
void add_terms(std::vector<Term<F>>& terms, const ByWire& matrix, std::uint32_t w, const std::vector<Affine<F>>& base,
               const std::uint8_t* r1cs) {
  for (std::uint64_t i = matrix.start[w]; i < matrix.start[w + 1]; ++i) {
    Term<F> term{&base[matrix.entries[i].constraint], {}};
    coefficient_at(r1cs, matrix.entries[i].offset, term.scalar);
    terms.push_back(term);
  }
}

/**
 * Runs `work` on `threads` threads (this one among them) and rethrows the first failure after all have ended. A thread
 * that cannot start leaves the work to the others: every `work` takes items until none are left.
 */
template <typename Work>
void run_on_threads(unsigned threads, Work&& work) {
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto guarded = [&]() {
    try {
      work(failed);
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back(guarded);
  } catch (...) {
    // A thread could not start: the ones that did (and this one) share the work.
  }
  guarded();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

/** Computes every output point on `threads` threads. */
void compute_outputs(const R1cs& r, const std::uint8_t* r1cs, const Bases& bases, unsigned threads,
                     std::vector<G1> (&g1)[3], std::vector<G2>& g2) {
  const std::size_t n = r.wires;
  for (auto& points : g1) points.assign(n, G1::infinity());
  g2.assign(n, G2::infinity());
  // Work in blocks of signals; the G2 outputs (three times the work of a G1 one) first, so the threads end together.
  constexpr std::size_t kBlock = 64;
  const std::size_t blocks_per_kind = (n + kBlock - 1) / kBlock;
  const Output order[4] = {Output::B2, Output::A, Output::B1, Output::L};
  std::atomic<std::size_t> next{0};
  const unsigned count = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(4 * blocks_per_kind)));
  run_on_threads(count, [&](const std::atomic<bool>& failed) {
    {
      Scratch<Fq> s1;
      Scratch<Fq2> s2;
      std::vector<Term<Fq>> t1;
      std::vector<Term<Fq2>> t2;
      for (;;) {
        const std::size_t block = next.fetch_add(1);
        if (block >= 4 * blocks_per_kind || failed.load()) return;
        const Output kind = order[block / blocks_per_kind];
        const std::size_t first = (block % blocks_per_kind) * kBlock;
        const std::size_t last = std::min(n, first + kBlock);
        for (std::size_t wire = first; wire < last; ++wire) {
          const auto w = static_cast<std::uint32_t>(wire);
          const bool is_public = w <= r.public_count;
          switch (kind) {
            case Output::B2:
              t2.clear();
              add_terms(t2, r.matrix[1], w, bases.tau2, r1cs);
              g2[wire] = combine(t2, s2);
              break;
            case Output::A:
              t1.clear();
              add_terms(t1, r.matrix[0], w, bases.tau, r1cs);
              if (is_public) t1.push_back(Term<Fq>{&bases.tau[r.constraints + w], {1, 0, 0, 0}});
              g1[0][wire] = combine(t1, s1);
              break;
            case Output::B1:
              t1.clear();
              add_terms(t1, r.matrix[1], w, bases.tau, r1cs);
              g1[1][wire] = combine(t1, s1);
              break;
            case Output::L:
              t1.clear();
              add_terms(t1, r.matrix[0], w, bases.beta_tau, r1cs);
              add_terms(t1, r.matrix[1], w, bases.alpha_tau, r1cs);
              add_terms(t1, r.matrix[2], w, bases.tau, r1cs);
              if (is_public) t1.push_back(Term<Fq>{&bases.beta_tau[r.constraints + w], {1, 0, 0, 0}});
              g1[2][wire] = combine(t1, s1);
              break;
          }
        }
      }
    }
  });
}

/** Writes the zkey in snarkjs's section order and hashes what snarkjs hashes. */
class ZkeyWriter {
 public:
  explicit ZkeyWriter(const ByteSink& sink) : sink_(sink) { buffer_.reserve(kBuffer); }

  /** Buffered: the sink sees pieces of about 1 MiB, not one call per point. */
  void bytes(const void* data, std::size_t length) {
    const auto* at = static_cast<const std::uint8_t*>(data);
    if (buffer_.size() + length > kBuffer) flush();
    if (length >= kBuffer) {
      sink_(at, length);
      return;
    }
    buffer_.insert(buffer_.end(), at, at + length);
  }
  void flush() {
    if (!buffer_.empty()) sink_(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  void u32(std::uint32_t value) {
    std::uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(value >> (8 * i));
    bytes(b, 4);
  }
  void section(std::uint32_t type, std::uint64_t size) {
    u32(type);
    std::uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(size >> (8 * i));
    bytes(b, 8);
  }
  void g1(const G1Affine& p) { bytes(&p, 64); }
  void g2(const G2Affine& p) { bytes(&p, 128); }

  void hash_u32(std::uint32_t value) {
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                               static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
    hasher_.update(b, 4);
  }
  /** snarkjs's uncompressed form: big-endian standard coordinates (x1 before x0 in G2), all zeros at infinity. */
  void hash_g1(const G1Affine& p) {
    std::uint8_t out[64] = {};
    if (!p.is_infinity()) {
      big_endian(p.x, out);
      big_endian(p.y, out + 32);
    }
    hasher_.update(out, 64);
  }
  void hash_g2(const G2Affine& p) {
    std::uint8_t out[128] = {};
    if (!p.is_infinity()) {
      big_endian(p.x.c1, out);
      big_endian(p.x.c0, out + 32);
      big_endian(p.y.c1, out + 64);
      big_endian(p.y.c0, out + 96);
    }
    hasher_.update(out, 128);
  }
  /** A section of G1 points, hashed after their count (snarkjs's `composeAndWritePoints`). */
  void g1_points(std::uint32_t type, const G1Affine* points, std::size_t count) {
    hash_u32(static_cast<std::uint32_t>(count));
    section(type, count * 64);
    for (std::size_t i = 0; i < count; ++i) {
      g1(points[i]);
      hash_g1(points[i]);
    }
  }
  void g2_points(std::uint32_t type, const std::vector<G2Affine>& points) {
    hash_u32(static_cast<std::uint32_t>(points.size()));
    section(type, points.size() * 128);
    for (const auto& p : points) {
      g2(p);
      hash_g2(p);
    }
  }
  Blake2b512& hasher() { return hasher_; }

 private:
  static void big_endian(const Fq& value, std::uint8_t out[32]) {
    u64 limbs[4];
    value.to_standard(limbs);
    for (int i = 0; i < 32; ++i) out[i] = static_cast<std::uint8_t>(limbs[3 - i / 8] >> (8 * (7 - i % 8)));
  }

  static constexpr std::size_t kBuffer = 1 << 20;
  const ByteSink& sink_;
  std::vector<std::uint8_t> buffer_;
  Blake2b512 hasher_;
};

}  // namespace

std::vector<std::uint8_t> new_zkey(const std::uint8_t* r1cs_bytes, std::size_t r1cs_length, const ByteSource& source,
                                   const ByteSink& sink, unsigned threads, const std::uint8_t* past_end_hash) {
  PhaseClock clock;
  const R1cs r = read_r1cs(r1cs_bytes, r1cs_length);
  clock.mark("zkey new: r1cs read");
  const Ptau ptau(source);

  if (ptau.section_size(1) != 44)
    Ptau::fail("the header section has " + std::to_string(ptau.section_size(1)) + " bytes, 44 expected");
  const std::vector<std::uint8_t> header = ptau.read(1, 0, 44, "header");
  std::uint32_t n8;
  std::memcpy(&n8, header.data(), 4);
  if (n8 != 32 || !equals_modulus(header.data() + 4, Fq::k().modulus))
    throw FileError("PTAU_WRONG_CURVE", "the ptau is not for BN254 (the r1cs's curve)");
  std::uint32_t power;
  std::memcpy(&power, header.data() + 36, 4);

  // snarkjs's domain: 2^(floor(log2(constraints + public signals)) + 1).
  const std::uint64_t rows = std::uint64_t{r.constraints} + r.public_count;
  unsigned circuit_power = 1;
  while (circuit_power < 63 && (std::uint64_t{1} << circuit_power) <= rows) ++circuit_power;
  if (circuit_power >= 28)
    throw FileError("SETUP_UNSUPPORTED", "a domain of 2^" + std::to_string(circuit_power) + " is past what BN254 allows here");
  if (circuit_power > power)
    throw FileError("PTAU_TOO_SMALL", "the circuit needs a ptau of power " + std::to_string(circuit_power) +
                                          " (constraints + public signals = " + std::to_string(rows) + "), this one has power " +
                                          std::to_string(power));
  if (!ptau.has(12)) throw FileError("PTAU_NOT_PREPARED", "the ptau is not prepared for phase 2 (no Lagrange sections)");
  const std::uint64_t d = std::uint64_t{1} << circuit_power;

  // snarkjs hashes tau^(i + d) - tau^i in chunks of 2^14 points, always whole chunks: for d of 2^15 and more that is d
  // points, the last one past the end of the tau section when the ptau's power is the circuit's.
  constexpr std::uint64_t kHashChunk = 1 << 14;
  const std::uint64_t hashed = d - 1 <= kHashChunk ? d - 1 : (d - 1 + kHashChunk - 1) / kHashChunk * kHashChunk;
  // With a ptau of exactly the circuit's power, snarkjs's last hashed point comes from the 64 bytes after the tau
  // section (another section's header and points): its hash bytes, as snarkjs computes them, must be given.
  bool given_last = false;
  if ((hashed + d) * 64 > ptau.section_size(2)) {
    const bool past_end = circuit_power == power && d > kHashChunk && (hashed + d - 1) * 64 <= ptau.section_size(2);
    if (!past_end) Ptau::fail("the tau section is too short for a domain of 2^" + std::to_string(circuit_power));
    if (past_end_hash == nullptr)
      throw FileError("SETUP_UNSUPPORTED", "snarkjs's circuit hash for a domain of 2^" + std::to_string(circuit_power) +
                                               " reads past the ptau's tau section when the ptau has exactly that power");
    given_last = true;
  }
  const std::uint64_t computed = given_last ? hashed - 1 : hashed;

  Bases bases;
  bases.tau = points_from<Fq>(ptau.read(12, (d - 1) * 64, d * 64, "Lagrange tau G1"), "the Lagrange tau G1 points");
  bases.tau2 = points_from<Fq2>(ptau.read(13, (d - 1) * 128, d * 128, "Lagrange tau G2"), "the Lagrange tau G2 points");
  bases.alpha_tau = points_from<Fq>(ptau.read(14, (d - 1) * 64, d * 64, "Lagrange alpha tau G1"), "the Lagrange alpha tau points");
  bases.beta_tau = points_from<Fq>(ptau.read(15, (d - 1) * 64, d * 64, "Lagrange beta tau G1"), "the Lagrange beta tau points");
  const std::vector<G1Affine> doubled_domain =
      points_from<Fq>(ptau.read(12, (2 * d - 1) * 64, 2 * d * 64, "Lagrange tau G1"), "the Lagrange tau G1 points");
  const std::vector<G1Affine> powers = points_from<Fq>(ptau.read(2, 0, (computed + d) * 64, "tau G1"), "the tau G1 points");
  const std::vector<G1Affine> alpha = points_from<Fq>(ptau.read(4, 0, 64, "alpha tau G1"), "alpha");
  const std::vector<G1Affine> beta = points_from<Fq>(ptau.read(5, 0, 64, "beta tau G1"), "beta");
  const std::vector<G2Affine> beta2 = points_from<Fq2>(ptau.read(6, 0, 128, "beta G2"), "beta G2");

  clock.mark("zkey new: ptau read");
  std::vector<G1> g1_jacobian[3];
  std::vector<G2> g2_jacobian;
  compute_outputs(r, r1cs_bytes, bases, threads, g1_jacobian, g2_jacobian);
  clock.mark("zkey new: points");
  bases = Bases{};  // each buffer is released once it is not needed any more: peak memory stays near the key's size
  const std::vector<G1Affine> a = to_affine(g1_jacobian[0]);
  std::vector<G1>().swap(g1_jacobian[0]);
  const std::vector<G1Affine> b1 = to_affine(g1_jacobian[1]);
  std::vector<G1>().swap(g1_jacobian[1]);
  const std::vector<G1Affine> l = to_affine(g1_jacobian[2]);
  std::vector<G1>().swap(g1_jacobian[2]);
  const std::vector<G2Affine> b2 = to_affine(g2_jacobian);
  std::vector<G2>().swap(g2_jacobian);
  std::vector<G1> differences(computed);
  for (std::uint64_t i = 0; i < computed; ++i) {
    const G1Affine& low = powers[i];
    differences[i] = G1::from(powers[i + d]).add_affine(G1Affine{low.x, low.is_infinity() ? low.y : -low.y});
  }
  const std::vector<G1Affine> h_hash = to_affine(differences);
  std::vector<G1>().swap(differences);

  clock.mark("zkey new: affine and hash points");
  ZkeyWriter out(sink);
  out.bytes("zkey", 4);
  out.u32(1);
  out.u32(10);
  out.section(1, 4);
  out.u32(1);  // Groth16

  const G1Affine g1 = g1_generator();
  const G2Affine g2 = g2_generator();
  out.section(2, 4 + 32 + 4 + 32 + 12 + 3 * 64 + 3 * 128);
  out.u32(32);
  out.bytes(Fq::k().modulus, 32);
  out.u32(32);
  out.bytes(Fr::k().modulus, 32);
  out.u32(r.wires);
  out.u32(r.public_count);
  out.u32(static_cast<std::uint32_t>(d));
  out.g1(alpha[0]);
  out.g1(beta[0]);
  out.g2(beta2[0]);
  out.g2(g2);  // gamma
  out.g1(g1);  // delta, before any contribution
  out.g2(g2);
  out.hash_g1(alpha[0]);
  out.hash_g1(beta[0]);
  out.hash_g2(beta2[0]);
  out.hash_g2(g2);
  out.hash_g1(g1);
  out.hash_g2(g2);

  out.section(4, r.coefficients.size());
  out.bytes(r.coefficients.data(), r.coefficients.size());

  out.g1_points(3, l.data(), std::size_t{r.public_count} + 1);  // IC

  out.section(9, d * 64);  // H: the odd points of the Lagrange basis on the domain of 2d
  for (std::uint64_t i = 0; i < d; ++i) out.g1(doubled_domain[2 * i + 1]);
  out.hash_u32(static_cast<std::uint32_t>(d - 1));
  for (const auto& p : h_hash) out.hash_g1(p);
  if (given_last) out.hasher().update(past_end_hash, 64);

  out.g1_points(8, l.data() + r.public_count + 1, r.wires - r.public_count - 1);  // C
  out.g1_points(5, a.data(), a.size());
  out.g1_points(6, b1.data(), b1.size());
  out.g2_points(7, b2);

  std::vector<std::uint8_t> circuit_hash(64);
  out.hasher().digest(circuit_hash.data());
  out.section(10, 64 + 4);
  out.bytes(circuit_hash.data(), 64);
  out.u32(0);  // no contribution yet
  out.flush();
  clock.mark("zkey new: written");
  return circuit_hash;
}

void scale_g1_points(const std::uint8_t* points, std::size_t count, const u64 k[4], std::uint8_t* out, unsigned threads) {
  if (geq4(k, Fr::k().modulus)) throw FileError("NATIVE_FAILED", "the scalar is not below the scalar field modulus");
  std::int8_t digits[260] = {};
  const int length = wnaf5(k, digits);
  // Blocks of points share one inversion for their odd-multiple tables and one for their results.
  constexpr std::size_t kBlock = 256;
  const std::size_t blocks = (count + kBlock - 1) / kBlock;
  std::atomic<std::size_t> next{0};
  const unsigned count_threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(blocks, 1))));
  // The digits are wiped however this ends.
  struct Wipe {
    std::int8_t* digits;
    ~Wipe() { explicit_bzero(digits, 260); }
  } wipe{digits};
  run_on_threads(count_threads, [&](const std::atomic<bool>& failed) {
    {
      std::vector<G1Affine> bases;
      std::vector<G1> jacobian, sums;
      std::vector<G1Affine> table;
      std::vector<Fq> inverses, scratch;
      for (;;) {
        const std::size_t block = next.fetch_add(1);
        if (block >= blocks || failed.load()) return;
        const std::size_t first = block * kBlock;
        const std::size_t n = std::min(count - first, kBlock);
        Reader reader(points + first * 64, n * 64, "ZKEY_INVALID", "zkey");
        bases.resize(n);
        for (auto& p : bases) p = read_g1(reader, "a point to scale");
        // P, 3P, ..., 15P per point (8 entries), affine.
        jacobian.clear();
        for (const auto& p : bases) {
          const G1 twice = G1::from(p).doubled();
          G1 current = G1::from(p);
          for (int m = 1; m < 8; ++m) {
            current += twice;
            jacobian.push_back(current);
          }
        }
        inverses.resize(jacobian.size());
        scratch.resize(jacobian.size());
        for (std::size_t i = 0; i < jacobian.size(); ++i) inverses[i] = jacobian[i].z;
        batch_inverse(inverses.data(), inverses.size(), scratch.data());
        table.resize(n * 8);
        for (std::size_t j = 0; j < n; ++j) {
          table[j * 8] = bases[j];
          for (int m = 1; m < 8; ++m) {
            const std::size_t at = j * 7 + static_cast<std::size_t>(m - 1);
            const G1& p = jacobian[at];
            if (p.is_infinity()) {
              table[j * 8 + static_cast<std::size_t>(m)] = G1Affine{Fq::zero(), Fq::zero()};
              continue;
            }
            const Fq zi2 = inverses[at].square();
            table[j * 8 + static_cast<std::size_t>(m)] = G1Affine{p.x * zi2, p.y * zi2 * inverses[at]};
          }
        }
        sums.assign(n, G1::infinity());
        for (std::size_t j = 0; j < n; ++j) {
          G1 sum = G1::infinity();
          for (int i = length - 1; i >= 0; --i) {
            sum = sum.doubled();
            const int digit = digits[i];
            if (digit > 0) {
              sum = sum.add_affine(table[j * 8 + static_cast<std::size_t>((digit - 1) / 2)]);
            } else if (digit < 0) {
              const G1Affine& p = table[j * 8 + static_cast<std::size_t>((-digit - 1) / 2)];
              sum = sum.add_affine(G1Affine{p.x, p.is_infinity() ? p.y : -p.y});
            }
          }
          sums[j] = sum;
        }
        const std::vector<G1Affine> results = to_affine(sums);
        for (std::size_t j = 0; j < n; ++j) std::memcpy(out + (first + j) * 64, &results[j], 64);
      }
    }
  });
}

}  // namespace zkai
