// BLAKE2b (RFC 7693) with a 64-byte digest and no key: the hash snarkjs uses for a zkey's circuit hash. Written from
// the RFC; test/native-setup.test.ts compares it with Node's `blake2b512` on random inputs of every length class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace zkai {

class Blake2b512 {
 public:
  Blake2b512() {
    for (int i = 0; i < 8; ++i) h_[i] = kIv[i];
    h_[0] ^= 0x01010000ULL ^ 64;  // digest length 64, no key, fan-out and depth 1
  }

  void update(const std::uint8_t* data, std::size_t length) {
    while (length > 0) {
      // The last block is compressed only in digest(), with the final flag: keep a full buffer until more comes.
      if (filled_ == 128) {
        counter_ += 128;
        compress(buffer_, false);
        filled_ = 0;
      }
      const std::size_t take = length < 128 - filled_ ? length : 128 - filled_;
      std::memcpy(buffer_ + filled_, data, take);
      filled_ += take;
      data += take;
      length -= take;
    }
  }

  void digest(std::uint8_t out[64]) {
    counter_ += filled_;
    std::memset(buffer_ + filled_, 0, 128 - filled_);
    compress(buffer_, true);
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) out[8 * i + j] = static_cast<std::uint8_t>(h_[i] >> (8 * j));
  }

 private:
  static constexpr std::uint64_t kIv[8] = {0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
                                           0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
                                           0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
  static constexpr std::uint8_t kSigma[12][16] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
      {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
      {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
      {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
      {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

  static std::uint64_t rotr(std::uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

  static void mix(std::uint64_t v[16], int a, int b, int c, int d, std::uint64_t x, std::uint64_t y) {
    v[a] = v[a] + v[b] + x;
    v[d] = rotr(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = rotr(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr(v[b] ^ v[c], 63);
  }

  void compress(const std::uint8_t block[128], bool last) {
    std::uint64_t m[16];
    for (int i = 0; i < 16; ++i) {
      m[i] = 0;
      for (int j = 7; j >= 0; --j) m[i] = (m[i] << 8) | block[8 * i + j];
    }
    std::uint64_t v[16];
    for (int i = 0; i < 8; ++i) {
      v[i] = h_[i];
      v[i + 8] = kIv[i];
    }
    v[12] ^= counter_;  // inputs here stay below 2^64 bytes: the high counter word is 0
    if (last) v[14] = ~v[14];
    for (const auto& s : kSigma) {
      mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
      mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
      mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
      mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
      mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
      mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
      mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
      mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; ++i) h_[i] ^= v[i] ^ v[i + 8];
  }

  std::uint64_t h_[8];
  std::uint64_t counter_ = 0;
  std::uint8_t buffer_[128] = {};
  std::size_t filled_ = 0;
};

}  // namespace zkai
