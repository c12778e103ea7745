// Conversion harness for tests/emulation/test_fixed_cpp.py.
//
// The test generates one translation unit that includes this file and defines
// `dispatch_double`, `dispatch_fixed` and `type_rules` over a fixed list of types. Protocol on
// stdin/stdout, all little-endian binary:
//   request  int32 op, int32 target, int32 source, uint32 n, then the payload
//   op 0: payload n doubles (raw 64-bit); reply n * words(target) uint64: `T y = (double)x;`
//   op 1: payload n uint64 mantissa bit patterns of source type S; reply as op 0: `T y = s;`
//   op 2: no payload; reply the rule table (int32 records, see type_rules)
//   op 3: stop
// Each request is read completely before the reply is written, so pipes never deadlock.
#include <ap_fixed.h>
#include <ap_int.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

static std::vector<uint64_t> g_in;
static std::vector<uint64_t> g_out;

template <class T>
struct info;
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct info<ap_fixed<W, I, Q, O, N> > {
  enum { kind = 0, w = W, i = I, s = 1, q = Q, o = O, n = N };
};
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct info<ap_ufixed<W, I, Q, O, N> > {
  enum { kind = 0, w = W, i = I, s = 0, q = Q, o = O, n = N };
};
template <int W>
struct info<ap_int<W> > {
  enum { kind = 1, w = W, i = W, s = 1, q = 0, o = 0, n = 0 };
};
template <int W>
struct info<ap_uint<W> > {
  enum { kind = 1, w = W, i = W, s = 0, q = 0, o = 0, n = 0 };
};

template <class T>
inline void emit_bits(const T& y, uint64_t* out) {
  const int W = info<T>::w;
  ap_uint<W> bits = y.range(W - 1, 0);
  for (int k = 0; k < (W + 63) / 64; ++k) {
    int hi = (64 * k + 63 < W - 1) ? 64 * k + 63 : W - 1;
    ap_uint<64> part = bits.range(hi, 64 * k);
    out[k] = part.to_uint64();
  }
}

template <class T>
void convert_double(uint32_t n) {
  const int words = (info<T>::w + 63) / 64;
  g_out.resize(size_t(n) * words);
  for (uint32_t j = 0; j < n; ++j) {
    double d;
    std::memcpy(&d, &g_in[j], sizeof d);
    T y = d;
    emit_bits(y, &g_out[size_t(j) * words]);
  }
}

template <class S, class T>
void convert_fixed(uint32_t n) {
  const int words = (info<T>::w + 63) / 64;
  g_out.resize(size_t(n) * words);
  for (uint32_t j = 0; j < n; ++j) {
    S s;
    s.range(info<S>::w - 1, 0) = ap_uint<64>(g_in[j]);
    T y = s;
    emit_bits(y, &g_out[size_t(j) * words]);
  }
}

template <class A, class B>
void rule_record(std::vector<int32_t>& table) {
  typedef decltype(A() * B()) P;
  typedef decltype(A() + B()) S;
  const int32_t rec[14] = {info<P>::kind, info<P>::w, info<P>::i, info<P>::s,
                           info<P>::q,    info<P>::o, info<P>::n, info<S>::kind,
                           info<S>::w,    info<S>::i, info<S>::s, info<S>::q,
                           info<S>::o,    info<S>::n};
  table.insert(table.end(), rec, rec + 14);
}

// Defined by the generated translation unit.
bool dispatch_double(int target, uint32_t n);
bool dispatch_fixed(int source, int target, uint32_t n);
void type_rules(std::vector<int32_t>& table);

int main() {
  int32_t head[4];
  while (std::fread(head, sizeof head, 1, stdin) == 1) {
    const int op = head[0], target = head[1], source = head[2];
    const uint32_t n = uint32_t(head[3]);
    if (op == 3) break;
    if (op == 2) {
      std::vector<int32_t> table;
      type_rules(table);
      uint32_t count = uint32_t(table.size());
      std::fwrite(&count, sizeof count, 1, stdout);
      std::fwrite(table.data(), sizeof(int32_t), table.size(), stdout);
      std::fflush(stdout);
      continue;
    }
    g_in.resize(n);
    if (n && std::fread(g_in.data(), sizeof(uint64_t), n, stdin) != n) return 2;
    bool ok = op == 0 ? dispatch_double(target, n) : dispatch_fixed(source, target, n);
    if (!ok) return 3;
    std::fwrite(g_out.data(), sizeof(uint64_t), g_out.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}
