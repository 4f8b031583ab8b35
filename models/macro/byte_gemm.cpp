#include "byte_gemm.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#ifdef __AVX512VNNI__
#include <immintrin.h>
#endif

namespace cimsim {

bool byte_gemm_fits(int dac_bits, const Eigen::MatrixXf& levels) {
  return dac_bits <= 8 && levels.size() > 0 && levels.cwiseAbs().maxCoeff() <= 127.0f;
}

PackedDigits pack_digits(const std::vector<const uint16_t*>& columns, int batch, int shift, int mask) {
  PackedDigits p;
  const int depth = int(columns.size());
  p.quads = (depth + 3) / 4;
  p.vectors = (batch + kByteGemmVectors - 1) / kByteGemmVectors * kByteGemmVectors;
  p.bytes.assign(std::size_t(p.quads) * std::size_t(p.vectors) * 4, 0);
  static const uint16_t kZeros[kByteGemmVectors] = {};
  for (int q = 0; q < p.quads; ++q) {
    // The quad's four columns (zeros past the depth), one 32-bit word per vector.
    const uint16_t* x[4];
    for (int i = 0; i < 4; ++i) x[i] = 4 * q + i < depth ? columns[std::size_t(4 * q + i)] : nullptr;
    uint8_t* out = p.bytes.data() + std::size_t(q) * std::size_t(p.vectors) * 4;
    for (int v0 = 0; v0 < batch; v0 += kByteGemmVectors) {
      const int n = std::min(kByteGemmVectors, batch - v0);
      const uint16_t* c[4];
      for (int i = 0; i < 4; ++i) c[i] = x[i] ? x[i] + v0 : kZeros;
      uint32_t words[kByteGemmVectors];
      for (int v = 0; v < n; ++v) {
        words[v] = uint32_t((c[0][v] >> shift) & mask) | uint32_t((c[1][v] >> shift) & mask) << 8 |
                   uint32_t((c[2][v] >> shift) & mask) << 16 | uint32_t((c[3][v] >> shift) & mask) << 24;
      }
      std::memcpy(out + std::size_t(v0) * 4, words, sizeof(uint32_t) * std::size_t(n));
    }
  }
  return p;
}

PackedLevels pack_levels(const Eigen::Ref<const Eigen::MatrixXf>& levels) {
  PackedLevels p;
  p.quads = int((levels.rows() + 3) / 4);
  p.cols = int(levels.cols());
  p.bytes.assign(std::size_t(p.quads) * std::size_t(p.cols) * 4, 0);
  for (Eigen::Index k = 0; k < levels.rows(); ++k)
    for (Eigen::Index c = 0; c < levels.cols(); ++c)
      p.bytes[(std::size_t(k / 4) * std::size_t(p.cols) + std::size_t(c)) * 4 + std::size_t(k % 4)] =
          int8_t(levels(k, c));
  return p;
}

namespace {

// One block of kByteGemmVectors vectors x Cols columns: out[j * ld + v] for v < 32.
template <int Cols>
void block(const uint8_t* d, int quads, int vectors, const int8_t* l, int cols, float* out, Eigen::Index ld,
           int rows) {
#ifdef __AVX512VNNI__
  __m512i low[Cols], high[Cols];
  for (int j = 0; j < Cols; ++j) low[j] = high[j] = _mm512_setzero_si512();
  for (int q = 0; q < quads; ++q) {
    const uint8_t* dq = d + std::size_t(q) * std::size_t(vectors) * 4;
    const __m512i d0 = _mm512_loadu_si512(dq);
    const __m512i d1 = _mm512_loadu_si512(dq + 64);
    const int8_t* lq = l + std::size_t(q) * std::size_t(cols) * 4;
    for (int j = 0; j < Cols; ++j) {
      int32_t word;
      std::memcpy(&word, lq + 4 * j, 4);
      const __m512i w = _mm512_set1_epi32(word);
      low[j] = _mm512_dpbusd_epi32(low[j], d0, w);
      high[j] = _mm512_dpbusd_epi32(high[j], d1, w);
    }
  }
  for (int j = 0; j < Cols; ++j) {
    alignas(64) int32_t sums[kByteGemmVectors];
    _mm512_store_si512(sums, low[j]);
    _mm512_store_si512(sums + 16, high[j]);
    for (int v = 0; v < rows; ++v) out[j * ld + v] = float(sums[v]);
  }
#else
  for (int j = 0; j < Cols; ++j) {
    int32_t acc[kByteGemmVectors] = {};
    for (int q = 0; q < quads; ++q) {
      const uint8_t* dq = d + std::size_t(q) * std::size_t(vectors) * 4;
      const int8_t* lq = l + (std::size_t(q) * std::size_t(cols) + std::size_t(j)) * 4;
      for (int v = 0; v < kByteGemmVectors; ++v)
        for (int i = 0; i < 4; ++i) acc[v] += int32_t(dq[v * 4 + i]) * int32_t(lq[i]);
    }
    for (int v = 0; v < rows; ++v) out[j * ld + v] = float(acc[v]);
  }
#endif
}

using Block = void (*)(const uint8_t*, int, int, const int8_t*, int, float*, Eigen::Index, int);
constexpr int kCols = 8;
constexpr Block kBlocks[kCols] = {block<1>, block<2>, block<3>, block<4>,
                                  block<5>, block<6>, block<7>, block<8>};

}  // namespace

void byte_gemm(const PackedDigits& digits, int first, int count, const PackedLevels& levels,
               Eigen::MatrixXf& y) {
  if (digits.quads != levels.quads || first % kByteGemmVectors != 0 || first + count > digits.vectors)
    throw std::logic_error("byte_gemm: operands do not match");
  y.resize(count, levels.cols);
  for (int v0 = 0; v0 < count; v0 += kByteGemmVectors) {
    const int rows = std::min(kByteGemmVectors, count - v0);
    const uint8_t* d = digits.bytes.data() + std::size_t(first + v0) * 4;
    for (int c = 0; c < levels.cols; c += kCols) {
      const int n = std::min(kCols, levels.cols - c);
      kBlocks[n - 1](d, digits.quads, digits.vectors, levels.bytes.data() + std::size_t(c) * 4, levels.cols,
                     y.data() + Eigen::Index(c) * count + v0, count, rows);
    }
  }
}

}  // namespace cimsim
