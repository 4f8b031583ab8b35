// SystemC prints its banner before sc_main runs unless this variable is set; a static
// initialiser sets it before libsystemc's main() so the program's output stays clean.
#include <cstdlib>

namespace {
struct QuietSystemCBanner {
  QuietSystemCBanner() { ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0); }
} quiet_systemc_banner;
}  // namespace
