// The native prover's readers and prover under the address and undefined-behaviour sanitizers (built and run by
// test/native-sanitizers.test.ts): it reads a zkey and a wtns, fuzzes both readers with random truncations and bit
// flips (every outcome must be a proving key, a FileError or a proof, never a fault the sanitizers report), then
// prints one proof as JSON for the test to verify with snarkjs.
//
// In its `setup` form it writes the initial zkey of an r1cs and a ptau (for the test to compare with snarkjs's), then
// runs `zkey new` on truncated and bit-flipped copies of both files (a zkey or a FileError, never a fault).
//
// In its `poseidon` form it hashes lists of field elements with the Poseidon of the given tables (the test compares the
// hashes with poseidon-lite's).
//
//   selftest ZKEY WTNS [ITERATIONS] [SEED]
//   selftest setup R1CS PTAU OUT [ITERATIONS] [SEED]
//   selftest poseidon TABLES LISTS
//     TABLES: for t = 2 to 17, the round constants then the MDS matrix (32-byte little-endian elements);
//     LISTS: lists one after another, each a 4-byte little-endian count then its elements.
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <fstream>
#include <iostream>
#include <iterator>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../src/groth16.hpp"
#include "../src/poseidon.hpp"
#include "../src/setup.hpp"

using namespace zkai;

namespace {

std::vector<std::uint8_t> read_all(const char* path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(std::string("cannot read ") + path);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(file), {});
}

std::string decimal(const Fq& value) {
  u64 limbs[4];
  value.to_standard(limbs);
  return to_decimal(limbs);
}

/** Parses (and proves with, when `full`) possibly damaged bytes; returns what happened, for the counts. */
std::string attempt(const std::vector<std::uint8_t>& zkey, const std::vector<std::uint8_t>& wtns, bool full) {
  try {
    const ProvingKey key = read_zkey(zkey.data(), zkey.size());
    const std::vector<u64> witness = read_wtns(wtns.data(), wtns.size());
    if (full) prove(key, witness, 2, CancelFlag{});
    return "accepted";
  } catch (const FileError& error) {
    return error.code;
  }
}

/**
 * The same possibly damaged zkey written to `path` and parsed from the file (through the reader's 1 MiB window, the
 * workers' way): "accepted" or the FileError's code, which must be what parsing the bytes gives.
 */
std::string attempt_file(const std::vector<std::uint8_t>& zkey, const std::string& path, std::size_t window) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(zkey.data()), static_cast<std::streamsize>(zkey.size()));
  try {
    read_zkey_file(path, window);
    return "accepted";
  } catch (const FileError& error) {
    return error.code;
  }
}

/** `zkey new` on possibly damaged r1cs and ptau bytes: "accepted" or the FileError's code. */
std::string attempt_setup(const std::vector<std::uint8_t>& r1cs, const std::vector<std::uint8_t>& ptau) {
  try {
    const MemorySource source(ptau.data(), ptau.size());
    std::size_t written = 0;
    new_zkey(r1cs.data(), r1cs.size(), source, [&](const std::uint8_t*, std::size_t length) { written += length; }, 2);
    return "accepted";
  } catch (const FileError& error) {
    return error.code;
  } catch (const std::bad_alloc&) {
    // Only with ASAN_OPTIONS=allocator_may_return_null=1 (the test sets it): an allocation the file asked for that the
    // machine refuses is an error the addon types (NATIVE_OUT_OF_MEMORY), never a crash.
    return "NATIVE_OUT_OF_MEMORY";
  }
}

int setup_main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: selftest setup R1CS PTAU OUT [ITERATIONS] [SEED]\n");
    return 2;
  }
  const std::vector<std::uint8_t> r1cs = read_all(argv[2]);
  const std::vector<std::uint8_t> ptau = read_all(argv[3]);
  std::vector<std::uint8_t> zkey;
  const MemorySource source(ptau.data(), ptau.size());
  new_zkey(r1cs.data(), r1cs.size(), source,
           [&](const std::uint8_t* bytes, std::size_t length) { zkey.insert(zkey.end(), bytes, bytes + length); }, 2);
  std::ofstream(argv[4], std::ios::binary).write(reinterpret_cast<const char*>(zkey.data()),
                                                 static_cast<std::streamsize>(zkey.size()));
  const int iterations = argc > 5 ? std::stoi(argv[5]) : 200;
  std::mt19937_64 random(argc > 6 ? std::stoull(argv[6]) : 1);
  int accepted = 0, refused = 0;
  for (int i = 0; i < iterations; ++i) {
    const bool damage_r1cs = (i % 2) == 0;
    std::vector<std::uint8_t> bytes = damage_r1cs ? r1cs : ptau;
    if (i % 4 < 2) {
      bytes.resize(random() % bytes.size());
    } else {
      // Half of the flips in the first 4 KiB (the headers and section tables), the rest anywhere.
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int f = 0; f < flips; ++f) {
        const std::size_t span = f % 2 == 0 ? std::min<std::size_t>(bytes.size(), 4096) : bytes.size();
        bytes[random() % span] ^= static_cast<std::uint8_t>(1u << (random() % 8));
      }
    }
    const std::string outcome = damage_r1cs ? attempt_setup(bytes, ptau) : attempt_setup(r1cs, bytes);
    (outcome == "accepted" ? accepted : refused) += 1;
  }
  std::printf("{\"fuzz\":{\"iterations\":%d,\"accepted\":%d,\"refused\":%d},\"bytes\":%zu}\n", iterations,
              accepted, refused, zkey.size());
  return 0;
}

/** The little-endian elements at `at` into Montgomery form; refuses one not below r (and a read past the end). */
std::vector<Fr> elements_at(const std::vector<std::uint8_t>& bytes, std::size_t& at, std::size_t count) {
  if (count > (bytes.size() - at) / 32) throw std::runtime_error("the file ends inside a list of elements");
  std::vector<Fr> out(count);
  for (std::size_t i = 0; i < count; ++i, at += 32) {
    u64 limbs[4];
    std::memcpy(limbs, bytes.data() + at, 32);
    if (geq4(limbs, Fr::k().modulus)) throw std::runtime_error("an element is not below r");
    out[i] = Fr::from_standard(limbs);
  }
  return out;
}

int poseidon_main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: selftest poseidon TABLES LISTS\n");
    return 2;
  }
  const std::vector<std::uint8_t> tables = read_all(argv[2]);
  const std::vector<std::uint8_t> lists = read_all(argv[3]);
  Poseidon poseidon;
  std::size_t at = 0;
  for (unsigned t = POSEIDON_MIN_WIDTH; t <= POSEIDON_MAX_WIDTH; ++t) {
    std::vector<Fr> constants = elements_at(tables, at, poseidon_constant_count(t));
    poseidon.set_width(t, std::move(constants), elements_at(tables, at, std::size_t{t} * t));
  }
  std::printf("{\"poseidon\":[");
  at = 0;
  int plain_mismatches = 0;
  for (int index = 0; at < lists.size(); ++index) {
    if (lists.size() - at < 4) throw std::runtime_error("the lists file ends inside a count");
    std::uint32_t count = 0;
    std::memcpy(&count, lists.data() + at, 4);
    at += 4;
    const std::vector<Fr> elements = elements_at(lists, at, count);
    u64 limbs[4];
    poseidon.sponge(elements.data(), elements.size()).to_standard(limbs);
    std::printf("%s\"%s\"", index == 0 ? "" : ",", to_decimal(limbs).c_str());
    // One call's worth: the sparse partial rounds against the plain ones.
    if (count >= 1 && count <= 16 && poseidon.hash(elements.data(), count) != poseidon.hash_plain(elements.data(), count))
      plain_mismatches += 1;
  }
  std::printf("],\"plainMismatches\":%d}\n", plain_mismatches);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "setup") return setup_main(argc, argv);
  if (argc > 1 && std::string(argv[1]) == "poseidon") return poseidon_main(argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: selftest ZKEY WTNS [ITERATIONS] [SEED]\n");
    return 2;
  }
  const std::vector<std::uint8_t> zkey = read_all(argv[1]);
  const std::vector<std::uint8_t> wtns = read_all(argv[2]);
  const int iterations = argc > 3 ? std::stoi(argv[3]) : 200;
  std::mt19937_64 random(argc > 4 ? std::stoull(argv[4]) : 1);
  int accepted = 0, refused = 0, file_mismatches = 0;
  const std::string scratch = std::string(argv[2]) + ".zkey-selftest";  // beside the witness: the test's own folder
  for (int i = 0; i < iterations; ++i) {
    const bool damage_key = (i % 2) == 0;
    std::vector<std::uint8_t> bytes = damage_key ? zkey : wtns;
    if (i % 4 < 2) {
      bytes.resize(random() % bytes.size());
    } else {
      const int flips = 1 + static_cast<int>(random() % 4);
      for (int f = 0; f < flips; ++f) bytes[random() % bytes.size()] ^= static_cast<std::uint8_t>(1u << (random() % 8));
    }
    // Every tenth accepted pair is also proven (the prover's loops under the sanitizers, on damaged values).
    const bool full = i % 10 == 3;
    const std::string outcome = damage_key ? attempt(bytes, wtns, full) : attempt(zkey, bytes, full);
    (outcome == "accepted" ? accepted : refused) += 1;
    // Windows of 64 bytes to 64 KiB: many of the reads straddle two windows.
    if (damage_key && attempt_file(bytes, scratch, std::size_t{64} << (random() % 11)) != attempt(bytes, wtns, false))
      file_mismatches += 1;
  }
  std::remove(scratch.c_str());
  // The proof below is made with the key parsed from the file.
  const ProvingKey key = read_zkey_file(argv[1], 4096 + 7);
  const Proof proof = prove(key, read_wtns(wtns.data(), wtns.size()), 2, CancelFlag{});
  std::printf("{\"fuzz\":{\"iterations\":%d,\"accepted\":%d,\"refused\":%d,\"fileMismatches\":%d},", iterations,
              accepted, refused, file_mismatches);
  std::printf("\"proof\":{\"pi_a\":[\"%s\",\"%s\",\"1\"],", decimal(proof.a.x).c_str(), decimal(proof.a.y).c_str());
  std::printf("\"pi_b\":[[\"%s\",\"%s\"],[\"%s\",\"%s\"],[\"1\",\"0\"]],", decimal(proof.b.x.c0).c_str(),
              decimal(proof.b.x.c1).c_str(), decimal(proof.b.y.c0).c_str(), decimal(proof.b.y.c1).c_str());
  std::printf("\"pi_c\":[\"%s\",\"%s\",\"1\"],\"protocol\":\"groth16\",\"curve\":\"bn128\"},", decimal(proof.c.x).c_str(),
              decimal(proof.c.y).c_str());
  std::printf("\"publicSignals\":[");
  for (std::size_t i = 0; i < proof.public_signals.size(); ++i)
    std::printf("%s\"%s\"", i == 0 ? "" : ",", proof.public_signals[i].c_str());
  std::printf("]}\n");
  return 0;
}
