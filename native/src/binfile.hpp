// The binfile format shared by snarkjs's and circom's files (zkey, wtns, r1cs, ptau): a 4-byte magic, a u32 version,
// a u32 section count, then sections of (u32 type, u64 size, data). A bounds-checked reader over bytes in memory and the
// checked element and point readers every file reader uses.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "files.hpp"

namespace zkai {

/** Section type -> (offset, size). */
using SectionTable = std::map<std::uint32_t, std::pair<std::size_t, std::size_t>>;

/**
 * A bounds-checked little-endian reader over one byte range in memory, or over an open file read through a window of
 * 1 MiB (so a large file is never in memory whole: a worker parsing a 2^16 zkey keeps only the parsed key); `code` names
 * the file in its errors. A pointer from `take` is valid until the next `take`.
 */
class Reader {
 public:
  Reader(const std::uint8_t* bytes, std::size_t length, const char* code, const char* what)
      : bytes_(bytes), length_(length), code_(code), what_(what) {}
  /**
   * Over the first `length` bytes of the open file `fd` (not owned), read `window` bytes at a time (at least 64);
   * `path` names it in read errors, which have the code `io_code` (damaged content keeps `code`).
   */
  Reader(int fd, std::size_t length, std::string path, const char* code, const char* io_code, const char* what,
         std::size_t window = kDefaultWindow)
      : length_(length),
        code_(code),
        what_(what),
        fd_(fd),
        path_(std::move(path)),
        io_code_(io_code),
        window_size_(std::max<std::size_t>(window, 64)) {}

  static constexpr std::size_t kDefaultWindow = std::size_t{1} << 20;

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
    const std::uint8_t* at = fd_ < 0 ? bytes_ + position_ : window(count);
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
  /** The bytes [position, position + count) of the file, reading the window that starts at `position` if needed. */
  const std::uint8_t* window(std::size_t count) {
    if (count > window_size_)
      fail("a single read of " + std::to_string(count) + " bytes (at most " + std::to_string(window_size_) + " from a file)");
    if (position_ < window_start_ || position_ + count > window_start_ + window_.size()) {
      const std::size_t size = std::min(window_size_, length_ - position_);
      window_.resize(size);
      std::size_t done = 0;
      while (done < size) {
        const ssize_t got = ::pread(fd_, window_.data() + done, size - done, static_cast<off_t>(position_ + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw FileError(io_code_, path_ + ": " + std::strerror(errno));
        if (got == 0) fail(path_ + " ended early (was it changed while it was read?)");
        done += static_cast<std::size_t>(got);
      }
      window_start_ = position_;
    }
    return window_.data() + (position_ - window_start_);
  }

  const std::uint8_t* bytes_ = nullptr;
  std::size_t length_;
  std::size_t position_ = 0;
  const char* code_;
  const char* what_;
  int fd_ = -1;
  std::string path_;
  const char* io_code_ = nullptr;
  std::size_t window_size_ = kDefaultWindow;
  std::vector<std::uint8_t> window_;
  std::size_t window_start_ = 0;
};

/** The sections of a binfile: type -> (offset, size). A type that appears twice is refused. */
inline SectionTable read_sections(Reader& reader, const char magic[4], std::uint32_t max_version) {
  const std::uint8_t* found = reader.take(4, "the magic number");
  if (std::memcmp(found, magic, 4) != 0)
    reader.fail(std::string("it does not start with \"") + std::string(magic, 4) + "\"");
  const std::uint32_t version = reader.u32("the version");
  if (version == 0 || version > max_version) reader.fail("version " + std::to_string(version) + " is not supported");
  const std::uint32_t count = reader.u32("the section count");
  // snarkjs writes 10 sections in a zkey and 2 in a wtns: a table of thousands is not one of its files.
  if (count > 64) reader.fail(std::to_string(count) + " sections (at most 64 expected)");
  SectionTable sections;
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
inline std::size_t enter(Reader& reader, const SectionTable& sections, std::uint32_t type, const char* name, std::size_t expected) {
  const auto it = sections.find(type);
  if (it == sections.end()) reader.fail(std::string("the ") + name + " section (" + std::to_string(type) + ") is missing");
  if (expected != 0 && it->second.second != expected)
    reader.fail(std::string("the ") + name + " section has " + std::to_string(it->second.second) + " bytes, " +
                std::to_string(expected) + " expected");
  reader.seek(it->second.first);
  return it->second.second;
}

/** Four limbs from 32 little-endian bytes. */
inline void limbs_of(const std::uint8_t* bytes, u64 out[4]) { std::memcpy(out, bytes, 32); }

inline Fq read_fq(Reader& reader, const char* purpose) {
  Fq value;
  limbs_of(reader.take(32, purpose), value.limbs);
  if (geq4(value.limbs, Fq::k().modulus)) reader.fail(std::string(purpose) + " holds a coordinate not below the base field modulus");
  return value;
}

inline G1Affine read_g1(Reader& reader, const char* purpose) {
  G1Affine point{read_fq(reader, purpose), read_fq(reader, purpose)};
  if (!point.is_infinity() && !on_curve(point, g1_b())) reader.fail(std::string(purpose) + " holds a point that is not on G1");
  return point;
}

inline G2Affine read_g2(Reader& reader, const char* purpose) {
  Fq2 x{read_fq(reader, purpose), read_fq(reader, purpose)};
  Fq2 y{read_fq(reader, purpose), read_fq(reader, purpose)};
  G2Affine point{x, y};
  if (!point.is_infinity() && !on_curve(point, g2_b())) reader.fail(std::string(purpose) + " holds a point that is not on G2");
  return point;
}

/** Checks that 32 bytes hold the modulus `expected`. */
inline bool equals_modulus(const std::uint8_t* bytes, const u64 expected[4]) {
  u64 value[4];
  limbs_of(bytes, value);
  return std::memcmp(value, expected, 32) == 0;
}

}  // namespace zkai
