// The Node addon (node-addon-api): load a proving key once, prove many times off the JavaScript thread, and a few
// entry points for the differential tests against snarkjs/ffjavascript. Every C++ exception becomes a JavaScript
// Error; a FileError keeps its code (`error.code`), a cancelled job has the code NATIVE_CANCELLED.
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <vector>
#include <thread>

#include "groth16.hpp"
#include "msm.hpp"
#include "ntt.hpp"
#include "setup.hpp"
#include "blake2b.hpp"
#include "poseidon.hpp"

namespace {

using namespace zkai;

Napi::Error error_of(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

/** The bytes of a Uint8Array (or Buffer) argument. */
std::pair<const std::uint8_t*, std::size_t> bytes_of(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a Uint8Array");
  const auto array = value.As<Napi::Uint8Array>();
  return {array.Data(), array.ByteLength()};
}

unsigned threads_of(const Napi::Value& value) {
  if (value.IsUndefined()) return std::max(1u, std::thread::hardware_concurrency());
  const double threads = value.As<Napi::Number>().DoubleValue();
  if (!(threads >= 1 && threads <= 256)) throw Napi::RangeError::New(value.Env(), "threads must be 1 to 256");
  return static_cast<unsigned>(threads);
}

Napi::Array decimal_pair(Napi::Env env, const std::string& a, const std::string& b) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, a);
  out.Set(1u, b);
  return out;
}

std::string decimal(const Fq& value) {
  u64 limbs[4];
  value.to_standard(limbs);
  return to_decimal(limbs);
}

Napi::Array g1_object(Napi::Env env, const G1Affine& p) {
  Napi::Array out = Napi::Array::New(env, 3);
  if (p.is_infinity()) {
    out.Set(0u, "0");
    out.Set(1u, "1");
    out.Set(2u, "0");
  } else {
    out.Set(0u, decimal(p.x));
    out.Set(1u, decimal(p.y));
    out.Set(2u, "1");
  }
  return out;
}

Napi::Array g2_object(Napi::Env env, const G2Affine& p) {
  Napi::Array out = Napi::Array::New(env, 3);
  if (p.is_infinity()) {
    out.Set(0u, decimal_pair(env, "0", "0"));
    out.Set(1u, decimal_pair(env, "1", "0"));
    out.Set(2u, decimal_pair(env, "0", "0"));
  } else {
    out.Set(0u, decimal_pair(env, decimal(p.x.c0), decimal(p.x.c1)));
    out.Set(1u, decimal_pair(env, decimal(p.y.c0), decimal(p.y.c1)));
    out.Set(2u, decimal_pair(env, "1", "0"));
  }
  return out;
}

/** A loaded proving key, shared by the jobs that use it (a job keeps it alive until it ends). */
using KeyHandle = std::shared_ptr<const ProvingKey>;

/**
 * The type tag of a key handle: `prove` casts the External it is given only when it carries this tag, so an External
 * of another addon (any `{ handle }` a caller makes up) is a TypeError, never a wrong cast.
 */
constexpr napi_type_tag kKeyHandleTag = {0x7a6b61692d6b6579ULL, 0x68616e646c652d31ULL};

Napi::Value LoadProvingKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // A path: parsed from the file through a window (the worker's way: the file's bytes are never in memory whole).
  // Bytes: parsed from them.
  const bool from_file = info.Length() > 0 && info[0].IsString();
  const std::string path = from_file ? info[0].As<Napi::String>().Utf8Value() : std::string();
  // open() would stop at a NUL and open another file than the one named (Node's fs refuses such paths too).
  if (path.find('\0') != std::string::npos) throw Napi::TypeError::New(env, "the zkey path contains a NUL character");
  const std::uint8_t* bytes = nullptr;
  std::size_t length = 0;
  if (!from_file) std::tie(bytes, length) = bytes_of(info[0], "the zkey");
  try {
    auto key = std::make_shared<const ProvingKey>(from_file ? read_zkey_file(path) : read_zkey(bytes, length));
    auto handle = Napi::External<KeyHandle>::New(env, new KeyHandle(std::move(key)),
                                                 [](Napi::Env, KeyHandle* held) { delete held; });
    handle.TypeTag(&kKeyHandleTag);
    Napi::Object out = Napi::Object::New(env);
    out.Set("handle", handle);
    out.Set("signals", (*handle.Data())->variables);
    out.Set("publicSignals", (*handle.Data())->public_count);
    out.Set("domainSize", (*handle.Data())->domain_size);
    return out;
  } catch (const FileError& e) {
    throw error_of(env, e.code, e.what());
  } catch (const std::exception& e) {
    // Out of memory for a huge key, say: a typed error, never std::terminate on the JavaScript thread.
    throw error_of(env, "NATIVE_FAILED", std::string("the proving key could not be loaded: ") + e.what());
  }
}

/** One proof on a libuv thread; resolves to { proof, publicSignals } in snarkjs's JSON shape. */
class ProveJob : public Napi::AsyncWorker {
 public:
  ProveJob(Napi::Env env, KeyHandle key, std::vector<u64> witness, unsigned threads, const std::int32_t* cancel_word,
           Napi::Reference<Napi::Value> cancel_keeper)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        key_(std::move(key)),
        witness_(std::move(witness)),
        threads_(threads),
        cancel_keeper_(std::move(cancel_keeper)) {
    cancel_.word = cancel_word;
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      proof_ = prove(*key_, witness_, threads_, cancel_);
    } catch (const FileError& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const Cancelled& e) {
      code_ = "NATIVE_CANCELLED";
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = "NATIVE_FAILED";
      SetError(e.what());
    }
    witness_ = std::vector<u64>();
#if defined(__GLIBC__)
    // A proof's large buffers (about 18 MB at 2^16) are freed in the arenas of the threads that made them, and glibc
    // keeps freed arena memory (after the first large free it also raises its mmap threshold, so later buffers come
    // from the arenas): without this a worker grew by about 56 MB over its first proofs at 2^16. Trimming returns the
    // free pages of every arena to the system. Fixing the mmap threshold instead (mallopt) was measured and dropped:
    // it is process-wide, overrides the operator's tunables, and made the host's large-buffer churn far slower.
    malloc_trim(0);
#endif
  }

  // Both callbacks may run while a worker thread is being ended (the pool ends a worker after raising the cancel
  // flag): then no JavaScript value can be made, and the C++ exception that says so must not escape.
  void OnOK() override {
    try {
      Resolve();
    } catch (...) {
    }
  }

  void OnError(const Napi::Error& error) override {
    try {
      deferred_.Reject(error_of(Env(), code_, error.Message()).Value());
    } catch (...) {
    }
  }

 private:
  void Resolve() {
    Napi::Env env = Env();
    Napi::Object proof = Napi::Object::New(env);
    proof.Set("pi_a", g1_object(env, proof_.a));
    proof.Set("pi_b", g2_object(env, proof_.b));
    proof.Set("pi_c", g1_object(env, proof_.c));
    proof.Set("protocol", "groth16");
    proof.Set("curve", "bn128");
    Napi::Array signals = Napi::Array::New(env, proof_.public_signals.size());
    for (std::size_t i = 0; i < proof_.public_signals.size(); ++i) signals.Set(static_cast<uint32_t>(i), proof_.public_signals[i]);
    Napi::Object result = Napi::Object::New(env);
    result.Set("proof", proof);
    result.Set("publicSignals", signals);
    deferred_.Resolve(result);
  }

  Napi::Promise::Deferred deferred_;
  KeyHandle key_;
  std::vector<u64> witness_;
  unsigned threads_;
  CancelFlag cancel_;
  Napi::Reference<Napi::Value> cancel_keeper_;
  Proof proof_;
  std::string code_;
};

/** prove(key, witness, { format: 'wtns' | 'values', threads?, cancel?: Int32Array on a SharedArrayBuffer }) */
Napi::Value Prove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value held = info[0].IsObject() ? info[0].As<Napi::Object>().Get("handle") : env.Undefined();
  if (!held.IsExternal() || !held.As<Napi::External<KeyHandle>>().CheckTypeTag(&kKeyHandleTag))
    throw Napi::TypeError::New(env, "the first argument must be a key from loadProvingKey");
  KeyHandle key = *held.As<Napi::External<KeyHandle>>().Data();
  const auto [bytes, length] = bytes_of(info[1], "the witness");
  const Napi::Object options = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  const std::string format = options.Has("format") ? options.Get("format").As<Napi::String>().Utf8Value() : "wtns";
  if (format != "wtns" && format != "values") throw Napi::TypeError::New(env, "format must be 'wtns' or 'values'");
  std::vector<u64> witness;
  try {
    witness = format == "wtns" ? read_wtns(bytes, length) : witness_from_values(bytes, length);
  } catch (const std::exception& e) {
    // A bad witness is a rejected promise, like every other failure of the proof.
    const auto* file_error = dynamic_cast<const FileError*>(&e);
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(error_of(env, file_error ? file_error->code : "NATIVE_FAILED", e.what()).Value());
    return deferred.Promise();
  }
  const unsigned threads = threads_of(options.Get("threads"));
  const std::int32_t* cancel_word = nullptr;
  Napi::Reference<Napi::Value> keeper;
  const Napi::Value cancel = options.Get("cancel");
  if (!cancel.IsUndefined()) {
    if (!cancel.IsTypedArray() || cancel.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        cancel.As<Napi::Int32Array>().ElementLength() < 1)
      throw Napi::TypeError::New(env, "cancel must be an Int32Array on a SharedArrayBuffer");
    // Only a SharedArrayBuffer keeps its memory while the job reads it (an ArrayBuffer can be resized, transferred
    // or detached meanwhile); napi_is_arraybuffer is false for a SharedArrayBuffer.
    bool plain = true;
    if (napi_is_arraybuffer(env, cancel.As<Napi::TypedArray>().ArrayBuffer(), &plain) != napi_ok || plain)
      throw Napi::TypeError::New(env, "cancel must be an Int32Array on a SharedArrayBuffer");
    cancel_word = cancel.As<Napi::Int32Array>().Data();
    keeper = Napi::Persistent(cancel);
  }
  auto* job = new ProveJob(env, std::move(key), std::move(witness), threads, cancel_word, std::move(keeper));
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

/**
 * A job on a libuv thread whose promise resolves to a Buffer of the bytes `Run` returns, or rejects with a typed error:
 * a FileError's code, NATIVE_OUT_OF_MEMORY, or NATIVE_FAILED.
 */
class BytesJob : public Napi::AsyncWorker {
 public:
  explicit BytesJob(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  /** The work, off the JavaScript thread. */
  virtual std::vector<std::uint8_t> Run() = 0;

 private:
  void Execute() override {
    try {
      result_ = Run();
    } catch (const std::exception& e) {
      const auto* file_error = dynamic_cast<const FileError*>(&e);
      const bool memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
      code_ = file_error ? file_error->code : memory ? "NATIVE_OUT_OF_MEMORY" : "NATIVE_FAILED";
      SetError(memory ? std::string("out of memory") : std::string(e.what()));
    }
  }

  // As for proofs: no JavaScript value can be made while the worker thread is being ended, and that must not throw.
  void OnOK() override {
    try {
      deferred_.Resolve(Napi::Buffer<std::uint8_t>::Copy(Env(), result_.data(), result_.size()));
    } catch (...) {
    }
  }

  void OnError(const Napi::Error& error) override {
    try {
      deferred_.Reject(error_of(Env(), code_, error.Message()).Value());
    } catch (...) {
    }
  }

  Napi::Promise::Deferred deferred_;
  std::vector<std::uint8_t> result_;
  std::string code_;
};

/** `zkey new`: reads the r1cs, the ptau ranges it needs, writes the zkey; resolves to the circuit hash. */
class NewZkeyJob : public BytesJob {
 public:
  NewZkeyJob(Napi::Env env, std::string r1cs, std::string ptau, std::string zkey, unsigned threads,
             std::vector<std::uint8_t> past_end)
      : BytesJob(env),
        r1cs_(std::move(r1cs)),
        ptau_(std::move(ptau)),
        zkey_(std::move(zkey)),
        threads_(threads),
        past_end_(std::move(past_end)) {}

 private:
  std::vector<std::uint8_t> Run() override {
    std::FILE* out = nullptr;
    bool created = false;
    try {
      const std::vector<std::uint8_t> r1cs = read_regular_file(r1cs_, "R1CS_UNREADABLE");
      const FileSource ptau(ptau_);
      out = std::fopen(zkey_.c_str(), "wbx");  // x: never write over a file that is there
      if (out == nullptr) throw FileError("SETUP_WRITE_FAILED", zkey_ + ": " + std::strerror(errno));
      created = true;
      std::vector<std::uint8_t> hash = new_zkey(r1cs.data(), r1cs.size(), ptau,
                                                [&](const std::uint8_t* bytes, std::size_t length) {
                                                  if (std::fwrite(bytes, 1, length, out) != length)
                                                    throw FileError("SETUP_WRITE_FAILED", zkey_ + ": " + std::strerror(errno));
                                                },
                                                threads_, past_end_.empty() ? nullptr : past_end_.data());
      const bool closed = std::fclose(out) == 0;
      out = nullptr;
      if (!closed) throw FileError("SETUP_WRITE_FAILED", zkey_ + ": " + std::strerror(errno));
      return hash;
    } catch (...) {
      if (out != nullptr) std::fclose(out);
      if (created) std::remove(zkey_.c_str());  // never a half-written key
      throw;
    }
  }

  std::string r1cs_, ptau_, zkey_;
  unsigned threads_;
  std::vector<std::uint8_t> past_end_;
};

/** newZkey(r1csPath, ptauPath, zkeyPath, { threads?, pastEndHash? }): resolves to the circuit hash (64 bytes). */
Napi::Value NewZkey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (int i = 0; i < 3; ++i)
    if (!info[i].IsString()) throw Napi::TypeError::New(env, "newZkey(r1csPath, ptauPath, zkeyPath, options?)");
  const Napi::Object options = info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
  std::vector<std::uint8_t> past_end;
  if (!options.Get("pastEndHash").IsUndefined()) {
    const auto [bytes, length] = bytes_of(options.Get("pastEndHash"), "pastEndHash");
    if (length != 64) throw Napi::RangeError::New(env, "pastEndHash must be 64 bytes");
    past_end.assign(bytes, bytes + length);
  }
  auto* job = new NewZkeyJob(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                             info[2].As<Napi::String>().Utf8Value(), threads_of(options.Get("threads")),
                             std::move(past_end));
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

/** scale_g1_points; the input is copied first (the caller's buffer may change meanwhile). */
class ScaleJob : public BytesJob {
 public:
  ScaleJob(Napi::Env env, std::vector<std::uint8_t> points, const u64 scalar[4], unsigned threads)
      : BytesJob(env), points_(std::move(points)), threads_(threads) {
    std::memcpy(scalar_, scalar, 32);
  }
  ~ScaleJob() override { explicit_bzero(scalar_, sizeof scalar_); }  // a contribution's 1/delta is toxic waste

 private:
  std::vector<std::uint8_t> Run() override {
    std::vector<std::uint8_t> out(points_.size());
    scale_g1_points(points_.data(), points_.size() / 64, scalar_, out.data(), threads_);
    return out;
  }

  std::vector<std::uint8_t> points_;
  u64 scalar_[4];
  unsigned threads_;
};

/** scaleG1Points(points, scalar, { threads? }): every 64-byte G1 point times the 32-byte scalar (standard, < r). */
Napi::Value ScaleG1Points(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [bytes, length] = bytes_of(info[0], "points");
  if (length % 64 != 0) throw Napi::RangeError::New(env, "points: 64 bytes per G1 point");
  const auto [scalar_bytes, scalar_length] = bytes_of(info[1], "scalar");
  if (scalar_length != 32) throw Napi::RangeError::New(env, "scalar: 32 bytes");
  u64 scalar[4];
  std::memcpy(scalar, scalar_bytes, 32);
  if (geq4(scalar, Fr::k().modulus)) throw Napi::RangeError::New(env, "scalar: not below the scalar field modulus");
  const Napi::Object options = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  auto* job = new ScaleJob(env, std::vector<std::uint8_t>(bytes, bytes + length), scalar, threads_of(options.Get("threads")));
  explicit_bzero(scalar, sizeof scalar);
  Napi::Promise promise = job->promise();
  job->Queue();
  return promise;
}

// ---- For the differential tests: the same operations snarkjs/ffjavascript offer, on bytes. ----

/** 32 little-endian bytes, standard form, checked below the modulus of F. */
template <typename F>
F element_of(const Napi::Value& value, const char* name) {
  const auto [bytes, length] = bytes_of(value, name);
  if (length != 32) throw Napi::RangeError::New(value.Env(), std::string(name) + " must be 32 bytes");
  u64 limbs[4];
  std::memcpy(limbs, bytes, 32);
  if (geq4(limbs, F::k().modulus)) throw Napi::RangeError::New(value.Env(), std::string(name) + " is not reduced");
  return F::from_standard(limbs);
}

template <typename F>
Napi::Value bytes_value(Napi::Env env, const F& value) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, 32);
  u64 limbs[4];
  value.to_standard(limbs);
  std::memcpy(out.Data(), limbs, 32);
  return out;
}

/**
 * field(op, 'q' | 'r', a, b?) with op add, sub, mul, square, neg, inverse: standard bytes in and out. `mul-portable`
 * is the portable product whatever the CPU (the product used elsewhere is the mulx/adcx/adox one when the CPU has
 * them), so the tests check both.
 */
Napi::Value FieldOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = info[0].As<Napi::String>().Utf8Value();
  const std::string field = info[1].As<Napi::String>().Utf8Value();
  auto run = [&](auto tag) -> Napi::Value {
    using F = decltype(tag);
    const F a = element_of<F>(info[2], "a");
    const F b = info.Length() > 3 && !info[3].IsUndefined() ? element_of<F>(info[3], "b") : F::zero();
    if (op == "add") return bytes_value(env, a + b);
    if (op == "sub") return bytes_value(env, a - b);
    if (op == "mul") return bytes_value(env, a * b);
    if (op == "mul-portable") {
      F product;
      mont_mul_portable(product.limbs, a.limbs, b.limbs, F::k());
      return bytes_value(env, product);
    }
    if (op == "square") return bytes_value(env, a.square());
    if (op == "neg") return bytes_value(env, -a);
    if (op == "inverse") return bytes_value(env, a.inverse());
    throw Napi::Error::New(env, "unknown field operation " + op);
  };
  if (field == "q") return run(Fq{});
  if (field == "r") return run(Fr{});
  throw Napi::Error::New(env, "field must be 'q' or 'r'");
}

/** Affine points in snarkjs's LEM layout (little-endian Montgomery coordinates), unchecked (tests give curve points). */
template <typename F>
std::vector<Affine<F>> points_of(const Napi::Value& value) {
  const auto [bytes, length] = bytes_of(value, "points");
  if (length % sizeof(Affine<F>) != 0) throw Napi::RangeError::New(value.Env(), "points: wrong length");
  std::vector<Affine<F>> points(length / sizeof(Affine<F>));
  std::memcpy(points.data(), bytes, length);
  return points;
}

template <typename F>
Napi::Value point_bytes(Napi::Env env, const Jacobian<F>& p) {
  const Affine<F> affine = p.to_affine();
  Napi::Uint8Array out = Napi::Uint8Array::New(env, sizeof affine);
  std::memcpy(out.Data(), &affine, sizeof affine);
  return out;
}

/** curve('g1' | 'g2', op, points, scalars?): add (P0 + P1), double (2 P0), msm (sum k_i P_i); LEM bytes out. */
Napi::Value CurveOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string group = info[0].As<Napi::String>().Utf8Value();
  const std::string op = info[1].As<Napi::String>().Utf8Value();
  auto run = [&](auto field) -> Napi::Value {
    using F = decltype(field);
    using Point = Jacobian<F>;
    const std::vector<Affine<F>> points = points_of<F>(info[2]);
    if (op == "add" && points.size() == 2) return point_bytes(env, Point::from(points[0]) + Point::from(points[1]));
    if (op == "madd" && points.size() == 2) return point_bytes(env, Point::from(points[0]).add_affine(points[1]));
    if (op == "double" && points.size() == 1) return point_bytes(env, Point::from(points[0]).doubled());
    if (op == "msm") {
      const auto [bytes, length] = bytes_of(info[3], "scalars");
      if (length != points.size() * 32) throw Napi::RangeError::New(env, "one 32-byte scalar per point");
      std::vector<u64> scalars(points.size() * 4);
      std::memcpy(scalars.data(), bytes, length);
      return point_bytes(env, msm(points.data(), scalars.data(), points.size(), threads_of(info[4]), CancelFlag{}));
    }
    throw Napi::Error::New(env, "unknown curve operation " + op);
  };
  if (group == "g1") return run(Fq{});
  if (group == "g2") return run(Fq2{});
  throw Napi::Error::New(env, "group must be 'g1' or 'g2'");
}

/** ntt(values, inverse): 2^k scalars (standard bytes) transformed on snarkjs's domain of that size. */
Napi::Value Ntt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [bytes, length] = bytes_of(info[0], "values");
  const std::size_t n = length / 32;
  unsigned power = 0;
  while ((std::size_t{1} << power) < n) ++power;
  if (n == 0 || (std::size_t{1} << power) != n || length % 32 != 0 || power > 27)
    throw Napi::RangeError::New(env, "values: 2^k scalars of 32 bytes");
  std::vector<Fr> values(n);
  for (std::size_t i = 0; i < n; ++i) {
    u64 limbs[4];
    std::memcpy(limbs, bytes + 32 * i, 32);
    if (geq4(limbs, Fr::k().modulus)) throw Napi::RangeError::New(env, "values: not reduced");
    values[i] = Fr::from_standard(limbs);
  }
  ntt(values.data(), power, info[1].ToBoolean().Value(), CancelFlag{});
  Napi::Uint8Array out = Napi::Uint8Array::New(env, length);
  for (std::size_t i = 0; i < n; ++i) {
    u64 limbs[4];
    values[i].to_standard(limbs);
    std::memcpy(out.Data() + 32 * i, limbs, 32);
  }
  return out;
}

/** BLAKE2b-512 of bytes (against Node's own in the tests). */
Napi::Value Blake2b(const Napi::CallbackInfo& info) {
  const auto [bytes, length] = bytes_of(info[0], "bytes");
  Blake2b512 hasher;
  // In uneven pieces, so the buffering across updates is exercised too.
  std::size_t done = 0;
  for (std::size_t piece = 1; done < length; piece = piece * 3 + 1) {
    const std::size_t take = std::min(piece, length - done);
    hasher.update(bytes + done, take);
    done += take;
  }
  std::uint8_t out[64];
  hasher.digest(out);
  return Napi::Buffer<std::uint8_t>::Copy(info.Env(), out, 64);
}

/** The type tag of a Poseidon handle (see kKeyHandleTag: only a tagged External is ever cast). */
constexpr napi_type_tag kPoseidonTag = {0x7a6b61692d706f73ULL, 0x6569646f6e2d7631ULL};

/** Field elements of `bytes` (32 little-endian bytes each, each below r), in Montgomery form. */
std::vector<Fr> scalars_of(Napi::Env env, const std::uint8_t* bytes, std::size_t length, const std::string& name) {
  if (length % 32 != 0) throw Napi::RangeError::New(env, name + ": 32 bytes per element, got " + std::to_string(length));
  std::vector<Fr> out(length / 32);
  for (std::size_t i = 0; i < out.size(); ++i) {
    u64 limbs[4];
    std::memcpy(limbs, bytes + 32 * i, 32);
    if (geq4(limbs, Fr::k().modulus))
      throw Napi::RangeError::New(env, name + ": element " + std::to_string(i) + " is not below the field's modulus");
    out[i] = Fr::from_standard(limbs);
  }
  return out;
}

/**
 * createPoseidon(constants, mds): a Poseidon handle from poseidon-lite's tables, one per width t = 2 to 17 (index
 * t - 2): the round constants (t per round) and the MDS matrix (t x t, row major), as 32-byte little-endian elements.
 */
Napi::Value CreatePoseidon(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsArray())
    throw Napi::TypeError::New(env, "createPoseidon(constants, mds) takes two arrays of Uint8Array");
  const auto constants = info[0].As<Napi::Array>();
  const auto mds = info[1].As<Napi::Array>();
  const unsigned widths = POSEIDON_MAX_WIDTH - POSEIDON_MIN_WIDTH + 1;
  if (constants.Length() != widths || mds.Length() != widths)
    throw Napi::RangeError::New(env, "createPoseidon: one table per width 2 to 17 (16 of each)");
  try {
    auto poseidon = std::make_unique<Poseidon>();
    for (unsigned index = 0; index < widths; ++index) {
      const unsigned t = index + POSEIDON_MIN_WIDTH;
      const std::string name = "width " + std::to_string(t);
      // Each table is copied out before the next array element is read: a getter could detach a buffer.
      const auto [constantBytes, constantLength] = bytes_of(constants.Get(index), "constants");
      if (constantLength != poseidon_constant_count(t) * 32)
        throw Napi::RangeError::New(env, "createPoseidon: " + name + " needs " +
                                             std::to_string(poseidon_constant_count(t) * 32) + " bytes of constants");
      std::vector<Fr> roundConstants = scalars_of(env, constantBytes, constantLength, name + " constants");
      const auto [mdsBytes, mdsLength] = bytes_of(mds.Get(index), "mds");
      if (mdsLength != std::size_t{t} * t * 32)
        throw Napi::RangeError::New(env, "createPoseidon: " + name + " needs " +
                                             std::to_string(std::size_t{t} * t * 32) + " bytes of MDS matrix");
      poseidon->set_width(t, std::move(roundConstants), scalars_of(env, mdsBytes, mdsLength, name + " MDS matrix"));
    }
    auto handle =
        Napi::External<Poseidon>::New(env, poseidon.release(), [](Napi::Env, Poseidon* held) { delete held; });
    handle.TypeTag(&kPoseidonTag);
    return handle;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    // Out of memory, say: a JavaScript error, never std::terminate on the JavaScript thread.
    throw error_of(env, "NATIVE_FAILED", std::string("createPoseidon: ") + e.what());
  }
}

/**
 * poseidonSponges(handle, elements, counts): the sponge (src/crypto/poseidon.ts) of each of `counts.length`
 * consecutive lists of `elements` (32 little-endian bytes each, below r); `counts` (a Uint32Array, each at least 1)
 * adds up to the number of elements. Returns 32 little-endian bytes per list.
 */
Napi::Value PoseidonSponges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal() || !info[0].As<Napi::External<Poseidon>>().CheckTypeTag(&kPoseidonTag))
    throw Napi::TypeError::New(env, "poseidonSponges: the first argument is not a handle from createPoseidon");
  const Poseidon& poseidon = *info[0].As<Napi::External<Poseidon>>().Data();
  const auto [bytes, length] = bytes_of(info[1], "elements");
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "poseidonSponges: counts must be a Uint32Array");
  const auto countArray = info[2].As<Napi::Uint32Array>();
  try {
    // Copied once, checked and used from the copy (a shared buffer could change between two reads).
    const std::vector<std::uint32_t> counts(countArray.Data(), countArray.Data() + countArray.ElementLength());
    const std::vector<Fr> elements = scalars_of(env, bytes, length, "elements");
    std::size_t total = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] == 0) throw Napi::RangeError::New(env, "counts: list " + std::to_string(i) + " is empty");
      total += counts[i];
    }
    if (total != elements.size())
      throw Napi::RangeError::New(env, "counts add up to " + std::to_string(total) + " elements, but " +
                                           std::to_string(elements.size()) + " were given");
    Napi::Uint8Array out = Napi::Uint8Array::New(env, 32 * counts.size());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      u64 limbs[4];
      poseidon.sponge(elements.data() + offset, counts[i]).to_standard(limbs);
      offset += counts[i];
      std::memcpy(out.Data() + 32 * i, limbs, 32);
    }
    return out;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw error_of(env, "NATIVE_FAILED", std::string("poseidonSponges: ") + e.what());
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("loadProvingKey", Napi::Function::New(env, LoadProvingKey));
  exports.Set("prove", Napi::Function::New(env, Prove));
  exports.Set("newZkey", Napi::Function::New(env, NewZkey));
  exports.Set("scaleG1Points", Napi::Function::New(env, ScaleG1Points));
  exports.Set("createPoseidon", Napi::Function::New(env, CreatePoseidon));
  exports.Set("poseidonSponges", Napi::Function::New(env, PoseidonSponges));
  exports.Set("usesAdx", Napi::Boolean::New(env, using_adx()));
  Napi::Object testing = Napi::Object::New(env);
  testing.Set("field", Napi::Function::New(env, FieldOp));
  testing.Set("curve", Napi::Function::New(env, CurveOp));
  testing.Set("ntt", Napi::Function::New(env, Ntt));
  testing.Set("blake2b512", Napi::Function::New(env, Blake2b));
  exports.Set("testing", testing);
  return exports;
}

}  // namespace

NODE_API_MODULE(zkai_prover, Init)
