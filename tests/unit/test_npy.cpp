// Tests of the .npy reader and writer. The files are built byte by byte here (no numpy needed); the
// expected headers were checked against numpy 1.24's np.save.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/npy.h"

namespace {

namespace fs = std::filesystem;
namespace npy = cimsim::npy;
using cimsim::InputError;

const std::string kMagic("\x93NUMPY", 6);
constexpr double kTwo53 = 9007199254740992.0;

bool little_endian_host() {
  const uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// Raw element bytes, little-endian unless `big` is set.
template <typename T>
std::string raw(std::initializer_list<T> values, bool big = false) {
  std::string out;
  for (T v : values) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    if (big == little_endian_host()) std::reverse(b, b + sizeof(T));
    out.append(b, sizeof(T));
  }
  return out;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

// A .npy file as numpy lays it out: magic, version, little-endian header length, the header padded with
// spaces so that the data starts at a multiple of 64, '\n', then the data.
std::string npy_file(const std::string& header, const std::string& data, int major = 1) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string h = header;
  h.append(64 - (6 + 2 + len_bytes + h.size() + 1) % 64, ' ');
  h += '\n';
  std::string out = kMagic + static_cast<char>(major) + '\0';
  for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return out + h + data;
}

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("cimsim_npy_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `bytes` to a file in the test directory and returns its path.
  std::string put(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // The names in the test directory other than `keep`: leftovers such as temporary files.
  std::vector<std::string> others(const std::string& keep) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().filename() != keep) names.push_back(e.path().filename().string());
    return names;
  }

  fs::path dir_;
};

// Runs `f`, which must throw InputError with a message that starts with "<path>: " and contains every phrase.
void expect_error(const std::function<void()>& f, const std::string& path,
                  const std::vector<std::string>& phrases) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown for " << path;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    for (const auto& phrase : phrases)
      EXPECT_NE(msg.find(phrase), std::string::npos) << "'" << phrase << "' not in: " << msg;
  }
}

void expect_read_error(const std::string& path, const std::vector<std::string>& phrases) {
  expect_error([&] { npy::read(path); }, path, phrases);
}

// --- writing -------------------------------------------------------------------------------------------

TEST_F(NpyTest, WriteMatchesNumpyByteForByte) {
  // np.save(p, np.arange(6, dtype='<f8').reshape(2, 3))
  std::string expected = kMagic + std::string("\x01\x00v\x00", 4) +
                         "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  expected.append(127 - expected.size(), ' ');
  expected += '\n';
  ASSERT_EQ(expected.size(), 128u);
  expected += raw<double>({0, 1, 2, 3, 4, 5});

  const std::string p = path("a.npy");
  npy::write(p, {2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(slurp(p), expected);
}

TEST_F(NpyTest, WriteHeadersMatchNumpy) {
  struct Case {
    std::vector<int64_t> shape;
    std::string descr, dict;
    size_t header_size;  // magic + version + length + header, as np.save writes it
  };
  const Case cases[] = {
      {{}, "<f8", "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 128},
      {{5}, "<f8", "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", 128},
      {{0}, "<f4", "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 128},
      {{3, 4, 2}, "<i8", "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4, 2), }", 128},
      // numpy pads a full 64 spaces when the header would already end on a 64-byte boundary.
      {{0, 1, 1, 1, 10, 10, 10, 10, 10, 10, 10, 10},
       "<f8",
       "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 1, 1, 1, 10, 10, 10, 10, 10, 10, 10, 10), }",
       192},
  };
  for (const auto& c : cases) {
    int64_t n = 1;
    for (int64_t d : c.shape) n *= d;
    const std::string p = path("h.npy");
    npy::write(p, c.shape, std::vector<double>(static_cast<size_t>(n), 1.0), c.descr);
    const std::string file = slurp(p);
    const size_t item = c.descr == "<f4" ? 4 : 8;
    ASSERT_EQ(file.size(), c.header_size + static_cast<size_t>(n) * item) << c.dict;
    std::string header = kMagic + "\x01" + '\0' + static_cast<char>(c.header_size - 10) + '\0' + c.dict;
    header.append(c.header_size - 1 - header.size(), ' ');
    header += '\n';
    EXPECT_EQ(file.substr(0, c.header_size), header) << c.dict;
  }
}

TEST_F(NpyTest, RoundTripF8) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {3, 4}, {0}, {2, 0, 3}};
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<double> v;
    for (int64_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i) * 0.1 - 0.35);
    const std::string p = path("f8.npy");
    npy::write(p, shape, v);
    const npy::Array a = npy::read(p);
    EXPECT_EQ(a.descr, "<f8");
    EXPECT_FALSE(a.integral);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.size(), n);
    EXPECT_EQ(a.values, v);
  }
}

TEST_F(NpyTest, RoundTripF8SpecialValues) {
  const std::string p = path("s.npy");
  const double inf = std::numeric_limits<double>::infinity();
  npy::write(p, {5}, {inf, -inf, -0.0, 1e-310, std::numeric_limits<double>::max()});
  const npy::Array a = npy::read(p);
  EXPECT_EQ(a.values[0], inf);
  EXPECT_EQ(a.values[1], -inf);
  EXPECT_TRUE(std::signbit(a.values[2]));
  EXPECT_EQ(a.values[3], 1e-310);
  EXPECT_EQ(a.values[4], std::numeric_limits<double>::max());

  npy::write(p, {}, {std::nan("")});
  EXPECT_TRUE(std::isnan(npy::read(p).values.at(0)));
}

TEST_F(NpyTest, RoundTripF4RoundsToFloat) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {3, 4}};
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<double> v, rounded;
    for (int64_t i = 0; i < n; ++i) {
      v.push_back(static_cast<double>(i) / 3.0 - 1.1);
      rounded.push_back(static_cast<double>(static_cast<float>(v.back())));
    }
    const std::string p = path("f4.npy");
    npy::write(p, shape, v, "<f4");
    const npy::Array a = npy::read(p);
    EXPECT_EQ(a.descr, "<f4");
    EXPECT_FALSE(a.integral);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.values, rounded);
    EXPECT_EQ(slurp(p).size(), 128u + 4u * static_cast<size_t>(n));
  }
}

TEST_F(NpyTest, RoundTripI8) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {5}, {3, 4}};
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<double> v;
    for (int64_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i * i - 7));
    v[0] = -kTwo53;
    if (n > 1) v[1] = kTwo53;
    const std::string p = path("i8.npy");
    npy::write(p, shape, v, "<i8");
    const npy::Array a = npy::read(p);
    EXPECT_EQ(a.descr, "<i8");
    EXPECT_TRUE(a.integral);
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.values, v);
  }
  // The integers are stored as int64, not as doubles.
  const std::string p = path("i8.npy");
  npy::write(p, {2}, {-3, 1000}, "<i8");
  const std::string file = slurp(p);
  EXPECT_EQ(file.substr(128), raw<int64_t>({-3, 1000}));
}

TEST_F(NpyTest, WriteOverwritesAndLeavesNoTemporaryFile) {
  const std::string p = path("w.npy");
  npy::write(p, {3}, {1, 2, 3});
  npy::write(p, {2}, {7, 8});
  EXPECT_EQ(npy::read(p).values, (std::vector<double>{7, 8}));
  EXPECT_TRUE(others("w.npy").empty());
}

TEST_F(NpyTest, WriteRejectsBadArguments) {
  const std::string p = path("bad.npy");
  expect_error([&] { npy::write(p, {2}, {1, 2}, ">f8"); }, p, {"dtype '>f8'", "'<f8', '<f4', '<i8', '<i2' or '|i1'"});
  expect_error([&] { npy::write(p, {2}, {1, 128}, "|i1"); }, p, {"index 1", "not an integer in |i1's range"});
  expect_error([&] { npy::write(p, {2}, {-32769, 2}, "<i2"); }, p, {"index 0", "<i2"});
  expect_error([&] { npy::write(p, {2}, {1, 2}, "<i4"); }, p, {"dtype '<i4'"});
  expect_error([&] { npy::write(p, {2, 3}, {1, 2}); }, p, {"shape (2, 3)", "2 values"});
  expect_error([&] { npy::write(p, {}, {}); }, p, {"shape ()", "0 values"});
  expect_error([&] { npy::write(p, {-1, -2}, {1, 2}); }, p, {"shape (-1, -2)"});
  expect_error([&] { npy::write(p, {3}, {1, 1.5, 2}, "<i8"); }, p, {"index 1", "not an integer", "<i8"});
  expect_error([&] { npy::write(p, {1}, {std::nan("")}, "<i8"); }, p, {"index 0", "not an integer"});
  expect_error([&] { npy::write(p, {1}, {kTwo53 * 2}, "<i8"); }, p, {"2^53"});
  EXPECT_FALSE(fs::exists(p));
  npy::write(p, {3}, {-128, 0, 127}, "|i1");
  npy::write(path("h.npy"), {2}, {-32768, 32767}, "<i2");
  EXPECT_EQ(npy::read(p).values, (std::vector<double>{-128, 0, 127}));
  EXPECT_EQ(npy::read(path("h.npy")).values, (std::vector<double>{-32768, 32767}));
  fs::remove(p);
  fs::remove(path("h.npy"));
  EXPECT_TRUE(others("").empty());
}

TEST_F(NpyTest, WriteFailureNamesPathAndRemovesTemporary) {
  const std::string missing = path("no/such/dir/x.npy");
  expect_error([&] { npy::write(missing, {1}, {1}); }, missing,
               {"cannot write", "No such file or directory"});

  // Renaming over a directory fails after the temporary file was written; it must be removed.
  fs::create_directory(path("taken"));
  const std::string dir = path("taken");
  expect_error([&] { npy::write(dir, {1}, {1}); }, dir, {"cannot move it into place"});
  EXPECT_EQ(others("taken"), std::vector<std::string>{});
}

// --- reading every dtype ---------------------------------------------------------------------------------

TEST_F(NpyTest, ReadsEveryDtypeInBothByteOrders) {
  struct Case {
    std::string descr;  // without byte-order mark
    std::string (*data)(bool big);
    std::vector<double> expected;
    bool integral;
  };
  const Case cases[] = {
      {"b1", [](bool) { return std::string("\x00\x01\x01\x00", 4); }, {0, 1, 1, 0}, true},
      {"i1",
       [](bool b) {
         return raw<int8_t>({-128, -1, 0, 127}, b);
       },
       {-128, -1, 0, 127},
       true},
      {"u1",
       [](bool b) {
         return raw<uint8_t>({0, 1, 200, 255}, b);
       },
       {0, 1, 200, 255},
       true},
      {"i2",
       [](bool b) {
         return raw<int16_t>({-32768, -2, 258, 32767}, b);
       },
       {-32768, -2, 258, 32767},
       true},
      {"u2",
       [](bool b) {
         return raw<uint16_t>({0, 1, 258, 65535}, b);
       },
       {0, 1, 258, 65535},
       true},
      {"i4",
       [](bool b) {
         return raw<int32_t>({INT32_MIN, -70000, 16909060, INT32_MAX}, b);
       },
       {-2147483648.0, -70000, 16909060, 2147483647.0},
       true},
      {"u4",
       [](bool b) {
         return raw<uint32_t>({0, 1, 16909060, UINT32_MAX}, b);
       },
       {0, 1, 16909060, 4294967295.0},
       true},
      {"i8",
       [](bool b) {
         return raw<int64_t>({-(int64_t{1} << 53), -5, 283686952306183, int64_t{1} << 53}, b);
       },
       {-kTwo53, -5, 283686952306183.0, kTwo53},
       true},
      {"u8",
       [](bool b) {
         return raw<uint64_t>({0, 5, 283686952306183, uint64_t{1} << 53}, b);
       },
       {0, 5, 283686952306183.0, kTwo53},
       true},
      {"f4",
       [](bool b) {
         return raw<float>({-1.5f, 0.1f, 3e38f, -0.0f}, b);
       },
       {-1.5, double{0.1f}, double{3e38f}, 0},
       false},
      {"f8",
       [](bool b) {
         return raw<double>({-1.5, 0.1, 1e300, 2.5e-300}, b);
       },
       {-1.5, 0.1, 1e300, 2.5e-300},
       false},
  };
  for (const auto& c : cases) {
    // '|' (not applicable), '=' and no mark at all mean native order.
    const std::vector<std::string> marks = {"<", ">", c.descr.back() == '1' ? "|" : "=", ""};
    for (const std::string& mark : marks) {
      const bool big = mark == ">" || (mark != "<" && !little_endian_host());
      const std::string descr = mark + c.descr;
      const std::string p = put("t.npy", npy_file(dict(descr, "(4,)"), c.data(big)));
      const npy::Array a = npy::read(p);
      EXPECT_EQ(a.descr, descr);
      EXPECT_EQ(a.integral, c.integral) << descr;
      EXPECT_EQ(a.shape, std::vector<int64_t>{4}) << descr;
      EXPECT_EQ(a.values, c.expected) << descr;
    }
  }
}

TEST_F(NpyTest, BigEndianIsByteSwapped) {
  // >i4 0x00000102 = 258 and >f8 1.0 written out by hand.
  const std::string p1 = put("be_i4.npy", npy_file(dict(">i4", "(1,)"), std::string("\x00\x00\x01\x02", 4)));
  EXPECT_EQ(npy::read(p1).values, std::vector<double>{258});
  const std::string p2 =
      put("be_f8.npy", npy_file(dict(">f8", "(1,)"), std::string("\x3f\xf0\x00\x00\x00\x00\x00\x00", 8)));
  EXPECT_EQ(npy::read(p2).values, std::vector<double>{1.0});
}

TEST_F(NpyTest, BoolBytesOtherThanOneReadAsTrue) {
  const std::string p = put("b.npy", npy_file(dict("|b1", "(2,)"), std::string("\x00\x02", 2)));
  EXPECT_EQ(npy::read(p).values, (std::vector<double>{0, 1}));
}

TEST_F(NpyTest, FortranOrderIsConvertedToCOrder) {
  // np.asfortranarray(np.arange(6).reshape(2, 3)) stores columns: 0 3 1 4 2 5.
  const std::string p = put("f.npy", npy_file(dict("<i8", "(2, 3)", true), raw<int64_t>({0, 3, 1, 4, 2, 5})));
  const npy::Array a = npy::read(p);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<double>{0, 1, 2, 3, 4, 5}));

  // 3-D: element (i, j, k) of shape (2, 3, 4) has value 100i + 10j + k; the file stores i fastest, then j.
  std::string data;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) data += raw<double>({100.0 * i + 10.0 * j + k});
  const std::string p3 = put("f3.npy", npy_file(dict("<f8", "(2, 3, 4)", true), data));
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) expected.push_back(100.0 * i + 10.0 * j + k);
  EXPECT_EQ(npy::read(p3).values, expected);

  // 0-d, 1-D and empty arrays are the same in either order.
  EXPECT_EQ(npy::read(put("f0.npy", npy_file(dict("<f8", "()", true), raw<double>({4.5})))).values,
            std::vector<double>{4.5});
  EXPECT_EQ(npy::read(put("f1.npy", npy_file(dict("<f8", "(3,)", true), raw<double>({1, 2, 3})))).values,
            (std::vector<double>{1, 2, 3}));
  EXPECT_TRUE(npy::read(put("fe.npy", npy_file(dict("<f8", "(2, 0)", true), ""))).values.empty());
}

TEST_F(NpyTest, ReadsFormatVersions2And3) {
  for (int major : {2, 3}) {
    const std::string file = npy_file(dict("<f8", "(2,)"), raw<double>({1.5, -2}), major);
    ASSERT_EQ(file.substr(6, 6), static_cast<char>(major) + std::string("\0\x74\0\0\0", 5));  // length 116
    const npy::Array a = npy::read(put("v.npy", file));
    EXPECT_EQ(a.shape, std::vector<int64_t>{2});
    EXPECT_EQ(a.values, (std::vector<double>{1.5, -2}));
  }
}

TEST_F(NpyTest, ReadsShapeAndDictSpellings) {
  struct Case {
    std::string header;
    std::vector<int64_t> shape;
  };
  const Case cases[] = {
      {dict("<f8", "(6,)"), {6}},
      {dict("<f8", "(6, )"), {6}},
      {dict("<f8", "(6)"), {6}},
      {dict("<f8", "(3, 2)"), {3, 2}},
      {dict("<f8", "(3,2)"), {3, 2}},
      {dict("<f8", "( 3 , 2 , )"), {3, 2}},
      {dict("<f8", "(1, 3, 2)"), {1, 3, 2}},
      {dict("<f8", "(1, 3, 2,)"), {1, 3, 2}},
      {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}", {2, 3}},
      {"{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (6,)}", {6}},
      {"  {'descr':'<f8','fortran_order':False,'shape':(2,3)}", {2, 3}},
  };
  for (const auto& c : cases) {
    const npy::Array a = npy::read(put("s.npy", npy_file(c.header, raw<double>({0, 1, 2, 3, 4, 5}))));
    EXPECT_EQ(a.shape, c.shape) << c.header;
    EXPECT_EQ(a.values, (std::vector<double>{0, 1, 2, 3, 4, 5})) << c.header;
  }
  // A 0-d array has one element.
  const npy::Array scalar = npy::read(put("0d.npy", npy_file(dict("<i4", "()"), raw<int32_t>({-9}))));
  EXPECT_EQ(scalar.size(), 1);
  EXPECT_EQ(scalar.values, std::vector<double>{-9});
}

TEST_F(NpyTest, ReadsHeaderWithoutPaddingOrNewline) {
  const std::string header = dict("<f8", "(1,)");
  const std::string file =
      kMagic + "\x01" + '\0' + static_cast<char>(header.size()) + '\0' + header + raw<double>({7});
  EXPECT_EQ(npy::read(put("u.npy", file)).values, std::vector<double>{7});
}

// Found by tests/fuzz (fuzz_npy): the C-order strides of an empty array overflowed int64 (UB).
TEST_F(NpyTest, EmptyArrayWithHugeDimensionsReads) {
  const std::string shape = "(0, 3, 3, 3, 3, 3, 5, 3, 3, 11055555555555557)";  // the fuzzer's input
  const npy::Array a = npy::read(put("e.npy", npy_file(dict("<i4", shape), "")));
  EXPECT_EQ(a.size(), 0);
  EXPECT_TRUE(a.values.empty());
}

TEST_F(NpyTest, ArraySizeIsProductOfShape) {
  npy::Array a;
  EXPECT_EQ(a.size(), 1);
  a.shape = {3, 4, 2};
  EXPECT_EQ(a.size(), 24);
  a.shape = {3, 0};
  EXPECT_EQ(a.size(), 0);
}

// --- read_int_matrix -----------------------------------------------------------------------------------

TEST_F(NpyTest, ReadIntMatrixAcceptsIntegerMatrices) {
  const std::string p = put("w.npy", npy_file(dict("<i4", "(2, 3)"), raw<int32_t>({1, -2, 3, -4, 5, -6})));
  const npy::Array a = npy::read_int_matrix(p, "weights");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<double>{1, -2, 3, -4, 5, -6}));
  const std::string pb = put("b.npy", npy_file(dict("|u1", "(1, 2)"), raw<uint8_t>({0, 255})));
  EXPECT_EQ(npy::read_int_matrix(pb, "inputs").values, (std::vector<double>{0, 255}));
}

TEST_F(NpyTest, ReadIntMatrixRejectsFloatsAndOtherRanks) {
  const std::string f8 = put("f8.npy", npy_file(dict("<f8", "(2, 2)"), raw<double>({1, 2, 3, 4})));
  expect_error([&] { npy::read_int_matrix(f8, "weights"); }, f8,
               {"has dtype <f8; weights must be an integer array: save with arr.astype(np.int32)"});
  const std::string f4 = put("f4.npy", npy_file(dict("<f4", "(2, 2)"), raw<float>({1, 2, 3, 4})));
  expect_error([&] { npy::read_int_matrix(f4, "inputs"); }, f4,
               {"has dtype <f4; inputs must be an integer array"});

  const std::string one = put("1d.npy", npy_file(dict("<i8", "(4,)"), raw<int64_t>({1, 2, 3, 4})));
  expect_error([&] { npy::read_int_matrix(one, "weights"); }, one, {"weights must be a 2-D array", "(4,)"});
  const std::string three = put("3d.npy", npy_file(dict("<i8", "(1, 2, 2)"), raw<int64_t>({1, 2, 3, 4})));
  expect_error([&] { npy::read_int_matrix(three, "weights"); }, three, {"2-D", "(1, 2, 2)"});
  const std::string zero = put("0d.npy", npy_file(dict("<i8", "()"), raw<int64_t>({1})));
  expect_error([&] { npy::read_int_matrix(zero, "inputs"); }, zero, {"inputs must be a 2-D array", "()"});
}

// --- read errors ---------------------------------------------------------------------------------------

TEST_F(NpyTest, ErrorCannotOpen) {
  expect_read_error(path("missing.npy"), {"cannot open", "No such file or directory"});
  expect_error([&] { npy::read_int_matrix(path("missing.npy"), "weights"); }, path("missing.npy"),
               {"cannot open"});
  expect_read_error(dir_.string(), {"directory"});
}

TEST_F(NpyTest, ErrorMissingMagic) {
  expect_read_error(put("csv.npy", "1,2,3\n4,5,6\n"), {"not a .npy file", "magic", "numpy.save"});
  expect_read_error(put("empty.npy", ""), {"not a .npy file"});
  expect_read_error(put("short.npy", "\x93NUM"), {"not a .npy file"});
  std::string file = npy_file(dict("<f8", "(1,)"), raw<double>({1}));
  file[1] = 'n';
  expect_read_error(put("case.npy", file), {"magic"});
}

TEST_F(NpyTest, ErrorUnsupportedVersion) {
  std::string file = npy_file(dict("<f8", "(1,)"), raw<double>({1}));
  file[6] = '\x04';
  expect_read_error(put("v4.npy", file), {"version 4.0 is not supported", "1.0, 2.0 and 3.0"});
  file[6] = '\x01';
  file[7] = '\x01';
  expect_read_error(put("v11.npy", file), {"version 1.1 is not supported"});
  file[6] = '\x00';
  file[7] = '\x00';
  expect_read_error(put("v0.npy", file), {"version 0.0"});
}

TEST_F(NpyTest, ErrorHeaderRunsPastEndOfFile) {
  const std::string file = npy_file(dict("<f8", "(1,)"), raw<double>({1}));
  expect_read_error(put("cut.npy", file.substr(0, 60)),
                    {"header length 118", "runs past the end", "60 bytes", "truncated"});
  std::string huge = file;
  huge[8] = '\xff';
  huge[9] = '\xff';
  expect_read_error(put("huge.npy", huge), {"header length 65535", "runs past the end"});
  // Cut inside the version or the header-length field.
  expect_read_error(put("p7.npy", file.substr(0, 7)), {"too short", "7 bytes"});
  expect_read_error(put("p9.npy", file.substr(0, 9)), {"too short", "9 bytes"});
  const std::string v2 = npy_file(dict("<f8", "(1,)"), raw<double>({1}), 2);
  expect_read_error(put("p11.npy", v2.substr(0, 11)), {"too short", "11 bytes"});
}

TEST_F(NpyTest, ErrorHeaderUnparsable) {
  const std::string data = raw<double>({1});
  struct Case {
    std::string header, phrase;
  };
  const Case cases[] = {
      {"", "expected '{'"},
      {"descr: <f8", "expected '{'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), ", "expected a quoted key"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} extra", "unexpected text after '}'"},
      {"{'descr': '<f8' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr' '<f8', 'fortran_order': False, 'shape': (1,)}", "expected ':'"},
      {"{'descr': <f8, 'fortran_order': False, 'shape': (1,)}", "expected a quoted dtype string"},
      {"{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", "fortran_order must be True or False"},
      {"{'descr': '<f8', 'fortran_order': false, 'shape': (1,)}", "fortran_order must be True or False"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", "expected '('"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1 1)}", "expected ',' or ')'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,}", "not an integer"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key 'extra'"},
      {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "'descr' appears twice"},
  };
  for (const auto& c : cases) {
    const std::string p = put("h.npy", npy_file(c.header, data));
    expect_read_error(p, {c.phrase, "header", "save it again with numpy.save"});
  }
}

TEST_F(NpyTest, ErrorHeaderMissingKeys) {
  const std::string data = raw<double>({1});
  expect_read_error(put("k1.npy", npy_file("{'fortran_order': False, 'shape': (1,), }", data)),
                    {"lacks the key 'descr'"});
  expect_read_error(put("k2.npy", npy_file("{'descr': '<f8', 'shape': (1,), }", data)),
                    {"lacks the key 'fortran_order'"});
  expect_read_error(put("k3.npy", npy_file("{'descr': '<f8', 'fortran_order': False, }", data)),
                    {"lacks the key 'shape'", "save it again with numpy.save"});
  expect_read_error(put("k4.npy", npy_file("{}", data)), {"lacks the key"});
}

TEST_F(NpyTest, ErrorUnsupportedDtype) {
  struct Case {
    std::string descr, phrase;
  };
  const Case cases[] = {
      {"<c16", "(complex)"},     {"<c8", "(complex)"},       {"<U5", "(string)"},
      {"|S3", "(string)"},       {"|O", "(Python objects)"}, {"|V8", "(structured/void)"},
      {"<M8[ns]", "(datetime)"}, {"<f2", "'<f2'"},           {"<i16", "'<i16'"},
      {"<f8x", "'<f8x'"},        {"", "dtype ''"},           {"<x4", "dtype '<x4'"},
  };
  for (const auto& c : cases) {
    const std::string p = put("d.npy", npy_file(dict(c.descr, "(1,)"), std::string(16, '\0')));
    expect_read_error(p,
                      {c.phrase, "is not supported", "b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8", "astype"});
  }
  const std::string structured = put(
      "st.npy", npy_file("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }",
                         std::string(12, '\0')));
  expect_read_error(structured, {"structured dtypes", "not supported"});
}

TEST_F(NpyTest, ErrorBadShapeEntries) {
  const std::string data = raw<double>({1});
  expect_read_error(put("neg.npy", npy_file(dict("<f8", "(-1,)"), data)), {"shape entry '-1'", "negative"});
  expect_read_error(put("neg2.npy", npy_file(dict("<f8", "(3, -4)"), data)),
                    {"shape entry '-4'", "negative"});
  expect_read_error(put("flt.npy", npy_file(dict("<f8", "(1.0,)"), data)),
                    {"shape entry '1.0'", "not an integer"});
  expect_read_error(put("str.npy", npy_file(dict("<f8", "('1',)"), data)),
                    {"shape entry ''1''", "not an integer"});
  expect_read_error(put("hex.npy", npy_file(dict("<f8", "(0x1,)"), data)), {"not an integer"});
  expect_read_error(put("plus.npy", npy_file(dict("<f8", "(+1,)"), data)), {"not an integer"});
  expect_read_error(put("long.npy", npy_file(dict("<f8", "(1234567890123456789012,)"), data)),
                    {"shape entry '1234567890123456789012'", "impossibly large"});
  expect_read_error(put("big.npy", npy_file(dict("<f8", "(999999999999999999, 999999999999999999)"), data)),
                    {"(999999999999999999, 999999999999999999)", "impossibly large"});
  expect_read_error(put("big8.npy", npy_file(dict("<f8", "(2000000000000000000,)"), data)),
                    {"impossibly large"});
}

TEST_F(NpyTest, ErrorDataSizeMismatch) {
  // The example from the documentation: a (3, 4) <i8 array needs 96 bytes.
  std::string data(80, '\0');
  const std::string p = put("w.npy", npy_file(dict("<i8", "(3, 4)"), data));
  expect_read_error(p, {"data is 80 bytes but the header's shape (3, 4) with dtype <i8 needs 96; the file is "
                        "truncated or corrupt - save it again with numpy.save"});

  const std::string extra = put("x.npy", npy_file(dict("<i8", "(3, 4)"), std::string(104, '\0')));
  expect_read_error(extra, {"data is 104 bytes", "needs 96", "extra bytes at the end"});
  const std::string one_extra = put("x1.npy", npy_file(dict("|u1", "(2,)"), std::string(3, '\0')));
  expect_read_error(one_extra, {"data is 3 bytes", "needs 2", "extra bytes"});

  const std::string scalar = put("s.npy", npy_file(dict("<f4", "()"), ""));
  expect_read_error(scalar, {"data is 0 bytes", "shape ()", "needs 4", "truncated"});
  const std::string empty = put("e.npy", npy_file(dict("<f8", "(0,)"), "x"));
  expect_read_error(empty, {"data is 1 bytes", "shape (0,)", "needs 0"});
}

TEST_F(NpyTest, ErrorIntegersBeyondTwoTo53) {
  const int64_t limit = int64_t{1} << 53;
  expect_read_error(put("i8.npy", npy_file(dict("<i8", "(2,)"), raw<int64_t>({0, limit + 1}))),
                    {"element 1", "2^53", "astype"});
  expect_read_error(put("i8n.npy", npy_file(dict("<i8", "(1,)"), raw<int64_t>({-limit - 1}))),
                    {"element 0", "2^53"});
  expect_read_error(put("i8m.npy", npy_file(dict("<i8", "(1,)"), raw<int64_t>({INT64_MIN}))), {"2^53"});
  expect_read_error(put("u8.npy", npy_file(dict(">u8", "(1,)"), raw<uint64_t>({UINT64_MAX}, true))),
                    {"2^53"});
  const std::string m = put("m.npy", npy_file(dict("<i8", "(1, 1)"), raw<int64_t>({limit * 2})));
  expect_error([&] { npy::read_int_matrix(m, "weights"); }, m, {"2^53"});
  // Exactly 2^53 in magnitude is fine.
  EXPECT_EQ(npy::read(put("ok.npy", npy_file(dict("<i8", "(2,)"), raw<int64_t>({limit, -limit})))).values,
            (std::vector<double>{kTwo53, -kTwo53}));
  // Floating-point files may hold any magnitude.
  EXPECT_EQ(npy::read(put("f.npy", npy_file(dict("<f8", "(1,)"), raw<double>({1e20})))).values,
            std::vector<double>{1e20});
}

}  // namespace
